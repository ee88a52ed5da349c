/**
 * A clock and a rate limiter for API calls that share one quota, such as CloudTrail `LookupEvents` (2 requests per
 * second per account and region). The limiter spaces grants evenly at the configured rate (no bursts above it),
 * serves callers in the order they asked, and can be paused for everyone at once when the service says it is
 * throttling (other tools may be using the same quota). Time comes from an injected {@link Clock}, so tests and
 * benchmarks can run it on virtual time.
 *
 * Written as plain functions and objects, not classes: Pulumi's closure serializer copies this module into the Lambda
 * archive by value.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Where time comes from: the system clock in Lambda, a virtual clock in tests and benchmarks. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The system clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const state: { timer?: NodeJS.Timeout } = {};
      const onAbort = () => {
        clearTimeout(state.timer);
        reject(signal?.reason as Error);
      };
      state.timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** Grants permission to send one request at a time, at most `requestsPerSecond` on average and never faster. */
export interface RateLimiter {
  /** Resolves when the caller may send one request. Callers are served in the order they called. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * Grants nothing for `ms` milliseconds from now, to everyone, including callers already waiting (they are
   * rescheduled after the pause in the order they called). Used when the service answers with a throttling error.
   */
  pause(ms: number): void;
  /** The configured rate. */
  readonly requestsPerSecond: number;
}

/**
 * Creates a limiter that spaces grants exactly `1000 / requestsPerSecond` ms apart (a token bucket of one token, the
 * strictest reading of a per-second quota). When callers keep it busy, it grants at exactly the configured rate.
 */
export function createRateLimiter(requestsPerSecond: number, clock: Clock = systemClock): RateLimiter {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new Error(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  const interval = 1000 / requestsPerSecond;
  // The earliest time the next reservation may be granted; every reservation moves it one interval on.
  let nextSlot = Number.NEGATIVE_INFINITY;
  // Incremented by pause(): reservations made before it are void and taken again.
  let epoch = 0;
  // The last time a grant was given: a pause never lets the next one come sooner than one interval after it.
  let lastGrant = Number.NEGATIVE_INFINITY;

  return {
    requestsPerSecond,
    async acquire(signal) {
      for (;;) {
        signal?.throwIfAborted();
        const reservedIn = epoch;
        const now = clock.now();
        const slot = Math.max(now, nextSlot);
        nextSlot = slot + interval;
        if (slot > now) {
          await clock.sleep(slot - now, signal);
        }
        if (reservedIn === epoch) {
          lastGrant = slot;
          return;
        }
      }
    },
    pause(ms) {
      epoch += 1;
      nextSlot = Math.max(clock.now() + Math.max(0, ms), lastGrant + interval);
    },
  };
}

/**
 * Exponential backoff with "equal jitter": for the n-th consecutive failure (n >= 1) a delay drawn uniformly from
 * [d/2, d] where d = min(maxMs, baseMs * 2^(n-1)). Never zero, so a throttled caller always waits.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (ceiling / 2) * random();
}

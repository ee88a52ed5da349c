/**
 * A rate limiter for API calls that share one quota, such as CloudTrail `LookupEvents` (2 requests per
 * second per account and region). The limiter spaces grants evenly at the configured rate (no bursts above it),
 * serves callers in the order they asked, and can be paused for everyone at once when the service says it is
 * throttling (other tools may be using the same quota). Time comes from an injected {@link Clock}, so tests and
 * benchmarks can run it on virtual time.
 *
 * Written as plain functions and objects, not classes: Pulumi's closure serializer copies this module into the Lambda
 * archive by value.
 */

import { type Clock, systemClock } from "./runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Grants permission to send one request at a time, at most `requestsPerSecond` on average and never faster. */
export interface RateLimiter {
  /** Resolves when the caller may send one request. Callers are served in the order they called. */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * Grants nothing for `ms` milliseconds from now, to everyone, including callers already waiting (they are
   * rescheduled after the pause in the order they called).
   */
  pause(ms: number): void;
  /**
   * The service refused a request for its rate: pauses for `ms` and lowers the current rate to 70% (not below 10% of
   * the configured rate), because someone else is using part of the same quota.
   */
  throttled(ms: number): void;
  /** A request went through: the current rate climbs back towards the configured one by 2% of it. */
  succeeded(): void;
  /** The configured rate, which grants never exceed. */
  readonly requestsPerSecond: number;
  /** The rate currently granted (lower than the configured one after throttling). */
  readonly currentRate: number;
}

/**
 * Creates a limiter that spaces grants evenly at the current rate (a token bucket of one token, the strictest reading
 * of a per-second quota): at most `requestsPerSecond`, lowered multiplicatively on throttling and raised additively on
 * success (AIMD), so that a quota shared with other callers settles near what they leave. When callers keep it busy,
 * it grants at exactly the current rate.
 */
export function createRateLimiter(requestsPerSecond: number, clock: Clock = systemClock): RateLimiter {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new Error(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  let rate = requestsPerSecond;
  // The earliest time the next reservation may be granted; every reservation moves it one interval on.
  let nextSlot = Number.NEGATIVE_INFINITY;
  // Incremented by pause(): reservations made before it are void and taken again.
  let epoch = 0;
  // The last time a grant was given: a pause never lets the next one come sooner than one interval after it.
  let lastGrant = Number.NEGATIVE_INFINITY;

  const pause = (ms: number) => {
    epoch += 1;
    nextSlot = Math.max(clock.now() + Math.max(0, ms), lastGrant + 1000 / rate);
  };

  return {
    requestsPerSecond,
    get currentRate() {
      return rate;
    },
    async acquire(signal) {
      for (;;) {
        signal?.throwIfAborted();
        const reservedIn = epoch;
        const now = clock.now();
        const slot = Math.max(now, nextSlot);
        nextSlot = slot + 1000 / rate;
        if (slot > now) {
          await clock.sleep(slot - now, signal);
        }
        if (reservedIn === epoch) {
          lastGrant = slot;
          return;
        }
      }
    },
    pause,
    throttled(ms) {
      rate = Math.max(requestsPerSecond * 0.1, rate * 0.7);
      pause(ms);
    },
    succeeded() {
      rate = Math.min(requestsPerSecond, rate + requestsPerSecond * 0.02);
    },
  };
}

/**
 * A virtual clock for tests and benchmarks: `sleep` registers a timer instead of waiting, and {@link VirtualClock.run}
 * advances time to the next timer whenever nothing else can make progress. Code that takes a `Clock` (the rate
 * limiter, the backfill and download-threshold handlers, the LookupEvents and FilterLogEvents fakes) then runs hours
 * of simulated quota-bound paging in seconds, deterministically. Work outside `sleep()` (computation, tracked I/O)
 * takes no virtual time.
 *
 * Real I/O (an SDK client talking to a loopback fake) may run under it: wrap each such promise in
 * {@link VirtualClock.track} (or a whole client in {@link VirtualClock.trackSends}), and time stands still until it
 * settles, so a request reaches the fake at the virtual time it was sent.
 */
import type { Clock } from "../functions/shared/runtime";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(start: number) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve };
      const onAbort = () => {
        const index = this.timers.indexOf(timer);
        if (index >= 0) {
          this.timers.splice(index, 1);
        }
        reject(signal?.reason as Error);
      };
      timer.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.insert(timer);
    });
  }

  /** Keeps time still until `promise` settles (for real I/O performed under virtual time). */
  track<T>(promise: Promise<T>): Promise<T> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return promise;
  }

  /** `client` with every `send` tracked (see {@link VirtualClock.track}). */
  trackSends<C extends { send(...args: never[]): Promise<unknown> }>(client: C): C {
    return { send: (...args: never[]) => this.track(client.send(...args)) } as unknown as C;
  }

  /** Moves time forward by `ms` without running anything (for setting up scenarios). */
  advance(ms: number): void {
    this.time += ms;
  }

  /**
   * Runs `body` to completion: drains pending work, waits for tracked I/O, and otherwise jumps to the earliest timer.
   * `onAdvance` is called after each jump (the benchmark samples memory there).
   */
  async run<T>(body: () => Promise<T>, onAdvance?: (now: number) => void): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    void body().then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (outcome !== undefined) {
        break;
      }
      if (this.inFlight.size > 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      const next = this.timers.shift();
      if (next === undefined) {
        throw new Error("VirtualClock.run: nothing is scheduled and the body has not settled (an untracked real wait?)");
      }
      this.time = Math.max(this.time, next.at);
      next.resolve();
      onAdvance?.(this.time);
    }
    if (!outcome.ok) {
      throw outcome.error;
    }
    return outcome.value;
  }

  private insert(timer: Timer): void {
    // Binary search for the first timer due later (ties keep insertion order).
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.timers[mid].at <= timer.at) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    this.timers.splice(low, 0, timer);
  }
}

/** A deterministic random number generator (mulberry32) for reproducible simulations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A clock for simulations that would take hours in real time (FilterLogEvents' 5 requests/s quota): time stands still
 * while any participating task is busy, and jumps to the earliest wake-up when every one of them waits in `sleep()`.
 * Work outside `sleep()` (loopback requests, computation) takes no virtual time.
 */
import type { Clock } from "../../functions/runtime";

export class VirtualClock implements Clock {
  private time: number;
  private running = 0;
  private order = 0;
  private readonly sleepers: Array<{ wake: number; order: number; resolve: () => void }> = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Runs `task` as a participant: while it is busy (not sleeping), time does not advance. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.advance();
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ wake: this.time + Math.max(0, ms), order: this.order++, resolve });
      this.advance();
    });
  }

  /** Wakes the earliest sleeper once every participant sleeps (a lone sleeper outside run() counts as everyone). */
  private advance(): void {
    if (this.sleepers.length === 0 || this.sleepers.length < Math.max(this.running, 1)) {
      return;
    }
    this.sleepers.sort((a, b) => a.wake - b.wake || a.order - b.order);
    const next = this.sleepers.shift()!;
    this.time = Math.max(this.time, next.wake);
    next.resolve();
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

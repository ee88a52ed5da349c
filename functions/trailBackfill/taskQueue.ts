/**
 * The parts of a pair's range that its request chains read within one invocation, and how an idle chain takes over
 * part of another's (work stealing), so that every chain keeps sending requests while any part is left.
 */
import { type Interval, splitIntervals, splitPoint, WINDOW_MS, widenToWindows } from "../shared/timeIntervals";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/**
 * Sub-ranges shorter than this are not split further: the split would cost more requests than it saves. Two seconds,
 * because a burst holds 50 events a second or more: the last few seconds of a burst are still several pages, and at
 * 1 s a call one chain alone would read them at half the pair's quota.
 */
export const MIN_SPLIT_MS = 2_000;

/**
 * Request intervals a split must save before it is made: about one request is what it costs, and the estimates of
 * pages left are rough (event density changes within a task), so a split must promise clearly more.
 */
export const STEAL_GAIN_REQUESTS = 2;

/** A part of the pair's range that one chain of requests reads, newest first. */
export interface Task {
  /** Lower bound; raised when another chain takes over the older part. */
  start: number;
  /** Everything in `[doneFrom, end)` has been read. */
  doneFrom: number;
  end: number;
  /** The running query: its NextToken and the bounds it was started with (a token only works with them). */
  token?: string;
  queryStart: number;
  queryEnd: number;
  finished: boolean;
  /** The chain reading it. */
  owner?: number;
  /** Milliseconds of event time the last full page covered: how much one more request is likely to cover. */
  lastPageSpan?: number;
  /** Left for the next invocation: nobody reads it in this one. */
  deferred?: boolean;
}

/**
 * The first tasks of an invocation: the remaining ranges cut into up to `concurrency` parts. Without knowing where the
 * events are, cut only between windows; chains split a dense window once they see it.
 */
export function initialTasks(remaining: readonly Interval[], concurrency: number): Task[] {
  return splitIntervals(remaining, concurrency, MIN_SPLIT_MS, false).map(([start, end]) => ({
    start,
    doneFrom: end,
    end,
    queryStart: start,
    queryEnd: end,
    finished: false,
  }));
}

/** Marks the task read to its start. */
export function finishTask(task: Task): void {
  task.doneFrom = task.start;
  task.finished = true;
}

/**
 * Estimated requests left in a task: its undone span divided by the span its last full page covered (event density
 * changes a lot over a range, so the latest page says more than the average). Infinite before the first page.
 */
export function estimatedPages(task: Task): number {
  const span = task.doneFrom - task.start;
  return task.lastPageSpan === undefined || task.lastPageSpan <= 0 ? Number.POSITIVE_INFINITY : span / task.lastPageSpan;
}

/** True while some unfinished task still has to read part of `[from, to)`. */
export function undoneIntersects(tasks: readonly Task[], from: number, to: number): boolean {
  return tasks.some((t) => !t.finished && t.start < to && t.doneFrom > from);
}

/** The windows no chain has finished reading, merged. */
export function unreadRanges(tasks: readonly Task[]): Interval[] {
  return widenToWindows(tasks.filter((t) => !t.finished).map((t) => [t.start, t.doneFrom] as const));
}

/** How fast a pair's chains go: its rate limit, and the time one chain spends per page (request latency plus writing). */
export interface ChainPace {
  requestsPerSecond: number;
  /** Milliseconds a chain spends per page besides waiting for the rate limiter; undefined before the first page. */
  cycleMs?: number;
}

/**
 * Milliseconds the open tasks (their estimated pages) still need: the pair's quota bounds the total, one chain per
 * task bounds each task to one page per cycle, and the slower of the two decides.
 */
export function finishTimeMs(pages: readonly number[], pace: Required<ChainPace>): number {
  if (pages.length === 0) {
    return 0;
  }
  const total = pages.reduce((sum, p) => sum + p, 0);
  const rate = Math.min(pace.requestsPerSecond, (pages.length * 1000) / pace.cycleMs);
  return Math.max((total * 1000) / rate, Math.max(...pages) * pace.cycleMs);
}

/**
 * Whether splitting `victim` in two gains more time than it costs. A split costs requests: the victim's page that
 * crosses the cut is partly wasted and the thief's query ends with a page of its own, about one request of the quota
 * in all; it gains when the victim's chain alone, or too few chains, would bound the time left.
 */
function worthSplitting(open: readonly Task[], victim: Task, pace: Required<ChainPace>): boolean {
  const pages = open.map(estimatedPages);
  const half = estimatedPages(victim) / 2;
  const split = [...open.filter((t) => t !== victim).map(estimatedPages), half + 0.5, half + 0.5];
  return finishTimeMs(pages, pace) - finishTimeMs(split, pace) > (STEAL_GAIN_REQUESTS * 1000) / pace.requestsPerSecond;
}

/**
 * Work for an idle chain: the largest task nobody reads yet; or else the older part of the task with the most pages
 * left (at least 3), which then stops at the cut, but only once every open task has read a page (so its pages can be
 * estimated) and the split shortens the time left by more than the requests it costs ({@link worthSplitting}).
 * Undefined when nothing is worth taking: a split that does not pay only adds requests.
 */
export function stealTask(tasks: Task[], worker: number, pace: ChainPace): Task | undefined {
  const open = tasks.filter((t) => !t.finished && t.deferred !== true);
  const unowned = open.filter((t) => t.owner === undefined).sort((a, b) => b.doneFrom - b.start - (a.doneFrom - a.start))[0];
  if (unowned !== undefined) {
    unowned.owner = worker;
    return unowned;
  }
  if (pace.cycleMs === undefined || open.some((t) => !Number.isFinite(estimatedPages(t)))) {
    return undefined;
  }
  const known = { requestsPerSecond: pace.requestsPerSecond, cycleMs: pace.cycleMs };
  for (const victim of open.sort((a, b) => estimatedPages(b) - estimatedPages(a))) {
    if (estimatedPages(victim) < 3 || !worthSplitting(open, victim, known)) {
      return undefined;
    }
    const cut = splitPoint(victim.start, victim.doneFrom, MIN_SPLIT_MS, true);
    if (cut !== undefined) {
      // The thief reads the older part with a fresh query; the victim keeps its query and stops at the cut.
      const task: Task = { start: victim.start, doneFrom: cut, end: cut, queryStart: victim.start, queryEnd: cut, finished: false, owner: worker };
      victim.start = cut;
      tasks.push(task);
      return task;
    }
  }
  return undefined;
}

/**
 * Before an invocation's deadline: each open task keeps only the window it is reading (the part that would otherwise
 * be read again next time), and the older rest is deferred to the next invocation, untouched by this one. Returns the
 * deferred parts.
 */
export function deferBeyondCurrentWindows(tasks: Task[]): Task[] {
  const deferred: Task[] = [];
  for (const task of tasks.filter((t) => !t.finished && t.deferred !== true)) {
    const current = Math.floor((task.doneFrom - 1) / WINDOW_MS) * WINDOW_MS;
    if (task.owner === undefined) {
      // Nobody has started it: all of it waits.
      task.deferred = true;
    } else if (current > task.start) {
      deferred.push({ start: task.start, doneFrom: current, end: current, queryStart: task.start, queryEnd: current, finished: false, deferred: true });
      task.start = current;
    }
  }
  tasks.push(...deferred);
  return tasks.filter((t) => t.deferred === true);
}

/** Lets idle chains wait for the next page read anywhere (it may reveal a part worth splitting). */
export interface Wakeup {
  /** Resolves at the next {@link Wakeup.notify}. */
  wait(): Promise<void>;
  /** Wakes every chain waiting now. */
  notify(): void;
}

/** A fresh {@link Wakeup}. */
export function wakeup(): Wakeup {
  let resolve = () => {};
  let promise = new Promise<void>((r) => (resolve = r));
  return {
    wait: () => promise,
    notify: () => {
      const wake = resolve;
      promise = new Promise<void>((r) => (resolve = r));
      wake();
    },
  };
}

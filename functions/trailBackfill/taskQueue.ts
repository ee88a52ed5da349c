/**
 * The parts of a pair's range that its request chains read within one invocation, and how an idle chain takes over
 * part of another's (work stealing), so that every chain keeps sending requests while any part is left.
 */
import { type Interval, splitIntervals, splitPoint, widenToWindows } from "../shared/timeIntervals";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Sub-ranges shorter than this are not split further: the split would cost more requests than it saves. */
export const MIN_SPLIT_MS = 10_000;

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

/**
 * Work for an idle chain: the largest task nobody reads yet, or else the older part of the task with the most pages
 * left (when it has at least 3), which then stops at the cut. Undefined when nothing is worth taking.
 */
export function stealTask(tasks: Task[], worker: number): Task | undefined {
  const open = tasks.filter((t) => !t.finished);
  const unowned = open.filter((t) => t.owner === undefined).sort((a, b) => b.doneFrom - b.start - (a.doneFrom - a.start))[0];
  if (unowned !== undefined) {
    unowned.owner = worker;
    return unowned;
  }
  for (const victim of open.sort((a, b) => estimatedPages(b) - estimatedPages(a))) {
    if (estimatedPages(victim) < 3) {
      return undefined;
    }
    // Inside a window only when the victim's last page says the part holds several pages.
    const cut = splitPoint(victim.start, victim.doneFrom, MIN_SPLIT_MS, Number.isFinite(estimatedPages(victim)));
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

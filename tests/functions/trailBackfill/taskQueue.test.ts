import { expect } from "chai";
import * as fc from "fast-check";

import { totalLength, WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { deferBeyondCurrentWindows, estimatedPages, finishTimeMs, initialTasks, stealTask, type Task, undoneIntersects, unreadRanges, wakeup } from "../../../functions/trailBackfill/taskQueue";

const T0 = Date.parse("2024-05-20T10:00:00Z");
/** 2 requests/s, each chain spending 1 s per page: one chain alone reaches half the quota. */
const SLOW = { requestsPerSecond: 2, cycleMs: 1000 };

function task(start: number, doneFrom: number, fields: Partial<Task> = {}): Task {
  return { start, doneFrom, end: doneFrom, queryStart: start, queryEnd: doneFrom, finished: false, ...fields };
}

describe("trailBackfill task queue", () => {
  it("cuts the remaining windows into at most one task per chain, between windows, covering them exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 8 }), (windows, concurrency) => {
        const remaining = [[T0, T0 + windows * WINDOW_MS] as const];

        const tasks = initialTasks(remaining, concurrency);

        expect(tasks.length).to.be.within(1, Math.min(concurrency, windows));
        expect(tasks.every((t) => t.start % WINDOW_MS === 0 && t.end % WINDOW_MS === 0 && t.doneFrom === t.end && !t.finished)).to.equal(true);
        expect(unreadRanges(tasks)).to.deep.equal(remaining);
        expect(tasks.reduce((sum, t) => sum + t.end - t.start, 0)).to.equal(totalLength(remaining));
      }),
    );
  });

  it("estimates a task's pages from the span its last full page covered, infinite before the first page", () => {
    expect(estimatedPages(task(T0, T0 + 600_000))).to.equal(Number.POSITIVE_INFINITY);
    expect(estimatedPages(task(T0, T0 + 600_000, { lastPageSpan: 60_000 }))).to.equal(10);
  });

  it("gives an idle chain the largest task nobody reads yet", () => {
    const tasks = [task(T0, T0 + WINDOW_MS, { owner: 0 }), task(T0 + WINDOW_MS, T0 + 2 * WINDOW_MS), task(T0 + 2 * WINDOW_MS, T0 + 5 * WINDOW_MS)];

    const taken = stealTask(tasks, 3, { requestsPerSecond: 2 });

    expect(taken).to.equal(tasks[2]);
    expect(taken?.owner).to.equal(3);
  });

  it("otherwise splits the task with the most pages left: the thief reads the older part with a fresh query", () => {
    // Prepare: a task with 10 pages left by its last page, one with 2.
    const busy = task(T0, T0 + 4 * WINDOW_MS, { owner: 0, token: "t", queryEnd: T0 + 6 * WINDOW_MS, lastPageSpan: (4 * WINDOW_MS) / 10 });
    const light = task(T0 + 6 * WINDOW_MS, T0 + 8 * WINDOW_MS, { owner: 1, lastPageSpan: WINDOW_MS });
    const tasks = [busy, light];

    // Act
    const taken = stealTask(tasks, 2, SLOW);

    // Assess
    expect(taken).to.deep.include({ start: T0, owner: 2, finished: false, queryStart: T0 });
    expect(taken?.token).to.equal(undefined);
    expect(taken?.doneFrom).to.equal(busy.start).and.to.equal(taken?.end).and.to.equal(taken?.queryEnd);
    expect(busy.start).to.be.above(T0).and.below(T0 + 4 * WINDOW_MS);
    expect(busy).to.deep.include({ token: "t", queryEnd: T0 + 6 * WINDOW_MS });
    expect(tasks).to.have.length(3);
    expect(unreadRanges(tasks)).to.deep.equal([[T0, T0 + 4 * WINDOW_MS], [T0 + 6 * WINDOW_MS, T0 + 8 * WINDOW_MS]]);
  });

  it("splits a dense task of a few seconds when it is the last one: the pair's tail of a burst", () => {
    // A burst: 50 events a second, 9 s (9 pages) left to read by the only open task; alone it needs 9 s at 1 s a page.
    const busy = task(T0 + 100_000, T0 + 109_000, { owner: 0, token: "t", lastPageSpan: 1000 });
    const tasks = [busy];

    const taken = stealTask(tasks, 1, SLOW);

    // Cut on a whole second, each half at least 2 s.
    expect(taken).to.deep.include({ start: T0 + 100_000, doneFrom: T0 + 105_000, owner: 1 });
    expect(busy).to.deep.include({ start: T0 + 105_000, doneFrom: T0 + 109_000, token: "t" });
  });

  it("takes nothing when every open task has fewer than 3 pages left", () => {
    const tasks = [task(T0, T0 + WINDOW_MS, { owner: 0, lastPageSpan: WINDOW_MS / 2 }), task(T0 + WINDOW_MS, T0 + WINDOW_MS, { finished: true })];

    expect(stealTask(tasks, 1, SLOW)).to.equal(undefined);
    expect(tasks).to.have.length(2);
  });

  it("splits nothing when the chains already reading keep up with the quota: a split would only add requests", () => {
    // Prepare: two tasks of 10 pages each; at 50 ms a page one chain alone could send 20 requests/s.
    const tasks = [
      task(T0, T0 + 4 * WINDOW_MS, { owner: 0, token: "a", lastPageSpan: (4 * WINDOW_MS) / 10 }),
      task(T0 + 4 * WINDOW_MS, T0 + 8 * WINDOW_MS, { owner: 1, token: "b", lastPageSpan: (4 * WINDOW_MS) / 10 }),
    ];

    // Act
    const fast = stealTask(tasks, 2, { requestsPerSecond: 2, cycleMs: 50 });
    const slowButEven = stealTask(tasks, 2, SLOW);

    // Assess: at 1 s a page two chains of 10 pages reach the quota too.
    expect(fast).to.equal(undefined);
    expect(slowButEven).to.equal(undefined);
    expect(tasks).to.have.length(2);
  });

  it("waits for every open task's first page before splitting, and for the chains' pace", () => {
    const unknown = [task(T0, T0 + 8 * WINDOW_MS, { owner: 0, token: "a" }), task(T0 + 8 * WINDOW_MS, T0 + 9 * WINDOW_MS, { owner: 1, lastPageSpan: WINDOW_MS / 100 })];
    const known = [task(T0, T0 + 8 * WINDOW_MS, { owner: 0, token: "a", lastPageSpan: WINDOW_MS / 10 })];

    expect(stealTask(unknown, 2, SLOW)).to.equal(undefined);
    expect(stealTask(known, 1, { requestsPerSecond: 2 })).to.equal(undefined);
    expect(stealTask(known, 1, SLOW)).to.not.equal(undefined);
  });

  it("tells the time the open tasks need: the quota's bound or the longest task's chain, whichever is longer", () => {
    expect(finishTimeMs([], SLOW)).to.equal(0);
    expect(finishTimeMs([10, 10], SLOW)).to.equal(10_000);
    expect(finishTimeMs([30, 2, 2], SLOW)).to.equal(30_000);
    expect(finishTimeMs([10, 10, 10, 10], SLOW)).to.equal(20_000);
    expect(finishTimeMs([40], { requestsPerSecond: 2, cycleMs: 50 })).to.equal(20_000);
  });

  it("before the deadline keeps each chain's current window and defers the rest, untouched, to the next invocation", () => {
    // Prepare: a task read down into its third window, and one nobody has started.
    const reading = task(T0, T0 + 2 * WINDOW_MS + 1000, { owner: 0, token: "t", end: T0 + 3 * WINDOW_MS, queryEnd: T0 + 3 * WINDOW_MS, lastPageSpan: 1000 });
    const waiting = task(T0 + 3 * WINDOW_MS, T0 + 5 * WINDOW_MS);
    const tasks = [reading, waiting];

    // Act
    const deferred = deferBeyondCurrentWindows(tasks);

    // Assess
    expect(reading).to.deep.include({ start: T0 + 2 * WINDOW_MS, token: "t", finished: false });
    expect(deferred.map((t) => [t.start, t.doneFrom])).to.deep.equal([[T0 + 3 * WINDOW_MS, T0 + 5 * WINDOW_MS], [T0, T0 + 2 * WINDOW_MS]]);
    expect(deferred.every((t) => t.owner === undefined && t.token === undefined)).to.equal(true);
    expect(stealTask(tasks, 1, { requestsPerSecond: 2 })).to.equal(undefined);
    expect(unreadRanges(tasks)).to.deep.equal([[T0, T0 + 5 * WINDOW_MS]]);
  });

  it("tells whether a range still has unread parts", () => {
    const tasks = [task(T0, T0 + WINDOW_MS), task(T0 + 2 * WINDOW_MS, T0 + 2 * WINDOW_MS, { end: T0 + 3 * WINDOW_MS, finished: true })];

    expect(undoneIntersects(tasks, T0 + WINDOW_MS - 1, T0 + 2 * WINDOW_MS)).to.equal(true);
    expect(undoneIntersects(tasks, T0 + WINDOW_MS, T0 + 3 * WINDOW_MS)).to.equal(false);
  });

  it("wakes every chain waiting when notified, and only those", async () => {
    // Prepare
    const wake = wakeup();
    const woken: string[] = [];
    const first = wake.wait().then(() => woken.push("first"));
    const second = wake.wait().then(() => woken.push("second"));

    // Act
    wake.notify();
    await Promise.all([first, second]);
    let later = false;
    void wake.wait().then(() => (later = true));
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(woken).to.deep.equal(["first", "second"]);
    expect(later).to.equal(false);
  });
});

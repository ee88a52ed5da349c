import type { Event as TrailEvent } from "@aws-sdk/client-cloudtrail";
import { expect } from "chai";

import { WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { acceptPage, eventBuffer, takeCompleteWindows } from "../../../functions/trailBackfill/eventBuffer";
import type { Task } from "../../../functions/trailBackfill/taskQueue";
import { recordingLogger } from "../../../simulation/recorders";

const T0 = Date.parse("2024-05-20T10:00:00Z");
const pair = { account: "222222222222", region: "us-east-1" };

function task(start: number, doneFrom: number): Task {
  return { start, doneFrom, end: doneFrom, queryStart: start, queryEnd: doneFrom, finished: false };
}

function event(id: string, time: number, fields: Partial<TrailEvent> = {}): TrailEvent {
  return { EventId: id, EventTime: new Date(time), CloudTrailEvent: JSON.stringify({ eventID: id }), ...fields };
}

function report() {
  return { stats: { rejected: 0 }, logger: recordingLogger(), pair };
}

describe("trailBackfill event buffer", () => {
  it("buffers a page's events of the task's unread part by window, and moves the task down to the oldest event", () => {
    // Prepare: a task over two windows; the page also holds events another chain reads (older) or read already (newer).
    const t = task(T0, T0 + 2 * WINDOW_MS);
    const buffer = eventBuffer();
    const page = [event("newer", T0 + 2 * WINDOW_MS), event("b", T0 + WINDOW_MS + 5), event("a", T0 + 100), event("a2", T0 + 100)];

    // Act
    acceptPage(t, page, false, buffer, report());

    // Assess
    expect([...buffer.pending.keys()]).to.deep.equal([T0 + WINDOW_MS, T0]);
    expect([...buffer.pending.get(T0)!.keys()]).to.deep.equal(["a", "a2"]);
    // Events at the oldest time may continue on the next page: that millisecond stays unread.
    expect(t).to.deep.include({ doneFrom: T0 + 101, lastPageSpan: 2 * WINDOW_MS - 101, finished: false });
  });

  it("finishes the task on its last page, or once a page reaches past its start", () => {
    const last = task(T0, T0 + WINDOW_MS);
    const past = task(T0 + WINDOW_MS, T0 + 2 * WINDOW_MS);
    const empty = task(T0, T0 + WINDOW_MS);

    acceptPage(last, [event("x", T0 + 500)], true, eventBuffer(), report());
    acceptPage(past, [event("y", T0 + WINDOW_MS + 1), event("older", T0 + 10)], false, eventBuffer(), report());
    acceptPage(empty, [], false, eventBuffer(), report());

    expect(last).to.deep.include({ doneFrom: T0, finished: true });
    expect(past).to.deep.include({ doneFrom: T0 + WINDOW_MS, finished: true });
    expect(empty).to.deep.include({ doneFrom: T0 + WINDOW_MS, finished: false });
  });

  it("skips and counts events without a time, an ID or a CloudTrailEvent object", () => {
    // Prepare
    const buffer = eventBuffer();
    const r = report();
    const page = [
      event("no-time", 0, { EventTime: undefined }),
      event("", T0 + 4),
      event("text", T0 + 3, { CloudTrailEvent: '"a string"' }),
      event("broken", T0 + 2, { CloudTrailEvent: "{not json" }),
      event("good", T0 + 1),
    ];

    // Act
    acceptPage(task(T0, T0 + WINDOW_MS), page, false, buffer, r);

    // Assess
    expect(r.stats.rejected).to.equal(4);
    expect([...buffer.pending.get(T0)!.keys()]).to.deep.equal(["good"]);
    expect(r.logger.lines.map((l) => l.message)).to.deep.equal([
      "event without EventTime skipped",
      "event without EventId or CloudTrailEvent object skipped",
      "event without EventId or CloudTrailEvent object skipped",
      "event without EventId or CloudTrailEvent object skipped",
    ]);
  });

  it("hands out each complete window once, oldest first, and refuses events that arrive for a written window", () => {
    // Prepare: three windows read; a task still reads the newest.
    const buffer = eventBuffer();
    const reading = task(T0 + 2 * WINDOW_MS, T0 + 3 * WINDOW_MS);
    acceptPage(task(T0, T0 + 3 * WINDOW_MS), [event("c", T0 + 2 * WINDOW_MS), event("b", T0 + WINDOW_MS), event("a", T0)], false, buffer, report());

    // Act: two chains ask at once (the second while the first is still writing).
    const first = takeCompleteWindows(buffer, [reading]);
    const second = takeCompleteWindows(buffer, [reading]);

    // Assess
    expect(first.map(([windowStart, events]) => [windowStart, [...events.keys()]])).to.deep.equal([
      [T0, ["a"]],
      [T0 + WINDOW_MS, ["b"]],
    ]);
    expect(second).to.deep.equal([]);
    expect([...buffer.pending.keys()]).to.deep.equal([T0 + 2 * WINDOW_MS]);
    expect(() => acceptPage(task(T0, T0 + WINDOW_MS), [event("late", T0 + 7)], false, buffer, report())).to.throw("event late at 2024-05-20T10:00:00.007Z arrived after its window was written");
  });
});

import type { LookupEventsCommand, LookupEventsCommandOutput } from "@aws-sdk/client-cloudtrail";
import { expect } from "chai";

import { createRateLimiter } from "../../../functions/shared/rateLimiter";
import { LOOKBACK_MS } from "../../../functions/trailBackfill/awsFacts";
import { emptyStats } from "../../../functions/trailBackfill/checkpoint";
import { LOOKBACK_MARGIN_MS, type PageReading, readPage } from "../../../functions/trailBackfill/lookupPage";
import { finishTask, type Task } from "../../../functions/trailBackfill/taskQueue";
import { serviceError } from "../../../simulation/fakeCloudTrail";
import { recordingLogger } from "../../../simulation/recorders";
import { seededRandom, VirtualClock } from "../../../simulation/virtualClock";

const NOW = Date.parse("2024-06-01T00:00:00Z");
const START = Date.parse("2024-05-20T10:00:00Z");
const END = Date.parse("2024-05-20T11:00:00Z");

/** One scripted answer of LookupEvents: a page (`next` is its NextToken) or an error. */
type Answer = { next?: string } | Error;

interface Sent {
  at: number;
  startTime: number;
  endTime: number;
  token?: string;
}

function scenario(answers: Answer[], overrides: Partial<PageReading> = {}) {
  const clock = new VirtualClock(NOW);
  const sent: Sent[] = [];
  const pages: Array<{ lastPage: boolean }> = [];
  const logger = recordingLogger();
  const reading: PageReading = {
    cloudTrail: {
      send: (command: LookupEventsCommand) => {
        const { StartTime, EndTime, NextToken } = command.input;
        sent.push({ at: clock.now(), startTime: (StartTime as Date).getTime(), endTime: (EndTime as Date).getTime(), ...(NextToken === undefined ? {} : { token: NextToken }) });
        const answer = answers.shift();
        if (answer === undefined) throw new Error("no answer scripted");
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve({ Events: [], NextToken: answer.next, $metadata: {} } as LookupEventsCommandOutput);
      },
    },
    clock,
    stopAt: NOW + 3_600_000,
    limiter: createRateLimiter(2, clock),
    signal: new AbortController().signal,
    random: seededRandom(5),
    logger,
    pair: { account: "222222222222", region: "us-east-1" },
    stats: emptyStats(),
    timing: { pages: 0, busyMs: 0 },
    state: { consecutiveThrottles: 0, agedOutWarned: false },
    accept: (task, _events, lastPage) => {
      pages.push({ lastPage });
      if (lastPage) finishTask(task);
    },
    ...overrides,
  };
  const task: Task = { start: START, doneFrom: END, end: END, queryStart: START, queryEnd: END, finished: false };
  const read = () => clock.run(() => readPage(task, reading));
  return { clock, sent, pages, logger, reading, task, read };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail("expected an error"),
    (error: Error) => error,
  );
}

describe("trailBackfill lookupPage", () => {
  it("pages the task's range with the NextToken of its query, and drops the token on the last page", async () => {
    // Prepare
    const s = scenario([{ next: "t1" }, {}]);

    // Act
    const first = await s.read();
    s.task.doneFrom = END - 60_000;
    const second = await s.read();

    // Assess: the query ends a millisecond before the task's end (EndTime is inclusive, and events on the boundary
    // belong to the newer window); the second request keeps the bounds the token was issued for.
    expect([first, second]).to.deep.equal([true, true]);
    expect(s.sent.map(({ startTime, endTime, token }) => ({ startTime, endTime, token }))).to.deep.equal([
      { startTime: START, endTime: END - 1, token: undefined },
      { startTime: START, endTime: END - 1, token: "t1" },
    ]);
    expect(s.pages).to.deep.equal([{ lastPage: false }, { lastPage: true }]);
    expect(s.task).to.deep.include({ finished: true, token: undefined });
    expect(s.reading.stats.requests).to.equal(2);
  });

  it("backs off for everyone when throttled, then goes on; counts throttling, not retries", async () => {
    // Prepare
    const s = scenario([serviceError("ThrottlingException", "Rate exceeded"), serviceError("ThrottlingException", "Rate exceeded"), {}]);

    // Act
    await s.read();

    // Assess: backoffs of 0.5-1 s, then 1-2 s (equal jitter over 1 s doubling).
    expect(s.reading.stats).to.deep.include({ requests: 3, throttled: 2, retried: 0 });
    expect(s.sent[1].at - s.sent[0].at).to.be.within(500, 1000);
    expect(s.sent[2].at - s.sent[1].at).to.be.within(1000, 2000);
    expect(s.reading.state.consecutiveThrottles).to.equal(0);
  });

  it("takes any throttling answer for throttling: HTTP 429 and the other throttling error names", async () => {
    const s = scenario([serviceError("TooManyRequestsException", "slow down", 429), serviceError("Throttling", "Rate exceeded"), {}]);

    await s.read();

    expect(s.reading.stats).to.deep.include({ requests: 3, throttled: 2, retried: 0 });
  });

  it("retries transient errors five times with growing waits, then gives up with the error", async () => {
    // Prepare
    const s = scenario(Array.from({ length: 6 }, () => serviceError("InternalFailure", "injected failure", 500)));

    // Act
    const error = await failure(s.read());

    // Assess
    expect(error.name).to.equal("InternalFailure");
    expect(s.reading.stats).to.deep.include({ requests: 6, retried: 5, throttled: 0 });
    expect(s.logger.lines.filter((l) => l.message === "LookupEvents failed; retrying").map((l) => l.fields.attempt)).to.deep.equal([1, 2, 3, 4, 5]);
    const waits = s.sent.slice(1).map((r, i) => r.at - s.sent[i].at);
    expect(waits[0]).to.be.within(250, 500);
    expect(waits[4]).to.be.within(4000, 8000);
  });

  it("queries again from the task's position when the NextToken is refused", async () => {
    // Prepare
    const s = scenario([{ next: "t1" }, serviceError("InvalidNextTokenException", "Invalid NextToken"), {}]);
    await s.read();
    s.task.doneFrom = END - 60_000;

    // Act
    await s.read();

    // Assess
    expect(s.sent.slice(1).map(({ startTime, endTime, token }) => ({ startTime, endTime, token }))).to.deep.equal([
      { startTime: START, endTime: END - 1, token: "t1" },
      { startTime: START, endTime: END - 60_000 - 1, token: undefined },
    ]);
    expect(s.reading.stats).to.deep.include({ retried: 0, throttled: 0 });
    expect(s.logger.lines.map((l) => l.message)).to.deep.equal(["NextToken refused; querying again from the last position read"]);
  });

  it("fails the pair with LookupEventsAccessDeniedError when LookupEvents is refused, without retrying", async () => {
    const s = scenario([serviceError("AccessDeniedException", "not authorized")]);

    const error = await failure(s.read());

    expect(error.name).to.equal("LookupEventsAccessDeniedError");
    expect(error.message).to.equal(
      "LookupEvents in 222222222222 us-east-1 was refused with AccessDeniedException: not authorized. Check the reader role's policy and that the region is enabled in the account.",
    );
    expect(s.sent).to.have.length(1);
  });

  it("passes a refused reader role and errors that retrying cannot fix through unchanged", async () => {
    const denied = Object.assign(new Error("cannot assume"), { name: "ReaderRoleAccessDeniedError" });
    const invalid = serviceError("InvalidTimeRangeException", "StartTime is after EndTime");

    expect(await failure(scenario([denied]).read())).to.equal(denied);
    expect(await failure(scenario([invalid]).read())).to.equal(invalid);
  });

  it("sends nothing once the deadline has come", async () => {
    const s = scenario([{}], { stopAt: NOW });

    expect(await s.read()).to.equal(false);
    expect(s.sent).to.deep.equal([]);
  });

  it("never asks for events older than LookupEvents holds, and finishes a task that has aged out, warning once", async () => {
    // Prepare: the clock at which the range's first 20 minutes have aged out; a second task entirely older.
    const late = START + LOOKBACK_MS + 20 * 60_000;
    const s = scenario([{}], { stopAt: Number.POSITIVE_INFINITY });
    s.clock.advance(late - NOW);
    const old: Task = { start: START - 3_600_000, doneFrom: START - 1_800_000, end: START - 1_800_000, queryStart: 0, queryEnd: 0, finished: false };

    // Act
    await s.read();
    await s.clock.run(() => readPage(old, s.reading));
    const again: Task = { ...old, finished: false, doneFrom: old.end };
    await s.clock.run(() => readPage(again, s.reading));

    // Assess
    expect(s.sent.map((r) => r.startTime)).to.deep.equal([late - LOOKBACK_MS + LOOKBACK_MARGIN_MS]);
    expect(old).to.deep.include({ finished: true, doneFrom: old.start });
    expect(s.logger.lines.filter((l) => l.message.startsWith("events older than 90 days"))).to.have.length(1);
  });
});

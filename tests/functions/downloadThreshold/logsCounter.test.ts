import { expect } from "chai";

import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { downloadThresholdHandler } from "../../../functions/downloadThreshold/handler";
import { objectFilterPattern, parseDownloadEvent, withinBudget } from "../../../functions/downloadThreshold/logsCounter";
import { asEventBridgeEvent, getObjectRecord, recordsAsSubscriptionEvent } from "../../../simulation/downloadEvents";
import { FakeCloudWatchLogs } from "../../../simulation/fakeCloudWatchLogs";
import { FakeSns } from "../../../simulation/fakeSns";
import { compileFilterPattern } from "../../../simulation/logsFilterPattern";
import { seededRandom, VirtualClock } from "../../../simulation/virtualClock";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
const LOG_GROUP = "/aws/cloudtrail/cloudtrail-alerts-dev-trail";
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";
const WINDOW_START = Date.parse("2025-03-02T16:00:00Z");

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** Download `n` of `key`, at minute `minute` (default `n`) of the window. */
const download = (n: number, key = KEY, minute = n): CloudTrailRecord =>
  getObjectRecord({ eventID: id(n), eventTime: new Date(WINDOW_START + minute * 60_000).toISOString().replace(".000Z", "Z"), key });
const asLogEvent = (record: CloudTrailRecord) => ({ timestamp: Date.parse(record.eventTime), message: JSON.stringify(record) });
/** A scan budget that makes each FilterLogEvents page hold `events` sample events (CloudWatch Logs adds 26 bytes each). */
const pagesOf = (events: number) => (Buffer.byteLength(JSON.stringify(download(1)), "utf8") + 26) * (events - 1) + 1;

describe("objectFilterPattern (FilterLogEvents)", () => {
  it("keeps '*' a wildcard (filter patterns have no escape for it), so a watched key with '*' can match more keys", () => {
    const matches = compileFilterPattern(objectFilterPattern(BUCKET, "report*.pdf"));

    expect(matches(getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key: "report*.pdf" }))).to.equal(true);
    expect(matches(getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key: "report-2025.pdf" }))).to.equal(true);
  });
});

describe("downloadThresholdHandler with the logs counter (FilterLogEvents re-count)", () => {
  let sns: FakeSns;

  before(async () => {
    sns = await FakeSns.start([TOPIC_ARN]);
  });
  after(async () => {
    await sns.stop();
  });
  beforeEach(() => {
    sns.published.splice(0);
  });

  function setup(options: { threshold?: number; notify?: "every" | "once"; key?: string; scanBytesPerPage?: number; timeBudgetMs?: number } = {}) {
    const clock = new VirtualClock(Date.parse("2025-03-10T00:00:00Z"));
    const logs = new FakeCloudWatchLogs({ logGroupName: LOG_GROUP, clock, ...(options.scanBytesPerPage ? { scanBytesPerPage: options.scanBytesPerPage } : {}) });
    const handle = downloadThresholdHandler(
      {
        watches: [{ bucket: BUCKET, key: options.key ?? KEY, threshold: options.threshold ?? 3 }],
        reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
        notify: options.notify ?? "every",
        counter: { kind: "logs", logGroupName: LOG_GROUP },
        topicArn: TOPIC_ARN,
        language: "en",
        timeZone: "Asia/Tokyo",
        ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
      },
      // The fake SNS is on loopback: time stands still while a publish is in flight.
      { sns: clock.trackSends(sns.client()), logs: clock.trackSends(logs.client()), clock, random: seededRandom(7), logger: { info: () => undefined, warn: () => undefined, error: () => undefined } },
    );
    const handler = (...args: Parameters<typeof handle>) => clock.run(() => handle(...args));
    return { handler, logs, clock };
  }
  const counts = () => sns.published.map((p) => Number(/downloaded (\d+) times/.exec(p.subject ?? "")?.[1]));

  it("counts a download as its position among the window's downloads of the object, paging to the last page", async () => {
    // Prepare: 6 downloads of the object, each with 3 of another object in the same minute; pages of 2 events, so
    // every other page holds no match.
    const { handler, logs } = setup({ scanBytesPerPage: pagesOf(2) });
    logs.add([1, 2, 3, 4, 5, 6].flatMap((n) => [asLogEvent(download(n)), ...[1, 2, 3].map((k) => asLogEvent(download(100 * k + n, "2025/other.pdf", n)))]));

    // Act
    const fourth = await handler(recordsAsSubscriptionEvent([download(4)]));
    const second = await handler(recordsAsSubscriptionEvent([download(2)]));

    // Assess
    expect([fourth.alerted, second.alerted]).to.deep.equal([1, 0]);
    expect(counts()).to.deep.equal([4]);
    // 16 events up to the fourth download (8 pages), 8 up to the second (4 pages); half the pages are empty.
    expect(logs.stats).to.deep.include({ pages: 12, emptyPages: 6 });
  });

  it("alerts once for the download that is the first past the threshold, whatever order the events arrive in (notify: once)", async () => {
    const { handler, logs } = setup({ notify: "once" });
    logs.add([1, 2, 3, 4, 5, 6].map((n) => asLogEvent(download(n))));

    for (const n of [6, 2, 5, 4, 1, 3]) {
      await handler(recordsAsSubscriptionEvent([download(n)]));
    }

    expect(counts()).to.deep.equal([4]);
    expect(sns.published[0].message).to.contain(`#/events/${id(4)}`);
  });

  it("counts the triggering download even before it reaches the log group (EventBridge can be faster)", async () => {
    const { handler, logs } = setup();
    logs.add([1, 2, 3].map((n) => asLogEvent(download(n))));

    await handler(asEventBridgeEvent(download(4)));

    expect(counts()).to.deep.equal([4]);
  });

  it("compares keys exactly, so events that only the filter's '*' wildcard matched are not counted", async () => {
    const { handler, logs } = setup({ key: "report*.pdf", threshold: 1 });
    logs.add([asLogEvent(download(1, "report-a.pdf")), asLogEvent(download(2, "report-b.pdf")), asLogEvent(download(3, "report*.pdf"))]);
    expect(compileFilterPattern(objectFilterPattern(BUCKET, "report*.pdf"))(download(1, "report-a.pdf"))).to.equal(true);

    const result = await handler(asEventBridgeEvent(download(3, "report*.pdf")));

    expect(result.alerted).to.equal(0);
    expect(sns.published).to.deep.equal([]);
  });

  it("alerts again when an event is redelivered: it keeps no state (the documented limit)", async () => {
    const { handler, logs } = setup({ threshold: 1 });
    logs.add([1, 2].map((n) => asLogEvent(download(n))));

    await handler(asEventBridgeEvent(download(2)));
    await handler(asEventBridgeEvent(download(2)));

    expect(counts()).to.deep.equal([2, 2]);
  });

  it("waits out FilterLogEvents' 5 requests/s quota with backoff on its clock", async () => {
    // 40 downloads, 2 per page: 20 pages for the last one, 4 seconds at 5 requests/s.
    const { handler, logs, clock } = setup({ scanBytesPerPage: pagesOf(2), threshold: 39 });
    logs.add(Array.from({ length: 40 }, (_, i) => asLogEvent(download(i + 1))));
    const started = clock.now();

    const result = await handler(asEventBridgeEvent(download(40)));

    expect(result.alerted).to.equal(1);
    expect(logs.stats.pages).to.equal(20);
    expect(logs.stats.throttled).to.be.greaterThan(0);
    expect(clock.now() - started).to.be.at.least(3000);
  });

  it("gives up before its time budget runs out, failing the invocation so that Lambda retries it", async () => {
    const { handler, logs } = setup({ scanBytesPerPage: pagesOf(2), timeBudgetMs: 1500 });
    logs.add(Array.from({ length: 40 }, (_, i) => asLogEvent(download(i + 1))));

    const error = await handler(asEventBridgeEvent(download(40))).then(() => undefined, (caught: Error) => caught);

    expect(error?.name).to.equal("DownloadProcessingError");
    expect(error?.message).to.contain("TimeBudgetExceededError: FilterLogEvents still failing with ThrottlingException");
    expect(sns.published).to.deep.equal([]);
  });
});

describe("withinBudget (the logs counter's retries)", () => {
  const failing = (...names: string[]) => {
    let calls = 0;
    const call = () => {
      const name = names[calls++];
      return name === undefined ? Promise.resolve("page") : Promise.reject(Object.assign(new Error(name), { name }));
    };
    return { call, calls: () => calls };
  };

  it("retries throttling and server faults after the shared equal-jitter backoff, doubling per failure", async () => {
    // Prepare: random 0 gives the shortest wait, half the ceiling.
    const clock = new VirtualClock(0);
    const { call, calls } = failing("ThrottlingException", "ServiceUnavailableException", "InternalServerException");

    // Act
    const page = await clock.run(() => withinBudget(call, { clock, random: () => 0, baseBackoffMs: 200, maxBackoffMs: 5000, deadline: 10_000 }));

    // Assess
    expect(page).to.equal("page");
    expect(calls()).to.equal(4);
    expect(clock.now()).to.equal(100 + 200 + 400);
  });

  it("fails at once on an error that retrying cannot fix", async () => {
    const clock = new VirtualClock(0);
    const { call, calls } = failing("AccessDeniedException");

    const error = await withinBudget(call, { clock, random: () => 0, baseBackoffMs: 200, maxBackoffMs: 5000, deadline: 10_000 }).then(() => undefined, (caught: Error) => caught);

    expect([error?.name, calls(), clock.now()]).to.deep.equal(["AccessDeniedException", 1, 0]);
  });

  it("gives up with TimeBudgetExceededError when the next wait would end after the deadline", async () => {
    const clock = new VirtualClock(0);
    const { call, calls } = failing(...Array.from({ length: 10 }, () => "ThrottlingException"));

    const error = await clock
      .run(() => withinBudget(call, { clock, random: () => 1, baseBackoffMs: 200, maxBackoffMs: 5000, deadline: 1000 }))
      .then(() => undefined, (caught: Error) => caught);

    // Waits of 200 and 400 fit in 1000 ms; the third (800) would end at 1400.
    expect(error?.name).to.equal("TimeBudgetExceededError");
    expect(error?.message).to.equal("FilterLogEvents still failing with ThrottlingException after 3 attempts; giving up before the function times out so that Lambda retries the event");
    expect([calls(), clock.now()]).to.deep.equal([3, 600]);
  });
});

describe("parseDownloadEvent", () => {
  it("reads a successful GetObject from a log event's message and nothing else", () => {
    const record = download(1);

    expect(parseDownloadEvent(JSON.stringify(record))).to.deep.equal({ bucket: BUCKET, key: KEY, id: id(1), time: Date.parse(record.eventTime) });
    expect(parseDownloadEvent(JSON.stringify({ ...record, errorCode: "AccessDenied" }))).to.equal(undefined);
    expect(parseDownloadEvent(JSON.stringify({ ...record, eventName: "HeadObject" }))).to.equal(undefined);
    expect(parseDownloadEvent("{ not json")).to.equal(undefined);
    expect(parseDownloadEvent(undefined)).to.equal(undefined);
  });
});

/**
 * DownloadThresholdAlert behind a LogSubscriptionDispatcher, end to end through the real handlers: CloudWatch Logs'
 * subscription filter (the dispatcher's pattern, evaluated by the filter pattern oracle), the dispatcher handler
 * publishing to a loopback SNS, and each forwarded message delivered to the download handler counting in dynalite.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import fc from "fast-check";

import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { downloadRecordPattern } from "../../../components/downloadPatterns";
import { downloadThresholdHandler } from "../../../functions/downloadThreshold/handler";
import { watchedDownload, type WatchedObject } from "../../../functions/downloadThreshold/watchedDownload";
import { logDispatchHandler } from "../../../functions/logDispatch/handler";
import type { DispatchRoute } from "../../../functions/logDispatch/settings";
import { logsFilterPattern, matchesRecordPattern } from "../../../functions/shared/recordPattern";
import { getObjectRecord, recordsAsSubscriptionEvent } from "../../../simulation/downloadEvents";
import { FakeSns } from "../../../simulation/fakeSns";
import { fixture } from "../../../simulation/fixtures";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";
import { logsFilterMatches } from "../../../simulation/logsFilterPattern";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";

const DISPATCH_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:trail-subscription-topic";
const ALERT_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";

const watches: WatchedObject[] = [
  { bucket: BUCKET, key: KEY, threshold: 1 },
  { bucket: BUCKET, keyPrefix: "board/", threshold: 3 },
  { bucket: BUCKET, key: "reports/q*.pdf", threshold: 3 },
  { bucket: "hr-records", keyPrefix: "", threshold: 20 },
];
const routes: DispatchRoute[] = [
  { key: "activity-ssm", patterns: [{ eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession"] }] },
  { key: "download-alerts", patterns: [downloadRecordPattern(watches)] },
];

/** A GetObject like the sample (Monday 2025-03-03, Tokyo) with its own event ID. */
const download = (n: number, overrides: { bucket?: string; key?: string; eventName?: string; errorCode?: string } = {}): CloudTrailRecord =>
  getObjectRecord({ eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, eventTime: `2025-03-03T01:0${n % 10}:00Z`, ...overrides });

describe("DownloadThresholdAlert behind a LogSubscriptionDispatcher (handlers end to end)", () => {
  let db: LocalDynamoDb;
  let sns: FakeSns;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([DISPATCH_TOPIC, ALERT_TOPIC])]);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop()]);
  });

  it("forwards exactly the successful GetObject events of watched objects, and counts exactly those", async () => {
    // Prepare: one batch of the trail's log group, what CloudWatch Logs delivers through the dispatcher's filter.
    const tableName = await db.createCountsTable();
    const watched = [download(1), download(2), download(3, { key: "board/minutes.pdf" }), download(4, { bucket: "hr-records", key: "2025/給与.csv" })];
    const unwatched = [
      download(5, { key: "public/readme.txt" }),
      download(6, { bucket: "other-bucket" }),
      download(7, { errorCode: "AccessDenied" }),
      download(8, { eventName: "PutObject" }),
      download(9, { key: "board" }),
      // A filter pattern reads `*` as a wildcard; the dispatcher compares literally.
      download(10, { key: "reports/q1.pdf" }),
      download(11, { key: `${KEY}.bak` }),
    ];
    const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
    const filterPattern = logsFilterPattern(routes.flatMap((r) => r.patterns));
    const delivered = [...watched, ...unwatched, ssm].filter((record) => logsFilterMatches(filterPattern, record));
    const dispatch = logDispatchHandler({ topicArn: DISPATCH_TOPIC, routes }, { sns: sns.client(), logger: recordingLogger(), metrics: recordingMetrics() });
    const count = downloadThresholdHandler(
      { watches, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
      { sns: sns.client(), dynamodb: db.client(), logger: recordingLogger(), metrics: recordingMetrics() },
    );

    // Act: dispatch, then deliver each message SNS accepted for the download consumer as Lambda would.
    const dispatched = await dispatch(recordsAsSubscriptionEvent(delivered));
    const forwarded = sns.published.filter((p) => p.attributes?.consumer === "download-alerts");
    const counted = await count({ Records: forwarded.map((p) => ({ EventSource: "aws:sns", EventVersion: "1.0", Sns: { Type: "Notification", MessageId: p.messageId, TopicArn: p.topicArn, Message: p.message } })) });

    // Assess
    expect(delivered.map((r) => r.eventID)).to.include.members(watched.map((r) => r.eventID));
    expect(dispatched).to.deep.equal({ logEvents: delivered.length, forwarded: { "activity-ssm": 1, "download-alerts": 4 }, messages: 2, rejected: 0 });
    expect(counted).to.deep.equal({ control: false, rejected: 0, ignored: 0, counted: 4, notCounted: 0, alerted: 1 });
    const items = (await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
    // Counter items (one per object and window) and one event item per counted download.
    const counters = items.filter((item) => !String(item.object.S).startsWith("event#"));
    expect(items.length - counters.length).to.equal(4);
    expect(Object.fromEntries(counters.map((item) => [item.object.S, Number(item.downloads.N)]))).to.deep.equal({
      [`${BUCKET}/${KEY}`]: 2,
      [`${BUCKET}/board/minutes.pdf`]: 1,
      "hr-records/2025/給与.csv": 1,
    });
    expect(sns.published.filter((p) => p.topicArn === ALERT_TOPIC).map((p) => p.subject)).to.deep.equal([
      "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
    ]);
  });

  it("routes with a pattern that selects exactly the records the handler counts, whatever the keys hold (property)", () => {
    // Keys from characters that are wildcards or need escaping elsewhere, so that any non-literal matching shows.
    const text = fc.string({ unit: fc.constantFrom("a", "b", "/", "*", "?", '"', "\\", " ", "売"), maxLength: 4 });
    const bucket = fc.constantFrom("bucket-a", "bucket-b");
    const watch: fc.Arbitrary<WatchedObject> = fc.oneof(
      fc.record({ bucket, key: text.filter((k) => k !== ""), threshold: fc.constant(1) }),
      fc.record({ bucket, keyPrefix: text, threshold: fc.constant(1) }),
    );
    const record = fc.record({
      bucket,
      key: text,
      eventName: fc.constantFrom("GetObject", "GetObject", "HeadObject"),
      errorCode: fc.option(fc.constantFrom("AccessDenied", "NoSuchKey"), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(watch, { minLength: 1, maxLength: 4 }), record, (watches, r) => {
        const candidate = download(1, { bucket: r.bucket, key: r.key, eventName: r.eventName, ...(r.errorCode === undefined ? {} : { errorCode: r.errorCode }) });

        expect(matchesRecordPattern(candidate, downloadRecordPattern(watches))).to.equal(!("ignored" in watchedDownload(candidate, watches)));
      }),
      { numRuns: 500 },
    );
  });
});

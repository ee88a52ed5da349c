import { gzipSync } from "zlib";

import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { type PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { expect } from "chai";

import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { DOWNLOAD_COUNTS_TABLE, entryName, eventDigest, eventKey, legacyAttribute } from "../../../functions/downloadThreshold/counterItems";
import { downloadThresholdHandler, type DownloadThresholdResult } from "../../../functions/downloadThreshold/handler";
import type { DownloadThresholdSettings } from "../../../functions/downloadThreshold/settings";
import type { WatchedObject } from "../../../functions/downloadThreshold/watchedDownload";
import { asEventBridgeEvent, asSubscriptionEvent, getObjectRecord, recordsAsSubscriptionEvent } from "../../../simulation/downloadEvents";
import { FakeSns } from "../../../simulation/fakeSns";
import { KillSwitch } from "../../../simulation/faultProxy";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";
// The window of the sample event (Monday 2025-03-03 10:02:03 JST): Monday 01:00 JST to the next Monday 01:00 JST.
const WINDOW_START = Date.parse("2025-03-02T16:00:00Z");
const WINDOW_END = Date.parse("2025-03-09T16:00:00Z");
const WINDOW = { start: new Date(WINDOW_START), end: new Date(WINDOW_END) };

/** An ISO event time `seconds` after the window start. */
const afterReset = (seconds: number): string => new Date(WINDOW_START + seconds * 1000).toISOString().replace(".000Z", "Z");

function download(id: number | string, seconds = 3600, overrides: { key?: string; bucket?: string } = {}): CloudTrailRecord {
  return getObjectRecord({ eventID: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`, eventTime: afterReset(seconds), ...overrides });
}

describe("downloadThresholdHandler with the DynamoDB counter", () => {
  let db: LocalDynamoDb;
  let sns: FakeSns;
  let tableName: string;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([TOPIC_ARN])]);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop()]);
  });
  beforeEach(async () => {
    tableName = await db.createCountsTable();
    sns.published.splice(0);
  });

  function setup(options: { watches?: WatchedObject[]; notify?: "every" | "once"; language?: "ja" | "en" } = {}) {
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const settings: DownloadThresholdSettings = {
      watches: options.watches ?? [{ bucket: BUCKET, key: KEY, threshold: 2 }],
      reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
      notify: options.notify ?? "every",
      counter: { kind: "dynamodb", tableName },
      topicArn: TOPIC_ARN,
      language: options.language ?? "en",
      timeZone: "Asia/Tokyo",
    };
    const handler = downloadThresholdHandler(settings, { sns: sns.client(), dynamodb: db.client(), logger, metrics });
    return { handler, logger, metrics };
  }

  const subjects = () => sns.published.map((p) => p.subject);
  const eventIdsAlerted = () => sns.published.map((p) => /#\/events\/([^\s]+)/.exec(p.message)?.[1]);

  it("alerts on the first download past the threshold with object, count, window and who/when/where", async () => {
    // Prepare
    const { handler } = setup();

    // Act
    for (const id of [1, 2, 3]) {
      await handler(asEventBridgeEvent(download(id, 32523)));
    }

    // Assess
    expect(sns.published).to.have.length(1);
    expect(sns.published[0]).to.deep.include({
      topicArn: TOPIC_ARN,
      subject: "S3 object downloaded 3 times (threshold 2): s3://confidential-reports (key in message)",
      message: [
        "An S3 object was downloaded more times than allowed since the last reset.",
        "",
        "Object: s3://confidential-reports/2025/売上報告 Q1.pdf",
        "Downloads: 3 (threshold: 2)",
        "Window: 2025-03-03 01:00:00 +09:00 to 2025-03-10 01:00:00 +09:00 (Asia/Tokyo)",
        "",
        "This download",
        "Who: alice@example.com (IAM Identity Center user, permission set ReadOnly)",
        "When: 2025-03-03 10:02:03 +09:00",
        "Source IP: 192.0.2.44",
        "User agent: [aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#s3.cp]",
        "Event: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/00000000-0000-4000-8000-000000000003",
        "",
        "Every further download of this object until 2025-03-10 01:00:00 +09:00 is alerted too.",
      ].join("\n"),
    });
  });

  it("writes the body in Japanese when asked", async () => {
    const { handler } = setup({ language: "ja", notify: "once" });

    for (const id of [1, 2, 3]) {
      await handler(asEventBridgeEvent(download(id, 32523)));
    }

    expect(sns.published.map((p) => p.message)).to.deep.equal([
      [
        "S3 オブジェクトが前回のリセット以降、しきい値を超えてダウンロードされました。",
        "",
        "オブジェクト: s3://confidential-reports/2025/売上報告 Q1.pdf",
        "ダウンロード回数: 3 回 (しきい値: 2 回)",
        "集計期間: 2025-03-03 01:00:00 +09:00 から 2025-03-10 01:00:00 +09:00 まで (Asia/Tokyo)",
        "",
        "今回のダウンロード",
        "実行者: alice@example.com (IAM Identity Center ユーザー、許可セット ReadOnly)",
        "日時: 2025-03-03 10:02:03 +09:00",
        "送信元 IP: 192.0.2.44",
        "ユーザーエージェント: [aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#s3.cp]",
        "イベント: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/00000000-0000-4000-8000-000000000003",
        "",
        "2025-03-10 01:00:00 +09:00 まで、このオブジェクトについてはこれ以上通知しません (notify: once)。",
      ].join("\n"),
    ]);
  });

  it("never counts a redelivered event twice and never alerts for it again", async () => {
    const { handler } = setup();

    const results = [];
    for (const id of [1, 2, 2, 3, 1, 3, 3, 4]) {
      results.push(await handler(asEventBridgeEvent(download(id))));
    }

    expect(results.map((r) => [r.counted, r.notCounted, r.alerted])).to.deep.equal([
      [1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 1],
    ]);
    expect(subjects()).to.deep.equal([
      "S3 object downloaded 3 times (threshold 2): s3://confidential-reports (key in message)",
      "S3 object downloaded 4 times (threshold 2): s3://confidential-reports (key in message)",
    ]);
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"]);
  });

  it("counts by arrival across the threshold when events arrive out of order, alerting exactly once per count", async () => {
    // Events 1..4 happened in this order; they arrive 4, 2, 1, 3.
    const every = setup();
    for (const id of [4, 2, 1, 3]) {
      await every.handler(asEventBridgeEvent(download(id, id * 60)));
    }
    const everyAlerts = { subjects: subjects(), ids: eventIdsAlerted() };
    sns.published.splice(0);
    tableName = await db.createCountsTable();
    const once = setup({ notify: "once" });
    for (const id of [4, 2, 1, 3]) {
      await once.handler(asEventBridgeEvent(download(id, id * 60)));
    }

    expect(everyAlerts).to.deep.equal({
      subjects: [
        "S3 object downloaded 3 times (threshold 2): s3://confidential-reports (key in message)",
        "S3 object downloaded 4 times (threshold 2): s3://confidential-reports (key in message)",
      ],
      ids: ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000003"],
    });
    expect({ subjects: subjects(), ids: eventIdsAlerted() }).to.deep.equal({
      subjects: ["S3 object downloaded 3 times (threshold 2): s3://confidential-reports (key in message)"],
      ids: ["00000000-0000-4000-8000-000000000001"],
    });
  });

  for (const notify of ["once", "every"] as const) {
    it(`gives 20 concurrent invocations on one object distinct counts, so exactly the right alerts go out (notify: ${notify})`, async () => {
      // Prepare: 20 separate handlers, as 20 Lambda execution environments would be.
      const handlers = Array.from({ length: 20 }, () => setup({ notify, watches: [{ bucket: BUCKET, key: KEY, threshold: 5 }] }).handler);

      // Act
      const results = await Promise.all(handlers.map((handler, i) => handler(asEventBridgeEvent(download(i + 1)))));

      // Assess
      expect(results.every((r) => r.counted === 1)).to.equal(true);
      const counts = sns.published.map((p) => Number(/downloaded (\d+) times/.exec(p.subject ?? "")?.[1])).sort((a, b) => a - b);
      expect(counts).to.deep.equal(notify === "once" ? [6] : [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(new Set(eventIdsAlerted()).size).to.equal(sns.published.length);
      const item = await db.client().send(
        new GetItemCommand({ TableName: tableName, Key: { object: { S: `${BUCKET}/${KEY}` }, entry: { S: `window#${new Date(WINDOW_START).toISOString()}` } }, ConsistentRead: true }),
      );
      expect(item.Item?.downloads).to.deep.equal({ N: "20" });
    });
  }

  it("starts a new count at the reset time: 00:59:59 and 01:00:00 on Monday belong to different windows", async () => {
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });
    const nextReset = (WINDOW_END - WINDOW_START) / 1000;

    for (const [id, seconds] of [[1, nextReset - 3600], [2, nextReset - 1], [3, nextReset], [4, nextReset + 1800]] as const) {
      await handler(asEventBridgeEvent(download(id, seconds)));
    }

    expect(sns.published.map((p) => [p.subject, p.message.split("\n").filter((l) => /^(Window|When): /.test(l))])).to.deep.equal([
      [
        "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
        ["Window: 2025-03-03 01:00:00 +09:00 to 2025-03-10 01:00:00 +09:00 (Asia/Tokyo)", "When: 2025-03-10 00:59:59 +09:00"],
      ],
      [
        "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
        ["Window: 2025-03-10 01:00:00 +09:00 to 2025-03-17 01:00:00 +09:00 (Asia/Tokyo)", "When: 2025-03-10 01:30:00 +09:00"],
      ],
    ]);
  });

  it("alerts on every download past the threshold with notify every, and only on the first with notify once", async () => {
    const every = setup();
    for (const id of [1, 2, 3, 4, 5]) {
      await every.handler(asEventBridgeEvent(download(id)));
    }
    const everySubjects = subjects();
    sns.published.splice(0);
    tableName = await db.createCountsTable();
    const once = setup({ notify: "once" });
    for (const id of [1, 2, 3, 4, 5]) {
      await once.handler(asEventBridgeEvent(download(id)));
    }

    expect(everySubjects.map((s) => /downloaded (\d+) times/.exec(s ?? "")?.[1])).to.deep.equal(["3", "4", "5"]);
    expect(subjects().map((s) => /downloaded (\d+) times/.exec(s ?? "")?.[1])).to.deep.equal(["3"]);
  });

  it("counts each object under a watched prefix separately, comparing UTF-8 keys exactly as S3 reports them", async () => {
    const keys = ["報告/売上 Q1.pdf", "報告/a+b.pdf", "報告/a b.pdf", "報告/a%20b.pdf", "報告/A+B.pdf"];
    const { handler } = setup({ watches: [{ bucket: BUCKET, keyPrefix: "報告/", threshold: 1 }] });

    let id = 0;
    for (const key of [...keys, "報告/a+b.pdf", "報告/a b.pdf", "報告", "報告x/a.pdf"]) {
      await handler(asEventBridgeEvent(download(++id, 60 * id, { key })));
    }

    expect(sns.published.map((p) => p.message.split("\n").find((l) => l.startsWith("Object: ")))).to.deep.equal([
      "Object: s3://confidential-reports/報告/a+b.pdf",
      "Object: s3://confidential-reports/報告/a b.pdf",
    ]);
    expect(subjects()).to.deep.equal([
      "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
      "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
    ]);
  });

  it("names the object in the subject when its key is printable ASCII", async () => {
    const { handler } = setup({ watches: [{ bucket: BUCKET, keyPrefix: "", threshold: 1 }] });

    for (const id of [1, 2]) {
      await handler(asEventBridgeEvent(download(id, 60, { key: "reports/q1 final+v2.pdf" })));
    }

    expect(subjects()).to.deep.equal(["S3 object downloaded 2 times (threshold 1): s3://confidential-reports/reports/q1 final+v2.pdf"]);
  });

  it("uses the threshold of an exact-key watch over a prefix watch, and the longest prefix over shorter ones", async () => {
    const { handler } = setup({
      watches: [
        { bucket: BUCKET, keyPrefix: "", threshold: 5 },
        { bucket: BUCKET, keyPrefix: "2025/", threshold: 3 },
        { bucket: BUCKET, key: KEY, threshold: 1 },
      ],
    });

    for (const [id, key] of [[1, KEY], [2, KEY], [3, "2025/other.pdf"], [4, "2025/other.pdf"], [5, "2025/other.pdf"], [6, "2025/other.pdf"]] as const) {
      await handler(asEventBridgeEvent(download(id, 60 * id, { key })));
    }

    expect(subjects()).to.deep.equal([
      "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
      "S3 object downloaded 4 times (threshold 3): s3://confidential-reports/2025/other.pdf",
    ]);
  });

  it("does not count other objects, other event names, other services or failed requests", async () => {
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });
    const noise: CloudTrailRecord[] = [
      getObjectRecord({ eventID: "n1", eventTime: afterReset(60), key: `${KEY} ` }),
      getObjectRecord({ eventID: "n2", eventTime: afterReset(60), bucket: "other-bucket" }),
      getObjectRecord({ eventID: "n3", eventTime: afterReset(60), eventName: "HeadObject" }),
      getObjectRecord({ eventID: "n4", eventTime: afterReset(60), eventSource: "s3-outposts.amazonaws.com" }),
      getObjectRecord({ eventID: "n5", eventTime: afterReset(60), errorCode: "AccessDenied" }),
      getObjectRecord({ eventID: "n6", eventTime: afterReset(60), key: "2025/売上報告 Q1.PDF" }),
    ];

    const result = await handler(recordsAsSubscriptionEvent([...noise, download(1), ...noise]));

    expect(result).to.deep.equal({ control: false, rejected: 0, ignored: 12, counted: 1, notCounted: 0, alerted: 0 });
    expect(sns.published).to.deep.equal([]);
  });

  it("skips CloudWatch Logs control messages", async () => {
    const { handler, metrics } = setup();

    const result = await handler(asSubscriptionEvent(["CWL CONTROL MESSAGE: Checking health of destination Lambda function."], "CONTROL_MESSAGE"));

    expect(result).to.deep.equal({ control: true, rejected: 0, ignored: 0, counted: 0, notCounted: 0, alerted: 0 });
    expect(metrics.counts).to.deep.equal([]);
  });

  const undecodable: Array<[string, unknown, string]> = [
    ["data that is not base64", { awslogs: { data: "not base64!" } }, "awslogs.data is not base64"],
    ["base64 that is not gzip", { awslogs: { data: Buffer.from("plain text").toString("base64") } }, "awslogs.data is not gzip of UTF-8 text"],
    ["gzip that is not JSON", { awslogs: { data: gzipSync("{not json").toString("base64") } }, "awslogs.data does not hold JSON"],
    ["an event of neither shape", { hello: "world" }, "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event"],
  ];
  for (const [title, event, reason] of undecodable) {
    it(`logs ${title} with its reason and counts it in the RejectedInput metric, without failing (no retries)`, async () => {
      const { handler, logger, metrics } = setup();

      const result = await handler(event);

      expect(result).to.deep.include({ rejected: 1, counted: 0 });
      expect(metrics.counts).to.deep.equal([{ name: "RejectedInput", value: 1 }]);
      const warning = logger.lines.find((l) => l.message === "input rejected");
      expect(String(warning?.fields.reason)).to.match(new RegExp(`^${reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });
  }

  it("counts the good records of a batch that also holds bad ones", async () => {
    const { handler, metrics } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });

    const result = await handler(asSubscriptionEvent([JSON.stringify(download(1)), "{ not json", JSON.stringify({ eventName: "GetObject" }), JSON.stringify(download(2))]));

    expect(result).to.deep.equal({ control: false, rejected: 2, ignored: 0, counted: 2, notCounted: 0, alerted: 1 });
    expect(metrics.counts).to.deep.equal([
      { name: "RejectedInput", value: 2 },
      { name: "DownloadAlertsSent", value: 1 },
    ]);
    expect(subjects()).to.deep.equal(["S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)"]);
  });

  /** A handler in a fresh execution environment whose clients go through `kill` (if given). */
  function environment(kill?: KillSwitch, snsClient: Pick<SNSClient, "send"> = sns.client()) {
    const settings: DownloadThresholdSettings = {
      watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }],
      reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
      notify: "every",
      counter: { kind: "dynamodb", tableName },
      topicArn: TOPIC_ARN,
      language: "en",
      timeZone: "Asia/Tokyo",
    };
    const dynamodb = db.client();
    return downloadThresholdHandler(settings, { sns: kill ? kill.wrap(snsClient) : snsClient, dynamodb: kill ? kill.wrap(dynamodb) : dynamodb, logger: recordingLogger(), metrics: recordingMetrics() });
  }
  const lambda = (requestId: string) => ({ getRemainingTimeInMillis: () => 60_000, awsRequestId: requestId });

  it("gives concurrent duplicate deliveries of one event one count and one alert; the others are refused while it is counted, or find it counted", async () => {
    // Prepare: download 1 is counted; 8 deliveries of download 2 (past the threshold) arrive at once, each in its own
    // execution environment with its own request ID.
    await environment()(asEventBridgeEvent(download(1)), lambda("req-1"));

    // Act: all at once, then Lambda's retries of those that failed.
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => environment()(asEventBridgeEvent(download(2)), lambda(`req-2-${i}`)).catch((error: Error) => error)));
    const retried = await Promise.all(
      first.map((outcome, i) => (outcome instanceof Error ? environment()(asEventBridgeEvent(download(2)), lambda(`req-2-${i}`)) : Promise.resolve(undefined))),
    );

    // Assess
    const results = [...first, ...retried].filter((r): r is DownloadThresholdResult => r !== undefined && !(r instanceof Error));
    const failures = first.filter((r): r is Error => r instanceof Error);
    expect(results.map((r) => r.counted).reduce((a, b) => a + b, 0)).to.equal(1);
    expect(results.map((r) => r.alerted).reduce((a, b) => a + b, 0)).to.equal(1);
    expect(failures.every((e) => e.name === "DownloadProcessingError" && /DownloadInProgressError/.test(e.message))).to.equal(true);
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002"]);
    const item = await db.client().send(new GetItemCommand({ TableName: tableName, Key: { object: { S: `${BUCKET}/${KEY}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" } }, ConsistentRead: true }));
    expect(item.Item?.downloads).to.deep.equal({ N: "2" });
  });

  it("refuses a duplicate that arrives while the first delivery is publishing its alert: the duplicate's invocation fails (Lambda retries it later)", async () => {
    // Prepare: the first delivery's Publish waits until the duplicate has been handled.
    await environment()(asEventBridgeEvent(download(1)), lambda("req-1"));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let publishing: () => void = () => undefined;
    const publishStarted = new Promise<void>((resolve) => (publishing = resolve));
    const plain = sns.client();
    const slow = { send: async (command: PublishCommand) => (publishing(), await gate, plain.send(command)) } as unknown as Pick<SNSClient, "send">;

    // Act
    const firstDelivery = environment(undefined, slow)(asEventBridgeEvent(download(2)), lambda("req-2"));
    await publishStarted;
    const duplicate = await environment()(asEventBridgeEvent(download(2)), lambda("req-2-again")).then(() => undefined, (error: Error) => error);
    release();
    const first = await firstDelivery;
    const duplicateRetried = await environment()(asEventBridgeEvent(download(2)), lambda("req-2-again"));

    // Assess
    expect(duplicate?.message).to.match(/^1 of 1 records failed: 00000000-0000-4000-8000-000000000002: DownloadInProgressError: event 00000000-0000-4000-8000-000000000002 is being counted by invocation req-2 until /);
    expect(first).to.deep.include({ counted: 1, alerted: 1 });
    expect(duplicateRetried).to.deep.include({ counted: 0, notCounted: 1, alerted: 0 });
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002"]);
  });

  it("counts an event listed twice in one batch once", async () => {
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });

    const result = await handler(recordsAsSubscriptionEvent([download(1), download(2), download(2)]));

    expect(result).to.deep.include({ counted: 2, notCounted: 1, alerted: 1 });
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002"]);
  });

  it("sends the alert of a download an invocation counted before Lambda killed it, once, when Lambda retries that invocation", async () => {
    // Prepare: the object was downloaded once; the next download's invocation dies after its claim and its count
    // were applied (the count crossed the threshold) and before its Publish reached SNS.
    await environment()(asEventBridgeEvent(download(1)), lambda("req-1"));
    const kill = new KillSwitch({ request: 3, applied: false });
    await environment(kill)(asEventBridgeEvent(download(2)), lambda("req-2")).catch(() => undefined);

    // Act: Lambda's retry (same request ID, fresh environment), then a duplicate delivery of the event (new request ID).
    const retried = await environment()(asEventBridgeEvent(download(2)), lambda("req-2"));
    const duplicate = await environment()(asEventBridgeEvent(download(2)), lambda("req-3"));

    // Assess
    expect(kill.killedDuring).to.equal("Publish");
    expect(retried).to.deep.include({ counted: 0, notCounted: 1, alerted: 1 });
    expect(duplicate).to.deep.include({ counted: 0, notCounted: 1, alerted: 0 });
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002"]);
    expect(subjects()).to.deep.equal(["S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)"]);
  });

  it("after a publish fails in a batch, settles the alert that went out so that Lambda's retry sends only the other", async () => {
    // Prepare: SNS refuses the alert of download 3 once (after the SDK's own retries).
    await environment()(asEventBridgeEvent(download(1)), lambda("req-1"));
    const plain = sns.client();
    let refuse = 1;
    const flaky = {
      send: (command: PublishCommand) =>
        command.input.Message?.includes("000000000003") && refuse-- > 0 ? Promise.reject(Object.assign(new Error("injected"), { name: "InternalError" })) : plain.send(command),
    } as unknown as Pick<SNSClient, "send">;
    const batch = recordsAsSubscriptionEvent([download(2), download(3)]);

    // Act
    const failed = await environment(undefined, flaky)(batch, lambda("req-batch")).then(() => undefined, (error: Error) => error);
    const retried = await environment()(batch, lambda("req-batch"));

    // Assess
    expect(failed?.name).to.equal("DownloadProcessingError");
    expect(retried).to.deep.include({ counted: 0, notCounted: 2, alerted: 1 });
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"]);
  });

  it("keeps an alert SNS refused and sends it exactly once when Lambda retries the event", async () => {
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });
    await handler(asEventBridgeEvent(download(1)));
    sns.failNext(3, "InternalError", 500);

    const failed = await handler(asEventBridgeEvent(download(2))).then(() => undefined, (error: Error) => error);
    const retried = await handler(asEventBridgeEvent(download(2)));
    const redelivered = await handler(asEventBridgeEvent(download(2)));

    expect(failed?.name).to.equal("DownloadProcessingError");
    expect(retried).to.deep.include({ counted: 0, notCounted: 1, alerted: 1 });
    expect(redelivered).to.deep.include({ counted: 0, notCounted: 1, alerted: 0 });
    expect(subjects()).to.deep.equal(["S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)"]);
    expect(eventIdsAlerted()).to.deep.equal(["00000000-0000-4000-8000-000000000002"]);
  });

  it("counts past 10,000 downloads of one object in a window (the earlier counter stopped there): no cap", async () => {
    // Prepare: the window's counter item already holds 9,999 downloads (as after 9,999 deliveries).
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 10_000 }] });
    await db.client().send(
      new PutItemCommand({ TableName: tableName, Item: { object: { S: `${BUCKET}/${KEY}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" }, downloads: { N: "9999" } } }),
    );

    // Act
    const results = [];
    for (const id of [1, 2, 3]) {
      results.push(await handler(asEventBridgeEvent(download(id))));
    }

    // Assess: counted 10,000th to 10,002nd; the two past the threshold alert.
    expect(results.map((r) => [r.counted, r.alerted])).to.deep.equal([[1, 0], [1, 1], [1, 1]]);
    expect(subjects()).to.deep.equal([
      "S3 object downloaded 10001 times (threshold 10000): s3://confidential-reports (key in message)",
      "S3 object downloaded 10002 times (threshold 10000): s3://confidential-reports (key in message)",
    ]);
    expect(sns.published[1].message.split("\n").at(-1)).to.equal("Every further download of this object until 2025-03-10 01:00:00 +09:00 is alerted too.");
  });

  it("continues a window the earlier counter began (after an upgrade): its events are not counted again, a pending alert of it is sent once", async () => {
    // Prepare: the earlier counter counted downloads 1 (settled) and 2 (alert pending) on the window's item.
    const { handler } = setup({ watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }] });
    const earlier = (id: number, tag: number) => ({ [legacyAttribute(download(id).eventID)]: { N: String(id + tag * 16_384) } });
    await db.client().send(
      new PutItemCommand({ TableName: tableName, Item: { object: { S: `${BUCKET}/${KEY}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" }, downloads: { N: "2" }, ...earlier(1, 0), ...earlier(2, 1) } }),
    );

    // Act: both are delivered again, then download 3, then both once more.
    const results = [];
    for (const id of [1, 2, 3, 1, 2]) {
      results.push(await handler(asEventBridgeEvent(download(id))));
    }

    // Assess
    expect(results.map((r) => [r.counted, r.notCounted, r.alerted])).to.deep.equal([[0, 1, 0], [0, 1, 1], [1, 0, 1], [0, 1, 0], [0, 1, 0]]);
    expect(subjects()).to.deep.equal([
      "S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)",
      "S3 object downloaded 3 times (threshold 1): s3://confidential-reports (key in message)",
    ]);
  });

  it("keeps a small counter item (the count, and an entry per download being counted) and a small event item per download, both with a TTL after the window", async () => {
    // Prepare
    const { handler } = setup();
    const [first, second] = [download(1, 3600), download(2, 3600)];
    const counterItem = async () =>
      (await db.client().send(new GetItemCommand({ TableName: tableName, Key: { object: { S: `${BUCKET}/${KEY}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" } }, ConsistentRead: true }))).Item;
    const eventItem = async (record: CloudTrailRecord) =>
      (await db.client().send(new GetItemCommand({ TableName: tableName, Key: eventKey(eventDigest({ bucket: BUCKET, key: KEY, threshold: 2, record }), WINDOW), ConsistentRead: true }))).Item;
    const expires = { N: String(WINDOW_END / 1000 + 14 * 24 * 3600) };

    // Act
    await handler(asEventBridgeEvent(first));
    const afterFirst = await counterItem();
    await handler(asEventBridgeEvent(second));

    // Assess: the first download's entry stays until this environment's next count on the item, which removes it.
    const entry = (record: CloudTrailRecord) => entryName(eventDigest({ bucket: BUCKET, key: KEY, threshold: 2, record }));
    const counter = { object: { S: `${BUCKET}/${KEY}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" }, windowEnd: { S: "2025-03-09T16:00:00.000Z" }, [DOWNLOAD_COUNTS_TABLE.timeToLiveAttribute]: expires };
    expect(afterFirst).to.deep.equal({ ...counter, downloads: { N: "1" }, [entry(first)]: { N: "1" } });
    expect(await counterItem()).to.deep.equal({ ...counter, downloads: { N: "2" }, [entry(second)]: { N: "2" } });
    expect(await eventItem(first)).to.deep.equal({
      object: { S: `event#${eventDigest({ bucket: BUCKET, key: KEY, threshold: 2, record: first })}` },
      entry: { S: "window#2025-03-02T16:00:00.000Z" },
      position: { N: "1" },
      alert: { S: "none" },
      [DOWNLOAD_COUNTS_TABLE.timeToLiveAttribute]: expires,
    });
  });
});

/**
 * The malformed-input corpus (tests/fixtures/malformed/) through every handler that could receive each case: the
 * download threshold handler counting in dynalite, the user activity notifier and the log subscription dispatcher
 * publishing to the loopback SNS, and the backfill's plan and fetch steps (directly and through the state machine).
 * For each case and handler: the good records of the payload are fully processed (an alert or notification sent,
 * or forwarded to the right consumer), each bad payload or record is reported with its reason in a structured log
 * line and in the RejectedInput metric, and the invocation ends as the case says (never a retry on input that can never
 * succeed). Each outcome is recorded for `npm run verify`.
 */
import { createHash } from "crypto";
import { gunzipSync } from "zlib";

import { expect } from "chai";

import { activityPrefilter } from "../../components/activityPatterns";
import { TrailBackfill } from "../../components/trailBackfill";
import type { CloudTrailRecord } from "../../functions/shared/cloudtrailEvents";
import { downloadRecordPattern } from "../../components/downloadPatterns";
import { downloadThresholdHandler } from "../../functions/downloadThreshold/handler";
import { CONSUMER_ATTRIBUTE, logDispatchHandler } from "../../functions/logDispatch/handler";
import { REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC } from "../../functions/shared/runtime";
import { handleBackfillEvent } from "../../functions/trailBackfill/handler";
import { dynamoDbSentJournal } from "../../functions/userActivity/sentJournal";
import { userActivityHandler } from "../../functions/userActivity/handler";
import { asEventBridgeEvent, getObjectRecord } from "../../simulation/downloadEvents";
import { FakeSns, type PublishedMessage } from "../../simulation/fakeSns";
import { fixture, subscriptionPayload } from "../../simulation/fixtures";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import {
  ACTIVITY_ROUTE,
  type BuiltPayload,
  CORPUS_BACKFILL_NOW,
  CORPUS_CRITERIA,
  CORPUS_READER_ROLES,
  CORPUS_WATCHES,
  DOWNLOAD_ROUTE,
  type MalformedCase,
  malformedCorpus,
} from "../../simulation/malformedCorpus";
import { recordingLogger, recordingMetrics } from "../../simulation/recorders";
import { StateMachineInterpreter } from "../../simulation/stateMachineInterpreter";
import { verifyReport } from "../../simulation/verifyReport";

const ALERT_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:mi-alerts";
const DISPATCH_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:mi-dispatch";
const corpus = malformedCorpus();

/** Incompressible text of `bytes` bytes (hash-generated base64). */
function noise(seed: string, bytes: number): string {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const part = createHash("sha256").update(`${seed}-${i}`).digest("base64");
    parts.push(part);
    length += part.length;
  }
  return parts.join("").slice(0, bytes);
}

/** The payload of a case the test builds: records of about `bytes` each, with a small good one. */
function built(build: BuiltPayload): unknown {
  const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
  const big = getObjectRecord({ eventID: build.download, eventTime: "2025-03-03T01:02:03Z", key: "2025/big.pdf" });
  big.additionalEventData = { ...big.additionalEventData, padding: noise("download", build.bytes) };
  const small = getObjectRecord({ eventID: "mb-small", eventTime: "2025-03-03T01:02:03Z", key: "2025/small.pdf" });
  const session = { ...ssm, eventID: build.activity, requestParameters: { target: "i-0123456789abcdef0", document: noise("activity", build.bytes) } };
  return subscriptionPayload([big, session, small]);
}

function payloadOf(c: MalformedCase): unknown {
  return c.build === undefined ? c.payload : built(c.build);
}

/** The records a payload carries, read here without the handlers' decoder (to find the objects to prime). */
function recordsIn(payload: unknown): Array<Record<string, unknown>> {
  const p = payload as { awslogs?: { data?: string }; detail?: unknown } | null;
  if (typeof p?.awslogs?.data === "string") {
    try {
      const message = JSON.parse(gunzipSync(Buffer.from(p.awslogs.data, "base64")).toString("utf8")) as { logEvents?: Array<{ message?: unknown }> };
      return (message.logEvents ?? []).flatMap((e): Array<Record<string, unknown>> => {
        try {
          const record = typeof e?.message === "string" ? (JSON.parse(e.message) as unknown) : undefined;
          return typeof record === "object" && record !== null && !Array.isArray(record) ? [record as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
    } catch {
      return [];
    }
  }
  return typeof p?.detail === "object" && p.detail !== null ? [p.detail as Record<string, unknown>] : [];
}

/** Matches each expected reason prefix to a distinct reported reason; returns the expected ones not found. */
function unmatchedReasons(expected: string[], reported: string[]): string[] {
  const left = [...reported];
  return expected.filter((prefix) => {
    const index = left.findIndex((reason) => reason.startsWith(prefix));
    if (index < 0) {
      return true;
    }
    left.splice(index, 1);
    return false;
  });
}

/** The event ID an alert or notification links to. */
function linkedEventId(message: string): string | undefined {
  const id = /#\/events\/([^\s]+)/.exec(message)?.[1];
  return id === undefined ? undefined : decodeURIComponent(id);
}

/** The log events a forwarded dispatcher message carries, as records. */
function forwardedRecords(message: PublishedMessage): Array<Record<string, unknown>> {
  return recordsIn(JSON.parse(message.message) as unknown);
}

async function outcome<T>(run: () => Promise<T>): Promise<{ result?: T; error?: Error }> {
  try {
    return { result: await run() };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Asserts the rejected input was logged with its reasons and counted, and returns the reasons. */
function assessRejections(logger: ReturnType<typeof recordingLogger>, metrics: ReturnType<typeof recordingMetrics>, expected: string[]): string[] {
  const reasons = logger.lines.filter((l) => l.level === "warn" && l.message === REJECTED_INPUT_MESSAGE).map((l) => String(l.fields.reason));
  expect(unmatchedReasons(expected, reasons), `reported: ${JSON.stringify(reasons)}`).to.deep.equal([]);
  expect(reasons).to.have.length(expected.length);
  const counted = metrics.counts.filter((m) => m.name === REJECTED_INPUT_METRIC).reduce((sum, m) => sum + m.value, 0);
  expect(counted).to.equal(expected.length);
  return reasons;
}

describe("malformed-input corpus", () => {
  let db: LocalDynamoDb;
  let sns: FakeSns;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([ALERT_TOPIC, DISPATCH_TOPIC])]);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop()]);
  });
  beforeEach(() => {
    sns.published.splice(0);
  });

  it("holds at least 40 cases, each with a description and an expectation for every handler that could receive it", () => {
    expect(corpus.length).to.be.at.least(40);
    for (const c of corpus) {
      expect(c.description, c.name).to.be.a("string").and.not.equal("");
      expect(Object.keys(c.expected), c.name).to.not.deep.equal([]);
      expect((c.payload === undefined) !== (c.build === undefined), c.name).to.equal(true);
    }
  });

  describe("DownloadThresholdAlert (DynamoDB counter on dynalite)", () => {
    for (const c of corpus.filter((k) => k.expected.download !== undefined)) {
      const expected = c.expected.download!;
      it(`${c.name}: ${expected.processed.length} alerted, ${expected.rejected.length} rejected, ${expected.invocation}`, async () => {
        // Prepare: a counter table where each good download's object was downloaded once before (threshold 1), so
        // that each good download in the case is alerted.
        const tableName = await db.createCountsTable();
        const logger = recordingLogger();
        const metrics = recordingMetrics();
        const handler = downloadThresholdHandler(
          { watches: CORPUS_WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
          { sns: sns.client(), dynamodb: db.client(), logger, metrics },
        );
        const prime = downloadThresholdHandler(
          { watches: CORPUS_WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
          { sns: sns.client(), dynamodb: db.client(), logger: recordingLogger(), metrics: recordingMetrics() },
        );
        const payload = payloadOf(c);
        const records = recordsIn(payload);
        const objects = new Map<string, { bucket: string; key: string }>();
        for (const id of expected.processed) {
          const parameters = records.find((r) => r.eventID === id)?.requestParameters as { bucketName: string; key: string };
          objects.set(id, { bucket: parameters.bucketName, key: parameters.key });
          await prime(asEventBridgeEvent(getObjectRecord({ eventID: `primer-${id}`, eventTime: "2025-03-03T01:00:00Z", bucket: parameters.bucketName, key: parameters.key })));
        }
        sns.published.splice(0);

        // Act
        const { result, error } = await outcome(() => handler(payload));

        // Assess
        expect(error, error?.message).to.equal(undefined);
        expect(result?.control ?? false).to.equal(expected.control ?? false);
        const alerts = sns.published.filter((p) => p.topicArn === ALERT_TOPIC);
        const alerted = alerts.map((p) => linkedEventId(p.message));
        expect([...alerted].sort()).to.deep.equal([...expected.processed].sort());
        for (const alert of alerts) {
          const lines = alert.message.split("\n");
          const { bucket, key } = objects.get(linkedEventId(alert.message) ?? "")!;
          // One line per label, whatever the key holds; the key shown exactly once the escapes are read back.
          expect(lines.filter((l) => l.startsWith("Who: "))).to.have.length(1);
          const shown = lines.filter((l) => l.startsWith("Object: "));
          expect(shown).to.have.length(1);
          expect(shown[0].replace(/\\u\{([0-9A-F]{4,6})\}/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))).to.equal(`Object: s3://${bucket}/${key}`);
          expect(alert.message).to.not.include("\uFFFD");
        }
        const reasons = assessRejections(logger, metrics, expected.rejected);
        verifyReport.malformed.push({
          case: c.name,
          handler: "DownloadThresholdAlert",
          reason: reasons.join("; ") || (expected.control ? "(control message, skipped)" : "(none: good input)"),
          goodRecords: expected.processed.length,
          goodProcessed: alerted.filter((id) => id !== undefined && expected.processed.includes(id)).length,
          invocation: error === undefined ? "succeeded" : `failed: ${error.name}`,
        });
      });
    }
  });

  describe("UserActivityNotifier", () => {
    for (const c of corpus.filter((k) => k.expected.userActivity !== undefined)) {
      const expected = c.expected.userActivity!;
      it(`${c.name}: ${expected.processed.length} notified, ${expected.rejected.length} rejected, ${expected.invocation}`, async () => {
        // Prepare: the notifier as deployed, with its sent journal.
        const logger = recordingLogger();
        const metrics = recordingMetrics();
        const journal = dynamoDbSentJournal(db.client(), await db.createSentJournalTable());
        const handler = userActivityHandler({ topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language: "ja", criteria: CORPUS_CRITERIA, chatNotifications: false }, { sns: sns.client(), logger, metrics, journal });

        // Act
        const { error } = await outcome(() => handler(payloadOf(c)));

        // Assess
        expect(error, error?.message).to.equal(undefined);
        const notified = sns.published.filter((p) => p.topicArn === ALERT_TOPIC).map((p) => linkedEventId(p.message));
        expect([...notified].sort()).to.deep.equal([...expected.processed].sort());
        for (const message of sns.published) {
          expect(message.message).to.not.include("\uFFFD");
          expect(Buffer.byteLength(message.message, "utf8")).to.be.at.most(262_144);
        }
        const reasons = assessRejections(logger, metrics, expected.rejected);
        verifyReport.malformed.push({
          case: c.name,
          handler: "UserActivityNotifier",
          reason: reasons.join("; ") || (expected.control ? "(control message, skipped)" : "(none: good input)"),
          goodRecords: expected.processed.length,
          goodProcessed: notified.filter((id) => id !== undefined && expected.processed.includes(id)).length,
          invocation: error === undefined ? "succeeded" : `failed: ${error.name}`,
        });
      });
    }
  });

  describe("LogSubscriptionDispatcher", () => {
    const routes = [
      { key: DOWNLOAD_ROUTE, patterns: [downloadRecordPattern(CORPUS_WATCHES)] },
      { key: ACTIVITY_ROUTE, patterns: activityPrefilter(CORPUS_CRITERIA).patterns },
    ];
    for (const c of corpus.filter((k) => k.expected.dispatcher !== undefined)) {
      const expected = c.expected.dispatcher!;
      const good = Object.values(expected.forwarded).flat().length;
      it(`${c.name}: ${good} forwarded, ${expected.rejected.length} rejected, ${expected.invocation}`, async () => {
        // Prepare
        const logger = recordingLogger();
        const metrics = recordingMetrics();
        const handler = logDispatchHandler({ topicArn: DISPATCH_TOPIC, routes }, { sns: sns.client(), logger, metrics });
        const payload = payloadOf(c);
        const original = new Map(recordsIn(payload).map((r) => [r.eventID, r]));

        // Act
        const { error } = await outcome(() => handler(payload));

        // Assess
        expect(error, error?.message).to.equal(undefined);
        const forwarded: Record<string, string[]> = {};
        for (const message of sns.published.filter((p) => p.topicArn === DISPATCH_TOPIC)) {
          expect(Buffer.byteLength(message.message, "utf8")).to.be.at.most(262_144);
          const consumer = message.attributes?.[CONSUMER_ATTRIBUTE] ?? "";
          for (const record of forwardedRecords(message)) {
            (forwarded[consumer] ??= []).push(String(record.eventID));
            // Forwarded as it came, or (too large for SNS) with only long values cut: who, what, when and the object stay.
            const source = original.get(record.eventID)!;
            for (const field of ["eventTime", "eventSource", "eventName", "userIdentity", "awsRegion"]) {
              expect(record[field], field).to.deep.equal(source[field]);
            }
            expect((record.requestParameters as { key?: unknown } | null)?.key).to.deep.equal((source.requestParameters as { key?: unknown } | null)?.key);
          }
        }
        const sorted = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));
        expect(sorted(forwarded)).to.deep.equal(sorted(expected.forwarded));
        const reasons = assessRejections(logger, metrics, expected.rejected);
        verifyReport.malformed.push({
          case: c.name,
          handler: "LogSubscriptionDispatcher",
          reason: reasons.join("; ") || "(none: good input)",
          goodRecords: good,
          goodProcessed: Object.entries(expected.forwarded).reduce((n, [key, ids]) => n + ids.filter((id) => forwarded[key]?.includes(id)).length, 0),
          invocation: error === undefined ? "succeeded" : `failed: ${error.name}`,
        });
      });
    }
  });

  describe("TrailBackfill (plan and fetch steps, and the state machine)", () => {
    const functionArn = "arn:aws:lambda:ap-northeast-1:111111111111:function:mi-backfill";
    const definition = TrailBackfill.definition({ functionArn, readerRoleArns: CORPUS_READER_ROLES, maxConcurrency: 10 });
    const settings = { bucket: "mi-backfill-bucket" };
    const deps = {
      cloudTrailFor: () => Promise.reject(new Error("no pair should be fetched")),
      s3: { send: () => Promise.reject(new Error("nothing should be written")) },
      remainingTimeInMillis: 900_000,
      clock: { now: () => CORPUS_BACKFILL_NOW, sleep: () => Promise.resolve() },
      logger: recordingLogger(),
    };

    for (const c of corpus.filter((k) => k.expected.backfill !== undefined)) {
      const expected = c.expected.backfill!;
      const step = (c.payload as { action: string }).action;
      it(`${c.name}: the ${step} step fails with ${expected.error} naming ${expected.rejected.length} problem(s), once, without retries`, async () => {
        // Prepare
        const payload = c.payload as { action: "plan"; input: unknown } | { action: "fetch"; checkpoint: unknown };
        let invocations = 0;
        const interpreter = (machine: Record<string, unknown>) =>
          new StateMachineInterpreter(machine, (_arn, stepPayload) => {
            invocations += 1;
            return handleBackfillEvent(stepPayload, settings, deps);
          });
        const pairMachine = { StartAt: "Fetch", States: ((definition.States as Record<string, Record<string, unknown>>).BackfillPairs.ItemProcessor as { States: unknown }).States };

        // Act
        const direct = await outcome(() => handleBackfillEvent({ ...payload, readerRoleArns: CORPUS_READER_ROLES }, settings, deps));
        const execution =
          payload.action === "plan"
            ? await outcome(() => interpreter(definition).start(payload.input))
            : await outcome(() => interpreter(pairMachine).start(payload.checkpoint));

        // Assess
        expect(direct.error?.name).to.equal(expected.error);
        const problems = payload.action === "plan" ? (direct.error as Error & { problems: string[] }).problems : [direct.error?.message ?? ""];
        expect(unmatchedReasons(expected.rejected, problems), JSON.stringify(problems)).to.deep.equal([]);
        expect(problems).to.have.length(expected.rejected.length);
        expect(invocations).to.equal(1);
        if (payload.action === "plan") {
          expect((execution.error as Error & { error?: string }).error).to.equal(expected.error);
        } else {
          const { account, region } = payload.checkpoint as { account: string; region: string };
          expect(execution.result?.output).to.deep.equal({ account, region, status: "FAILED", error: expected.error });
        }
        verifyReport.malformed.push({
          case: c.name,
          handler: `TrailBackfill (${step})`,
          reason: problems.join("; "),
          goodRecords: 0,
          goodProcessed: 0,
          invocation: `failed on purpose: ${expected.error}, 1 invocation, not retried`,
        });
      });
    }
  });
});

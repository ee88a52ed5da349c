/**
 * Fault injection against the loopback servers and fakes, with seeded randomness so that a failure is reproducible:
 * SNS Publish throttled or failing, DynamoDB throttled, a Lambda invocation killed at a random request and retried
 * (as Lambda retries an asynchronous invocation: the same event and request ID, in a fresh execution environment),
 * S3 PutObject failing in the middle of a backfill, AssumeRole denied for one account, LookupEvents answering 5xx and
 * refusing expired NextTokens. Each test counts alerts, notifications or backfilled events exactly: lost and duplicated.
 */
import { gunzipSync } from "zlib";

import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { PublishCommand } from "@aws-sdk/client-sns";
import { S3Client } from "@aws-sdk/client-s3";
import { expect } from "chai";

import { TrailBackfill } from "../../components/trailBackfill";
import type { CloudTrailRecord } from "../../functions/shared/cloudtrailEvents";
import { downloadRecordPattern } from "../../components/downloadPatterns";
import { eventDigest } from "../../functions/downloadThreshold/counterItems";
import { CLAIM_LEASE_MARGIN_MS, downloadThresholdHandler, type DownloadThresholdResult } from "../../functions/downloadThreshold/handler";
import type { WatchedObject } from "../../functions/downloadThreshold/watchedDownload";
import { logDispatchHandler } from "../../functions/logDispatch/handler";
import { handleBackfillEvent } from "../../functions/trailBackfill/handler";
import { dynamoDbSentJournal, type SentJournal } from "../../functions/userActivity/sentJournal";
import { userActivityHandler } from "../../functions/userActivity/handler";
import { BackfillHarness } from "../../simulation/backfillHarness";
import { asEventBridgeEvent, getObjectRecord, recordsAsSubscriptionEvent } from "../../simulation/downloadEvents";
import { fakeEvent, type FakeEvent, seededRandom, serviceError } from "../../simulation/fakeCloudTrail";
import { dynamoDbError, FaultProxy, KillSwitch, s3Error } from "../../simulation/faultProxy";
import { FAKE_AWS_ENVIRONMENT, FakeSns } from "../../simulation/fakeSns";
import { fixture, subscriptionPayload } from "../../simulation/fixtures";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import { recordingLogger, recordingMetrics } from "../../simulation/recorders";
import { S3RVER_CREDENTIALS, logFileRecords } from "../../simulation/s3Server";
import { StateMachineInterpreter } from "../../simulation/stateMachineInterpreter";
import { VirtualClock } from "../../simulation/virtualClock";
import { verifyReport } from "../../simulation/verifyReport";

const ALERT_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:fi-alerts";
const DISPATCH_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:fi-dispatch";
const BUCKET = "fi-reports";
const THRESHOLD = 2;
const WATCHES: WatchedObject[] = [{ bucket: BUCKET, keyPrefix: "", threshold: THRESHOLD }];
const KEYS = ["2025/a.pdf", "2025/売上 b.pdf", "2025/📈 c.pdf"];

/** One asynchronous invocation: its event and Lambda's request ID. */
interface Delivery {
  event: unknown;
  requestId: string;
}

/**
 * A seeded stream of download deliveries: 24 downloads of 3 objects in batches of 1 to 4 records, a fifth of the
 * batches delivered a second time later (CloudWatch Logs and Lambda deliver at least once).
 */
function downloadDeliveries(seed: number): Delivery[] {
  const random = seededRandom(seed);
  const records = Array.from({ length: 24 }, (_, i) =>
    getObjectRecord({
      eventID: `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      eventTime: new Date(Date.parse("2025-03-03T01:00:00Z") + i * 60_000).toISOString().replace(".000Z", "Z"),
      bucket: BUCKET,
      key: KEYS[Math.floor(random() * KEYS.length)],
    }),
  );
  const batches: CloudTrailRecord[][] = [];
  for (let i = 0; i < records.length; ) {
    const size = 1 + Math.floor(random() * 4);
    batches.push(records.slice(i, i + size));
    i += size;
  }
  const deliveries = batches.map((batch, i) => ({ event: recordsAsSubscriptionEvent(batch), requestId: `req-${seed}-${i}` }));
  for (const [i, batch] of batches.entries()) {
    if (random() < 0.2) {
      deliveries.splice(Math.min(deliveries.length, i + 2 + Math.floor(random() * 3)), 0, { event: recordsAsSubscriptionEvent(batch), requestId: `req-${seed}-${i}-again` });
    }
  }
  return deliveries;
}

/** The event ID an alert or notification links to. */
function linkedEventId(message: string): string {
  return decodeURIComponent(/#\/events\/([^\s]+)/.exec(message)?.[1] ?? "");
}

/** Lost and duplicated among `sent` (IDs, one per message) against `expected` (each exactly once). */
function tally(expected: readonly string[], sent: readonly string[]): { lost: number; duplicated: number } {
  const counts = new Map<string, number>();
  for (const id of sent) {
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return {
    lost: expected.filter((id) => !counts.has(id)).length,
    duplicated: [...counts.entries()].reduce((n, [id, count]) => n + (expected.includes(id) ? count - 1 : count), 0),
  };
}

describe("fault injection", () => {
  let db: LocalDynamoDb;
  let dbProxy: FaultProxy;
  let sns: FakeSns;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([ALERT_TOPIC, DISPATCH_TOPIC])]);
    dbProxy = await FaultProxy.start(db.endpoint);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop(), dbProxy.stop()]);
  });
  beforeEach(() => {
    sns.published.splice(0);
    dbProxy.inject = undefined;
  });

  describe("DownloadThresholdAlert", () => {
    /** A download handler in a fresh execution environment (new clients), DynamoDB through the fault proxy. */
    function environment(tableName: string, kill?: KillSwitch) {
      const proxied = new DynamoDBClient({
        endpoint: dbProxy.endpoint,
        region: FAKE_AWS_ENVIRONMENT.AWS_REGION,
        credentials: { accessKeyId: FAKE_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
      });
      const client = sns.client();
      return downloadThresholdHandler(
        { watches: WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
        { sns: kill ? kill.wrap(client) : client, dynamodb: kill ? kill.wrap(proxied) : proxied, logger: recordingLogger(), metrics: recordingMetrics() },
      );
    }

    /** Delivers like Lambda: up to 3 attempts, each in a fresh environment; returns the attempts used. */
    async function deliver(tableName: string, delivery: Delivery, kill?: (attempt: number) => KillSwitch | undefined): Promise<{ attempts: number; switches: KillSwitch[] }> {
      const switches: KillSwitch[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const killSwitch = kill?.(attempt);
        if (killSwitch) switches.push(killSwitch);
        try {
          await environment(tableName, killSwitch)(delivery.event, { getRemainingTimeInMillis: () => 60_000, awsRequestId: delivery.requestId });
          return { attempts: attempt, switches };
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
      throw new Error("unreachable");
    }

    /**
     * What the table says: downloads per object (counter items) and each counted event's position and alert (event
     * items). Every distinct download must be counted once, at a distinct position, and settled; the alerts due are
     * those past the threshold.
     */
    async function expectedAlerts(tableName: string, deliveries: Delivery[]): Promise<string[]> {
      const distinct = new Map<string, Map<string, CloudTrailRecord>>();
      for (const delivery of deliveries) {
        for (const record of recordsOf(delivery)) {
          const key = String(record.requestParameters?.key);
          distinct.set(key, (distinct.get(key) ?? new Map<string, CloudTrailRecord>()).set(record.eventID, record));
        }
      }
      const items = (await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
      const counters = items.filter((item) => !String(item.object.S).startsWith("event#"));
      expect(Object.fromEntries(counters.map((item) => [item.object.S, Number(item.downloads.N)]))).to.deep.equal(Object.fromEntries([...distinct].map(([key, ids]) => [`${BUCKET}/${key}`, ids.size])));
      expect(items.length - counters.length).to.equal([...distinct.values()].reduce((n, ids) => n + ids.size, 0));
      const due: string[] = [];
      for (const [key, records] of distinct) {
        const events = [...records.values()].map((record) => items.find((i) => i.object.S === `event#${eventDigest({ bucket: BUCKET, key, threshold: THRESHOLD, record })}`));
        expect(events.map((item) => item?.alert?.S).filter((alert) => alert !== "sent" && alert !== "none")).to.deep.equal([]);
        const positions = events.map((item) => Number(item?.position?.N));
        expect([...positions].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: records.size }, (_, i) => i + 1));
        [...records.keys()].forEach((id, i) => positions[i] > THRESHOLD && due.push(id));
      }
      return due;
    }

    const alertsSent = () => sns.published.filter((p) => p.topicArn === ALERT_TOPIC).map((p) => linkedEventId(p.message));

    it("SNS Publish throttled (within the SDK's retries): every alert once, every invocation succeeds first time", async () => {
      // Prepare: before every other delivery, SNS throttles the next two requests.
      const tableName = await db.createCountsTable();
      const deliveries = downloadDeliveries(1);
      let injected = 0;

      // Act
      const attempts: number[] = [];
      for (const [i, delivery] of deliveries.entries()) {
        if (i % 2 === 0 && sns.refused.length === injected) {
          sns.failNext(2, "Throttling", 400);
          injected += 2;
        }
        attempts.push((await deliver(tableName, delivery)).attempts);
      }

      // Assess
      const expected = await expectedAlerts(tableName, deliveries);
      const { lost, duplicated } = tally(expected, alertsSent());
      expect(sns.refused.length).to.be.greaterThan(0);
      expect(attempts.every((a) => a === 1)).to.equal(true);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      expect(expected.length).to.be.greaterThan(5);
      verifyReport.faults.push({ fault: "SNS Publish throttled (retried by the SDK)", target: "DownloadThresholdAlert", outcome: `${sns.refused.length} publishes throttled; ${expected.length} alerts; no invocation failed`, lost, duplicated });
    });

    it("SNS Publish failing beyond the SDK's retries: the invocation fails on purpose, Lambda's retry sends what did not go out", async () => {
      // Prepare: SNS refuses 3 requests in a row (every SDK attempt) before a third of the deliveries.
      const tableName = await db.createCountsTable();
      const deliveries = downloadDeliveries(2);

      // Act
      let failed = 0;
      for (const [i, delivery] of deliveries.entries()) {
        if (i % 3 === 1) {
          sns.failNext(3, "InternalError", 500);
        }
        const { attempts } = await deliver(tableName, delivery);
        failed += attempts - 1;
        // Failures a delivery without alerts left unused must not reach the next one.
        sns.clearFailures();
      }

      // Assess
      const expected = await expectedAlerts(tableName, deliveries);
      const { lost, duplicated } = tally(expected, alertsSent());
      expect(failed).to.be.greaterThan(0);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      verifyReport.faults.push({ fault: "SNS Publish failing (every SDK attempt)", target: "DownloadThresholdAlert", outcome: `${failed} invocations failed on purpose and were retried; ${expected.length} alerts`, lost, duplicated });
    });

    it("DynamoDB throttled: retried by the SDK, or (three in a row) the invocation fails and Lambda's retry counts once", async () => {
      // Prepare: every fourth UpdateItem is throttled once; from the 10th, every attempt the SDK makes is throttled.
      const tableName = await db.createCountsTable();
      const deliveries = downloadDeliveries(3);
      const sdkAttempts = await new DynamoDBClient({ region: FAKE_AWS_ENVIRONMENT.AWS_REGION }).config.maxAttempts();
      let updates = 0;
      dbProxy.inject = (request) => {
        if (!request.target.endsWith(".UpdateItem")) return undefined;
        updates += 1;
        if (updates >= 10 && updates < 10 + sdkAttempts) return dynamoDbError("ThrottlingException");
        return updates % 4 === 0 ? dynamoDbError("ProvisionedThroughputExceededException") : undefined;
      };

      // Act
      let failed = 0;
      for (const delivery of deliveries) {
        failed += (await deliver(tableName, delivery)).attempts - 1;
      }
      dbProxy.inject = undefined;

      // Assess
      const expected = await expectedAlerts(tableName, deliveries);
      const { lost, duplicated } = tally(expected, alertsSent());
      const throttled = dbProxy.count((r) => r.injected !== undefined);
      expect(failed).to.equal(1);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      verifyReport.faults.push({ fault: "DynamoDB throttled", target: "DownloadThresholdAlert (counter)", outcome: `${throttled} UpdateItem requests throttled; ${failed} invocation failed on purpose and was retried; ${expected.length} alerts`, lost, duplicated });
    });

    it("killed at a random request and retried: no alert lost; only an alert SNS had accepted before the kill is sent again", async () => {
      // Prepare: the first attempt of about two thirds of the deliveries is killed at a random request (1st to 8th),
      // half of the time after the service applied it.
      const tableName = await db.createCountsTable();
      const deliveries = downloadDeliveries(4);
      const random = seededRandom(46);

      // Act
      const killed: Array<{ during: string; publishedBeforeDeath: number }> = [];
      for (const delivery of deliveries) {
        const before = alertsSent().length;
        let publishedBeforeDeath = 0;
        const plan = random() < 0.66 ? { request: 1 + Math.floor(random() * 8), applied: random() < 0.5 } : undefined;
        const { switches } = await deliver(tableName, delivery, (attempt) => {
          if (attempt === 2) publishedBeforeDeath = alertsSent().length - before;
          return attempt === 1 ? new KillSwitch(plan) : undefined;
        });
        if (switches[0]?.killed) {
          killed.push({ during: switches[0].killedDuring ?? "", publishedBeforeDeath });
        }
      }

      // Assess: an alert whose Publish SNS had accepted before the invocation died is sent again by the retry
      // (at least once); every other alert exactly once.
      const expected = await expectedAlerts(tableName, deliveries);
      const { lost, duplicated } = tally(expected, alertsSent());
      const acceptedBeforeDeath = killed.reduce((n, k) => n + k.publishedBeforeDeath, 0);
      expect(killed.length, JSON.stringify(killed)).to.be.greaterThan(5);
      expect(killed.some((k) => k.during === "UpdateItem (applied)"), JSON.stringify(killed)).to.equal(true);
      expect(lost).to.equal(0);
      expect(duplicated).to.equal(acceptedBeforeDeath);
      const beforeAny = killed.filter((k) => k.publishedBeforeDeath === 0);
      verifyReport.faults.push({
        fault: "Lambda killed at a random request and retried (before SNS accepted an alert of the invocation)",
        target: "DownloadThresholdAlert",
        outcome: `${beforeAny.length} invocations killed during ${[...new Set(beforeAny.map((k) => k.during))].sort().join(", ")}; retried with the same request ID`,
        lost: 0,
        duplicated: 0,
      });
      verifyReport.faults.push({
        fault: "Lambda killed at a random request and retried (after SNS accepted an alert of the invocation)",
        target: "DownloadThresholdAlert",
        outcome: `${killed.length - beforeAny.length} invocations killed after SNS accepted ${acceptedBeforeDeath} alerts: sent again (at least once; SNS standard topics cannot deduplicate)`,
        lost,
        duplicated,
      });
    });

    describe("each crash window of the DynamoDB counter (claim, count, publish, settle)", () => {
      /**
       * Where an invocation of the third download (the first past the threshold of 2) dies: at its n-th request
       * (1 claim, 2 count, 3 Publish, 4 settle), before or after the service applied it; and the state it leaves.
       */
      const KILLS = [
        { request: 1, applied: false, window: "before the claim", accepted: false, claimed: false },
        { request: 1, applied: true, window: "after the claim", accepted: false, claimed: true },
        { request: 2, applied: false, window: "after the claim", accepted: false, claimed: true },
        { request: 2, applied: true, window: "after the count", accepted: false, claimed: true },
        { request: 3, applied: false, window: "after the count", accepted: false, claimed: true },
        { request: 3, applied: true, window: "after SNS accepted the alert", accepted: true, claimed: true },
        { request: 4, applied: false, window: "after SNS accepted the alert", accepted: true, claimed: true },
        { request: 4, applied: true, window: "after the settle", accepted: true, claimed: false },
      ];
      const outcomes: Array<{ window: string; accepted: boolean; lost: number; duplicated: number }> = [];
      let now = Date.parse("2025-03-03T02:00:00Z");
      const clock = { now: () => now, sleep: () => Promise.resolve() };
      const record = (id: number) => getObjectRecord({ eventID: `fi-crash-${id}`, eventTime: "2025-03-03T01:02:03Z", bucket: BUCKET, key: KEYS[0] });

      /** An invocation of `id`'s delivery in a fresh execution environment: its result or its error's name. */
      async function invoke(tableName: string, id: number, requestId: string, kill?: KillSwitch): Promise<DownloadThresholdResult | string> {
        const dynamodb = db.client();
        const handler = downloadThresholdHandler(
          { watches: WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
          { sns: kill ? kill.wrap(sns.client()) : sns.client(), dynamodb: kill ? kill.wrap(dynamodb) : dynamodb, logger: recordingLogger(), metrics: recordingMetrics(), clock },
        );
        return handler(asEventBridgeEvent(record(id)), { getRemainingTimeInMillis: () => 60_000, awsRequestId: requestId }).catch((error: Error) => error.name);
      }

      for (const kill of KILLS) {
        const then = kill.claimed ? "a duplicate within the lease is refused, Lambda's retry finishes it" : "it is held by nobody: a duplicate or Lambda's retry finds it as it is";
        it(`killed ${kill.window} (request ${kill.request}${kill.applied ? ", applied" : ""}): ${then}; a late redelivery changes nothing`, async () => {
          // Prepare: downloads 1 and 2 are counted; the invocation of download 3 dies.
          const tableName = await db.createCountsTable();
          await invoke(tableName, 1, "req-1");
          await invoke(tableName, 2, "req-2");
          const killSwitch = new KillSwitch({ request: kill.request, applied: kill.applied });
          const died = await invoke(tableName, 3, "req-3", killSwitch);
          const acceptedBeforeDeath = alertsSent().length;

          // Act: a duplicate delivery (another request ID) within the lease, Lambda's retry, then a late redelivery.
          const duplicate = await invoke(tableName, 3, "req-3-duplicate");
          const retry = await invoke(tableName, 3, "req-3");
          const late = await invoke(tableName, 3, "req-3-late");

          // Assess
          const { lost, duplicated } = tally(["fi-crash-3"], alertsSent());
          const eventItem = (await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items?.find((i) => i.object.S === `event#${eventDigest({ bucket: BUCKET, key: KEYS[0], threshold: THRESHOLD, record: record(3) })}`);
          expect(killSwitch.killedDuring).to.equal(`${["UpdateItem", "UpdateItem", "Publish", "UpdateItem"][kill.request - 1]}${kill.applied ? " (applied)" : ""}`);
          expect(died).to.equal("DownloadProcessingError");
          expect(acceptedBeforeDeath).to.equal(kill.accepted ? 1 : 0);
          if (kill.claimed) {
            expect(duplicate).to.equal("DownloadProcessingError");
            expect(retry).to.deep.include({ notCounted: kill.request === 1 || (kill.request === 2 && !kill.applied) ? 0 : 1, alerted: 1 });
          } else {
            expect(duplicate).to.deep.include(kill.request === 1 ? { counted: 1, alerted: 1 } : { counted: 0, notCounted: 1, alerted: 0 });
            expect(retry).to.deep.include({ counted: 0, notCounted: 1, alerted: 0 });
          }
          expect(late).to.deep.include({ counted: 0, notCounted: 1, alerted: 0 });
          expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: kill.accepted && kill.claimed ? 1 : 0 });
          expect([eventItem?.position, eventItem?.alert]).to.deep.equal([{ N: "3" }, { S: "sent" }]);
          outcomes.push({ window: kill.window, accepted: kill.accepted && kill.claimed, lost, duplicated });
        });
      }

      it("killed after the count, with Lambda's retries exhausted: a redrive after the lease takes the claim over and alerts once", async () => {
        // Prepare: the invocation of download 3 dies after its count; Lambda gives up (a dead letter).
        const tableName = await db.createCountsTable();
        await invoke(tableName, 1, "req-1");
        await invoke(tableName, 2, "req-2");
        await invoke(tableName, 3, "req-3", new KillSwitch({ request: 2, applied: true }));
        const withinLease = await invoke(tableName, 3, "redrive-early");

        // Act: the dead letter is redriven after the lease ended (the function's timeout plus the margin).
        now += 60_000 + CLAIM_LEASE_MARGIN_MS + 1;
        const redriven = await invoke(tableName, 3, "redrive");

        // Assess
        const { lost, duplicated } = tally(["fi-crash-3"], alertsSent());
        expect(withinLease).to.equal("DownloadProcessingError");
        expect(redriven).to.deep.include({ counted: 0, notCounted: 1, alerted: 1 });
        expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
        outcomes.push({ window: "after the count (redriven after the lease)", accepted: false, lost, duplicated });
      });

      after(() => {
        const before = outcomes.filter((o) => !o.accepted);
        const after = outcomes.filter((o) => o.accepted);
        const sum = (list: typeof outcomes, field: "lost" | "duplicated") => list.reduce((n, o) => n + o[field], 0);
        verifyReport.faults.push(
          {
            fault: "Lambda killed in each crash window of the download counter, before SNS accepted the alert",
            target: "DownloadThresholdAlert (counter)",
            outcome: `${before.length} kills (${[...new Set(before.map((o) => o.window))].join("; ")}); duplicates within the lease refused as in progress; Lambda's retry or a later redrive finished`,
            lost: sum(before, "lost"),
            duplicated: sum(before, "duplicated"),
          },
          {
            fault: "Lambda killed after SNS accepted the alert, before the counter settled it",
            target: "DownloadThresholdAlert (counter)",
            outcome: `${after.length} kills; Lambda's retry sent the alert again (at least once; SNS standard topics cannot deduplicate)`,
            lost: sum(after, "lost"),
            duplicated: sum(after, "duplicated"),
          },
        );
      });
    });
  });

  describe("UserActivityNotifier and LogSubscriptionDispatcher", () => {
    const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
    const sessions = Array.from({ length: 6 }, (_, i) => ({ ...ssm, eventID: `fi-session-${i}` }));
    /** A notifier in a fresh execution environment; with `journal`, keeping its sent journal as deployed. */
    const notifier = (client: Pick<import("@aws-sdk/client-sns").SNSClient, "send">, journal?: SentJournal) =>
      userActivityHandler(
        { topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language: "en", criteria: { userNames: ["hogehoge"] }, chatNotifications: false },
        { sns: client, logger: recordingLogger(), metrics: recordingMetrics(), ...(journal === undefined ? {} : { journal }) },
      );

    /** An SNS client on which Publish of messages linking to `eventID` fails `times` times (after the SDK's retries). */
    function refusing(eventID: string, times: number) {
      const client = sns.client();
      let left = times;
      return {
        send: (command: PublishCommand) =>
          (command.input).Message?.includes(`#/events/${eventID}`) && left-- > 0 ? Promise.reject(serviceError("InternalError", "injected failure", 500)) : client.send(command),
      } as unknown as Pick<import("@aws-sdk/client-sns").SNSClient, "send">;
    }

    it("SNS Publish throttled (within the SDK's retries): each notification once", async () => {
      sns.failNext(2, "Throttling", 400);

      const result = await notifier(sns.client())(subscriptionPayload(sessions));

      const { lost, duplicated } = tally(sessions.map((s) => s.eventID), sns.published.map((p) => linkedEventId(p.message)));
      expect(result.published).to.equal(6);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      verifyReport.faults.push({ fault: "SNS Publish throttled (retried by the SDK)", target: "UserActivityNotifier", outcome: "2 publishes throttled; 6 notifications; the invocation succeeded", lost, duplicated });
    });

    it("SNS Publish failing beyond the SDK's retries for one record: none lost; Lambda's retry publishes only that record", async () => {
      // Prepare: one record's Publish fails in the first attempt only; the notifier keeps its sent journal.
      const client = refusing("fi-session-3", 1);
      const event = subscriptionPayload(sessions);
      const tableName = await db.createSentJournalTable();

      // Act
      const first = await notifier(client, dynamoDbSentJournal(db.client(), tableName))(event).then(() => undefined, (error: Error) => error);
      const retry = await notifier(client, dynamoDbSentJournal(db.client(), tableName))(event);

      // Assess: the retry skips the 5 records the journal holds.
      const { lost, duplicated } = tally(sessions.map((s) => s.eventID), sns.published.map((p) => linkedEventId(p.message)));
      expect(first?.name).to.equal("PublishFailedError");
      expect(retry).to.deep.include({ published: 1, alreadySent: 5 });
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      verifyReport.faults.push({
        fault: "SNS Publish failing (every SDK attempt) for one record of a batch",
        target: "UserActivityNotifier",
        outcome: "invocation failed on purpose; the retry skipped the 5 records its sent journal held and published only the failed one",
        lost,
        duplicated,
      });
    });

    it("killed after SNS accepted a notification: none lost; only that notification is sent again", async () => {
      // Prepare: the first attempt is killed at its 7th request, the first Publish after the 6 journal lookups, once
      // SNS has accepted it (so its journal entry is never written).
      const event = subscriptionPayload(sessions);
      const tableName = await db.createSentJournalTable();
      const kill = new KillSwitch({ request: sessions.length + 1, applied: true });

      // Act
      const first = await notifier(kill.wrap(sns.client()), dynamoDbSentJournal(kill.wrap(db.client()), tableName))(event).then(() => undefined, (error: Error) => error);
      const acceptedBeforeDeath = sns.published.length;
      const retry = await notifier(sns.client(), dynamoDbSentJournal(db.client(), tableName))(event);

      // Assess: the journal cannot know of a notification whose entry was never written (at least once).
      const { lost, duplicated } = tally(sessions.map((s) => s.eventID), sns.published.map((p) => linkedEventId(p.message)));
      expect(kill.killedDuring).to.equal("Publish (applied)");
      expect(first).to.not.equal(undefined);
      expect(acceptedBeforeDeath).to.equal(1);
      expect(retry).to.deep.include({ published: 6, alreadySent: 0 });
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: acceptedBeforeDeath });
      verifyReport.faults.push({
        fault: "Lambda killed after SNS accepted a notification (before its sent journal entry was written)",
        target: "UserActivityNotifier",
        outcome: `killed during a Publish SNS had accepted; the retry sent that notification again (at least once; SNS standard topics cannot deduplicate) and the 5 that never left once`,
        lost,
        duplicated,
      });
    });

    it("a dispatcher forward failing for one consumer: retried by Lambda; download alerts still exactly once", async () => {
      // Prepare: the dispatcher routes downloads and sessions; its first attempt cannot publish the sessions' batch.
      const tableName = await db.createCountsTable();
      const downloads = Array.from({ length: 4 }, (_, i) => getObjectRecord({ eventID: `fi-dl-${i}`, eventTime: "2025-03-03T01:02:03Z", bucket: BUCKET, key: KEYS[0] }));
      const routes = [
        { key: "download-alerts", patterns: [downloadRecordPattern(WATCHES)] },
        { key: "activity", patterns: [{ userIdentity: { userName: ["hogehoge"] } }] },
      ];
      const plain = sns.client();
      let refuse = 1;
      const flaky = {
        send: (command: PublishCommand) => (command.input.MessageAttributes?.consumer?.StringValue === "activity" && refuse-- > 0 ? Promise.reject(serviceError("InternalError", "injected", 500)) : plain.send(command)),
      } as unknown as Pick<import("@aws-sdk/client-sns").SNSClient, "send">;
      const dispatch = logDispatchHandler({ topicArn: DISPATCH_TOPIC, routes }, { sns: flaky, logger: recordingLogger(), metrics: recordingMetrics() });
      const counter = downloadThresholdHandler(
        { watches: WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language: "en", timeZone: "Asia/Tokyo" },
        { sns: sns.client(), dynamodb: db.client(), logger: recordingLogger(), metrics: recordingMetrics() },
      );
      const event = subscriptionPayload([...downloads, ...sessions]);

      // Act: the first attempt fails, Lambda retries; SNS delivers every forwarded message to its consumer.
      const first = await dispatch(event).then(() => undefined, (error: Error) => error);
      await dispatch(event);
      const forwarded = sns.published.filter((p) => p.topicArn === DISPATCH_TOPIC);
      const results: DownloadThresholdResult[] = [];
      for (const message of forwarded.filter((p) => p.attributes?.consumer === "download-alerts")) {
        results.push(await counter({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: message.messageId, Message: message.message } }] }));
      }

      // Assess: the downloads were forwarded twice; counted once, alerted once (positions 3 and 4).
      const alerts = sns.published.filter((p) => p.topicArn === ALERT_TOPIC).map((p) => linkedEventId(p.message));
      const { lost, duplicated } = tally(["fi-dl-2", "fi-dl-3"], alerts);
      expect(first?.name).to.equal("ForwardFailedError");
      expect(results.map((r) => [r.counted, r.notCounted])).to.deep.equal([[4, 0], [0, 4]]);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      verifyReport.faults.push({ fault: "SNS Publish failing for one consumer's forward", target: "LogSubscriptionDispatcher -> DownloadThresholdAlert", outcome: "dispatcher invocation failed on purpose; its retry forwarded the downloads again; the counter ignored the redelivery", lost, duplicated });
    });
  });

  describe("TrailBackfill", () => {
    const NOW = Date.parse("2024-06-01T00:00:00Z");
    const START = Date.parse("2024-05-20T10:00:00Z");
    const END = Date.parse("2024-05-20T12:00:00Z");
    const BACKFILL_BUCKET = "fi-backfill";
    const EXTERNAL_ID = "fi-external";
    const READERS: Record<string, string> = {
      "111111111111": "arn:aws:iam::111111111111:role/fi-reader",
      "222222222222": "arn:aws:iam::222222222222:role/fi-reader",
      "333333333333": "arn:aws:iam::333333333333:role/fi-reader",
    };
    const REGIONS = ["us-east-1", "ap-northeast-1"];

    it("S3 PutObject failing mid-backfill, LookupEvents 5xx and expired NextTokens, a killed invocation, AssumeRole denied for one account: every event of the others exactly once, that account listed as failed", async () => {
      // Prepare: 3 accounts x 2 regions; 222222222222's reader role refuses this function (AssumeRole denied).
      const clock = new VirtualClock(NOW);
      const harness = await BackfillHarness.start({ clock, roles: [READERS["111111111111"], READERS["333333333333"]].map((arn) => ({ arn, externalId: EXTERNAL_ID })), buckets: [BACKFILL_BUCKET] });
      const s3Proxy = await FaultProxy.start(harness.s3.endpoint);
      const random = seededRandom(606);
      const events = new Map<string, FakeEvent[]>();
      for (const account of Object.keys(READERS)) {
        for (const region of REGIONS) {
          const list = Array.from({ length: 400 }, (_, i) => fakeEvent({ id: `fi-${account.slice(0, 1)}-${region}-${String(i).padStart(3, "0")}`, time: START - 300_000 + Math.floor(random() * 7800) * 1000, account, region }));
          harness.lookup.setEvents(account, region, list);
          events.set(`${account}/${region}`, list);
        }
      }
      // Faults: PutObject answers SlowDown once (the SDK retries) and later InternalError three times in a row (the
      // invocation fails and Step Functions retries it from its checkpoint); LookupEvents answers 500 twice for one
      // pair; every NextToken issued so far expires at the 9th request; the invocation in flight at the 14th request
      // is killed.
      let puts = 0;
      s3Proxy.inject = (request) => {
        if (request.method !== "PUT") return undefined;
        puts += 1;
        if (puts === 3) return s3Error("SlowDown", 503);
        return puts >= 8 && puts <= 10 ? s3Error("InternalError", 500) : undefined;
      };
      harness.lookup.failNext("333333333333", "ap-northeast-1", 2, "InternalFailure", 500);
      const kill = new AbortController();
      let lookups = 0;
      harness.lookup.onRequest = () => {
        lookups += 1;
        if (lookups % 9 === 0) harness.lookup.expireTokens();
        if (lookups === 14) kill.abort(Object.assign(new Error("Lambda killed the invocation"), { name: "Sandbox.Timedout" }));
      };
      const s3 = new S3Client({ endpoint: s3Proxy.endpoint, region: "ap-northeast-1", forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
      const tracked = { send: (command: Parameters<S3Client["send"]>[0], options?: { abortSignal?: AbortSignal }) => clock.track(s3.send(command, options ?? {})) } as unknown as Pick<S3Client, "send">;
      const definition = TrailBackfill.definition({ functionArn: "arn:aws:lambda:ap-northeast-1:111111111111:function:fi-backfill", readerRoleArns: READERS, maxConcurrency: 6 });
      let invocations = 0;
      const interpreter = new StateMachineInterpreter(definition, (_arn, payload) => {
        invocations += 1;
        // Only the invocations running when the kill comes die with it; later ones start fresh.
        const signal = kill.signal.aborted ? undefined : kill.signal;
        return handleBackfillEvent(payload, { bucket: BACKFILL_BUCKET }, {
          cloudTrailFor: (roleArn, region) => Promise.resolve(harness.cloudTrailClient(roleArn, region, EXTERNAL_ID)),
          s3: tracked,
          clock,
          random: seededRandom(invocations),
          logger: recordingLogger(),
          remainingTimeInMillis: 900_000,
          ...(signal === undefined ? {} : { signal }),
        });
      });

      // Act
      const execution = await clock.run(() => interpreter.start({ accounts: Object.keys(READERS), regions: REGIONS, startTime: new Date(START).toISOString(), endTime: new Date(END).toISOString() }));
      const objects = await harness.s3.objects(BACKFILL_BUCKET);
      s3.destroy();
      await Promise.all([harness.stop(), s3Proxy.stop()]);

      // Assess: the denied account's pairs failed; every other pair's events in range are written exactly once.
      const output = execution.output as { done: Array<{ account: string; region: string; events: number }>; failed: Array<{ account: string; region: string; error: string }> };
      expect(output.failed).to.deep.equal(REGIONS.map((region) => ({ account: "222222222222", region, error: "ReaderRoleAccessDeniedError" })));
      expect(output.done.map((d) => `${d.account}/${d.region}`).sort()).to.deep.equal(["111111111111", "333333333333"].flatMap((a) => REGIONS.map((r) => `${a}/${r}`)).sort());
      const written = objects.flatMap((o) => logFileRecords(o.bytes).map((r) => String(r.eventID)));
      const expected = ["111111111111", "333333333333"].flatMap((account) => REGIONS.flatMap((region) => events.get(`${account}/${region}`)!.filter((e) => e.time >= START && e.time < END).map((e) => e.id)));
      const { lost, duplicated } = tally(expected, written);
      expect({ lost, duplicated }).to.deep.equal({ lost: 0, duplicated: 0 });
      expect(written.length).to.equal(expected.length);
      const fetches = execution.children.reduce((n, c) => n + c.invocations, 0);
      expect(s3Proxy.count((r) => r.injected === "InternalError")).to.equal(3);
      expect(kill.signal.aborted).to.equal(true);
      expect(harness.lookup.received.some((r) => r.error === "InvalidNextTokenException")).to.equal(true);
      expect(harness.lookup.received.filter((r) => r.error === "InternalFailure")).to.have.length(2);
      const common = { target: "TrailBackfill (state machine, 3 accounts x 2 regions)", lost, duplicated };
      verifyReport.faults.push(
        { fault: "S3 PutObject failing mid-backfill (SlowDown once, InternalError x3)", outcome: `fetch failed, retried by the state machine from its checkpoint; ${written.length} events written once`, ...common },
        { fault: "AssumeRole denied for one account", outcome: `222222222222 listed as failed (ReaderRoleAccessDeniedError) in both regions; the 4 other pairs done`, ...common },
        { fault: "LookupEvents 5xx (InternalFailure x2)", outcome: "retried within the invocation", ...common },
        { fault: "LookupEvents NextToken expired", outcome: "queried again from the last position read", ...common },
        { fault: "Lambda killed mid-fetch and retried", outcome: `${invocations} invocations in all (${fetches} fetches); the killed one retried from the same checkpoint`, ...common },
      );
    });
  });
});

/** The records of a subscription delivery. */
function recordsOf(delivery: Delivery): CloudTrailRecord[] {
  const data = (delivery.event as { awslogs: { data: string } }).awslogs.data;
  const message = JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) as { logEvents: Array<{ message: string }> };
  return message.logEvents.map((e) => JSON.parse(e.message) as CloudTrailRecord);
}

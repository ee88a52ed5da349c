/**
 * Notify once under concurrency: 20 deliveries of one CloudTrail event handled at the same moment by 20 notifier
 * invocations (each in its own execution environment, with its own request ID), on dynalite and the fake SNS. Without
 * a fault, and with the invocation that claimed the event killed right after its claim (retried by Lambda with the same
 * request ID, before or after its lease ran out): exactly one notification, none lost. Each with burst grouping on (the
 * notifier's default: the claimant's event then also opens its key's window in the same table) and off.
 */
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";
import { expect } from "chai";

import type { CloudTrailRecord } from "../../functions/shared/cloudtrailEvents";
import { DEFAULT_BURST_SETTINGS, dynamoDbBurstGate } from "../../functions/userActivity/bursts";
import { summaryPublisher, userActivityHandler, type UserActivityResult } from "../../functions/userActivity/handler";
import type { UserActivitySettings } from "../../functions/userActivity/settings";
import { systemClock } from "../../functions/shared/runtime";
import { dynamoDbSentJournal } from "../../functions/userActivity/sentJournal";
import { KILLED } from "../../simulation/faultProxy";
import { FakeSns } from "../../simulation/fakeSns";
import { fixture, subscriptionPayload } from "../../simulation/fixtures";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import { recordingLogger, recordingMetrics } from "../../simulation/recorders";
import { verifyReport } from "../../simulation/verifyReport";

const ALERT_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:cd-alerts";
const DELIVERIES = 20;
/** Short, so that the test waits out a dead claim in seconds (the deployed lease is 20 s), long enough for a publish on a busy machine. */
const LEASE_MS = 3000;

type Client = { send(command: unknown): Promise<unknown> };

/** Lambda stopping the invocation `victim` once its claim is written: that claim stays, nothing it sends later arrives. */
class ClaimKiller {
  victim?: string;

  wrap<C extends Client>(requestId: string, client: C): C {
    const send = async (command: unknown) => {
      if (this.victim === requestId) {
        throw Object.assign(new Error("the invocation was killed"), { name: KILLED });
      }
      const result = await client.send(command);
      if (this.victim === undefined && command instanceof PutItemCommand && String(command.input.ConditionExpression).includes("attribute_not_exists")) {
        this.victim = requestId;
        throw Object.assign(new Error("the invocation was killed after its claim"), { name: KILLED });
      }
      return result;
    };
    return { send } as unknown as C;
  }
}

describe("concurrent deliveries of one event (UserActivityNotifier's sent journal)", function () {
  this.timeout(60_000);
  const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
  let db: LocalDynamoDb;
  let sns: FakeSns;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([ALERT_TOPIC])]);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop()]);
  });
  beforeEach(() => {
    sns.published.splice(0);
  });

  /**
   * One invocation in a fresh execution environment, its clients wrapped by `killer` when given; with `grouping`, the
   * burst gate on the same table, as the deployed notifier has it by default.
   */
  function invocation(tableName: string, requestId: string, event: unknown, grouping: boolean, killer?: ClaimKiller): Promise<UserActivityResult | Error> {
    const plain = { dynamodb: db.client(), sns: sns.client() };
    const dynamodb = killer === undefined ? plain.dynamodb : killer.wrap<Pick<DynamoDBClient, "send">>(requestId, plain.dynamodb);
    const client = killer === undefined ? plain.sns : killer.wrap<Pick<SNSClient, "send">>(requestId, plain.sns);
    const settings: UserActivitySettings = { topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language: "en", criteria: { userNames: ["hogehoge"] }, chatNotifications: false };
    const handler = userActivityHandler(settings, {
      sns: client,
      logger: recordingLogger(),
      metrics: recordingMetrics(),
      journal: dynamoDbSentJournal(dynamodb, tableName, undefined, undefined, { leaseMs: LEASE_MS, pollIntervalMs: 50 }),
      ...(grouping ? { bursts: dynamoDbBurstGate(dynamodb, tableName, DEFAULT_BURST_SETTINGS, summaryPublisher(settings, client), systemClock) } : {}),
    });
    return handler(event, { awsRequestId: requestId }).catch((error: Error) => error);
  }

  const notifications = () => sns.published.filter((p) => p.message.includes(`#/events/${ssm.eventID}`)).length;
  const succeeded = (results: Array<UserActivityResult | Error>) => results.filter((r): r is UserActivityResult => !(r instanceof Error));

  for (const grouping of [true, false]) {
    const mode = grouping ? "burst grouping on" : "burst grouping off";
    it(`${DELIVERIES} deliveries at once (${mode}): exactly one publishes, the others wait for it and skip the event`, async () => {
      // Prepare
      const tableName = await db.createSentJournalTable();
      const event = subscriptionPayload([ssm]);

      // Act
      const results = await Promise.all(Array.from({ length: DELIVERIES }, (_, i) => invocation(tableName, `req-cd-${i}`, event, grouping)));

      // Assess
      const done = succeeded(results);
      expect(done).to.have.length(DELIVERIES);
      expect(done.map((r) => r.published).reduce((a, b) => a + b)).to.equal(1);
      expect(done.map((r) => r.alreadySent).reduce((a, b) => a + b)).to.equal(DELIVERIES - 1);
      expect(notifications()).to.equal(1);
      expect(sns.published).to.have.length(1);
      verifyReport.faults.push({
        fault: `${DELIVERIES} deliveries of one event at the same moment (${mode})`,
        target: "UserActivityNotifier (sent journal claims)",
        outcome: `1 invocation claimed and published; ${DELIVERIES - 1} waited for its journal entry and skipped the event; all succeeded`,
        lost: 1 - Math.min(1, notifications()),
        duplicated: Math.max(0, notifications() - 1),
      });
    });

    for (const retry of ["after its lease ran out", "before its lease ran out"] as const) {
      it(`${DELIVERIES} deliveries at once (${mode}), the claimant killed after its claim and retried ${retry}: exactly one notification, none lost`, async () => {
        // Prepare
        const tableName = await db.createSentJournalTable();
        const event = subscriptionPayload([ssm]);
        const killer = new ClaimKiller();

        // Act: the 20 run together; Lambda retries the killed one (same request ID) in a fresh environment.
        const running = Array.from({ length: DELIVERIES }, (_, i) => invocation(tableName, `req-cdk-${i}`, event, grouping, killer));
        let retried: Promise<UserActivityResult | Error> | undefined;
        if (retry === "before its lease ran out") {
          // As soon as the kill is known, well within the lease.
          while (killer.victim === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
          retried = invocation(tableName, killer.victim, event, grouping);
        }
        const results = await Promise.all(running);
        const victim = killer.victim!;
        const retryResult = await (retried ?? invocation(tableName, victim, event, grouping));

        // Assess
        // The killed invocation's error (it never answers in Lambda; here its claim call fails and the invocation with it).
        const failed = results.filter((r) => r instanceof Error);
        expect(failed, failed.map((e) => `${e.name}: ${e.message}`).join("; ")).to.have.length(1);
        const all = [...succeeded(results), ...succeeded([retryResult])];
        expect(all).to.have.length(DELIVERIES);
        expect(all.map((r) => r.published).reduce((a, b) => a + b)).to.equal(1);
        expect(notifications()).to.equal(1);
        expect(sns.published).to.have.length(1);
        const publisher = retry === "before its lease ran out" ? "the killed invocation's retry took its claim back and published" : "after the lease one waiting delivery took the claim over and published; the retry skipped the event";
        expect((retryResult as UserActivityResult).published).to.equal(retry === "before its lease ran out" ? 1 : 0);
        verifyReport.faults.push({
          fault: `${DELIVERIES} deliveries of one event at the same moment (${mode}), the claimant killed after its claim (retried ${retry})`,
          target: "UserActivityNotifier (sent journal claims)",
          outcome: `${publisher}; the others skipped it`,
          lost: 1 - Math.min(1, notifications()),
          duplicated: Math.max(0, notifications() - 1),
        });
      });
    }
  }
});

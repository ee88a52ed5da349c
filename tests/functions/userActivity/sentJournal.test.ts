import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";

import { CLAIM_LEASE_MS, dynamoDbSentJournal, SENT_JOURNAL_RETENTION_SECONDS, sentJournalKey } from "../../../functions/userActivity/sentJournal";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";

describe("sentJournal", () => {
  let db: LocalDynamoDb;
  before(async () => {
    db = await LocalDynamoDb.start();
  });
  after(() => db.stop());

  it("knows exactly the events marked sent, with an expiry 7 days after they were marked", async () => {
    // Prepare
    const tableName = await db.createSentJournalTable();
    const journal = dynamoDbSentJournal(db.client(), tableName, SENT_JOURNAL_RETENTION_SECONDS, () => Date.parse("2025-03-03T00:00:00Z"));

    // Act
    await journal.markSent("event-a");
    await journal.markSent("イベント-c");
    const sent = await journal.sent(["event-a", "event-b", "イベント-c", ...Array.from({ length: 20 }, (_, i) => `unsent-${i}`)]);

    // Assess
    expect([...sent].sort()).to.deep.equal(["event-a", "イベント-c"]);
    const { Item } = await db.client().send(new GetItemCommand({ TableName: tableName, Key: { eventID: { S: "event-a" } }, ConsistentRead: true }));
    expect(Item).to.deep.equal({ eventID: { S: "event-a" }, expiresAt: { N: String(Date.parse("2025-03-10T00:00:00Z") / 1000) } });
  });

  it("journals an event ID too long for a DynamoDB key under its digest", async () => {
    // Prepare
    const tableName = await db.createSentJournalTable();
    const journal = dynamoDbSentJournal(db.client(), tableName);
    const long = "x".repeat(3000);

    // Act
    await journal.markSent(long);

    // Assess
    expect(sentJournalKey(long)).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(sentJournalKey("9a8b7c6d-5e4f-4321-9abc-def012345678")).to.equal("9a8b7c6d-5e4f-4321-9abc-def012345678");
    expect([...(await journal.sent([long, "x".repeat(2999)]))]).to.deep.equal([long]);
  });

  describe("claims", () => {
    const START = Date.parse("2025-03-03T00:00:00Z");
    /** A journal on `tableName` whose clock only moves when it waits (a virtual clock), with a 10-second lease. */
    function clocked(tableName: string, clock: { now: number; waits: number[] }) {
      return dynamoDbSentJournal(db.client(), tableName, SENT_JOURNAL_RETENTION_SECONDS, () => clock.now, {
        leaseMs: 10_000,
        pollIntervalMs: 1_000,
        sleep: (ms) => {
          clock.waits.push(ms);
          clock.now += ms;
          return Promise.resolve();
        },
      });
    }

    it("claims unsent events for the invocation and answers those sent before, which sent() alone counts", async () => {
      // Prepare
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      const journal = clocked(tableName, clock);
      await journal.markSent("sent-before");

      // Act
      const sentBefore = await journal.claim(["sent-before", "new-a", "new-b"], "req-1");

      // Assess
      expect([...sentBefore]).to.deep.equal(["sent-before"]);
      expect([...(await journal.sent(["sent-before", "new-a", "new-b"]))]).to.deep.equal(["sent-before"]);
      const { Item } = await db.client().send(new GetItemCommand({ TableName: tableName, Key: { eventID: { S: "new-a" } }, ConsistentRead: true }));
      expect(Item).to.deep.equal({ eventID: { S: "new-a" }, claimedBy: { S: "req-1" }, leaseUntil: { N: String(START + 10_000) }, expiresAt: { N: String(START / 1000 + SENT_JOURNAL_RETENTION_SECONDS) } });
      expect(clock.waits).to.deep.equal([]);
      expect(CLAIM_LEASE_MS).to.equal(20_000);
    });

    it("lets the same invocation (a retry, same request ID) take its claim back at once", async () => {
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      await clocked(tableName, clock).claim(["e"], "req-1");

      expect([...(await clocked(tableName, clock).claim(["e"], "req-1"))]).to.deep.equal([]);
      expect(clock.waits).to.deep.equal([]);
    });

    it("waits while another invocation holds the event, and skips it once that one marks it sent", async () => {
      // Prepare: req-1 holds the claim; it marks the event sent after req-2 has waited 3 seconds.
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      const holder = clocked(tableName, clock);
      await holder.claim(["e"], "req-1");
      const waiter = dynamoDbSentJournal(db.client(), tableName, SENT_JOURNAL_RETENTION_SECONDS, () => clock.now, {
        leaseMs: 10_000,
        pollIntervalMs: 1_000,
        sleep: async (ms) => {
          clock.waits.push(ms);
          clock.now += ms;
          if (clock.waits.length === 3) await holder.markSent("e");
        },
      });

      // Act
      const sentBefore = await waiter.claim(["e"], "req-2");

      // Assess
      expect([...sentBefore]).to.deep.equal(["e"]);
      expect(clock.waits).to.deep.equal([1_000, 1_000, 1_000]);
    });

    it("takes an event over when the claim's lease ran out (its invocation died)", async () => {
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      await clocked(tableName, clock).claim(["e"], "req-dead");
      clock.now += 4_000;

      const sentBefore = await clocked(tableName, clock).claim(["e"], "req-2");

      expect([...sentBefore]).to.deep.equal([]);
      // It waited out the lease's 6 remaining seconds, then claimed.
      expect(clock.waits.reduce((a, b) => a + b)).to.equal(6_001);
      const { Item } = await db.client().send(new GetItemCommand({ TableName: tableName, Key: { eventID: { S: "e" } }, ConsistentRead: true }));
      expect(Item?.claimedBy).to.deep.equal({ S: "req-2" });
    });

    it("lets another invocation claim at once an event given back after a failed publish, but not one taken over", async () => {
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      const first = clocked(tableName, clock);
      await first.claim(["e"], "req-1");

      await first.release("e", "req-1");
      expect([...(await clocked(tableName, clock).claim(["e"], "req-2"))]).to.deep.equal([]);
      // req-1's claim was given back and taken: releasing it again leaves req-2's claim alone.
      await first.release("e", "req-1");
      const { Item } = await db.client().send(new GetItemCommand({ TableName: tableName, Key: { eventID: { S: "e" } }, ConsistentRead: true }));
      expect(Item?.claimedBy).to.deep.equal({ S: "req-2" });
      expect(Item?.leaseUntil).to.deep.equal({ N: String(START + 10_000) });
      expect(clock.waits).to.deep.equal([]);
    });

    it("fails with NotificationClaimedElsewhereError when others keep the event claimed beyond two leases", async () => {
      // Prepare: every time req-2 looks, another invocation has just claimed the event anew.
      const tableName = await db.createSentJournalTable();
      const clock = { now: START, waits: [] as number[] };
      let other = 0;
      const renewing = dynamoDbSentJournal(db.client(), tableName, SENT_JOURNAL_RETENTION_SECONDS, () => clock.now, {
        leaseMs: 10_000,
        pollIntervalMs: 5_000,
        sleep: async (ms) => {
          clock.now += ms;
          await clocked(tableName, clock).claim(["e"], `req-other-${++other}`).catch(() => undefined);
        },
      });
      await clocked(tableName, clock).claim(["e"], "req-other-0");

      // Act
      const failure = await renewing.claim(["e"], "req-2").then(
        () => undefined,
        (error: Error) => error,
      );

      // Assess
      expect(failure?.name).to.equal("NotificationClaimedElsewhereError");
      expect(failure?.message).to.match(/^event e is still claimed by invocation req-other-\d+ after 20000 ms; the invocation fails so that Lambda retries it$/);
    });
  });
});

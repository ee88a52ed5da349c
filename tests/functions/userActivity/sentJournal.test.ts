import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";

import { dynamoDbSentJournal, SENT_JOURNAL_RETENTION_SECONDS, sentJournalKey } from "../../../functions/userActivity/sentJournal";
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
});

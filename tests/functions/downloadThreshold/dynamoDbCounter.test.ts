import { GetItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";

import { counterKey, entryName, eventDigest, eventKey, legacyAttribute } from "../../../functions/downloadThreshold/counterItems";
import type { CountingAttempt } from "../../../functions/downloadThreshold/downloadCounter";
import { CLEANUP_READS, dynamoDbDownloadCounter, ENTRIES_BEFORE_CLEANUP } from "../../../functions/downloadThreshold/dynamoDbCounter";
import { downloadThresholdHandler } from "../../../functions/downloadThreshold/handler";
import type { WatchedDownload } from "../../../functions/downloadThreshold/watchedDownload";
import { difference, emptyTotals, meteredDynamoDb, type CapacityTotals } from "../../../simulation/capacityMeter";
import { asEventBridgeEvent, getObjectRecord } from "../../../simulation/downloadEvents";
import { FakeSns } from "../../../simulation/fakeSns";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";
import { recordingLogger } from "../../../simulation/recorders";

type Item = Record<string, AttributeValue>;

const WINDOW = { start: new Date("2025-03-02T16:00:00Z"), end: new Date("2025-03-09T16:00:00Z") };
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";
const downloadOf = (n: number): WatchedDownload => ({
  bucket: BUCKET,
  key: KEY,
  threshold: 1,
  record: getObjectRecord({ eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, eventTime: "2025-03-03T01:02:03Z" }),
});
const DOWNLOAD = downloadOf(1);
const ENTRY = entryName(eventDigest(DOWNLOAD));
const NOW = 1_000_000;
const clock = { now: () => NOW, sleep: () => Promise.resolve() };
const attempt = (owner = "req-1"): CountingAttempt => ({ deadline: NOW + 55_000, owner, leaseEndsAt: NOW + 75_000 });
const n = (value: number) => ({ N: String(value) });

/** A DynamoDB client that records each command (kind and input) and answers with the next reply (an object or an error). */
function scripted(replies: Array<Record<string, unknown> | Error>) {
  const sent: Array<{ kind: string; input: Record<string, unknown> }> = [];
  const client = {
    send: (command: { input: Record<string, unknown> }) => {
      sent.push({ kind: command.constructor.name.replace(/Command$/, ""), input: command.input });
      const reply = replies.shift();
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply ?? {});
    },
  } as unknown as Pick<DynamoDBClient, "send">;
  return { client, sent };
}
const conditionFailed = (item?: Item) => Object.assign(new Error("The conditional request failed"), { name: "ConditionalCheckFailedException", ...(item ? { Item: item } : {}) });
const countedTo = (position: number, others: Item = {}) => ({ Attributes: { downloads: n(position), [ENTRY]: n(position), ...others } });

describe("dynamoDbDownloadCounter", () => {
  it("counts a new download: claims its event item, counts on the counter item, and settling records position and alert", async () => {
    // Prepare
    const { client, sent } = scripted([{}, countedTo(3), {}]);
    const counter = dynamoDbDownloadCounter(client, "counts", { clock });

    // Act
    const result = await counter.count(DOWNLOAD, WINDOW, attempt());
    await counter.settle?.(DOWNLOAD, WINDOW, 3, "sent");

    // Assess
    expect(result).to.deep.equal({ counted: true, count: 3 });
    expect(sent.map((s) => [s.kind, s.input.Key, s.input.ConditionExpression])).to.deep.equal([
      ["UpdateItem", eventKey(eventDigest(DOWNLOAD), WINDOW), "attribute_not_exists(#object) OR #owner = :owner OR #leaseEndsAt < :now"],
      ["UpdateItem", counterKey(DOWNLOAD, WINDOW), "attribute_not_exists(#entry) AND attribute_not_exists(#legacy)"],
      ["UpdateItem", eventKey(eventDigest(DOWNLOAD), WINDOW), "#owner = :owner"],
    ]);
    expect(sent[0].input.ExpressionAttributeValues).to.deep.include({ ":owner": { S: "req-1" }, ":leaseEndsAt": n(NOW + 75_000), ":now": n(NOW) });
    expect(sent[2].input.ExpressionAttributeValues).to.deep.include({ ":position": n(3), ":alert": { S: "sent" }, ":owner": { S: "req-1" } });
    expect(sent.every((s) => s.input.ReturnConsumedCapacity === "TOTAL")).to.equal(true);
  });

  it("answers a redelivered download with its refused claim alone: one request, not counted", async () => {
    const { client, sent } = scripted([conditionFailed({ position: n(2), alert: { S: "none" } })]);

    const result = await dynamoDbDownloadCounter(client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());

    expect(result).to.deep.equal({ counted: false, reason: "download counted before (a redelivery; alert none)" });
    expect(sent).to.have.length(1);
  });

  it("refuses while another invocation holds the claim, with a DownloadInProgressError (Lambda retries the event later)", async () => {
    const { client } = scripted([conditionFailed({ owner: { S: "req-other" }, leaseEndsAt: n(NOW + 30_000) })]);

    const error = await dynamoDbDownloadCounter(client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt()).then(() => undefined, (caught: Error) => caught);

    expect(error).to.deep.include({ name: "DownloadInProgressError", heldBy: "req-other", until: NOW + 30_000 });
    expect(error?.message).to.equal(`event ${DOWNLOAD.record.eventID} is being counted by invocation req-other until ${new Date(NOW + 30_000).toISOString()}; Lambda retries it later`);
  });

  it("takes over a claim an earlier attempt left: counts when that attempt had not, returns its position when it had", async () => {
    const earlierClaim = { Attributes: { owner: { S: "req-1" }, leaseEndsAt: n(NOW - 1) } };
    const notCounted = scripted([earlierClaim, countedTo(4)]);
    const counted = scripted([earlierClaim, conditionFailed({ downloads: n(9), [ENTRY]: n(4) })]);

    const fresh = await dynamoDbDownloadCounter(notCounted.client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());
    const resumed = await dynamoDbDownloadCounter(counted.client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());

    expect(fresh).to.deep.equal({ counted: true, count: 4 });
    expect(resumed).to.deep.equal({ counted: false, reason: "download counted by an earlier attempt that did not record its alert", unsettled: { count: 4 } });
  });

  it("takes over a pending alert from the event item's position, without counting again", async () => {
    const { client, sent } = scripted([{ Attributes: { owner: { S: "req-0" }, leaseEndsAt: n(0), position: n(6), alert: { S: "pending" } } }, {}]);
    const counter = dynamoDbDownloadCounter(client, "counts", { clock });

    const result = await counter.count(DOWNLOAD, WINDOW, attempt());
    await counter.settle?.(DOWNLOAD, WINDOW, 6, "sent");

    expect(result).to.deep.equal({ counted: false, reason: "download counted before; its alert is pending", unsettled: { count: 6 } });
    expect(sent.map((s) => s.input.Key)).to.deep.equal([eventKey(eventDigest(DOWNLOAD), WINDOW), eventKey(eventDigest(DOWNLOAD), WINDOW)]);
  });

  it("treats a count found under its own new claim as its own (the SDK retried a count DynamoDB had applied)", async () => {
    const { client } = scripted([{}, conditionFailed({ downloads: n(5), [ENTRY]: n(5) })]);

    const result = await dynamoDbDownloadCounter(client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());

    expect(result).to.deep.equal({ counted: true, count: 5 });
  });

  it("reads the earlier counter's attribute: a settled event is recorded and not counted again, a pending one is sent", async () => {
    const legacy = legacyAttribute(DOWNLOAD.record.eventID);
    const settledBefore = scripted([{}, conditionFailed({ downloads: n(20), [legacy]: n(7 + 5 * 16_384) }), {}]);
    const pendingBefore = scripted([{}, conditionFailed({ downloads: n(20), [legacy]: n(8 + 16_384) })]);

    const settled = await dynamoDbDownloadCounter(settledBefore.client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());
    const pending = await dynamoDbDownloadCounter(pendingBefore.client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt());

    expect(settled).to.deep.equal({ counted: false, reason: "download counted before by the earlier counter" });
    expect(settledBefore.sent[2].input.ExpressionAttributeValues).to.deep.include({ ":position": n(7), ":alert": { S: "none" } });
    expect(pending).to.deep.equal({ counted: false, reason: "download counted before by the earlier counter; its alert is pending", unsettled: { count: 8 } });
  });

  it("checks DynamoDB's answers: the entry must equal the count, a failed condition must return the item", async () => {
    const unequal = scripted([{}, { Attributes: { downloads: n(3), [ENTRY]: n(2) } }]);
    const bare = scripted([conditionFailed()]);
    const neither = scripted([{}, conditionFailed({ downloads: n(3) })]);

    const errors = await Promise.all(
      [unequal, bare, neither].map(({ client }) => dynamoDbDownloadCounter(client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt()).then(() => undefined, (caught: Error) => caught)),
    );

    expect(errors.map((e) => [e?.name, e?.message])).to.deep.equal([
      ["UnexpectedResponseError", `counting ${BUCKET}/${KEY} returned entry 2 and count 3; they must be equal`],
      ["UnexpectedResponseError", "claiming the event item failed its condition without returning the item (ReturnValuesOnConditionCheckFailure)"],
      ["UnexpectedResponseError", `counting ${BUCKET}/${KEY} failed its condition, but the item holds neither ${ENTRY} nor ${legacyAttribute(DOWNLOAD.record.eventID)}`],
    ]);
  });

  it("rethrows errors other than a failed condition (throttling beyond the SDK's retries fails the invocation)", async () => {
    const { client } = scripted([Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" })]);

    const error = await dynamoDbDownloadCounter(client, "counts", { clock }).count(DOWNLOAD, WINDOW, attempt()).then(() => undefined, (caught: Error) => caught);

    expect(error?.name).to.equal("ProvisionedThroughputExceededException");
  });

  it("settles only what it counted, and only while it holds the claim", async () => {
    const { client } = scripted([{}, countedTo(1), conditionFailed()]);
    const counter = dynamoDbDownloadCounter(client, "counts", { clock });

    const unknown = await counter.settle?.(downloadOf(2), WINDOW, 1, "none").then(() => undefined, (caught: Error) => caught);
    await counter.count(DOWNLOAD, WINDOW, attempt());
    const lost = await counter.settle?.(DOWNLOAD, WINDOW, 1, "sent").then(() => undefined, (caught: Error) => caught);

    expect([unknown?.name, lost?.name]).to.deep.equal(["UnexpectedCallError", "ClaimLostError"]);
  });

  it("removes a settled download's entry with this environment's next count on the same counter item, in that write", async () => {
    // Prepare
    const second = downloadOf(2);
    const secondEntry = entryName(eventDigest(second));
    const { client, sent } = scripted([{}, countedTo(1), {}, {}, { Attributes: { downloads: n(2), [secondEntry]: n(2) } }]);
    const counter = dynamoDbDownloadCounter(client, "counts", { clock });

    // Act
    await counter.count(DOWNLOAD, WINDOW, attempt());
    await counter.settle?.(DOWNLOAD, WINDOW, 1, "none");
    await counter.count(second, WINDOW, attempt());

    // Assess
    expect(sent[4].input.UpdateExpression).to.match(/ REMOVE #r0$/);
    expect(sent[4].input.ExpressionAttributeNames).to.deep.include({ "#entry": secondEntry, "#r0": ENTRY });
  });

  it(`reads up to ${CLEANUP_READS} event items of other entries, oldest first, once a counter item holds more than ${ENTRIES_BEFORE_CLEANUP}; releases those that hold their positions`, async () => {
    // Prepare: the counter item holds 17 other entries (positions 1 to 17); of the 4 oldest, 1 and 3 are settled, 2
    // is still being counted, and reading 4 fails.
    const others = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [entryName(eventDigest(downloadOf(100 + i))), n(i + 1)]));
    const otherNames = Object.keys(others);
    const failure = Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" });
    const secondEntry = entryName(eventDigest(downloadOf(2)));
    const { client, sent } = scripted([{}, countedTo(18, others), {}, { Item: { position: n(1) } }, {}, { Item: { position: n(3) } }, failure, {}, { Attributes: { downloads: n(19), [secondEntry]: n(19) } }]);
    const logger = recordingLogger();
    const counter = dynamoDbDownloadCounter(client, "counts", { clock, logger });

    // Act
    await counter.count(DOWNLOAD, WINDOW, attempt());
    await counter.settle?.(DOWNLOAD, WINDOW, 18, "none");
    await counter.count(downloadOf(2), WINDOW, attempt());

    // Assess
    expect(sent.slice(3, 7).map((s) => [s.kind, s.input.Key, s.input.ConsistentRead])).to.deep.equal(
      [0, 1, 2, 3].map((i) => ["GetItem", eventKey(eventDigest(downloadOf(100 + i)), WINDOW), undefined]),
    );
    expect(Object.values(sent[8].input.ExpressionAttributeNames as Record<string, string>).slice(-3)).to.deep.equal([ENTRY, otherNames[0], otherNames[2]]);
    expect(logger.lines.map((l) => [l.level, l.message, l.fields.entry])).to.deep.equal([["warn", "counter entry not checked; a later delivery checks it", otherNames[3]]]);
  });
});

describe("dynamoDbDownloadCounter on DynamoDB (dynalite): write units per delivery", () => {
  const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:capacity";
  let db: LocalDynamoDb;
  let sns: FakeSns;

  before(async () => {
    [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([TOPIC_ARN])]);
  });
  after(async () => {
    await Promise.all([db.stop(), sns.stop()]);
  });

  /** `count` handlers (Lambda execution environments) on one table, each with its own metered client. */
  function environments(tableName: string, count: number, threshold: number) {
    return Array.from({ length: count }, () => {
      const totals = emptyTotals();
      const handler = downloadThresholdHandler(
        { watches: [{ bucket: BUCKET, key: KEY, threshold }], reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "once", counter: { kind: "dynamodb", tableName }, topicArn: TOPIC_ARN, language: "en", timeZone: "Asia/Tokyo" },
        { sns: sns.client(), dynamodb: meteredDynamoDb(db.client(), totals).client, logger: recordingLogger() },
      );
      /** Delivers download `i`; returns what its calls consumed. */
      return async (i: number): Promise<CapacityTotals> => {
        const before = { ...totals, writeUnitsByGroup: { ...totals.writeUnitsByGroup } };
        await handler(asEventBridgeEvent(downloadOf(i).record));
        return difference(totals, before);
      };
    });
  }

  it("spends 3 write units on the 1st and on the 2,000th download of one object in a window (and at most 3 on any)", async function () {
    this.timeout(120_000);
    // Prepare: 4 execution environments count concurrently, as Lambda scales out.
    const tableName = await db.createCountsTable();
    const workers = environments(tableName, 4, 1000);

    // Act: download 1 alone, then 2 to 1,999 four at a time, then download 2,000 alone.
    const first = await workers[0](1);
    const middle: CapacityTotals[] = [];
    for (let i = 2; i < 2000; i += workers.length) {
      middle.push(...(await Promise.all(workers.map((deliver, w) => (i + w < 2000 ? deliver(i + w) : Promise.resolve(undefined))))).filter((d) => d !== undefined));
    }
    const last = await workers[1](2000);

    // Assess
    const all = [first, ...middle, last];
    expect([first.writeUnits, last.writeUnits, Math.max(...all.map((d) => d.writeUnits))]).to.deep.equal([3, 3, 3]);
    expect([first.calls, last.calls, Math.max(...all.map((d) => d.calls)), Math.max(...all.map((d) => d.readUnits))]).to.deep.equal([3, 3, 3, 0]);
    const counter = await db.client().send(new GetItemCommand({ TableName: tableName, Key: counterKey(DOWNLOAD, WINDOW), ConsistentRead: true }));
    expect(counter.Item?.downloads).to.deep.equal(n(2000));
    expect(Object.keys(counter.Item ?? {}).filter((name) => name.startsWith("p")).length).to.be.at.most(workers.length);
  });

  it("keeps a counter item small when environments Lambda retired left their entries: a later delivery reads and releases them", async function () {
    this.timeout(60_000);
    // Prepare: 24 environments count one download each and are never used again (each leaves its entry).
    const tableName = await db.createCountsTable();
    for (const [i, deliver] of environments(tableName, 24, 1000).entries()) {
      await deliver(i + 1);
    }
    const [survivor] = environments(tableName, 1, 1000);
    const entries = async () => {
      const item = await db.client().send(new GetItemCommand({ TableName: tableName, Key: counterKey(DOWNLOAD, WINDOW), ConsistentRead: true }));
      return Object.keys(item.Item ?? {}).filter((name) => name.startsWith("p")).length;
    };
    const left = await entries();

    // Act: one environment keeps counting the object.
    const perDelivery: CapacityTotals[] = [];
    for (let i = 25; i <= 34; i++) {
      perDelivery.push(await survivor(i));
    }

    // Assess: from 24 entries down to the cleanup threshold (plus its own), never more than 3 write units a delivery.
    expect(left).to.equal(24);
    expect(await entries()).to.be.at.most(ENTRIES_BEFORE_CLEANUP + 1);
    expect(Math.max(...perDelivery.map((d) => d.writeUnits))).to.equal(3);
    expect(perDelivery[0].readUnits).to.equal(CLEANUP_READS * 0.5);
  });
});

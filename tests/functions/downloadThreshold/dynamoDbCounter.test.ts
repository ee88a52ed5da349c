import type { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import * as fc from "fast-check";

import {
  attemptTag,
  COUNTER_RETENTION_AFTER_WINDOW_SECONDS,
  dynamoDbDownloadCounter,
  eventAttribute,
  PENDING_TAG,
  POSITIONS_PER_TAG,
  SETTLED_TAG,
  tagRange,
  taggedPosition,
} from "../../../functions/downloadThreshold/dynamoDbCounter";
import type { WatchedDownload } from "../../../functions/downloadThreshold/watchedDownload";
import { getObjectRecord } from "../../../simulation/downloadEvents";

const WINDOW = { start: new Date("2025-03-02T16:00:00Z"), end: new Date("2025-03-09T16:00:00Z") };
const DOWNLOAD: WatchedDownload = {
  bucket: "confidential-reports",
  key: "2025/売上報告 Q1.pdf",
  threshold: 1,
  record: getObjectRecord({ eventID: "00000000-0000-4000-8000-000000000001", eventTime: "2025-03-03T01:02:03Z" }),
};

/** A DynamoDB client that records each UpdateItem's input and answers with the next reply (an object or an error). */
function scripted(replies: Array<Record<string, unknown> | Error>) {
  const sent: Array<UpdateItemCommand["input"]> = [];
  const client = {
    send: (command: UpdateItemCommand) => {
      sent.push(command.input);
      const reply = replies.shift();
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply ?? {});
    },
  } as unknown as Pick<DynamoDBClient, "send">;
  return { client, sent };
}
const conditionFailed = () => Object.assign(new Error("The conditional request failed"), { name: "ConditionalCheckFailedException" });

describe("dynamoDbCounter: the attempt-tag encoding", () => {
  it("tags an invocation by its request ID, the same for Lambda's retries, from 2 to 2^24 - 1, and 0 without one", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (requestId) => {
        const tag = attemptTag(requestId);

        expect(tag).to.equal(attemptTag(requestId));
        expect(tag).to.be.within(2, 2 ** 24 - 1);
      }),
    );
    expect([attemptTag(undefined), attemptTag("")]).to.deep.equal([SETTLED_TAG, SETTLED_TAG]);
  });

  it("keeps position and tag apart in one number, each tag owning a range of its own", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: POSITIONS_PER_TAG - 1 }), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (position, tag) => {
        const value = taggedPosition(position, tag);
        const [low, high] = tagRange(tag);

        expect(value % POSITIONS_PER_TAG).to.equal(position);
        expect(Math.floor(value / POSITIONS_PER_TAG)).to.equal(tag);
        expect(value).to.be.within(low, high);
        expect(Number.isSafeInteger(high)).to.equal(true);
      }),
    );
    expect(tagRange(PENDING_TAG)).to.deep.equal([POSITIONS_PER_TAG, 2 * POSITIONS_PER_TAG - 1]);
  });

  it("names an event's attribute by 96 bits of its ID's digest", () => {
    expect(eventAttribute("00000000-0000-4000-8000-000000000001")).to.match(/^e[A-Za-z0-9_-]{16}$/);
    expect(eventAttribute("a")).to.not.equal(eventAttribute("b"));
  });
});

describe("dynamoDbDownloadCounter", () => {
  it("counts with one conditional UpdateItem that tags the event's position with the invocation and sets the TTL", async () => {
    // Prepare
    const { client, sent } = scripted([{ Attributes: { downloads: { N: "3" } } }]);
    const attempt = attemptTag("request-1");

    // Act
    const result = await dynamoDbDownloadCounter(client, "counts").count(DOWNLOAD, WINDOW, 0, attempt);

    // Assess
    expect(result).to.deep.equal({ counted: true, count: 3 });
    expect(sent).to.have.length(1);
    expect(sent[0]).to.deep.include({
      TableName: "counts",
      Key: { object: { S: `${DOWNLOAD.bucket}/${DOWNLOAD.key}` }, entry: { S: "window#2025-03-02T16:00:00.000Z" } },
      ConditionExpression: "attribute_not_exists(#event) AND (attribute_not_exists(#downloads) OR #downloads < :max)",
    });
    expect(sent[0].ExpressionAttributeNames?.["#event"]).to.equal(eventAttribute(DOWNLOAD.record.eventID));
    expect(sent[0].ExpressionAttributeValues).to.deep.include({
      ":tagged": { N: String(1 + attempt * POSITIONS_PER_TAG) },
      ":max": { N: "10000" },
      ":expiresAt": { N: String(WINDOW.end.getTime() / 1000 + COUNTER_RETENTION_AFTER_WINDOW_SECONDS) },
    });
  });

  it("answers a redelivered event with the position its unsettled alert was counted at, and says when it filled the counter", async () => {
    const { client, sent } = scripted([conditionFailed(), { Attributes: { [eventAttribute(DOWNLOAD.record.eventID)]: { N: String(taggedPosition(3, PENDING_TAG)) } } }]);

    const result = await dynamoDbDownloadCounter(client, "counts", 3).count(DOWNLOAD, WINDOW, 0, SETTLED_TAG);

    expect(result).to.deep.include({ counted: false, unsettled: { count: 3, counterFull: true } });
    // Without a request ID only pending alerts are looked for.
    expect(sent[1].ConditionExpression).to.equal("#event BETWEEN :pendingLow AND :pendingHigh");
  });

  it("looks for the invocation's own unsettled alerts too when it has a request ID, and reports none when the condition fails", async () => {
    const { client, sent } = scripted([conditionFailed(), conditionFailed()]);
    const attempt = attemptTag("request-2");

    const result = await dynamoDbDownloadCounter(client, "counts").count(DOWNLOAD, WINDOW, 0, attempt);

    expect(result).to.deep.equal({ counted: false, reason: "event already counted (a redelivery), or 10000 downloads already counted in this window" });
    expect(sent[1].ExpressionAttributeValues).to.deep.include({ ":mineLow": { N: String(attempt * POSITIONS_PER_TAG) }, ":mineHigh": { N: String((attempt + 1) * POSITIONS_PER_TAG - 1) } });
  });

  it("settles an alert as sent (tag 0) or pending (tag 1)", async () => {
    const { client, sent } = scripted([{}, {}]);
    const counter = dynamoDbDownloadCounter(client, "counts");

    await counter.settle?.(DOWNLOAD, WINDOW, 7, "sent");
    await counter.settle?.(DOWNLOAD, WINDOW, 7, "pending");

    expect(sent.map((input) => input.ExpressionAttributeValues?.[":value"])).to.deep.equal([{ N: "7" }, { N: String(7 + POSITIONS_PER_TAG) }]);
  });

  it("rethrows errors other than a failed condition", async () => {
    const { client } = scripted([Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" })]);

    const error = await dynamoDbDownloadCounter(client, "counts").count(DOWNLOAD, WINDOW, 0, SETTLED_TAG).then(() => undefined, (caught: Error) => caught);

    expect(error?.name).to.equal("ProvisionedThroughputExceededException");
  });

  it("refuses a maximum the tag encoding cannot hold", () => {
    const { client } = scripted([]);

    for (const max of [0, 1.5, POSITIONS_PER_TAG]) {
      expect(() => dynamoDbDownloadCounter(client, "counts", max)).to.throw(`maxCountedDownloads must be a whole number from 1 to ${POSITIONS_PER_TAG - 1}, got ${max}`);
    }
  });
});

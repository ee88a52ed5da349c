/**
 * A journal of the CloudTrail events a handler has already notified, so that Lambda's retry of a partly failed
 * invocation, or a redelivered event, does not notify them again. One small DynamoDB item per notified event,
 * removed by DynamoDB's TTL once no delivery of the event can still arrive.
 */
import { createHash } from "crypto";

import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

import { namedError } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Which events were notified. */
export interface SentJournal {
  /** The event IDs among `eventIDs` that were notified before; throws when it cannot tell. */
  sent(eventIDs: readonly string[]): Promise<Set<string>>;
  /** Records that the event was notified. */
  markSent(eventID: string): Promise<void>;
}

/** The journal table's key schema; the component deploys the table from it and tests create theirs from it. */
export const SENT_JOURNAL_TABLE = {
  hashKey: { name: "eventID", type: "S" },
  timeToLiveAttribute: "expiresAt",
} as const;

/**
 * How long an entry is kept: 7 days, longer than any redelivery that can still come (Lambda keeps an asynchronous
 * event for at most 6 hours, EventBridge retries for at most 24 hours).
 */
export const SENT_JOURNAL_RETENTION_SECONDS = 7 * 24 * 3600;

/** Event IDs longer than this (never a real CloudTrail ID, a UUID) are stored as a digest: keys hold 2,048 bytes. */
const MAX_KEY_BYTES = 1024;

/** Lookups sent at once. */
const LOOKUP_CONCURRENCY = 8;

/** The key an event is journaled under: its ID, or for an ID too long for a key, a SHA-256 digest of it. */
export function sentJournalKey(eventID: string): string {
  return Buffer.byteLength(eventID, "utf8") <= MAX_KEY_BYTES ? eventID : `sha256:${createHash("sha256").update(eventID, "utf8").digest("hex")}`;
}

/**
 * The journal on a DynamoDB table with {@link SENT_JOURNAL_TABLE}'s schema: a strongly consistent GetItem per event
 * (so that a retry sees what the failed attempt wrote) and a PutItem per notified event, which carries the TTL
 * attribute `expiresAt`. Needs exactly `dynamodb:GetItem` and `dynamodb:PutItem` on the table.
 */
export function dynamoDbSentJournal(
  dynamodb: Pick<DynamoDBClient, "send">,
  tableName: string,
  retentionSeconds = SENT_JOURNAL_RETENTION_SECONDS,
  now: () => number = Date.now,
): SentJournal {
  if (tableName === "") {
    throw namedError("InvalidSettingsError", "the sent journal needs a table name");
  }
  const { hashKey, timeToLiveAttribute } = SENT_JOURNAL_TABLE;
  return {
    async sent(eventIDs) {
      const found = new Set<string>();
      for (let i = 0; i < eventIDs.length; i += LOOKUP_CONCURRENCY) {
        await Promise.all(
          eventIDs.slice(i, i + LOOKUP_CONCURRENCY).map(async (eventID) => {
            const { Item } = await dynamodb.send(
              new GetItemCommand({ TableName: tableName, Key: { [hashKey.name]: { S: sentJournalKey(eventID) } }, ConsistentRead: true, ProjectionExpression: "#key", ExpressionAttributeNames: { "#key": hashKey.name } }),
            );
            if (Item !== undefined) {
              found.add(eventID);
            }
          }),
        );
      }
      return found;
    },
    async markSent(eventID) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            [hashKey.name]: { S: sentJournalKey(eventID) },
            [timeToLiveAttribute]: { N: String(Math.floor(now() / 1000) + retentionSeconds) },
          },
        }),
      );
    },
  };
}

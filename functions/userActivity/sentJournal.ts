/**
 * A journal of the CloudTrail events a handler has already notified, so that Lambda's retry of a partly failed
 * invocation, or a redelivered event, does not notify them again, and of the events an invocation is notifying right
 * now, so that two deliveries of one event handled at the same moment notify it once. One small DynamoDB item per
 * event, removed by DynamoDB's TTL once no delivery of the event can still arrive.
 */
import { createHash } from "crypto";

import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

import { assertIsError, hasErrorName, namedError } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Which events were notified, and which an invocation is notifying now. */
export interface SentJournal {
  /** The event IDs among `eventIDs` that were notified before (not those only claimed); throws when it cannot tell. */
  sent(eventIDs: readonly string[]): Promise<Set<string>>;
  /**
   * Claims each event of `eventIDs` for `owner` (the invocation's request ID, which Lambda keeps when it retries an
   * invocation) before it is published, and returns those notified before, which must not be published. Each other
   * event is then claimed by `owner` for a short lease: publish it, then {@link markSent} (or {@link release} it when
   * the publish failed). An event another invocation holds is waited for until it is sent (returned as sent) or its
   * lease runs out (then it is claimed here: that invocation died). Throws when the journal cannot be read or written,
   * or when an event stays claimed by others beyond two leases.
   */
  claim(eventIDs: readonly string[], owner: string): Promise<Set<string>>;
  /** Records that the event was notified (ending its claim). */
  markSent(eventID: string): Promise<void>;
  /** Gives up `owner`'s claim of an event it could not publish, so that another delivery may at once. */
  release(eventID: string, owner: string): Promise<void>;
}

/** How claims behave: lease length, how often a held claim is looked at, and how to wait. */
export interface ClaimOptions {
  /**
   * How long a claim holds before another delivery may take the event over: longer than a healthy publish takes (SNS
   * answers in tens of milliseconds, the SDK's retries in seconds), short enough that a delivery waiting for an
   * invocation that died still publishes within the function's timeout (it waits at most two leases).
   * @default 20000
   */
  leaseMs?: number;
  /** Interval between looks at an event another invocation holds. @default 250 */
  pollIntervalMs?: number;
  /** Waits `ms` (tests pass a virtual clock's). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** See {@link ClaimOptions.leaseMs}. */
export const CLAIM_LEASE_MS = 20_000;

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

/** Attributes of a claim; an item without them records an event notified. */
const CLAIM = { owner: "claimedBy", leaseUntil: "leaseUntil" } as const;

/** Runs `work` on each of `items`, {@link LOOKUP_CONCURRENCY} at a time; returns those it answered true for. */
async function each(items: readonly string[], work: (item: string) => Promise<boolean>): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < items.length; i += LOOKUP_CONCURRENCY) {
    await Promise.all(
      items.slice(i, i + LOOKUP_CONCURRENCY).map(async (item) => {
        if (await work(item)) {
          found.add(item);
        }
      }),
    );
  }
  return found;
}

/** The journal's table and clock, as its operations below use them. */
interface JournalTable {
  dynamodb: Pick<DynamoDBClient, "send">;
  tableName: string;
  retentionSeconds: number;
  now: () => number;
  leaseMs: number;
  pollIntervalMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** The item key of an event. */
function itemKey(eventID: string): Record<string, { S: string }> {
  return { [SENT_JOURNAL_TABLE.hashKey.name]: { S: sentJournalKey(eventID) } };
}

/** The TTL attribute of an item written now. */
function expiresAt(table: JournalTable): Record<string, { N: string }> {
  return { [SENT_JOURNAL_TABLE.timeToLiveAttribute]: { N: String(Math.floor(table.now() / 1000) + table.retentionSeconds) } };
}

/** The event's item: absent, sent, or claimed (by whom, until when). */
async function readItem(table: JournalTable, eventID: string): Promise<{ state: "absent" | "sent" } | { state: "claimed"; owner: string; leaseUntil: number }> {
  const { Item } = await table.dynamodb.send(
    new GetItemCommand({
      TableName: table.tableName,
      Key: itemKey(eventID),
      ConsistentRead: true,
      ProjectionExpression: "#key, #owner, #lease",
      ExpressionAttributeNames: { "#key": SENT_JOURNAL_TABLE.hashKey.name, "#owner": CLAIM.owner, "#lease": CLAIM.leaseUntil },
    }),
  );
  if (Item === undefined) {
    return { state: "absent" };
  }
  const leaseUntil = Item[CLAIM.leaseUntil]?.N;
  return leaseUntil === undefined ? { state: "sent" } : { state: "claimed", owner: Item[CLAIM.owner]?.S ?? "", leaseUntil: Number(leaseUntil) };
}

/**
 * Writes `owner`'s claim, with a lease until `leaseUntil`, when `condition` holds; false when it does not (the
 * condition's names: `#key`, `#owner`, `#lease`; values: `:owner`, `:now`).
 */
async function putClaim(table: JournalTable, eventID: string, owner: string, leaseUntil: number, condition: string): Promise<boolean> {
  try {
    await table.dynamodb.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: { ...itemKey(eventID), [CLAIM.owner]: { S: owner }, [CLAIM.leaseUntil]: { N: String(leaseUntil) }, ...expiresAt(table) },
        ConditionExpression: condition,
        ExpressionAttributeNames: Object.fromEntries(Object.entries({ "#key": SENT_JOURNAL_TABLE.hashKey.name, "#owner": CLAIM.owner, "#lease": CLAIM.leaseUntil }).filter(([name]) => condition.includes(name))),
        ExpressionAttributeValues: Object.fromEntries(Object.entries({ ":owner": { S: owner }, ":now": { N: String(table.now()) } }).filter(([name]) => condition.includes(name))),
      }),
    );
    return true;
  } catch (error) {
    assertIsError(error);
    if (!hasErrorName(error, "ConditionalCheckFailedException")) {
      throw error;
    }
    return false;
  }
}

/** Claims the event for `owner`, waiting out another invocation's claim; true when it was notified before instead. */
async function claimEvent(table: JournalTable, eventID: string, owner: string): Promise<boolean> {
  const deadline = table.now() + 2 * table.leaseMs;
  for (;;) {
    // No item, a claim of this invocation (its retry), or a claim whose lease ran out (its invocation died).
    if (await putClaim(table, eventID, owner, table.now() + table.leaseMs, "attribute_not_exists(#key) OR #owner = :owner OR #lease < :now")) {
      return false;
    }
    const item = await readItem(table, eventID);
    if (item.state === "sent") {
      return true;
    }
    if (item.state === "claimed" && item.leaseUntil >= table.now()) {
      if (table.now() >= deadline) {
        throw namedError("NotificationClaimedElsewhereError", `event ${eventID} is still claimed by invocation ${item.owner} after ${2 * table.leaseMs} ms; the invocation fails so that Lambda retries it`, { eventID });
      }
      await table.sleep(Math.min(table.pollIntervalMs, item.leaseUntil - table.now() + 1));
    }
  }
}

/**
 * The journal on a DynamoDB table with {@link SENT_JOURNAL_TABLE}'s schema. An event notified is an item with the TTL
 * attribute `expiresAt` only; an event claimed has `claimedBy` (the invocation) and `leaseUntil` (epoch ms) too. A
 * claim is a conditional PutItem (no item, or a claim of the same invocation, or one whose lease ran out), so that of
 * any number of simultaneous deliveries exactly one claims; the others read the item (strongly consistent GetItem)
 * until it is sent or its lease runs out. Needs exactly `dynamodb:GetItem` and `dynamodb:PutItem` on the table.
 */
export function dynamoDbSentJournal(
  dynamodb: Pick<DynamoDBClient, "send">,
  tableName: string,
  retentionSeconds = SENT_JOURNAL_RETENTION_SECONDS,
  now: () => number = Date.now,
  options: ClaimOptions = {},
): SentJournal {
  if (tableName === "") {
    throw namedError("InvalidSettingsError", "the sent journal needs a table name");
  }
  const { leaseMs = CLAIM_LEASE_MS, pollIntervalMs = 250, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = options;
  const table: JournalTable = { dynamodb, tableName, retentionSeconds, now, leaseMs, pollIntervalMs, sleep };
  return {
    sent: (eventIDs) => each(eventIDs, async (eventID) => (await readItem(table, eventID)).state === "sent"),
    claim: (eventIDs, owner) => each(eventIDs, (eventID) => claimEvent(table, eventID, owner)),
    async release(eventID, owner) {
      // A lease that ran out at once; a claim taken over meanwhile is no longer ours to give up.
      await putClaim(table, eventID, owner, 0, "#owner = :owner");
    },
    async markSent(eventID) {
      await dynamodb.send(new PutItemCommand({ TableName: tableName, Item: { ...itemKey(eventID), ...expiresAt(table) } }));
    },
  };
}

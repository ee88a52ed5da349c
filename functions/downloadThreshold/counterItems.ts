/**
 * The counter table's items and the requests the DynamoDB counter sends, as pure functions of their inputs.
 *
 * Two kinds of items share the table (key `object` + `entry`, TTL `expiresAt`):
 * - The **counter item** of an (object, window): `object` = `bucket/key`, `entry` = `window#<start, ISO 8601 UTC>`. It
 *   holds `downloads` (the count) and one small **entry** per download being counted now: `p<digest>` = the position
 *   the download got. Entries leave again once their event item holds the position, so the item stays far below 1 KB.
 * - The **event item** of a download: `object` = `event#<digest>`, `entry` = `window#<start>`. While an invocation
 *   counts the download it holds the claim (`owner`, `leaseEndsAt`); afterwards the download's `position` and what
 *   became of its alert (`alert`: sent, none or pending). Event items spread over the table's partitions by digest.
 */
import { createHash } from "crypto";

import type { AttributeValue, GetItemCommandInput, UpdateItemCommandInput } from "@aws-sdk/client-dynamodb";

import type { CountingWindow } from "./countingWindow";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The counter table's key schema. The component deploys the table from it and tests create theirs from it. */
export const DOWNLOAD_COUNTS_TABLE = {
  hashKey: { name: "object", type: "S" },
  rangeKey: { name: "entry", type: "S" },
  timeToLiveAttribute: "expiresAt",
} as const;

/**
 * How long items outlive their window before DynamoDB's TTL removes them: a late redelivery (a dead letter redriven
 * within SQS's 14-day retention) still finds its download counted.
 */
export const COUNTER_RETENTION_AFTER_WINDOW_SECONDS = 14 * 24 * 3600;

/** An item as DynamoDB returns it. */
export type Item = Record<string, AttributeValue>;

/** What became of the alert of a counted download: `sent`, `none` (none was due) or `pending` (publishing failed). */
export type AlertState = "sent" | "none" | "pending";

/** Who holds a claim and until when (milliseconds since the epoch). */
export interface Claim {
  owner: string;
  leaseEndsAt: number;
}

/**
 * A download's digest: 96 bits of the SHA-256 of its bucket, key and CloudTrail event ID, base64url (16 characters).
 * It names the download's event item and its entry on the counter item.
 */
export function eventDigest(download: WatchedDownload): string {
  return createHash("sha256").update(JSON.stringify([download.bucket, download.key, download.record.eventID]), "utf8").digest("base64url").slice(0, 16);
}

/** The counter item's attribute that holds the position of the download with `digest` while it is being counted. */
export function entryName(digest: string): string {
  return `p${digest}`;
}

const ENTRY_NAME = /^p[A-Za-z0-9_-]{16}$/;

/** The digest an entry name stands for, or undefined for any other attribute. */
export function digestOfEntry(name: string): string | undefined {
  return ENTRY_NAME.test(name) ? name.slice(1) : undefined;
}

/**
 * The attribute by which the earlier counter (one attribute per counted event, kept for the whole window) recorded
 * the event: `e` and 96 bits of the SHA-256 of the event ID. Its number was the position plus 16,384 times a tag
 * (0 settled, 1 pending, 2 or more: unsettled by an invocation). Counter items written before an upgrade still hold
 * them until their window ends; the counter reads them so that such an event is not counted twice.
 */
export function legacyAttribute(eventID: string): string {
  return `e${createHash("sha256").update(eventID, "utf8").digest("base64url").slice(0, 16)}`;
}

const LEGACY_POSITIONS_PER_TAG = 16_384;
const LEGACY_PENDING_TAG = 1;

/** The position an earlier-counter attribute holds, and whether its alert was left pending (to send again). */
export function legacyPosition(value: number): { position: number; pending: boolean } {
  return { position: value % LEGACY_POSITIONS_PER_TAG, pending: Math.floor(value / LEGACY_POSITIONS_PER_TAG) === LEGACY_PENDING_TAG };
}

const windowEntry = (window: CountingWindow): AttributeValue => ({ S: `window#${window.start.toISOString()}` });
const number = (value: number): AttributeValue => ({ N: String(value) });

/** The key of the counter item of `download`'s object in `window`. */
export function counterKey(download: WatchedDownload, window: CountingWindow): Item {
  return { [DOWNLOAD_COUNTS_TABLE.hashKey.name]: { S: `${download.bucket}/${download.key}` }, [DOWNLOAD_COUNTS_TABLE.rangeKey.name]: windowEntry(window) };
}

/** The key of the event item of the download with `digest` in `window`. */
export function eventKey(digest: string, window: CountingWindow): Item {
  return { [DOWNLOAD_COUNTS_TABLE.hashKey.name]: { S: `event#${digest}` }, [DOWNLOAD_COUNTS_TABLE.rangeKey.name]: windowEntry(window) };
}

/** When DynamoDB's TTL may remove the items of `window` (seconds since the epoch). */
export function expiresAt(window: CountingWindow): number {
  return Math.ceil(window.end.getTime() / 1000) + COUNTER_RETENTION_AFTER_WINDOW_SECONDS;
}

/** Options every counter request carries: the capacity it consumed comes back with the response. */
const MEASURED = { ReturnConsumedCapacity: "TOTAL" } as const;

/**
 * Claims the download's event item for `claim.owner` until `claim.leaseEndsAt`: when no item exists, when the owner
 * already holds it (Lambda's retry of the same invocation), or when its lease ended (the holder died, or a failed
 * publish released it). Returns the item as it was (ALL_OLD) on success and on a failed condition.
 */
export function claimRequest(tableName: string, key: Item, claim: Claim & { now: number; expiresAt: number }): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression: "SET #owner = :owner, #leaseEndsAt = :leaseEndsAt, #expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(#object) OR #owner = :owner OR #leaseEndsAt < :now",
    ExpressionAttributeNames: { "#object": DOWNLOAD_COUNTS_TABLE.hashKey.name, "#owner": "owner", "#leaseEndsAt": "leaseEndsAt", "#expiresAt": DOWNLOAD_COUNTS_TABLE.timeToLiveAttribute },
    ExpressionAttributeValues: { ":owner": { S: claim.owner }, ":leaseEndsAt": number(claim.leaseEndsAt), ":now": number(claim.now), ":expiresAt": number(claim.expiresAt) },
    ReturnValues: "ALL_OLD",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    ...MEASURED,
  };
}

/**
 * Counts the download: increments `downloads` and sets the download's entry to the new count, unless the entry (or
 * the earlier counter's attribute for the event) exists. Both operands read the item as it was before the update, so
 * the entry and the count are equal; the counter checks that in the answer (ALL_NEW). Removes `releases` (entries of
 * downloads whose event items hold their positions) in the same write.
 */
export function countRequest(
  tableName: string,
  key: Item,
  count: { entry: string; legacy: string; releases: readonly string[]; window: CountingWindow },
): UpdateItemCommandInput {
  const removals = count.releases.filter((name) => name !== count.entry);
  const removalNames = Object.fromEntries(removals.map((name, i) => [`#r${i}`, name]));
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression:
      "SET #downloads = if_not_exists(#downloads, :zero) + :one, #entry = if_not_exists(#downloads, :zero) + :one, #windowEnd = :windowEnd, #expiresAt = :expiresAt" +
      (removals.length > 0 ? ` REMOVE ${Object.keys(removalNames).join(", ")}` : ""),
    ConditionExpression: "attribute_not_exists(#entry) AND attribute_not_exists(#legacy)",
    ExpressionAttributeNames: {
      "#downloads": "downloads",
      "#entry": count.entry,
      "#legacy": count.legacy,
      "#windowEnd": "windowEnd",
      "#expiresAt": DOWNLOAD_COUNTS_TABLE.timeToLiveAttribute,
      ...removalNames,
    },
    ExpressionAttributeValues: { ":zero": number(0), ":one": number(1), ":windowEnd": { S: count.window.end.toISOString() }, ":expiresAt": number(expiresAt(count.window)) },
    ReturnValues: "ALL_NEW",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    ...MEASURED,
  };
}

/**
 * Records the download's position and what became of its alert, if `owner` still holds the claim. `sent` and `none`
 * end the claim for good (a redelivery then finds the download counted). `pending` keeps the position and ends the
 * lease, so whichever invocation gets the event next takes the claim over and sends the alert.
 */
export function settleRequest(tableName: string, key: Item, settle: { owner: string; position: number; state: AlertState }): UpdateItemCommandInput {
  const pending = settle.state === "pending";
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression: pending ? "SET #position = :position, #alert = :alert, #leaseEndsAt = :zero" : "SET #position = :position, #alert = :alert REMOVE #owner, #leaseEndsAt",
    ConditionExpression: "#owner = :owner",
    ExpressionAttributeNames: { "#position": "position", "#alert": "alert", "#owner": "owner", "#leaseEndsAt": "leaseEndsAt" },
    ExpressionAttributeValues: { ":position": number(settle.position), ":alert": { S: settle.state }, ":owner": { S: settle.owner }, ...(pending ? { ":zero": number(0) } : {}) },
    ...MEASURED,
  };
}

/** Reads whether an event item holds its position (eventually consistent: half a read unit). */
export function positionReadRequest(tableName: string, key: Item): GetItemCommandInput {
  return { TableName: tableName, Key: key, ProjectionExpression: "#position", ExpressionAttributeNames: { "#position": "position" }, ...MEASURED };
}

/** The whole number `item[name]` holds, or undefined. */
export function numberAttribute(item: Item | undefined, name: string): number | undefined {
  const value = Number(item?.[name]?.N);
  return item?.[name]?.N !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/** The entries of a counter item: each download being counted, by entry name, with its position. */
export function entriesOf(item: Item): Map<string, number> {
  const entries = new Map<string, number>();
  for (const name of Object.keys(item)) {
    const position = digestOfEntry(name) === undefined ? undefined : numberAttribute(item, name);
    if (position !== undefined) {
      entries.set(name, position);
    }
  }
  return entries;
}

/** Why an event item refused a claim: its download is counted and recorded, or another invocation holds it. */
export type ClaimRefusal = { recorded: AlertState; position: number | undefined } | { heldBy: string; until: number };

/** Reads the refusal from the event item a failed claim returned. */
export function claimRefusal(item: Item): ClaimRefusal {
  const alert = item.alert?.S;
  if (alert === "sent" || alert === "none") {
    return { recorded: alert, position: numberAttribute(item, "position") };
  }
  return { heldBy: item.owner?.S ?? "(unknown)", until: numberAttribute(item, "leaseEndsAt") ?? 0 };
}

/**
 * The recommended counter: a DynamoDB item per (object, window) holding the count and one small attribute per counted
 * event, whose number encodes the event's position and whether its alert is settled (the attempt tag).
 */
import { createHash } from "crypto";

import { UpdateItemCommand, type DynamoDBClient, type UpdateItemCommandInput } from "@aws-sdk/client-dynamodb";

import { assertIsError, namedError } from "../shared/runtime";
import type { CountingWindow } from "./countingWindow";
import type { CountResult, DownloadCounter } from "./downloadCounter";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/**
 * Downloads one (object, window) item records at most. Each counted download keeps a 16-character digest of its
 * event ID on the item (about 23 bytes), so 10,000 stay well inside DynamoDB's 400 KB item limit. The download that
 * fills the counter says so in its alert; later ones in that window are neither counted nor alerted.
 */
export const MAX_COUNTED_DOWNLOADS = 10_000;

/**
 * How long counter items outlive their window before DynamoDB's TTL removes them: a late redelivery (a dead letter
 * redriven within SQS's 14-day retention) still finds the event counted.
 */
export const COUNTER_RETENTION_AFTER_WINDOW_SECONDS = 14 * 24 * 3600;

/**
 * The counter table's key schema. The component deploys the table from it and tests create theirs from it.
 * Items: `object` is `bucket/key`; `entry` is `window#<start, ISO 8601 UTC>`. Each counted event is one attribute of the
 * item (see {@link eventAttribute}) whose number says its position and whether its alert is settled (see
 * {@link POSITIONS_PER_TAG}).
 */
export const DOWNLOAD_COUNTS_TABLE = {
  hashKey: { name: "object", type: "S" },
  rangeKey: { name: "entry", type: "S" },
  timeToLiveAttribute: "expiresAt",
} as const;

/** The attribute of a counter item that records one event: `e` and 96 bits of the event ID's SHA-256, base64url. */
export function eventAttribute(eventID: string): string {
  return `e${createHash("sha256").update(eventID, "utf8").digest("base64url").slice(0, 16)}`;
}

/**
 * An event attribute's number is `position + tag * POSITIONS_PER_TAG`: the event's position among the window's
 * downloads (below 16,384, above {@link MAX_COUNTED_DOWNLOADS}) and a tag saying whether its alert is settled:
 * 0 settled (sent, or none due), 1 pending (publishing failed; the next delivery sends it), 2 or more: counted by the
 * invocation with that {@link attemptTag} and not settled yet. A successful invocation leaves its tag: only a retry of
 * that same invocation (Lambda retries with the same request ID) treats the tag as its own and sends the alert, which
 * covers an invocation killed between counting and publishing.
 */
export const POSITIONS_PER_TAG = 16_384;
/** The tag of a settled alert, and the attempt tag of an invocation without a request ID. */
export const SETTLED_TAG = 0;
/** The tag of an alert whose publishing failed: whichever invocation gets the event next sends it. */
export const PENDING_TAG = 1;
const ATTEMPT_TAGS = 2 ** 24 - 2;

/**
 * The tag of an invocation, from Lambda's request ID (the same for Lambda's retries of one asynchronous invocation):
 * 2 to 2^24 - 1. Without a request ID, 0: such an invocation's unsettled alerts cannot be told from settled ones.
 */
export function attemptTag(requestId: string | undefined): number {
  if (requestId === undefined || requestId === "") {
    return SETTLED_TAG;
  }
  return 2 + (createHash("sha256").update(requestId, "utf8").digest().readUIntBE(0, 4) % ATTEMPT_TAGS);
}

/** The number an event attribute holds for the event at `position` with `tag`. */
export function taggedPosition(position: number, tag: number): number {
  return position + tag * POSITIONS_PER_TAG;
}

/** The lowest and highest numbers an event attribute with `tag` can hold. */
export function tagRange(tag: number): readonly [number, number] {
  return [taggedPosition(0, tag), taggedPosition(POSITIONS_PER_TAG - 1, tag)];
}

const number = (value: number) => ({ N: String(value) });

function itemKey(download: WatchedDownload, window: CountingWindow): UpdateItemCommandInput["Key"] {
  const { hashKey, rangeKey } = DOWNLOAD_COUNTS_TABLE;
  return { [hashKey.name]: { S: `${download.bucket}/${download.key}` }, [rangeKey.name]: { S: `window#${window.start.toISOString()}` } };
}

/**
 * Counts the event unless its attribute exists or the counter is full: adds the attribute (its position, tagged with
 * `attempt`), increments the count and returns it.
 */
function countUpdate(tableName: string, download: WatchedDownload, window: CountingWindow, attempt: number, maxCountedDownloads: number): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: itemKey(download, window),
    UpdateExpression:
      "SET #downloads = if_not_exists(#downloads, :zero) + :one, #event = if_not_exists(#downloads, :zero) + :tagged, #windowEnd = :windowEnd, #expiresAt = :expiresAt",
    ConditionExpression: "attribute_not_exists(#event) AND (attribute_not_exists(#downloads) OR #downloads < :max)",
    ExpressionAttributeNames: {
      "#downloads": "downloads",
      "#event": eventAttribute(download.record.eventID),
      "#windowEnd": "windowEnd",
      "#expiresAt": DOWNLOAD_COUNTS_TABLE.timeToLiveAttribute,
    },
    ExpressionAttributeValues: {
      ":zero": number(0),
      ":one": number(1),
      ":tagged": number(taggedPosition(1, attempt)),
      ":max": number(maxCountedDownloads),
      ":windowEnd": { S: window.end.toISOString() },
      ":expiresAt": number(Math.ceil(window.end.getTime() / 1000) + COUNTER_RETENTION_AFTER_WINDOW_SECONDS),
    },
    ReturnValues: "UPDATED_NEW",
  };
}

/** Writes nothing new (adds 0); returns the event's attribute only when its alert is pending or unsettled by `attempt`. */
function unsettledUpdate(tableName: string, download: WatchedDownload, window: CountingWindow, attempt: number): UpdateItemCommandInput {
  const [pendingLow, pendingHigh] = tagRange(PENDING_TAG);
  const [mineLow, mineHigh] = tagRange(attempt);
  const anonymous = attempt === SETTLED_TAG;
  return {
    TableName: tableName,
    Key: itemKey(download, window),
    UpdateExpression: "SET #event = #event + :zero",
    ConditionExpression: anonymous ? "#event BETWEEN :pendingLow AND :pendingHigh" : "#event BETWEEN :pendingLow AND :pendingHigh OR #event BETWEEN :mineLow AND :mineHigh",
    ExpressionAttributeNames: { "#event": eventAttribute(download.record.eventID) },
    ExpressionAttributeValues: {
      ":zero": number(0),
      ":pendingLow": number(pendingLow),
      ":pendingHigh": number(pendingHigh),
      ...(anonymous ? {} : { ":mineLow": number(mineLow), ":mineHigh": number(mineHigh) }),
    },
    ReturnValues: "UPDATED_NEW",
  };
}

/** Records the alert of the event counted at `count` as sent (settled) or pending. */
function settleUpdate(tableName: string, download: WatchedDownload, window: CountingWindow, count: number, state: "sent" | "pending"): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: itemKey(download, window),
    UpdateExpression: "SET #event = :value",
    ConditionExpression: "attribute_exists(#event)",
    ExpressionAttributeNames: { "#event": eventAttribute(download.record.eventID) },
    ExpressionAttributeValues: { ":value": number(taggedPosition(count, state === "sent" ? SETTLED_TAG : PENDING_TAG)) },
  };
}

/** Returns normally when `error` is DynamoDB's failed condition; rethrows anything else. */
function expectConditionFailed(error: unknown): void {
  assertIsError(error);
  if (error.name !== "ConditionalCheckFailedException") {
    throw error;
  }
}

/**
 * The recommended counter. Each download is ONE conditional UpdateItem: it adds the event's attribute (its position,
 * tagged with the invocation) and increments the count only if the attribute is absent (and the counter is not full),
 * and returns the new count. DynamoDB applies updates of one item one at a time, so concurrent downloads get distinct
 * counts and a redelivered event changes nothing. A redelivered event costs a second UpdateItem that reads its
 * attribute only if its alert is pending or was left unsettled by this same invocation (a retry); settling costs one
 * more, only after a failure.
 */
export function dynamoDbDownloadCounter(
  dynamodb: Pick<DynamoDBClient, "send">,
  tableName: string,
  maxCountedDownloads = MAX_COUNTED_DOWNLOADS,
): DownloadCounter {
  if (!Number.isInteger(maxCountedDownloads) || maxCountedDownloads < 1 || maxCountedDownloads >= POSITIONS_PER_TAG) {
    throw namedError("InvalidSettingsError", `maxCountedDownloads must be a whole number from 1 to ${POSITIONS_PER_TAG - 1}, got ${maxCountedDownloads}`);
  }
  const full = (count: number) => (count === maxCountedDownloads ? { counterFull: true } : {});

  /** The position of a counted event whose alert is pending or unsettled by `attempt`, if it is one. */
  const unsettled = async (download: WatchedDownload, window: CountingWindow, attempt: number): Promise<number | undefined> => {
    try {
      const result = await dynamodb.send(new UpdateItemCommand(unsettledUpdate(tableName, download, window, attempt)));
      const value = Number(result.Attributes?.[eventAttribute(download.record.eventID)]?.N);
      return Number.isSafeInteger(value) ? value % POSITIONS_PER_TAG : undefined;
    } catch (error) {
      expectConditionFailed(error);
      return undefined;
    }
  };

  return {
    async count(download, window, _deadline, attempt): Promise<CountResult> {
      try {
        const result = await dynamodb.send(new UpdateItemCommand(countUpdate(tableName, download, window, attempt, maxCountedDownloads)));
        const count = Number(result.Attributes?.downloads?.N);
        if (!Number.isSafeInteger(count) || count < 1) {
          throw namedError("UnexpectedResponseError", `UpdateItem returned no download count for ${download.bucket}/${download.key}`);
        }
        return { counted: true, count, ...full(count) };
      } catch (error) {
        expectConditionFailed(error);
      }
      const reason = `event already counted (a redelivery), or ${maxCountedDownloads} downloads already counted in this window`;
      const position = await unsettled(download, window, attempt);
      return position === undefined ? { counted: false, reason } : { counted: false, reason, unsettled: { count: position, ...full(position) } };
    },
    async settle(download, window, count, state) {
      await dynamodb.send(new UpdateItemCommand(settleUpdate(tableName, download, window, count, state)));
    },
  };
}

/**
 * DownloadThresholdAlert's handler: counts S3 `GetObject` data events per object since the last reset of a fixed
 * calendar schedule (for example every Monday 01:00 in Asia/Tokyo) and alerts when an object's count passes its
 * threshold.
 *
 * Two counters share the same handler:
 * - `dynamodb` (recommended): one conditional UpdateItem per CloudTrail event ID on the item of (object, window).
 *   The condition makes a redelivered event a no-op and gives every counted download a distinct position, so exactly
 *   one invocation sees the count cross the threshold. One DynamoDB call per download, whatever the window holds.
 * - `logs` (the source article's design): re-counts the window with `FilterLogEvents` on the trail's log group.
 *   See {@link logsDownloadCounter} for its limits.
 */
import { createHash } from "crypto";

import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { Cron } from "croner";

import { cloudTrailConsoleLink, decodeCloudTrailPayload, type CloudTrailRecord } from "./shared/cloudtrailEvents";
import { describePrincipal, formatLocalTime, oneLine, type Language } from "./shared/readableEvent";
import { quoteFilterString, type RecordPattern } from "./shared/recordPattern";
import { assertIsError, type Clock, consoleLogger, embeddedMetricSink, namedError, reportRejectedInput, requireEnv, systemClock, type Logger, type MetricSink } from "./shared/runtime";
import { publishAlert, type Alert } from "./shared/snsAlert";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

// ---------------------------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------------------------

/** One watched object (`key`) or every object under a prefix (`keyPrefix`, counted per object key). */
export type WatchedObject =
  | { bucket: string; key: string; keyPrefix?: undefined; threshold: number }
  | { bucket: string; keyPrefix: string; key?: undefined; threshold: number };

/** When counts go back to zero: a 5-field cron expression evaluated in an IANA time zone. */
export interface ResetSchedule {
  schedule: string;
  timeZone: string;
}

/** `every`: alert on each download past the threshold (the source article's behaviour). `once`: once per object and window. */
export type NotifyMode = "every" | "once";

/** Languages of alert bodies (subjects are always ASCII English). */
export type AlertLanguage = Language;

/** The source article's reset: Monday 01:00 in Tokyo. */
export const DEFAULT_RESET: ResetSchedule = { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" };

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

/** Everything the handler needs to know, read from the environment at cold start. */
export interface DownloadThresholdSettings {
  watches: WatchedObject[];
  reset: ResetSchedule;
  notify: NotifyMode;
  counter:
    | { kind: "dynamodb"; tableName: string; maxCountedDownloads?: number }
    | { kind: "logs"; logGroupName: string };
  topicArn: string;
  language: AlertLanguage;
  /** IANA time zone alert bodies show times in. */
  timeZone: string;
  /**
   * Longest time one invocation may spend waiting out throttling (logs counter) when the handler is called without a
   * Lambda context; in Lambda the function's remaining time minus 5 s applies. @default 240000
   */
  timeBudgetMs?: number;
}

/** The environment variables the component sets; {@link downloadThresholdSettingsFromEnv} reads them. */
export const SETTINGS_ENVIRONMENT = {
  watches: "WATCHED_OBJECTS",
  resetSchedule: "RESET_SCHEDULE",
  resetTimeZone: "RESET_TIME_ZONE",
  notify: "NOTIFY",
  counter: "COUNTER",
  tableName: "COUNTS_TABLE_NAME",
  logGroupName: "TRAIL_LOG_GROUP_NAME",
  language: "ALERT_LANGUAGE",
  timeZone: "ALERT_TIME_ZONE",
  topicArn: "ALERT_TOPIC_ARN",
} as const;

/** Reads and checks the settings; throws at cold start, naming the variable, when one is missing or invalid. */
export function downloadThresholdSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DownloadThresholdSettings {
  const E = SETTINGS_ENVIRONMENT;
  const invalid = (variable: string, expectation: string): Error =>
    namedError("InvalidSettingsError", `environment variable ${variable} must be ${expectation}, got ${JSON.stringify(env[variable])}`, { variable });
  let watches: unknown;
  try {
    watches = JSON.parse(requireEnv(E.watches, env));
  } catch (error) {
    assertIsError(error);
    throw error.name === "MissingEnvironmentError" ? error : invalid(E.watches, "a JSON list of watched objects");
  }
  if (!Array.isArray(watches) || watches.length === 0 || !watches.every(isWatchedObject)) {
    throw invalid(E.watches, "a JSON list of { bucket, key | keyPrefix, threshold }");
  }
  const reset = { schedule: requireEnv(E.resetSchedule, env), timeZone: requireEnv(E.resetTimeZone, env) };
  const problem = resetScheduleProblem(reset);
  if (problem !== undefined) {
    throw invalid(E.resetSchedule, problem);
  }
  const notify = requireEnv(E.notify, env);
  if (notify !== "every" && notify !== "once") {
    throw invalid(E.notify, '"every" or "once"');
  }
  const language = requireEnv(E.language, env);
  if (language !== "ja" && language !== "en") {
    throw invalid(E.language, '"ja" or "en"');
  }
  const counterKind = requireEnv(E.counter, env);
  if (counterKind !== "dynamodb" && counterKind !== "logs") {
    throw invalid(E.counter, '"dynamodb" or "logs"');
  }
  const timeZone = requireEnv(E.timeZone, env);
  try {
    formatLocalTime(new Date(0), timeZone);
  } catch {
    throw invalid(E.timeZone, "an IANA time zone such as Asia/Tokyo");
  }
  return {
    watches,
    reset,
    notify,
    counter:
      counterKind === "dynamodb"
        ? { kind: "dynamodb", tableName: requireEnv(E.tableName, env) }
        : { kind: "logs", logGroupName: requireEnv(E.logGroupName, env) },
    topicArn: requireEnv(E.topicArn, env),
    language,
    timeZone,
  };
}

function isWatchedObject(value: unknown): value is WatchedObject {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const w = value as Record<string, unknown>;
  const oneOf = (typeof w.key === "string") !== (typeof w.keyPrefix === "string");
  return typeof w.bucket === "string" && oneOf && typeof w.threshold === "number" && Number.isInteger(w.threshold) && w.threshold >= 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Counting windows
// ---------------------------------------------------------------------------------------------------------------

/** A counting window: downloads at or after `start` and before `end` count together. */
export interface CountingWindow {
  start: Date;
  end: Date;
}

function resetCron(reset: ResetSchedule): Cron {
  // 5-part: minutes to weekdays, as in crontab. "no-wildcard": a reset at a listed time (30 2 * * *, 0 1,13 * * *)
  // that falls into a daylight-saving gap runs right after the gap instead of being skipped, as in Vixie cron; a
  // time that occurs twice resets once. Day of month and day of week combine with OR, as in crontab.
  return new Cron(reset.schedule, { timezone: reset.timeZone, mode: "5-part", fixedTimeRule: "no-wildcard" });
}

/**
 * What `reset` should be when it cannot be used (completing "the reset schedule must be ..."), or undefined when it
 * can: exactly 5 fields, parsed by croner, in an IANA time zone, running at least once before and after `now`.
 */
export function resetScheduleProblem(reset: ResetSchedule, now = new Date()): string | undefined {
  const fields = reset.schedule.trim().split(/\s+/);
  if (fields.length !== 5 || reset.schedule.trim() === "") {
    return 'a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1"';
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: reset.timeZone });
  } catch {
    return `a schedule in an IANA time zone such as Asia/Tokyo (not ${JSON.stringify(reset.timeZone)})`;
  }
  try {
    const cron = resetCron(reset);
    if (cron.nextRun(now) === null || cron.previousRuns(1, now).length === 0) {
      return "a schedule that runs (this one never does)";
    }
  } catch (error) {
    assertIsError(error);
    return `a valid cron expression (${error.message})`;
  }
  return undefined;
}

/**
 * Returns a function that gives the counting window containing a time. The cron schedule is parsed once; each call
 * asks the library for the runs around `at`.
 */
export function windowCalculator(reset: ResetSchedule): (at: Date) => CountingWindow {
  const cron = resetCron(reset);
  return (at) => {
    // previousRuns() returns runs strictly before its reference (at millisecond precision), so ask from 1 ms later
    // to include a run at exactly `at`. nextRun() returns the first run strictly after `at`.
    const start = cron.previousRuns(1, new Date(at.getTime() + 1))[0];
    const end = cron.nextRun(at);
    if (start === undefined || end === null || start.getTime() > at.getTime() || end.getTime() <= at.getTime()) {
      throw namedError("ScheduleError", `reset schedule "${reset.schedule}" in ${reset.timeZone} has no counting window around ${at.toISOString()}`, { at: at.toISOString() });
    }
    return { start, end };
  };
}

/**
 * The counting window containing `at`: `start` is the latest schedule time at or before `at`, `end` the next schedule
 * time after it. Times are instants, so a window that spans a daylight-saving change is an hour shorter or longer.
 */
export function countingWindow(at: Date, reset: ResetSchedule): CountingWindow {
  return windowCalculator(reset)(at);
}

// ---------------------------------------------------------------------------------------------------------------
// Which records count
// ---------------------------------------------------------------------------------------------------------------

/** The watch that applies to `bucket`/`key`: an exact key first, otherwise the longest matching prefix. */
export function watchFor(watches: readonly WatchedObject[], bucket: string, key: string): WatchedObject | undefined {
  let best: WatchedObject | undefined;
  for (const watch of watches) {
    if (watch.bucket !== bucket) {
      continue;
    }
    if (watch.key !== undefined) {
      if (watch.key === key) {
        return watch;
      }
    } else if (key.startsWith(watch.keyPrefix) && (best === undefined || watch.keyPrefix.length > (best.keyPrefix ?? "").length)) {
      best = watch;
    }
  }
  return best;
}

/** A download of a watched object. */
export interface WatchedDownload {
  bucket: string;
  key: string;
  threshold: number;
  record: CloudTrailRecord;
}

/**
 * The watched download `record` is, or why it does not count: another service or event name, a failed request
 * (`errorCode` set) or an object nobody watches. Bucket and key are compared exactly as CloudTrail reports them.
 * `malformed` marks a successful S3 GetObject without a bucket name and key: no real data event looks like that, so
 * the handler reports it as rejected input rather than quietly ignoring it.
 */
export function watchedDownload(record: CloudTrailRecord, watches: readonly WatchedObject[]): WatchedDownload | { ignored: string; malformed?: true } {
  if (record.eventSource !== "s3.amazonaws.com" || record.eventName !== "GetObject") {
    return { ignored: `${record.eventSource} ${record.eventName} is not an S3 GetObject` };
  }
  if (record.errorCode !== undefined && record.errorCode !== null) {
    return { ignored: `the request failed with ${String(record.errorCode)}` };
  }
  const bucket = record.requestParameters?.bucketName;
  const key = record.requestParameters?.key;
  if (typeof bucket !== "string" || typeof key !== "string") {
    return { ignored: "the S3 GetObject record has no requestParameters.bucketName and requestParameters.key", malformed: true };
  }
  const watch = watchFor(watches, bucket, key);
  if (watch === undefined) {
    return { ignored: "the object is not watched" };
  }
  return { bucket, key, threshold: watch.threshold, record };
}

// ---------------------------------------------------------------------------------------------------------------
// Record patterns and CloudWatch Logs filter patterns
// ---------------------------------------------------------------------------------------------------------------

/**
 * The record pattern (EventBridge content filtering over one CloudTrail record, see recordPattern.ts) that selects
 * exactly the successful `GetObject` events on the watched objects: per bucket, the exact keys and `{ prefix }`es
 * (a prefix of "" watches the whole bucket, with no key condition); several buckets with `$or`. It is the `detail` of
 * the EventBridge rule and the pattern a LogSubscriptionDispatcher routes downloads with. Values match literally:
 * `*` and `?` in keys are not wildcards.
 */
export function downloadRecordPattern(watches: readonly WatchedObject[]): RecordPattern {
  const perBucket = [...new Set(watches.map((w) => w.bucket))].map((bucket): RecordPattern => {
    const ofBucket = watches.filter((w) => w.bucket === bucket);
    if (ofBucket.some((w) => w.keyPrefix === "")) {
      return { requestParameters: { bucketName: [bucket] } };
    }
    const keys = ofBucket.map((w) => (w.key !== undefined ? w.key : { prefix: w.keyPrefix }));
    return { requestParameters: { bucketName: [bucket], key: keys } };
  });
  return {
    eventSource: ["s3.amazonaws.com"],
    eventName: ["GetObject"],
    // Failed requests (access denied, no such key) carry an errorCode and are not downloads.
    errorCode: [{ exists: false }],
    ...(perBucket.length === 1 ? perBucket[0] : { $or: perBucket }),
  };
}

const SUCCESSFUL_GET_OBJECT = '($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.errorCode NOT EXISTS)';

/**
 * The subscription filter pattern that selects successful `GetObject` events on the watched objects, grouped by
 * bucket: `{ (...GetObject...) && (($.requestParameters.bucketName = "b" && ($.requestParameters.key = "k" || ...)) || ...) }`.
 */
export function downloadFilterPattern(watches: readonly WatchedObject[]): string {
  const buckets = [...new Set(watches.map((w) => w.bucket))].map((bucket) => {
    const ofBucket = watches.filter((w) => w.bucket === bucket);
    const bucketClause = `$.requestParameters.bucketName = ${quoteFilterString(bucket)}`;
    // A prefix of "" watches the whole bucket; no key condition is needed then.
    if (ofBucket.some((w) => w.keyPrefix === "")) {
      return `(${bucketClause})`;
    }
    const keys = ofBucket.map((w) => `$.requestParameters.key = ${quoteFilterString(w.key ?? `${w.keyPrefix}*`)}`);
    return `(${bucketClause} && (${keys.join(" || ")}))`;
  });
  return `{ ${SUCCESSFUL_GET_OBJECT} && (${buckets.join(" || ")}) }`;
}

/** The `FilterLogEvents` pattern for successful `GetObject` events on one object. */
export function objectFilterPattern(bucket: string, key: string): string {
  return `{ ${SUCCESSFUL_GET_OBJECT} && ($.requestParameters.bucketName = ${quoteFilterString(bucket)}) && ($.requestParameters.key = ${quoteFilterString(key)}) }`;
}

// ---------------------------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------------------------

/** The outcome of counting one download. */
export type CountResult =
  /** Counted now; `count` is its position among the window's downloads of the object (1 for the first). */
  | { counted: true; count: number; counterFull?: boolean }
  /**
   * Not counted: the event was counted before (a redelivery) or the window's counter is full. `unsettled` is set when
   * the earlier count's alert may not have gone out: it was kept after a failed publish, or this is Lambda's retry of
   * the very invocation that counted it (killed, timed out or failed before it could settle it).
   */
  | { counted: false; reason: string; unsettled?: { count: number; counterFull?: boolean } };

/** Counts downloads per object and window. */
export interface DownloadCounter {
  /**
   * Counts `download` in `window`; `deadline` (on the handler's clock) bounds waiting for throttling. `attempt`
   * identifies the invocation (see {@link attemptTag}); a retry of the same invocation has the same one.
   */
  count(download: WatchedDownload, window: CountingWindow, deadline: number, attempt: number): Promise<CountResult>;
  /**
   * Records what became of the alert of the download counted at `count`: `sent`, or `pending` (publishing failed: the
   * next delivery of the event, whichever invocation gets it, sends it). Absent: nothing is recorded, and a retried
   * event is not alerted again.
   */
  settle?(download: WatchedDownload, window: CountingWindow, count: number, state: "sent" | "pending"): Promise<void>;
}

function objectId(download: Pick<WatchedDownload, "bucket" | "key">): string {
  return `${download.bucket}/${download.key}`;
}

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
const SETTLED_TAG = 0;
const PENDING_TAG = 1;
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

/**
 * The recommended counter: a DynamoDB item per (object, window) holding the count and one small attribute per
 * counted event. Each download is ONE conditional UpdateItem: it adds the event's attribute (its position, tagged with
 * the invocation) and increments the count only if the attribute is absent (and the counter is not full), and returns
 * the new count. DynamoDB applies updates of one item one at a time, so concurrent downloads get distinct counts and a
 * redelivered event changes nothing. A redelivered event costs a second UpdateItem that reads its attribute only if its
 * alert is pending or was left unsettled by this same invocation (a retry); settling costs one more, only after a
 * failure.
 */
export function dynamoDbDownloadCounter(
  dynamodb: Pick<DynamoDBClient, "send">,
  tableName: string,
  maxCountedDownloads = MAX_COUNTED_DOWNLOADS,
): DownloadCounter {
  if (!Number.isInteger(maxCountedDownloads) || maxCountedDownloads < 1 || maxCountedDownloads >= POSITIONS_PER_TAG) {
    throw namedError("InvalidSettingsError", `maxCountedDownloads must be a whole number from 1 to ${POSITIONS_PER_TAG - 1}, got ${maxCountedDownloads}`);
  }
  const { hashKey, rangeKey, timeToLiveAttribute } = DOWNLOAD_COUNTS_TABLE;
  const expiresAt = (window: CountingWindow) => ({ N: String(Math.ceil(window.end.getTime() / 1000) + COUNTER_RETENTION_AFTER_WINDOW_SECONDS) });
  const key = (download: WatchedDownload, window: CountingWindow) => ({
    [hashKey.name]: { S: objectId(download) },
    [rangeKey.name]: { S: `window#${window.start.toISOString()}` },
  });
  const tagRange = (tag: number) => [{ N: String(tag * POSITIONS_PER_TAG) }, { N: String(tag * POSITIONS_PER_TAG + POSITIONS_PER_TAG - 1) }] as const;
  const conditionFailed = (error: unknown) => {
    assertIsError(error);
    if (error.name === "ConditionalCheckFailedException") {
      return true;
    }
    throw error;
  };

  /** The position of a counted event whose alert is pending or unsettled by `attempt`, if it is one. */
  const unsettled = async (download: WatchedDownload, window: CountingWindow, attempt: number): Promise<number | undefined> => {
    const [pendingLow, pendingHigh] = tagRange(PENDING_TAG);
    const [mineLow, mineHigh] = tagRange(attempt);
    try {
      // Writes nothing new (adds 0); returns the attribute only when the condition holds.
      const result = await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(download, window),
          UpdateExpression: "SET #event = #event + :zero",
          ConditionExpression: attempt === SETTLED_TAG ? "#event BETWEEN :pendingLow AND :pendingHigh" : "#event BETWEEN :pendingLow AND :pendingHigh OR #event BETWEEN :mineLow AND :mineHigh",
          ExpressionAttributeNames: { "#event": eventAttribute(download.record.eventID) },
          ExpressionAttributeValues: {
            ":zero": { N: "0" },
            ":pendingLow": pendingLow,
            ":pendingHigh": pendingHigh,
            ...(attempt === SETTLED_TAG ? {} : { ":mineLow": mineLow, ":mineHigh": mineHigh }),
          },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      const value = Number(result.Attributes?.[eventAttribute(download.record.eventID)]?.N);
      return Number.isSafeInteger(value) ? value % POSITIONS_PER_TAG : undefined;
    } catch (error) {
      conditionFailed(error);
      return undefined;
    }
  };

  return {
    async count(download, window, _deadline, attempt) {
      try {
        const result = await dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(download, window),
            UpdateExpression:
              "SET #downloads = if_not_exists(#downloads, :zero) + :one, #event = if_not_exists(#downloads, :zero) + :tagged, #windowEnd = :windowEnd, #expiresAt = :expiresAt",
            ConditionExpression: "attribute_not_exists(#event) AND (attribute_not_exists(#downloads) OR #downloads < :max)",
            ExpressionAttributeNames: {
              "#downloads": "downloads",
              "#event": eventAttribute(download.record.eventID),
              "#windowEnd": "windowEnd",
              "#expiresAt": timeToLiveAttribute,
            },
            ExpressionAttributeValues: {
              ":zero": { N: "0" },
              ":one": { N: "1" },
              ":tagged": { N: String(1 + attempt * POSITIONS_PER_TAG) },
              ":max": { N: String(maxCountedDownloads) },
              ":windowEnd": { S: window.end.toISOString() },
              ":expiresAt": expiresAt(window),
            },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        const count = Number(result.Attributes?.downloads?.N);
        if (!Number.isSafeInteger(count) || count < 1) {
          throw namedError("UnexpectedResponseError", `UpdateItem returned no download count for ${objectId(download)}`);
        }
        return { counted: true, count, ...(count === maxCountedDownloads ? { counterFull: true } : {}) };
      } catch (error) {
        conditionFailed(error);
      }
      const reason = `event already counted (a redelivery), or ${maxCountedDownloads} downloads already counted in this window`;
      const position = await unsettled(download, window, attempt);
      return position === undefined
        ? { counted: false, reason }
        : { counted: false, reason, unsettled: { count: position, ...(position === maxCountedDownloads ? { counterFull: true } : {}) } };
    },
    async settle(download, window, count, state) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(download, window),
          UpdateExpression: "SET #event = :value",
          ConditionExpression: "attribute_exists(#event)",
          ExpressionAttributeNames: { "#event": eventAttribute(download.record.eventID) },
          ExpressionAttributeValues: { ":value": { N: String(count + (state === "sent" ? SETTLED_TAG : PENDING_TAG) * POSITIONS_PER_TAG) } },
        }),
      );
    },
  };
}

/** Options of the logs counter. */
export interface LogsCounterOptions {
  clock?: Clock;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: () => number;
  /** First backoff after a throttled call; it doubles per attempt up to `maxBackoffMs`, with full jitter. @default 200 */
  baseBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
}

const RETRYABLE_LOGS_ERRORS = new Set(["ThrottlingException", "ServiceUnavailableException", "InternalServerException"]);

/**
 * The source article's counter, kept for users who want no table: every download re-counts its object's window with
 * `FilterLogEvents` on the trail's log group (paged until there is no `nextToken`), and its count is its position
 * among the distinct events found (by event time, then event ID), so the download that crosses the threshold is the
 * same whichever invocation asks.
 *
 * Limits, measured in docs/downloadThresholdAlert.md:
 * - Cost grows with the window: each call scans at most 1 MB of the log group, so a download late in a busy window
 *   needs many pages (O(downloads so far), including every other event the trail logs).
 * - `FilterLogEvents` allows 5 requests per second per account and region, shared with every other caller, and AWS
 *   does not raise it. Throttled calls are retried with jittered backoff until the invocation's time budget is spent;
 *   then the invocation fails and Lambda retries it.
 * - No state: a redelivered event (Lambda retries, at-least-once delivery) is alerted again.
 * - The log group must already hold the earlier downloads: with an EventBridge source a download can arrive before
 *   earlier ones reach CloudWatch Logs, and the count is then too low.
 */
export function logsDownloadCounter(
  logs: Pick<CloudWatchLogsClient, "send">,
  logGroupName: string,
  options: LogsCounterOptions = {},
): DownloadCounter {
  const { clock = systemClock, random = Math.random, baseBackoffMs = 200, maxBackoffMs = 5000 } = options;
  return {
    async count(download, window, deadline) {
      const { bucket, key, record } = download;
      const current = { time: Date.parse(record.eventTime), id: record.eventID };
      const seen = new Map<string, number>([[current.id, current.time]]);
      let nextToken: string | undefined;
      do {
        const input = {
          logGroupName,
          startTime: window.start.getTime(),
          // CloudTrail events carry whole seconds; include every event of the current one's second.
          endTime: current.time + 999,
          filterPattern: objectFilterPattern(bucket, key),
          ...(nextToken === undefined ? {} : { nextToken }),
        };
        const page = await withBackoff(() => logs.send(new FilterLogEventsCommand(input)), { clock, random, baseBackoffMs, maxBackoffMs, deadline });
        for (const logEvent of page.events ?? []) {
          const found = parseDownloadEvent(logEvent.message);
          // The pattern's `*` has no escape, so compare exactly here.
          if (found !== undefined && found.bucket === bucket && found.key === key) {
            seen.set(found.id, found.time);
          }
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      let count = 0;
      for (const [id, time] of seen) {
        if (time < current.time || (time === current.time && id <= current.id)) {
          count += 1;
        }
      }
      return { counted: true, count };
    },
  };
}

function parseDownloadEvent(message: string | undefined): { bucket: string; key: string; id: string; time: number } | undefined {
  try {
    const record = JSON.parse(message ?? "") as Partial<CloudTrailRecord>;
    const bucket = record.requestParameters?.bucketName;
    const key = record.requestParameters?.key;
    const time = Date.parse(String(record.eventTime));
    if (record.eventName !== "GetObject" || record.errorCode || typeof bucket !== "string" || typeof key !== "string" || typeof record.eventID !== "string" || Number.isNaN(time)) {
      return undefined;
    }
    return { bucket, key, id: record.eventID, time };
  } catch {
    return undefined;
  }
}

async function withBackoff<T>(
  call: () => Promise<T>,
  p: { clock: Clock; random: () => number; baseBackoffMs: number; maxBackoffMs: number; deadline: number },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      assertIsError(error);
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      if (!RETRYABLE_LOGS_ERRORS.has(error.name) && status < 500) {
        throw error;
      }
      const delay = Math.round(p.random() * Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** attempt));
      if (p.clock.now() + delay > p.deadline) {
        throw namedError("TimeBudgetExceededError", `FilterLogEvents still failing with ${error.name} after ${attempt + 1} attempts; giving up before the function times out so that Lambda retries the event`, { attempts: attempt + 1 });
      }
      await p.clock.sleep(delay);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Readable alerts
// ---------------------------------------------------------------------------------------------------------------

const TEXT = {
  en: {
    heading: "An S3 object was downloaded more times than allowed since the last reset.",
    object: "Object",
    downloads: "Downloads",
    downloadsValue: (count: number, threshold: number) => `${count} (threshold: ${threshold})`,
    window: "Window",
    windowValue: (start: string, end: string, zone: string) => `${start} to ${end} (${zone})`,
    thisDownload: "This download",
    who: "Who",
    when: "When",
    sourceIp: "Source IP",
    userAgent: "User agent",
    event: "Event",
    every: (end: string) => `Every further download of this object until ${end} is alerted too.`,
    once: (end: string) => `No further alerts for this object until ${end} (notify: once).`,
    full: (max: number, end: string) =>
      `The counter is full: ${max} downloads of this object are counted in this window. Further downloads until ${end} are neither counted nor alerted; CloudTrail still records them.`,
    unknown: "(unknown)",
  },
  ja: {
    heading: "S3 オブジェクトが前回のリセット以降、しきい値を超えてダウンロードされました。",
    object: "オブジェクト",
    downloads: "ダウンロード回数",
    downloadsValue: (count: number, threshold: number) => `${count} 回 (しきい値: ${threshold} 回)`,
    window: "集計期間",
    windowValue: (start: string, end: string, zone: string) => `${start} から ${end} まで (${zone})`,
    thisDownload: "今回のダウンロード",
    who: "実行者",
    when: "日時",
    sourceIp: "送信元 IP",
    userAgent: "ユーザーエージェント",
    event: "イベント",
    every: (end: string) => `${end} まで、このオブジェクトのダウンロードは毎回通知します。`,
    once: (end: string) => `${end} まで、このオブジェクトについてはこれ以上通知しません (notify: once)。`,
    full: (max: number, end: string) =>
      `カウンターが上限に達しました: この集計期間にこのオブジェクトのダウンロードを ${max} 回数えました。${end} までの以降のダウンロードは数えず、通知もしません (CloudTrail には記録されます)。`,
    unknown: "(不明)",
  },
} as const;

// Characters a key may hold that a reader cannot see or that change the layout: control characters, line and
// paragraph separators, bidirectional marks, overrides and isolates, zero-width characters and the byte order mark.
const INVISIBLE_IN_KEYS = /[\p{Cc}\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/**
 * An object key as alerts show it: every character as S3 reports it (Japanese, emoji, combining marks, `+`, `%20`,
 * quotes, backslashes stay as they are), except invisible and layout characters, which are written as `\u{XXXX}` so
 * that a key can neither forge lines of the alert nor look like another key.
 */
export function visibleKey(key: string): string {
  return key.replace(INVISIBLE_IN_KEYS, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}}`);
}

/** What an alert reports. */
export interface DownloadAlertFacts {
  download: WatchedDownload;
  count: number;
  window: CountingWindow;
  notify: NotifyMode;
  language: AlertLanguage;
  timeZone: string;
  /** The maximum, when this download filled the window's counter. */
  counterFull?: number;
}

/**
 * The alert for a download past its threshold: an ASCII subject (SNS's rules) naming count, threshold and object,
 * and a body in `language` with the object, count, window and who/when/where of the download.
 */
export function downloadAlert(facts: DownloadAlertFacts): Alert {
  const { download, count, window, notify, language, timeZone } = facts;
  const { bucket, key, threshold, record } = download;
  const t = TEXT[language];
  // The key exactly, but with characters that could forge lines or hide text written as escapes (see visibleKey).
  const object = `s3://${bucket}/${visibleKey(key)}`;
  const printableKey = /^[\x20-\x7e]*$/.test(key);
  const subject = `S3 object downloaded ${count} times (threshold ${threshold}): ${printableKey ? object : `s3://${bucket} (key in message)`}`;
  const end = formatLocalTime(window.end, timeZone);
  const rows: Array<[string, string]> = [
    [t.object, object],
    [t.downloads, t.downloadsValue(count, threshold)],
    [t.window, t.windowValue(formatLocalTime(window.start, timeZone), end, timeZone)],
  ];
  // Values from the record go on one line each: a line break (in a user agent, say) must not forge alert lines.
  const shown = (value: unknown) => (typeof value === "string" ? oneLine(value) : "") || t.unknown;
  const downloadRows: Array<[string, string]> = [
    [t.who, oneLine(describePrincipal(record.userIdentity, language))],
    [t.when, formatLocalTime(record.eventTime, timeZone)],
    [t.sourceIp, shown(record.sourceIPAddress)],
    [t.userAgent, shown(record.userAgent)],
    [t.event, cloudTrailConsoleLink(record)],
  ];
  const line = ([label, value]: [string, string]) => `${label}: ${value}`;
  const closing = [notify === "every" ? t.every(end) : t.once(end), ...(facts.counterFull === undefined ? [] : [t.full(facts.counterFull, end)])];
  const message = [t.heading, "", ...rows.map(line), "", t.thisDownload, ...downloadRows.map(line), "", ...closing].join("\n");
  return { subject, message };
}

// ---------------------------------------------------------------------------------------------------------------
// The handler
// ---------------------------------------------------------------------------------------------------------------

/** What one invocation did; also logged. */
export interface DownloadThresholdResult {
  /** True for a CloudWatch Logs health check (nothing to do). */
  control: boolean;
  /** Payloads or records that could not be decoded. */
  rejected: number;
  /** Records that are not downloads of watched objects. */
  ignored: number;
  /** Downloads counted now. */
  counted: number;
  /** Downloads not counted: counted before (redelivered) or the counter is full. */
  notCounted: number;
  /** Alerts published (including alerts kept from a failed attempt). */
  alerted: number;
}

/** The clients and helpers the handler uses. */
export interface DownloadThresholdDependencies {
  sns: Pick<SNSClient, "send">;
  /** Required with the dynamodb counter. */
  dynamodb?: Pick<DynamoDBClient, "send">;
  /** Required with the logs counter. */
  logs?: Pick<CloudWatchLogsClient, "send">;
  logger?: Logger;
  metrics?: MetricSink;
  clock?: Clock;
  random?: () => number;
}

/** The part of Lambda's context the handler reads. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  /** Lambda's request ID: the same for Lambda's retries of one asynchronous invocation. */
  awsRequestId?: string;
}

/**
 * Builds the handler. Per record: decode (both CloudWatch Logs and EventBridge shapes), keep only successful
 * `GetObject` events on watched objects, compute the counting window from the event time, count once, alert when the
 * count passes the threshold (`every`) or is the first past it (`once`). Undecodable input is logged and counted in
 * the `RejectedInput` metric and never retried.
 *
 * The batch is counted first, then its alerts are published, so that an invocation killed while counting has sent
 * nothing. A record that fails (counting or publishing) does not stop the others; the invocation then settles what it
 * did (alerts sent; alerts whose publishing failed kept as pending) and fails so that Lambda retries it: the retry
 * skips what was counted and sends only what did not go out. An invocation killed before it could settle (between
 * counting and the end of publishing) is retried by Lambda with the same request ID, which finds its own unsettled
 * counts and sends their alerts: none is lost; an alert SNS had already accepted is then sent a second time.
 */
export function downloadThresholdHandler(
  deps: DownloadThresholdDependencies,
  settings: DownloadThresholdSettings,
): (event: unknown, context?: InvocationContext) => Promise<DownloadThresholdResult> {
  const { sns, logger = consoleLogger, metrics, clock = systemClock } = deps;
  const windowAt = windowCalculator(settings.reset);
  const counter = buildCounter(deps, settings, clock);
  const timeBudgetMs = settings.timeBudgetMs ?? 240_000;

  return async (event, context) => {
    // Stop waiting out throttling 5 s before Lambda would stop the function.
    const deadline = clock.now() + (context ? Math.max(0, context.getRemainingTimeInMillis() - 5000) : timeBudgetMs);
    const attempt = attemptTag(context?.awsRequestId);
    const payload = decodeCloudTrailPayload(event);
    const result: DownloadThresholdResult = { control: payload.control, rejected: payload.rejected.length, ignored: 0, counted: 0, notCounted: 0, alerted: 0 };
    if (payload.control) {
      logger.info("CloudWatch Logs control message skipped");
      return result;
    }
    reportRejectedInput(payload.rejected, logger, metrics);

    const failures: string[] = [];
    const fail = (record: CloudTrailRecord, object: string, error: Error) => {
      failures.push(`${record.eventID}: ${error.name}: ${error.message}`);
      logger.error("download not processed; the invocation will fail so that Lambda retries it", { eventID: record.eventID, object, error: error.name, reason: error.message });
    };
    // Alerts to publish once the batch is counted, with the count that settles each.
    const due: Array<{ alert: Alert; download: WatchedDownload; window: CountingWindow; count: number; object: string; resent: boolean; sent?: boolean }> = [];
    for (const record of payload.records) {
      const download = watchedDownload(record, settings.watches);
      if ("ignored" in download) {
        if (download.malformed) {
          result.rejected += 1;
          reportRejectedInput([{ source: payload.source, reason: download.ignored, id: record.eventID }], logger, metrics);
        } else {
          result.ignored += 1;
          logger.info("event ignored", { eventID: record.eventID, eventName: record.eventName, reason: download.ignored });
        }
        continue;
      }
      const object = `s3://${download.bucket}/${download.key}`;
      let window: CountingWindow;
      try {
        window = windowAt(new Date(record.eventTime));
      } catch (error) {
        assertIsError(error);
        // An event time the schedule has no window for (year 0 or 9999) never will have one: retrying cannot help.
        result.rejected += 1;
        reportRejectedInput([{ source: payload.source, reason: error.message, id: record.eventID }], logger, metrics);
        continue;
      }
      try {
        const outcome = await counter.count(download, window, deadline, attempt);
        const counted = outcome.counted ? outcome : outcome.unsettled;
        if (outcome.counted) {
          result.counted += 1;
        } else {
          result.notCounted += 1;
          logger.info(outcome.unsettled ? "download counted before; its alert may not have gone out" : "download not counted", { eventID: record.eventID, object, reason: outcome.reason });
        }
        if (counted === undefined) {
          continue;
        }
        const alerting = settings.notify === "every" ? counted.count > download.threshold : counted.count === download.threshold + 1;
        if (outcome.counted) {
          logger.info("download counted", { eventID: record.eventID, object, count: counted.count, threshold: download.threshold, windowStart: window.start.toISOString(), alerting });
        }
        if (alerting) {
          const alert = downloadAlert({
            download,
            count: counted.count,
            window,
            notify: settings.notify,
            language: settings.language,
            timeZone: settings.timeZone,
            ...(counted.counterFull ? { counterFull: counted.count } : {}),
          });
          due.push({ alert, download, window, count: counted.count, object, resent: !outcome.counted });
        }
      } catch (error) {
        assertIsError(error);
        fail(record, object, error);
      }
    }

    for (const item of due) {
      try {
        await publishAlert(sns, settings.topicArn, item.alert);
        result.alerted += 1;
        item.sent = true;
      } catch (error) {
        assertIsError(error);
        item.sent = false;
        fail(item.download.record, item.object, error);
      }
    }
    // Settle what a retry must know: after a failure, each alert sent by this invocation (or else its retry would
    // send it again) and each alert not sent (pending, for whichever invocation gets the event next); alerts resent
    // from an earlier attempt, always.
    for (const item of due) {
      const settle = item.sent === false || item.resent || (failures.length > 0 && attempt !== SETTLED_TAG);
      if (!settle || counter.settle === undefined) {
        continue;
      }
      try {
        await counter.settle(item.download, item.window, item.count, item.sent ? "sent" : "pending");
      } catch (error) {
        assertIsError(error);
        // Not settled: a retry may send this alert again (sent) or the alert reaches only the logs (pending).
        logger.error(item.sent ? "alert sent but not settled; a retry may send it again" : "alert could not be published nor kept for a retry", {
          subject: item.alert.subject,
          ...(item.sent ? {} : { message: item.alert.message }),
          error: error.message,
        });
      }
    }
    if (result.alerted > 0) {
      metrics?.count("DownloadAlertsSent", result.alerted);
    }
    logger.info("invocation done", { ...result, failed: failures.length });
    if (failures.length > 0) {
      throw namedError("DownloadProcessingError", `${failures.length} of ${payload.records.length} records failed: ${failures.join("; ")}`, { failures });
    }
    return result;
  };
}

function buildCounter(deps: DownloadThresholdDependencies, settings: DownloadThresholdSettings, clock: Clock): DownloadCounter {
  if (settings.counter.kind === "dynamodb") {
    if (deps.dynamodb === undefined) {
      throw namedError("InvalidSettingsError", "the dynamodb counter needs a DynamoDB client");
    }
    return dynamoDbDownloadCounter(deps.dynamodb, settings.counter.tableName, settings.counter.maxCountedDownloads);
  }
  if (deps.logs === undefined) {
    throw namedError("InvalidSettingsError", "the logs counter needs a CloudWatch Logs client");
  }
  return logsDownloadCounter(deps.logs, settings.counter.logGroupName, { clock, ...(deps.random ? { random: deps.random } : {}) });
}

/**
 * The Lambda callback factory the component deploys: settings from the environment, SDK clients built once per cold
 * start. The logs counter's client does not retry by itself: the handler's backoff owns retries and their deadline.
 */
export function downloadThresholdCallbackFactory(): (event: unknown, context?: InvocationContext) => Promise<DownloadThresholdResult> {
  const settings = downloadThresholdSettingsFromEnv(process.env);
  // Fail a hung request well before the function's timeout, so that the alert is kept for the retry.
  const requestHandler = { connectionTimeout: 3000, requestTimeout: 10_000 };
  return downloadThresholdHandler(
    {
      sns: new SNSClient({ requestHandler }),
      ...(settings.counter.kind === "dynamodb"
        ? { dynamodb: new DynamoDBClient({ requestHandler }) }
        : { logs: new CloudWatchLogsClient({ requestHandler, maxAttempts: 1 }) }),
      metrics: embeddedMetricSink(requireEnv("AWS_LAMBDA_FUNCTION_NAME")),
    },
    settings,
  );
}

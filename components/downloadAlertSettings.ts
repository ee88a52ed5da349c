/**
 * The settings arguments of DownloadThresholdAlert, which the stack config key `downloadAlerts` shares, and their
 * checks: every problem names the argument's path and the value received, in the shared problems vocabulary
 * (functions/shared/problems.ts), so that the component and the stack config report them with their own errors.
 */
import { DEFAULT_RESET, resetScheduleProblem } from "../functions/downloadThreshold/countingWindow";
import type { NotifyMode } from "../functions/downloadThreshold/settings";
import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import type { ProblemSink } from "../functions/shared/problems";
import { MAX_EVENT_PATTERN_LENGTH, MAX_LOGS_FILTER_PATTERN_LENGTH } from "../functions/shared/recordPattern";
import { isObject, shown } from "../functions/shared/values";
import { downloadEventPattern, downloadFilterPattern } from "./downloadPatterns";
import { isLogRetention, isTimeZone } from "./validation";

/**
 * An object to watch (`key`) or every object under a prefix (`keyPrefix`, each object key counted on its own).
 * Bucket and key are compared exactly as CloudTrail reports them: UTF-8, case-sensitive, not URL-encoded, not
 * Unicode-normalized (a name typed on macOS may arrive decomposed).
 */
export type WatchedObjectArgs =
  | {
      /** Name of the bucket (not its ARN). */
      bucket: string;
      /** The object key, for example `2025/売上報告 Q1.pdf`. */
      key: string;
      keyPrefix?: never;
      /** Alert when the object is downloaded more than this many times in one window (a whole number >= 1). */
      threshold: number;
    }
  | {
      bucket: string;
      /** Every object whose key starts with this prefix, each counted separately; `""` watches the whole bucket. */
      keyPrefix: string;
      key?: never;
      threshold: number;
    };

/** The arguments that configure what is counted and how; the stack config key `downloadAlerts` sets the same ones. */
export interface DownloadAlertSettingsArgs {
  /**
   * The objects to watch. An object that an exact `key` and a `keyPrefix` both match uses the exact watch's threshold;
   * of several matching prefixes the longest wins.
   */
  watches: WatchedObjectArgs[];
  /**
   * When counts go back to zero: a 5-field cron expression (minute hour day-of-month month day-of-week, evaluated with
   * the croner library) in an IANA time zone. A reset time that a daylight-saving change skips happens right after the
   * gap; one that occurs twice resets once.
   * @default - `{ schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }`: every Monday 01:00 Tokyo time
   */
  reset?: { schedule?: string; timeZone?: string };
  /**
   * `every`: an alert for each download past the threshold (as the FilterLogEvents re-count of docs/sourceArticles.md did). `once`: one alert per
   * object and window, for the download that passes the threshold. Alerts go to the topic with an ASCII subject.
   * See https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
   * @default "every"
   */
  notify?: NotifyMode;
  /**
   * Where downloads come from. `eventbridge`: a rule on the default event bus matching `GetObject` on the watched
   * objects; it must be in the buckets' region, so deploy this component with a provider for that region.
   * See https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
   * `logs`: a subscription filter on the trail's log group (as in docs/sourceArticles.md; a log group accepts 2).
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample
   * @default "eventbridge"
   */
  source?: "eventbridge" | "logs";
  /**
   * How downloads are counted. `dynamodb`: one conditional update per event on a table this component creates
   * (redeliveries never count twice, one AWS call per download whatever the window holds). `logs`: the source
   * article's re-count with `FilterLogEvents` on the trail's log group, no table; it scans the whole window on every
   * download, shares a 5 requests/s quota per account and region, and alerts again on redelivered events.
   * See https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
   * @default "dynamodb"
   */
  counter?: "dynamodb" | "logs";
  /** Language of alert bodies (subjects are ASCII English). @default "en" */
  language?: "ja" | "en";
  /** IANA time zone alert bodies show times in. @default - the reset's time zone */
  timeZone?: string;
  /**
   * Days the function's own log group keeps its logs.
   * See https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
   * @default 30
   */
  logRetentionInDays?: number;
  /**
   * The AWS partition of the watched buckets, used in the S3 ARNs of the trail's event selectors. A preview fails
   * when it differs from the provider's partition.
   * See https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
   * @default "aws"
   */
  partition?: "aws" | "aws-cn" | "aws-us-gov";
}

/** EventBridge's default quota on an event pattern, in characters (the one limit every component checks). */
export { MAX_EVENT_PATTERN_LENGTH };
/** CloudWatch Logs' limit on a subscription filter pattern, in characters. */
export const MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH = MAX_LOGS_FILTER_PATTERN_LENGTH;
/** What the watch list may take of Lambda's 4 KB of environment variables (the rest holds the other settings). */
export const MAX_WATCHES_ENVIRONMENT_BYTES = 3400;

const WATCH_FIELDS = ["bucket", "key", "keyPrefix", "threshold"];
const RESET_FIELDS = ["schedule", "timeZone"];
// S3 general purpose bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Control characters are legal in S3 keys but cannot be written in filter patterns or safely shown in alerts.
const isControlCharacter = (ch: string): boolean => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f;

const isKeyPrefix = (value: unknown): boolean =>
  typeof value === "string" && Buffer.byteLength(value, "utf8") <= 1024 && ![...value].some(isControlCharacter);
const isObjectKey = (value: unknown): boolean => isKeyPrefix(value) && value !== "";
const oneOf =
  (...allowed: string[]) =>
  (value: unknown): boolean =>
    typeof value === "string" && allowed.includes(value);

const isWholeNumberAtLeastOne = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 1;

/** Checks one watch; returns it when usable. */
function checkWatch(watch: unknown, path: string, problems: ProblemSink): WatchedObject | undefined {
  if (!isObject(watch)) {
    problems.fail(`${path} must be an object { bucket, key | keyPrefix, threshold }, got ${shown(watch)}`);
    return undefined;
  }
  const unknownFields = Object.keys(watch).filter((field) => !WATCH_FIELDS.includes(field));
  if (unknownFields.length > 0) {
    problems.fail(`${path} has unknown field ${JSON.stringify(unknownFields[0])}; expected ${WATCH_FIELDS.join(", ")}`);
    return undefined;
  }
  const { bucket, key, keyPrefix, threshold } = watch;
  if (bucket === undefined) {
    problems.fail(`${path}.bucket is required: the name of the bucket`);
    return undefined;
  }
  if (key !== undefined && keyPrefix !== undefined) {
    problems.fail(`${path} gives both key and keyPrefix; give one`);
    return undefined;
  }
  if (key === undefined && keyPrefix === undefined) {
    problems.fail(`${path} needs key (one object) or keyPrefix (every object under it)`);
    return undefined;
  }
  if (threshold === undefined) {
    problems.fail(`${path}.threshold is required: a whole number >= 1`);
    return undefined;
  }
  const bucketOk = typeof bucket === "string" && BUCKET_NAME.test(bucket);
  const keyOk = key === undefined ? isKeyPrefix(keyPrefix) : isObjectKey(key);
  // The counter has no cap: any whole number of downloads can be counted, so any whole threshold can be passed.
  const thresholdOk = isWholeNumberAtLeastOne(threshold);
  problems.check(`${path}.bucket`, bucket, () => bucketOk, "an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')");
  problems.check(`${path}.key`, key, isObjectKey, "a non-empty S3 object key of at most 1024 UTF-8 bytes without control characters");
  problems.check(`${path}.keyPrefix`, keyPrefix, isKeyPrefix, "a key prefix of at most 1024 UTF-8 bytes without control characters");
  problems.check(`${path}.threshold`, threshold, () => thresholdOk, "a whole number >= 1");
  return bucketOk && keyOk && thresholdOk ? (watch as WatchedObject) : undefined;
}

/** Checks the watch list; returns it when every watch is usable and each object or prefix is watched once. */
function checkWatches(watches: unknown, problems: ProblemSink): WatchedObject[] | undefined {
  let usable = Array.isArray(watches) && watches.length > 0;
  if (!usable) {
    problems.fail(`watches must be a non-empty list of { bucket, key | keyPrefix, threshold }, got ${shown(watches)}`);
  }
  const seen = new Map<string, number>();
  (Array.isArray(watches) ? (watches as unknown[]) : []).forEach((watch, i) => {
    const checked = checkWatch(watch, `watches[${i}]`, problems);
    if (checked === undefined) {
      usable = false;
      return;
    }
    const identity = checked.key !== undefined ? `s3://${checked.bucket}/${checked.key}` : `keys under s3://${checked.bucket}/${checked.keyPrefix}`;
    const first = seen.get(identity);
    if (first !== undefined) {
      problems.fail(`watches[${i}] watches ${identity} again (as watches[${first}]); give each object or prefix once`);
      usable = false;
    }
    seen.set(identity, i);
  });
  return usable ? (watches as WatchedObject[]) : undefined;
}

/** Checks `reset` (absent: the default applies): known fields, an IANA time zone, a schedule that runs. */
function checkReset(reset: unknown, problems: ProblemSink): void {
  if (reset === undefined) {
    return;
  }
  if (!isObject(reset)) {
    problems.fail(`reset must be an object { schedule, timeZone }, got ${shown(reset)}`);
    return;
  }
  for (const field of Object.keys(reset).filter((f) => !RESET_FIELDS.includes(f))) {
    problems.fail(`reset has unknown field ${JSON.stringify(field)}; expected ${RESET_FIELDS.join(", ")}`);
  }
  problems.check("reset.timeZone", reset.timeZone, isTimeZone, "an IANA time zone such as Asia/Tokyo");
  const timeZoneUsable = reset.timeZone === undefined || isTimeZone(reset.timeZone);
  if (reset.schedule !== undefined && typeof reset.schedule !== "string") {
    problems.fail(`reset.schedule must be a 5-field cron expression such as "0 1 * * 1", got ${shown(reset.schedule)}`);
  } else if (timeZoneUsable) {
    const candidate = { schedule: reset.schedule ?? DEFAULT_RESET.schedule, timeZone: (reset.timeZone as string | undefined) ?? DEFAULT_RESET.timeZone };
    const expectation = resetScheduleProblem(candidate);
    if (expectation !== undefined) {
      problems.fail(`reset.schedule must be ${expectation}, got ${shown(candidate.schedule)}`);
    }
  }
}

/**
 * Checks that usable watches fit where they go: the function's environment, and the EventBridge pattern (source
 * `eventbridge`) or the component's own subscription filter pattern (source `logs` with `logsVia` "subscription").
 */
function checkWatchesFit(watches: readonly WatchedObject[], source: unknown, logsVia: "subscription" | "dispatcher", problems: ProblemSink): void {
  const environmentBytes = Buffer.byteLength(JSON.stringify(watches), "utf8");
  if (environmentBytes > MAX_WATCHES_ENVIRONMENT_BYTES) {
    problems.fail(`watches take ${environmentBytes} bytes in the function's environment; Lambda allows 4 KB in all, so at most ${MAX_WATCHES_ENVIRONMENT_BYTES} here. Watch key prefixes instead of many keys, or split the watches over several components`);
  }
  if ((source ?? "eventbridge") === "eventbridge") {
    const length = downloadEventPattern(watches).length;
    if (length > MAX_EVENT_PATTERN_LENGTH) {
      problems.fail(`watches make an EventBridge pattern of ${length} characters; EventBridge accepts ${MAX_EVENT_PATTERN_LENGTH} by default. Watch key prefixes instead of many keys, or split the watches over several components`);
    }
  } else if (source === "logs" && logsVia === "subscription") {
    const length = downloadFilterPattern(watches).length;
    if (length > MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH) {
      problems.fail(`watches make a subscription filter pattern of ${length} characters; CloudWatch Logs accepts ${MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH}. Watch key prefixes instead of many keys, or use source "eventbridge"`);
    }
  }
}

/**
 * Checks the settings arguments and reports every problem to `problems`, each naming the argument's path and the value
 * received. Takes unknown values so that the stack config (parsed JSON) is checked by the same rules. `logsVia` says
 * how source `logs` reads the trail's log group: with a subscription filter of its own, whose pattern must fit
 * CloudWatch Logs' 1,024 characters, or through a shared LogSubscriptionDispatcher, which builds one pattern for all
 * its consumers (shortening it when needed) and checks the room their patterns take when each connects.
 */
export function checkDownloadAlertSettings(
  args: { [K in keyof DownloadAlertSettingsArgs]?: unknown },
  problems: ProblemSink,
  logsVia: "subscription" | "dispatcher" = "subscription",
): void {
  // Patterns and sizes are checked only when every watch is usable.
  const watches = checkWatches(args.watches, problems);
  checkReset(args.reset, problems);
  problems.check("notify", args.notify, oneOf("every", "once"), '"every" or "once"');
  problems.check("source", args.source, oneOf("eventbridge", "logs"), '"eventbridge" or "logs"');
  problems.check("counter", args.counter, oneOf("dynamodb", "logs"), '"dynamodb" or "logs"');
  problems.check("language", args.language, oneOf("ja", "en"), '"ja" or "en"');
  problems.check("timeZone", args.timeZone, isTimeZone, "an IANA time zone such as Asia/Tokyo");
  problems.check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, ...)");
  problems.check("partition", args.partition, oneOf("aws", "aws-cn", "aws-us-gov"), '"aws", "aws-cn" or "aws-us-gov"');
  if (watches !== undefined) {
    checkWatchesFit(watches, args.source, logsVia, problems);
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import {
  DEFAULT_RESET,
  DOWNLOAD_COUNTS_TABLE,
  downloadFilterPattern,
  downloadRecordPattern,
  downloadThresholdCallbackFactory,
  MAX_COUNTED_DOWNLOADS,
  resetScheduleProblem,
  SETTINGS_ENVIRONMENT,
  type DownloadThresholdResult,
  type NotifyMode,
  type WatchedObject,
} from "../functions/downloadThreshold/handler";
import { AlertTopic } from "./alertTopic";
import { MAX_EVENT_PATTERN_LENGTH, MAX_LOGS_FILTER_PATTERN_LENGTH, type RecordPattern } from "../functions/shared/recordPattern";
import { AdvancedEventSelector, AuditTrail } from "./auditTrail";
import { LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import { deliveredRuleTarget, type DeliveredRuleTarget } from "./eventRuleTarget";
import { awsEnvironment, PolicyStatement, tableKeyThroughDynamoDb } from "./policy";
import { SecureCallbackFunction } from "./secureCallbackFunction";
import { ArgChecker, isLogRetention, isTimeZone, shown } from "./validation";

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
   * `every`: an alert for each download past the threshold (the source article's behaviour). `once`: one alert per
   * object and window, for the download that passes the threshold. Alerts go to the topic with an ASCII subject.
   * See https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
   * @default "every"
   */
  notify?: NotifyMode;
  /**
   * Where downloads come from. `eventbridge`: a rule on the default event bus matching `GetObject` on the watched
   * objects; it must be in the buckets' region, so deploy this component with a provider for that region.
   * See https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
   * `logs`: a subscription filter on the trail's log group (the source article's way; a log group accepts 2).
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

/**
 * Downloads forwarded by a {@link LogSubscriptionDispatcher} subscribed to the trail's log group: the component
 * connects to it as a consumer instead of adding a subscription filter of its own (CloudWatch Logs allows 2 per log
 * group), and is invoked through the dispatcher's SNS topic with only the records its pattern selects.
 */
export interface DispatcherDownloadSource {
  type: "dispatcher";
  /** The dispatcher on the same trail's log group (for example the one a stack shares among all its consumers). */
  dispatcher: LogSubscriptionDispatcher;
}

export interface DownloadThresholdAlertArgs extends Omit<DownloadAlertSettingsArgs, "source"> {
  /**
   * Where downloads come from. `eventbridge`: a rule on the default event bus matching `GetObject` on the watched
   * objects; it must be in the buckets' region, so deploy this component with a provider for that region.
   * See https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
   * `logs`: a subscription filter of its own on the trail's log group (the source article's way; a log group accepts 2).
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample
   * `{ type: "dispatcher", dispatcher }`: the trail's log group through a shared {@link LogSubscriptionDispatcher},
   * which takes no filter of its own; the dispatcher forwards exactly the successful `GetObject` events on the
   * watched objects. See https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html
   * @default "eventbridge"
   */
  source?: "eventbridge" | "logs" | DispatcherDownloadSource;
  /**
   * The trail whose S3 data events are counted. This component asks it to log `GetObject` on exactly the watched
   * objects; an adopted trail reports the selectors it needs as a warning instead.
   */
  trail: AuditTrail;
  /** Where alerts, and the function's own failure alarms, go. */
  alertTopic: AlertTopic;
  /**
   * KMS key (ARN) that encrypts the counter table. The function is granted its use through DynamoDB only.
   * See https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
   * @default - the AWS managed key `aws/dynamodb` (its use is recorded in CloudTrail, unlike the AWS owned key)
   */
  tableKmsKeyArn?: pulumi.Input<string>;
}

/** Where argument problems go: `ArgChecker` for components, a config reader for the stack config. */
export interface ArgProblems {
  check(arg: string, value: unknown, ok: (value: never) => boolean, expectation: string): unknown;
  /** `message` starts with the argument's path, e.g. `watches[1] gives both key and keyPrefix`. */
  fail(message: string): unknown;
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
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const isWholeNumberAtLeastOne = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 1;

/** Checks one watch; returns it when usable. */
function checkWatch(watch: unknown, path: string, problems: ArgProblems): WatchedObject | undefined {
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
  const thresholdOk = isWholeNumberAtLeastOne(threshold) && (threshold as number) < MAX_COUNTED_DOWNLOADS;
  problems.check(`${path}.bucket`, bucket, () => bucketOk, "an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')");
  problems.check(`${path}.key`, key, isObjectKey, "a non-empty S3 object key of at most 1024 UTF-8 bytes without control characters");
  problems.check(`${path}.keyPrefix`, keyPrefix, isKeyPrefix, "a key prefix of at most 1024 UTF-8 bytes without control characters");
  if (!isWholeNumberAtLeastOne(threshold)) {
    problems.check(`${path}.threshold`, threshold, () => false, "a whole number >= 1");
  } else if (!thresholdOk) {
    problems.check(`${path}.threshold`, threshold, () => false, `at most ${MAX_COUNTED_DOWNLOADS - 1} (the counter records ${MAX_COUNTED_DOWNLOADS} downloads per object and window)`);
  }
  return bucketOk && keyOk && thresholdOk ? (watch as WatchedObject) : undefined;
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
  problems: ArgProblems,
  logsVia: "subscription" | "dispatcher" = "subscription",
): void {
  const { watches, reset } = args;
  // Patterns and sizes are checked only when every watch is usable.
  let watchesUsable = Array.isArray(watches) && watches.length > 0;
  if (!watchesUsable) {
    problems.fail(`watches must be a non-empty list of { bucket, key | keyPrefix, threshold }, got ${shown(watches)}`);
  }
  const seen = new Map<string, number>();
  (Array.isArray(watches) ? (watches as unknown[]) : []).forEach((watch, i) => {
    const usable = checkWatch(watch, `watches[${i}]`, problems);
    if (usable === undefined) {
      watchesUsable = false;
      return;
    }
    const identity = usable.key !== undefined ? `s3://${usable.bucket}/${usable.key}` : `keys under s3://${usable.bucket}/${usable.keyPrefix}`;
    const first = seen.get(identity);
    if (first !== undefined) {
      problems.fail(`watches[${i}] watches ${identity} again (as watches[${first}]); give each object or prefix once`);
      watchesUsable = false;
    }
    seen.set(identity, i);
  });

  let timeZoneUsable = true;
  if (reset !== undefined) {
    if (!isObject(reset)) {
      problems.fail(`reset must be an object { schedule, timeZone }, got ${shown(reset)}`);
      timeZoneUsable = false;
    } else {
      for (const field of Object.keys(reset).filter((f) => !RESET_FIELDS.includes(f))) {
        problems.fail(`reset has unknown field ${JSON.stringify(field)}; expected ${RESET_FIELDS.join(", ")}`);
      }
      problems.check("reset.timeZone", reset.timeZone, isTimeZone, "an IANA time zone such as Asia/Tokyo");
      timeZoneUsable = reset.timeZone === undefined || isTimeZone(reset.timeZone);
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
  }
  problems.check("notify", args.notify, oneOf("every", "once"), '"every" or "once"');
  problems.check("source", args.source, oneOf("eventbridge", "logs"), '"eventbridge" or "logs"');
  problems.check("counter", args.counter, oneOf("dynamodb", "logs"), '"dynamodb" or "logs"');
  problems.check("language", args.language, oneOf("ja", "en"), '"ja" or "en"');
  problems.check("timeZone", args.timeZone, isTimeZone, "an IANA time zone such as Asia/Tokyo");
  problems.check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, ...)");
  problems.check("partition", args.partition, oneOf("aws", "aws-cn", "aws-us-gov"), '"aws", "aws-cn" or "aws-us-gov"');

  if (watchesUsable) {
    const usable = watches as WatchedObject[];
    const environmentBytes = Buffer.byteLength(JSON.stringify(usable), "utf8");
    if (environmentBytes > MAX_WATCHES_ENVIRONMENT_BYTES) {
      problems.fail(`watches take ${environmentBytes} bytes in the function's environment; Lambda allows 4 KB in all, so at most ${MAX_WATCHES_ENVIRONMENT_BYTES} here. Watch key prefixes instead of many keys, or split the watches over several components`);
    }
    if ((args.source ?? "eventbridge") === "eventbridge") {
      const length = downloadEventPattern(usable).length;
      if (length > MAX_EVENT_PATTERN_LENGTH) {
        problems.fail(`watches make an EventBridge pattern of ${length} characters; EventBridge accepts ${MAX_EVENT_PATTERN_LENGTH} by default. Watch key prefixes instead of many keys, or split the watches over several components`);
      }
    } else if (args.source === "logs" && logsVia === "subscription") {
      const length = downloadFilterPattern(usable).length;
      if (length > MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH) {
        problems.fail(`watches make a subscription filter pattern of ${length} characters; CloudWatch Logs accepts ${MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH}. Watch key prefixes instead of many keys, or use source "eventbridge"`);
      }
    }
  }
}

/**
 * The EventBridge pattern for successful `GetObject` data events on the watched objects: CloudTrail's S3 API calls
 * whose `detail` matches {@link downloadRecordPattern}. Values are matched literally (`*` is not a wildcard in
 * EventBridge's exact and prefix matching), so keys need no escaping beyond JSON's.
 */
export function downloadEventPattern(watches: readonly WatchedObject[]): string {
  return JSON.stringify({ source: ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"], detail: downloadRecordPattern(watches) });
}

/**
 * The advanced event selectors that make a trail log `GetObject` (read-only data events) on exactly the watched
 * objects: one selector for exact keys (`resources.ARN` equals), one for prefixes (`resources.ARN` starts with).
 */
export function downloadEventSelectors(name: string, watches: readonly WatchedObject[], partition = "aws"): AdvancedEventSelector[] {
  const arn = (bucket: string, key: string) => `arn:${partition}:s3:::${bucket}/${key}`;
  const base = [
    { field: "eventCategory", equals: ["Data"] },
    { field: "resources.type", equals: ["AWS::S3::Object"] },
    { field: "eventName", equals: ["GetObject"] },
    { field: "readOnly", equals: ["true"] },
  ];
  const exact = [...new Set(watches.flatMap((w) => (w.key !== undefined ? [arn(w.bucket, w.key)] : [])))];
  const prefixes = [...new Set(watches.flatMap((w) => (w.keyPrefix !== undefined ? [arn(w.bucket, w.keyPrefix)] : [])))];
  return [
    ...(exact.length > 0 ? [{ name: `${name}: GetObject on watched objects`, fieldSelectors: [...base, { field: "resources.ARN", equals: exact }] }] : []),
    ...(prefixes.length > 0 ? [{ name: `${name}: GetObject under watched prefixes`, fieldSelectors: [...base, { field: "resources.ARN", startsWith: prefixes }] }] : []),
  ];
}

/**
 * Alerts when an S3 object is downloaded more than N times since a fixed reset time (for example every Monday 01:00
 * Tokyo time), something neither CloudWatch alarms (rolling windows) nor GuardDuty (anomalies) can express.
 *
 * Creates: the trail's data event selectors for `GetObject` on the watched objects; the counter table (DynamoDB,
 * on-demand, encrypted, TTL); the function (its own least-privilege role: update only its table, publish only to the
 * topic, or `FilterLogEvents` only on the trail's log group); the event source (an EventBridge rule, a subscription
 * filter on the trail's log group, or a connection to a shared LogSubscriptionDispatcher) with an invoke permission
 * scoped to it. The function alarms on its errors, its dead letters and rejected input. An EventBridge rule's target
 * keeps the events EventBridge could not deliver in a dead-letter queue of its own, with an alarm.
 */
export class DownloadThresholdAlert extends pulumi.ComponentResource {
  /** The function that counts and alerts. */
  readonly handler: SecureCallbackFunction<unknown, DownloadThresholdResult>;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The counter table; undefined with `counter: "logs"`. */
  readonly table?: aws.dynamodb.Table;
  readonly tableName?: pulumi.Output<string>;
  /** The EventBridge rule; undefined unless `source: "eventbridge"`. */
  readonly rule?: aws.cloudwatch.EventRule;
  /**
   * The rule's target with its retry policy, and the dead-letter queue (with its alarm) for the events EventBridge
   * could not deliver to the function; undefined unless `source: "eventbridge"`.
   */
  readonly ruleTarget?: DeliveredRuleTarget;
  /** The rule's event pattern; undefined unless `source: "eventbridge"`. */
  readonly eventPattern?: string;
  /** Its own subscription filter; undefined unless `source: "logs"`. */
  readonly subscriptionFilter?: aws.cloudwatch.LogSubscriptionFilter;
  /** The pattern of its own subscription filter; undefined unless `source: "logs"`. */
  readonly filterPattern?: string;
  /**
   * The CloudTrail records the function counts, as a record pattern: the rule's `detail` (eventbridge source) and
   * the pattern the dispatcher forwards with (dispatcher source).
   */
  readonly recordPattern: RecordPattern;
  /** The selectors added to the trail (for an adopted trail: what it must log). */
  readonly dataEventSelectors: AdvancedEventSelector[];

  constructor(name: string, args: DownloadThresholdAlertArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:DownloadThresholdAlert", name, {}, opts);
    DownloadThresholdAlert.validateArgs(name, args);
    const {
      trail,
      alertTopic,
      watches,
      notify = "every",
      source = "eventbridge",
      counter = "dynamodb",
      language = "en",
      logRetentionInDays = 30,
      partition = "aws",
      tableKmsKeyArn,
    } = args;
    const reset = { schedule: args.reset?.schedule ?? DEFAULT_RESET.schedule, timeZone: args.reset?.timeZone ?? DEFAULT_RESET.timeZone };
    const timeZone = args.timeZone ?? reset.timeZone;
    const env = awsEnvironment(this);
    const child = { parent: this };

    env.partition.apply((actual) => {
      if (actual !== partition) {
        void pulumi.log.error(`DownloadThresholdAlert "${name}": partition is "${partition}" but the provider deploys to "${actual}"; the trail would log nothing. Set partition: "${actual}".`, this);
      }
    });
    this.recordPattern = downloadRecordPattern(watches);
    if (counter === "logs" && source === "eventbridge") {
      void pulumi.log.warn(
        `DownloadThresholdAlert "${name}": counter "logs" counts from the trail's log group, but EventBridge can deliver a download before the earlier ones reach that log group, so counts near the threshold may be too low. Use source "logs" with counter "logs".`,
        this,
      );
    }

    this.dataEventSelectors = downloadEventSelectors(name, watches, partition);
    trail.addDataEventSelectors(this.dataEventSelectors);

    const statements: pulumi.Input<PolicyStatement>[] = [];
    const environment: Record<string, pulumi.Input<string>> = {
      [SETTINGS_ENVIRONMENT.watches]: JSON.stringify(watches.map(({ bucket, key, keyPrefix, threshold }) => (key !== undefined ? { bucket, key, threshold } : { bucket, keyPrefix, threshold }))),
      [SETTINGS_ENVIRONMENT.resetSchedule]: reset.schedule,
      [SETTINGS_ENVIRONMENT.resetTimeZone]: reset.timeZone,
      [SETTINGS_ENVIRONMENT.notify]: notify,
      [SETTINGS_ENVIRONMENT.counter]: counter,
      [SETTINGS_ENVIRONMENT.language]: language,
      [SETTINGS_ENVIRONMENT.timeZone]: timeZone,
    };
    if (counter === "dynamodb") {
      const { hashKey, rangeKey, timeToLiveAttribute } = DOWNLOAD_COUNTS_TABLE;
      this.table = new aws.dynamodb.Table(
        `${name}-counts`,
        {
          billingMode: "PAY_PER_REQUEST",
          hashKey: hashKey.name,
          rangeKey: rangeKey.name,
          attributes: [hashKey, rangeKey].map(({ name: attribute, type }) => ({ name: attribute, type })),
          // Items are only needed for their window (plus time for late redeliveries); DynamoDB deletes them after.
          ttl: { attributeName: timeToLiveAttribute, enabled: true },
          // Object keys are sensitive: encrypt with a KMS key whose use CloudTrail records (override: tableKmsKeyArn).
          serverSideEncryption: tableKmsKeyArn === undefined ? { enabled: true } : { enabled: true, kmsKeyArn: tableKmsKeyArn },
        },
        child,
      );
      this.tableName = this.table.name;
      environment[SETTINGS_ENVIRONMENT.tableName] = this.table.name;
      statements.push({
        Sid: "CountDownloads",
        Effect: "Allow",
        // UpdateItem only: it counts, reads back a redelivered event's position and settles alerts after a failure.
        Action: "dynamodb:UpdateItem",
        Resource: this.table.arn,
      });
      if (tableKmsKeyArn !== undefined) {
        statements.push(tableKeyThroughDynamoDb(tableKmsKeyArn, env.region));
      }
    } else {
      environment[SETTINGS_ENVIRONMENT.logGroupName] = trail.logGroupName;
      statements.push({
        Sid: "RecountDownloads",
        Effect: "Allow",
        Action: "logs:FilterLogEvents",
        // The same log group in both ARN forms IAM evaluates for this action.
        Resource: [trail.logGroupArn, pulumi.interpolate`${trail.logGroupArn}:*`],
      });
    }

    this.handler = new SecureCallbackFunction<unknown, DownloadThresholdResult>(
      `${name}-handler`,
      {
        description: `Alerts when a watched S3 object is downloaded more than its threshold since the last reset (${reset.schedule}, ${reset.timeZone})`,
        callbackFactory: downloadThresholdCallbackFactory,
        statements,
        alertTopic,
        publishesAlerts: true,
        environment,
        bundledPackages: ["croner"],
        // The logs counter pages FilterLogEvents at 5 requests/s and waits out throttling.
        timeoutInSeconds: counter === "logs" ? 300 : 60,
        logRetentionInDays,
        rejectedInputAlarm: { consequence: "the downloads in it were not counted" },
      },
      child,
    );
    this.functionName = this.handler.functionName;
    this.functionArn = this.handler.functionArn;

    if (source === "eventbridge") {
      this.eventPattern = downloadEventPattern(watches);
      this.rule = new aws.cloudwatch.EventRule(
        `${name}-downloads`,
        { description: `S3 GetObject on the objects ${name} watches (CloudTrail data events)`, eventPattern: this.eventPattern, state: "ENABLED" },
        child,
      );
      const permission = new aws.lambda.Permission(
        `${name}-invoke-from-rule`,
        { action: "lambda:InvokeFunction", function: this.handler.functionName, principal: "events.amazonaws.com", sourceArn: this.rule.arn },
        child,
      );
      this.ruleTarget = deliveredRuleTarget(
        {
          rule: this.rule,
          purpose: `S3 downloads counted by ${name}`,
          arn: this.handler.functionArn,
          alertTopic,
          names: { target: `${name}-downloads-target`, deadLetters: `${name}-downloads-undelivered` },
        },
        // EventBridge can invoke the function only once the permission exists.
        { parent: this, dependsOn: [permission] },
      );
    } else if (source === "logs") {
      this.filterPattern = downloadFilterPattern(watches);
      const permission = new aws.lambda.Permission(
        `${name}-invoke-from-logs`,
        {
          action: "lambda:InvokeFunction",
          function: this.handler.functionName,
          principal: "logs.amazonaws.com",
          sourceArn: pulumi.interpolate`${trail.logGroupArn}:*`,
          sourceAccount: env.accountId,
        },
        child,
      );
      this.subscriptionFilter = new aws.cloudwatch.LogSubscriptionFilter(
        `${name}-subscription`,
        { logGroup: trail.logGroupName, filterPattern: this.filterPattern, destinationArn: this.handler.functionArn },
        // CloudWatch Logs test-invokes the function when the filter is created.
        { parent: this, dependsOn: [permission] },
      );
    } else {
      // The dispatch subscription and its invoke permission (sourceArn: the dispatch topic) become children of this.
      source.dispatcher.connect(this, name, { functionArn: this.handler.functionArn, patterns: [this.recordPattern] });
    }

    this.registerOutputs({
      handler: this.handler,
      functionName: this.functionName,
      functionArn: this.functionArn,
      table: this.table,
      tableName: this.tableName,
      rule: this.rule,
      ruleTarget: this.ruleTarget,
      eventPattern: this.eventPattern,
      subscriptionFilter: this.subscriptionFilter,
      filterPattern: this.filterPattern,
      recordPattern: this.recordPattern,
      dataEventSelectors: this.dataEventSelectors,
    });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: DownloadThresholdAlertArgs): void {
    const checker = new ArgChecker(`DownloadThresholdAlert "${name}"`);
    const source: unknown = args.source;
    if (isObject(source)) {
      if (source.type !== "dispatcher") {
        checker.fail(`source.type must be "dispatcher" (or source "eventbridge" or "logs"), got ${shown(source.type)}`);
      } else if (!(source.dispatcher instanceof LogSubscriptionDispatcher)) {
        checker.fail("source.dispatcher must be a LogSubscriptionDispatcher");
      }
      checkDownloadAlertSettings({ ...args, source: "logs" }, checker, "dispatcher");
    } else {
      checkDownloadAlertSettings(args, checker);
    }
    checker.done();
  }
}

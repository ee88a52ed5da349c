import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_RESET } from "../functions/downloadThreshold/countingWindow";
import { DOWNLOAD_COUNTS_TABLE } from "../functions/downloadThreshold/counterItems";
import { downloadThresholdCallbackFactory, type DownloadThresholdResult } from "../functions/downloadThreshold/handler";
import { toEnvironment, type DeployedDownloadThresholdSettings } from "../functions/downloadThreshold/settings";
import { collectProblems } from "../functions/shared/problems";
import type { RecordPattern } from "../functions/shared/recordPattern";
import { isObject, shown } from "../functions/shared/values";
import { AlertTopic } from "./alertTopic";
import { AdvancedEventSelector, AuditTrail } from "./auditTrail";
import { checkDownloadAlertSettings, type DownloadAlertSettingsArgs } from "./downloadAlertSettings";
import { downloadEventPattern, downloadEventSelectors, downloadFilterPattern, downloadRecordPattern } from "./downloadPatterns";
import { LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import { DispatcherRoute, EventRuleSource, LogSubscriptionSource, type DeliveredRuleTarget } from "./eventSources";
import { awsEnvironment } from "./awsEnvironment";
import { PolicyStatement } from "./policy";
import { SecureCallbackFunction } from "./secureCallbackFunction";
import { TtlTable } from "./ttlTable";

// The settings arguments and patterns are part of this component's API.
export {
  checkDownloadAlertSettings,
  MAX_EVENT_PATTERN_LENGTH,
  MAX_SUBSCRIPTION_FILTER_PATTERN_LENGTH,
  MAX_WATCHES_ENVIRONMENT_BYTES,
  type DownloadAlertSettingsArgs,
  type WatchedObjectArgs,
} from "./downloadAlertSettings";
export { downloadEventPattern, downloadEventSelectors } from "./downloadPatterns";

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
   * `logs`: a subscription filter of its own on the trail's log group (as in docs/sourceArticles.md; a log group
   * accepts 2).
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
  /** The watched objects and prefixes with their thresholds, as given (the operations dashboard draws each). */
  readonly watches: DownloadAlertSettingsArgs["watches"];

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

    warnAboutDeployment(this, name, { partition, counter, source }, env.partition);
    this.watches = watches;
    this.recordPattern = downloadRecordPattern(watches);
    this.dataEventSelectors = downloadEventSelectors(name, watches, partition);
    trail.addDataEventSelectors(this.dataEventSelectors);

    const storage = counterStorage(name, { counter, trail, tableKmsKeyArn }, child);
    this.table = storage.table;
    this.tableName = storage.table?.name;
    const statements = storage.statements;

    const counterSettings = this.table === undefined ? { kind: "logs" as const, logGroupName: trail.logGroupName } : { kind: "dynamodb" as const, tableName: this.table.name };
    this.handler = countingFunction(name, { watches, reset, notify, counter: counterSettings, language, timeZone }, { alertTopic, statements, logRetentionInDays }, child);
    this.functionName = this.handler.functionName;
    this.functionArn = this.handler.functionArn;

    const wiring = connectSource(name, source, { watches, trail, alertTopic, handler: this.handler, recordPattern: this.recordPattern, accountId: env.accountId }, child);
    this.eventPattern = wiring.eventPattern;
    this.rule = wiring.rule;
    this.ruleTarget = wiring.ruleTarget;
    this.filterPattern = wiring.filterPattern;
    this.subscriptionFilter = wiring.subscriptionFilter;

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
      watches: this.watches,
    });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: DownloadThresholdAlertArgs): void {
    // Values known only at deployment (Outputs) are not judged here.
    const problems = collectProblems({ skip: (value) => pulumi.Output.isInstance(value) });
    const source: unknown = args.source;
    if (isObject(source)) {
      if (source.type !== "dispatcher") {
        problems.fail(`source.type must be "dispatcher" (or source "eventbridge" or "logs"), got ${shown(source.type)}`);
      } else if (!(source.dispatcher instanceof LogSubscriptionDispatcher)) {
        problems.fail("source.dispatcher must be a LogSubscriptionDispatcher");
      }
      checkDownloadAlertSettings({ ...args, source: "logs" }, problems, "dispatcher");
    } else {
      checkDownloadAlertSettings(args, problems);
    }
    problems.throwIfAny((message) => new Error(`DownloadThresholdAlert "${name}": ${message}`));
  }
}

/** Where the counter keeps its counts, and what its function may do there: a DynamoDB table, or the trail's log group. */
function counterStorage(
  name: string,
  args: { counter: "dynamodb" | "logs"; trail: DownloadThresholdAlertArgs["trail"]; tableKmsKeyArn?: pulumi.Input<string> },
  opts: { parent: pulumi.Resource },
): { table?: aws.dynamodb.Table; statements: pulumi.Input<PolicyStatement>[] } {
  if (args.counter === "dynamodb") {
    // Items are only needed for their window (plus time for late redeliveries); object keys are sensitive.
    const counts = new TtlTable(`${name}-counts`, { ...DOWNLOAD_COUNTS_TABLE, kmsKeyArn: args.tableKmsKeyArn }, opts);
    // UpdateItem claims, counts and settles each download; GetItem reads whether a settled download's entry can go
    // from its counter item (entries left by execution environments Lambda retired).
    return { table: counts.table, statements: counts.grant("CountDownloads", ["dynamodb:GetItem", "dynamodb:UpdateItem"]) };
  }
  const statement: PolicyStatement = {
    Sid: "RecountDownloads",
    Effect: "Allow",
    Action: "logs:FilterLogEvents",
    // The same log group in both ARN forms IAM evaluates for this action.
    Resource: [args.trail.logGroupArn, pulumi.interpolate`${args.trail.logGroupArn}:*`],
  };
  return { statements: [statement] };
}

/** How the downloads reach the function: its own EventBridge rule, its own subscription filter, or the dispatcher. */
function connectSource(
  name: string,
  source: NonNullable<DownloadThresholdAlertArgs["source"]>,
  args: {
    watches: DownloadThresholdAlertArgs["watches"];
    trail: DownloadThresholdAlertArgs["trail"];
    alertTopic: AlertTopic;
    handler: SecureCallbackFunction<unknown, DownloadThresholdResult>;
    recordPattern: RecordPattern;
    accountId: pulumi.Output<string>;
  },
  opts: { parent: pulumi.Resource },
): { eventPattern?: string; rule?: aws.cloudwatch.EventRule; ruleTarget?: DeliveredRuleTarget; filterPattern?: string; subscriptionFilter?: aws.cloudwatch.LogSubscriptionFilter } {
  const { watches, trail, alertTopic, handler } = args;
  if (source === "eventbridge") {
    const eventPattern = downloadEventPattern(watches);
    const downloads = new EventRuleSource(`${name}-downloads`, { description: `S3 GetObject on the objects ${name} watches (CloudTrail data events)`, eventPattern, state: "ENABLED" }, opts);
    const ruleTarget = downloads.bind(handler, {
      purpose: `S3 downloads counted by ${name}`,
      alertTopic,
      names: { permission: `${name}-invoke-from-rule`, target: `${name}-downloads-target`, deadLetters: `${name}-downloads-undelivered` },
    });
    return { eventPattern, rule: downloads.rule, ruleTarget };
  }
  if (source === "logs") {
    const filterPattern = downloadFilterPattern(watches);
    const logs = new LogSubscriptionSource({ logGroupName: trail.logGroupName, logGroupArn: trail.logGroupArn, filterPattern, accountId: args.accountId }, opts);
    return { filterPattern, subscriptionFilter: logs.bind(handler, { permission: `${name}-invoke-from-logs`, subscription: `${name}-subscription` }).subscriptionFilter };
  }
  // The dispatch subscription and its invoke permission (sourceArn: the dispatch topic) become children of the component.
  new DispatcherRoute(source.dispatcher, { key: name, patterns: [args.recordPattern] }, opts).bind(handler);
  return {};
}

/** The function that counts and alerts, with `settings` in its environment. */
function countingFunction(
  name: string,
  settings: DeployedDownloadThresholdSettings<pulumi.Output<string>>,
  deployment: { alertTopic: AlertTopic; statements: pulumi.Input<PolicyStatement>[]; logRetentionInDays: number },
  opts: pulumi.ComponentResourceOptions,
): SecureCallbackFunction<unknown, DownloadThresholdResult> {
  const { reset, counter } = settings;
  return new SecureCallbackFunction<unknown, DownloadThresholdResult>(
    `${name}-handler`,
    {
      description: `Alerts when a watched S3 object is downloaded more than its threshold since the last reset (${reset.schedule}, ${reset.timeZone})`,
      callbackFactory: downloadThresholdCallbackFactory,
      statements: deployment.statements,
      alertTopic: deployment.alertTopic,
      publishesAlerts: true,
      environment: toEnvironment(settings),
      bundledPackages: ["croner"],
      // The logs counter pages FilterLogEvents at 5 requests/s and waits out throttling.
      timeoutInSeconds: counter.kind === "logs" ? 300 : 60,
      logRetentionInDays: deployment.logRetentionInDays,
      rejectedInputAlarm: { consequence: "the downloads in it were not counted" },
    },
    opts,
  );
}

/**
 * Reports at preview what would make the component count nothing or too little: a partition other than the
 * provider's (the trail's selectors would match no bucket), and the logs counter fed by EventBridge.
 */
function warnAboutDeployment(
  component: DownloadThresholdAlert,
  name: string,
  chosen: { partition: string; counter: string; source: DownloadThresholdAlertArgs["source"] },
  providerPartition: pulumi.Output<string>,
): void {
  const { partition, counter, source } = chosen;
  providerPartition.apply((actual) => {
    if (actual !== partition) {
      void pulumi.log.error(`DownloadThresholdAlert "${name}": partition is "${partition}" but the provider deploys to "${actual}"; the trail would log nothing. Set partition: "${actual}".`, component);
    }
  });
  if (counter === "logs" && source === "eventbridge") {
    void pulumi.log.warn(
      `DownloadThresholdAlert "${name}": counter "logs" counts from the trail's log group, but EventBridge can deliver a download before the earlier ones reach that log group, so counts near the threshold may be too low. Use source "logs" with counter "logs".`,
      component,
    );
  }
}

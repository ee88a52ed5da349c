/**
 * The whole cloudtrail-alerts stack as one component, for any Pulumi language: its arguments are the stack config
 * (the `cloudtrail-alerts:` keys of Pulumi.yaml, same names and shapes) and it composes what the stack program always
 * composed. The one component that imports stackConfig/: its arguments are checked by the stack config's own readers,
 * so a stack config and the same arguments pass or fail alike, with the same messages.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { ActivitySelector } from "../functions/userActivity/criteria";
import { argsRawConfig, CONFIG_KEYS, loadStackConfig, partitionOf, pulumiConfigKeys, pulumiRawConfig, type RawConfig, type StackConfig, StackConfigError } from "../stackConfig";
import { AlertTopic } from "./alertTopic";
import { AuditTrail } from "./auditTrail";
import { BucketCreationAlarm } from "./bucketCreationAlarm";
import { ChatChannels, type SlackChannel, type TeamsChannel } from "./chatChannels";
import { SecurityAlarms } from "./securityAlarms";
import { DownloadThresholdAlert } from "./downloadThresholdAlert";
import { LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import { OperationsDashboard } from "./operationsDashboard";
import { TrailBackfill, type TrailBackfillArgs } from "./trailBackfill";
import { TrailReaderRole } from "./trailReaderRole";
import { UserActivityNotifier } from "./userActivityNotifier";

/** One watched object or prefix of `downloadAlerts` (exactly one of `key` and `keyPrefix`). */
export interface DownloadWatchConfig {
  /** Name of the bucket (not its ARN). */
  bucket: string;
  /** The object key, for example `2025/売上報告 Q1.pdf`. */
  key?: string;
  /** Every object whose key starts with this prefix, each counted separately; `""` watches the whole bucket. */
  keyPrefix?: string;
  /** Alert when the object is downloaded more than this many times in one window (a whole number >= 1). */
  threshold: number;
}

/** When download counts go back to zero. */
export interface DownloadResetConfig {
  /** A 5-field cron expression. @default "0 1 * * 1" (Monday 01:00) */
  schedule?: string;
  /** IANA time zone of the schedule. @default - the stack's `timeZone` */
  timeZone?: string;
}

/** `downloadAlerts`: S3 objects whose downloads are counted since a reset time, with an alert past a threshold. */
export interface DownloadAlertsConfig {
  /** The objects to watch; an empty list creates nothing. */
  watches?: DownloadWatchConfig[];
  /** When counts go back to zero. */
  reset?: DownloadResetConfig;
  /** `every` (an alert per download past the threshold) or `once` (one per object and window). @default "every" */
  notify?: string;
  /** `eventbridge` or `logs` (the trail's log group, through the stack's one subscription filter). @default "eventbridge" */
  source?: string;
  /** `dynamodb` (a table of counts) or `logs` (a re-count of the trail's log group). @default "dynamodb" */
  counter?: string;
}

/** One entry of `userActivityNotifiers`: its criteria and settings. See docs/userActivityNotifier.md. */
export interface ActivityNotifierConfig extends ActivitySelector {
  /** `ssm-sessions`, `console-sign-in`, `iam-changes`, `bucket-creation`. */
  presets?: string[];
  /** `include` or `exclude` (keep only calls CloudTrail marks `readOnly: false`). @default "include" */
  readOnlyEvents?: string;
  /** Calls to ignore: a call matching every list given in one of these selectors. */
  exclude?: ActivitySelector[];
  /** `eventbridge` (rules per Region) or `logs` (the trail's log group, through the shared filter). @default "eventbridge" */
  source?: string;
  /** Regions of the `eventbridge` source. @default - the stack's Region and us-east-1 */
  regions?: string[];
  /** IANA time zone the notifications show times in. @default - the stack's `timeZone` */
  timeZone?: string;
  /** `ja` or `en`. @default - the stack's `language` */
  language?: string;
  /** Also send Amazon Q Developer custom notifications to the topic. @default - true when `chat` names a channel */
  chatNotifications?: boolean;
  /** Keep a journal so that retries notify each event once. @default true */
  deduplicate?: boolean;
}

/** `backfill`: the organisation-wide CloudTrail backfill. See docs/trailBackfill.md. */
export interface OrganizationBackfillConfig {
  /** @default false */
  enabled?: boolean;
  /** 12-digit IDs of every account that gets a reader role; required when enabled. */
  accounts?: string[];
  /** Regions enabled in the accounts, the backfill command's default; required when enabled. */
  regions?: string[];
  /** Role assumed in every other account to create its reader role. @default "OrganizationAccountAccessRole" */
  deployRoleName?: string;
  /** Read-only role a preview assumes in every other account instead of `deployRoleName`. @default - `deployRoleName` */
  previewRoleName?: string;
  /** Organization ID (`o-...`) the backfill function's role must belong to. @default - no organization condition */
  organizationId?: string;
  /** External ID the reader roles require. @default - none */
  externalId?: string;
  /** Account-Region pairs read at once. @default 40 */
  maxConcurrency?: number;
  /** LookupEvents requests per second per account and Region (at most 2). @default 2 */
  requestsPerSecond?: number;
  /** An existing bucket to write the log files to, such as the trail's. @default - a bucket is created */
  existingBucketName?: string;
  /** Key prefix of the log files in the bucket. @default - none */
  prefix?: string;
  /**
   * `account` (`AWSLogs/<account>/...`) or `organization` (`AWSLogs/<organizationId>/<account>/...`, an organization
   * trail's layout; needs `organizationId`). @default "account"
   */
  keyLayout?: string;
}

/**
 * The stack config as arguments: the `cloudtrail-alerts:` keys of Pulumi.yaml, with the same names, shapes, defaults
 * and rules. `aws:region` and `aws:allowedAccountIds` come from the AWS provider's config, as for the stack program.
 */
export interface CloudTrailAlertsArgs {
  /** IANA time zone alert messages show times in, for example Asia/Tokyo. @default "UTC" */
  timeZone?: string;
  /** Language of alert message bodies, `ja` or `en` (subjects are always ASCII English). @default "en" */
  language?: string;
  /** Email addresses subscribed to the alert topic; each must confirm the subscription mail. @default [] */
  alertEmails?: string[];
  /** ARN of an existing SNS topic to send alerts to instead of creating one; empty creates a topic. @default "" */
  existingAlertTopicArn?: string;
  /** Log group of an existing trail to adopt instead of creating a trail; empty creates one. @default "" */
  existingTrailLogGroupName?: string;
  /** Days the created trail's log group keeps events. @default 365 */
  trailLogRetentionInDays?: number;
  /** Create the metric filter and alarm that notify when a bucket is created. @default true */
  bucketCreationAlarm?: boolean;
  /** CloudTrail event names the bucket creation alarm counts. @default ["CreateBucket"] */
  bucketCreationEventNames?: string[];
  /**
   * Security Hub CloudWatch controls (CIS monitoring) deployed as metric filters and alarms: a list of control IDs
   * such as `CloudWatch.1`, or `["all"]` for every one (the stack config also takes `all`). See docs/securityAlarms.md.
   * @default - none
   */
  securityAlarms?: string[];
  /** Days each Lambda function's own log group keeps its logs. @default 30 */
  functionLogRetentionInDays?: number;
  /** Download threshold alerts. See docs/downloadThresholdAlert.md. @default - none */
  downloadAlerts?: DownloadAlertsConfig;
  /**
   * Slack and Microsoft Teams channels of Amazon Q Developer in chat applications subscribed to the alert topic, with a
   * role and guardrail that allow nothing. See docs/chatChannels.md.
   * @default - no chat
   */
  chat?: ChatConfig;
  /** UserActivityNotifiers by stable name (lowercase letters, digits, '-'). @default - none */
  userActivityNotifiers?: { [name: string]: ActivityNotifierConfig };
  /** The organisation-wide CloudTrail backfill. @default - disabled */
  backfill?: OrganizationBackfillConfig;
  /**
   * Create the stack's CloudWatch dashboard (OperationsDashboard): downloads per watch against the threshold, alerts
   * and notifications sent, rejected input, dead-letter queues, errors and throttles per function, backfill progress.
   * See docs/operations.md. @default true
   */
  dashboard?: boolean;
}

/** `chat`: the Slack and Teams channels that receive the alert topic's notifications. */
export interface ChatConfig {
  /** Slack channels, by workspace and channel ID. @default [] */
  slack?: SlackChannel[];
  /** Microsoft Teams channels, by team, URL-encoded channel and tenant ID (one channel per team). @default [] */
  teams?: TeamsChannel[];
}

/** The role a member account's provider assumes: a preview only reads, so it takes the preview role when one is set. */
export function backfillProviderRole(backfill: { deployRoleName: string; previewRoleName?: string }, dryRun: boolean): { roleName: string; sessionName: string } {
  return dryRun && backfill.previewRoleName !== undefined
    ? { roleName: backfill.previewRoleName, sessionName: "cloudtrail-alerts-preview" }
    : { roleName: backfill.deployRoleName, sessionName: "cloudtrail-alerts-deploy" };
}

/** `Omit` over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** TrailBackfill's arguments (but the alert topic) for the stack config's `backfill`. */
export function trailBackfillArgs(backfill: NonNullable<StackConfig["backfill"]>, functionLogRetentionInDays: number): DistributiveOmit<TrailBackfillArgs, "alertTopic"> {
  const { organizationId, externalId, maxConcurrency, requestsPerSecond, existingBucketName, prefix, keyLayout } = backfill;
  return {
    maxConcurrency,
    requestsPerSecond,
    functionLogRetentionInDays,
    ...(externalId === undefined ? {} : { readerExternalId: externalId }),
    ...(prefix === undefined ? {} : { prefix }),
    // The organization layout's keys hold the organization ID the stack config gives (which also limits the reader roles).
    ...(keyLayout === "organization" ? { keyLayout, organizationId } : {}),
    ...(existingBucketName === undefined ? {} : { existingBucketName }),
  };
}

/**
 * The whole stack: the alert topic, the trail (created or adopted), the bucket creation alarm, download threshold
 * alerts, UserActivityNotifiers with the trail's one shared subscription filter, and the organisation-wide backfill
 * with a reader role in every account (each created through a provider that assumes a role there), and the Slack and
 * Teams channels that receive the alerts.
 *
 * One per stack: its children keep the names the stack program has always given them (`alerts`, `trail`, ...),
 * and aliases to their former place at the top of the stack, so that moving them under this component replaces
 * nothing. A second instance in the same stack fails with Pulumi's duplicate URN error.
 */
export class CloudTrailAlerts extends pulumi.ComponentResource {
  /** Topic every alert is published to; subscribe more endpoints to it as needed. */
  readonly alertTopicArn: pulumi.Output<string>;
  /** CloudWatch Logs group the trail delivers to (created or adopted). */
  readonly trailLogGroupName: pulumi.Output<string>;
  /** The created trail's ARN; absent when an existing trail was adopted. */
  readonly trailArn?: pulumi.Output<string>;
  /** The bucket holding the created trail's log files; absent when an existing trail was adopted. */
  readonly trailBucketName?: pulumi.Output<string>;
  /** The backfill state machine; `npm run backfill` starts executions of it. Absent when the backfill is disabled. */
  readonly backfillStateMachineArn?: pulumi.Output<string>;
  /** Bucket the backfilled CloudTrail log files go to; absent when the backfill is disabled. */
  readonly backfillBucketName?: pulumi.Output<string>;
  /** Reader role ARN per account; absent when the backfill is disabled. */
  readonly backfillReaderRoleArns?: pulumi.Output<Record<string, string>>;
  /** The stack's CloudWatch dashboard; absent when `dashboard` is false. */
  readonly dashboardName?: pulumi.Output<string>;

  constructor(name: string, args: CloudTrailAlertsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Checked before anything is registered: a bad value creates nothing, not even this component.
    const config = CloudTrailAlerts.stackConfigOf(args);
    super("cloudtrail-alerts:index:CloudTrailAlerts", name, {}, opts);
    // Until this component existed, these were the stack's top-level resources: the alias keeps each one (and,
    // through it, everything below it) where it is.
    const child: pulumi.ComponentResourceOptions = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };

    const alertTopic = new AlertTopic("alerts", config.alertTopic, child);
    const trail = new AuditTrail("trail", config.trail, child);
    if (config.bucketCreationEventNames !== undefined) {
      new BucketCreationAlarm("bucket-creation", { logGroupName: trail.logGroupName, alertTopicArn: alertTopic.topicArn, eventNames: config.bucketCreationEventNames }, child);
    }
    if (config.securityAlarms !== undefined) {
      new SecurityAlarms("security-alarms", { logGroupName: trail.logGroupName, alertTopicArn: alertTopic.topicArn, controls: config.securityAlarms }, child);
    }
    const dispatcher = CloudTrailAlerts.trailSubscription(config, trail, alertTopic, child);
    const { downloadAlert, notifiers } = CloudTrailAlerts.consumers(config, trail, alertTopic, dispatcher, child);
    const backfill = config.backfill === undefined ? undefined : CloudTrailAlerts.backfill(config, config.backfill, alertTopic, child);
    if (config.chat !== undefined) {
      new ChatChannels("chat", { alertTopicArn: alertTopic.topicArn, ...config.chat }, child);
    }
    // Last, so that it shows every component above (and the alarm forwardings they made the topic create).
    const dashboard = config.dashboard ? CloudTrailAlerts.dashboard(alertTopic, downloadAlert, notifiers, dispatcher, backfill, this) : undefined;

    this.alertTopicArn = alertTopic.topicArn;
    this.trailLogGroupName = trail.logGroupName;
    this.trailArn = trail.trailArn;
    this.trailBucketName = trail.bucketName;
    this.backfillStateMachineArn = backfill?.stateMachineArn;
    this.backfillBucketName = backfill?.bucketName;
    this.backfillReaderRoleArns = backfill?.readerRoleArns;
    this.dashboardName = dashboard?.dashboardName;
    this.registerOutputs({
      alertTopicArn: this.alertTopicArn,
      trailLogGroupName: this.trailLogGroupName,
      trailArn: this.trailArn,
      trailBucketName: this.trailBucketName,
      backfillStateMachineArn: this.backfillStateMachineArn,
      backfillBucketName: this.backfillBucketName,
      backfillReaderRoleArns: this.backfillReaderRoleArns,
      dashboardName: this.dashboardName,
    });
  }

  /**
   * The stack config `args` describe, read by the stack config's readers (the AWS keys from `awsConfig`, by default
   * the stack's config, and `keys` checked as the stack's keys). Throws {@link StackConfigError} naming the key
   * (`cloudtrail-alerts:<argument>`) and the value.
   */
  static stackConfigOf(args: CloudTrailAlertsArgs, awsConfig: RawConfig = pulumiRawConfig(), keys: readonly string[] = pulumiConfigKeys()): StackConfig {
    for (const [key, value] of Object.entries(args)) {
      if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
        throw new StackConfigError(`cloudtrail-alerts:${key}`, `cloudtrail-alerts:${key} is not a key of the stack config; the keys are ${CONFIG_KEYS.join(", ")}`);
      }
      // What the component creates depends on these values, so they must be known when the program runs.
      if (pulumi.Output.isInstance(value)) {
        throw new StackConfigError(`cloudtrail-alerts:${key}`, `cloudtrail-alerts:${key} must be a plain value, not an Output (it decides which resources are created)`);
      }
    }
    return loadStackConfig(argsRawConfig(args, awsConfig), keys);
  }

  /** The stack's operations dashboard, showing the components given. New with this component: no former place to alias. */
  private static dashboard(
    alertTopic: AlertTopic,
    downloadAlert: DownloadThresholdAlert | undefined,
    notifiers: UserActivityNotifier[],
    dispatcher: LogSubscriptionDispatcher | undefined,
    backfill: TrailBackfill | undefined,
    parent: pulumi.Resource,
  ): OperationsDashboard {
    return new OperationsDashboard(
      "operations",
      {
        alertTopic,
        ...(downloadAlert === undefined ? {} : { downloadAlerts: [downloadAlert] }),
        notifiers,
        ...(dispatcher === undefined ? {} : { dispatchers: [dispatcher] }),
        ...(backfill === undefined ? {} : { backfill }),
      },
      { parent },
    );
  }

  /**
   * The trail's log group has room for two subscription filters (a CloudWatch Logs limit): every consumer reading it
   * (UserActivityNotifiers and download alerts with source "logs") shares the one filter of this dispatcher.
   */
  private static trailSubscription(
    config: StackConfig,
    trail: AuditTrail,
    alertTopic: AlertTopic,
    opts: pulumi.ComponentResourceOptions,
  ): LogSubscriptionDispatcher | undefined {
    const readsTrailLogs = config.userActivityNotifiers.some((n) => n.source === "logs") || config.downloadAlerts?.source === "logs";
    return readsTrailLogs
      ? new LogSubscriptionDispatcher(
          "trail-subscription",
          { logGroupName: trail.logGroupName, logGroupArn: trail.logGroupArn, alertTopic, logRetentionInDays: config.functionLogRetentionInDays },
          opts,
        )
      : undefined;
  }

  /** The download alerts and the UserActivityNotifiers; those with source "logs" read through `dispatcher`. */
  private static consumers(
    config: StackConfig,
    trail: AuditTrail,
    alertTopic: AlertTopic,
    dispatcher: LogSubscriptionDispatcher | undefined,
    opts: pulumi.ComponentResourceOptions,
  ): { downloadAlert?: DownloadThresholdAlert; notifiers: UserActivityNotifier[] } {
    const fromTrailLogGroup = (): { type: "dispatcher"; dispatcher: LogSubscriptionDispatcher } => {
      if (dispatcher === undefined) {
        throw new Error("a consumer reads the trail's log group, but the trail's dispatcher was not created");
      }
      return { type: "dispatcher", dispatcher };
    };
    let downloadAlert: DownloadThresholdAlert | undefined;
    if (config.downloadAlerts !== undefined) {
      const { source = "eventbridge", ...downloadAlerts } = config.downloadAlerts;
      downloadAlert = new DownloadThresholdAlert("download-alerts", { ...downloadAlerts, source: source === "logs" ? fromTrailLogGroup() : source, trail, alertTopic }, opts);
    }
    const notifiers = config.userActivityNotifiers.map(
      (notifier) => new UserActivityNotifier(
        `activity-${notifier.name}`,
        {
          ...notifier.criteria,
          alertTopic,
          source:
            notifier.source === "logs"
              ? fromTrailLogGroup()
              : { type: "eventbridge", ...(notifier.regions === undefined ? {} : { regions: notifier.regions }) },
          timeZone: notifier.timeZone,
          language: notifier.language,
          chatNotifications: notifier.chatNotifications,
          deduplicate: notifier.deduplicate,
          logRetentionInDays: config.functionLogRetentionInDays,
        },
        opts,
      ),
    );
    return { ...(downloadAlert === undefined ? {} : { downloadAlert }), notifiers };
  }

  /**
   * Organisation-wide CloudTrail backfill: the state machine and function, and a reader role in every account, each
   * created through a provider that assumes the deploy role there (the preview role in a preview, when one is set).
   * StackSets cannot reach the management account; this loop can, and the stack's own account gets its role through
   * the default provider, assuming nothing.
   */
  private static backfill(
    config: StackConfig,
    backfill: NonNullable<StackConfig["backfill"]>,
    alertTopic: AlertTopic,
    opts: pulumi.ComponentResourceOptions,
  ): TrailBackfill {
    const { accounts, stackAccountId, organizationId, externalId } = backfill;
    const trailBackfill = new TrailBackfill("backfill", { alertTopic, ...trailBackfillArgs(backfill, config.functionLogRetentionInDays) }, opts);
    const { roleName, sessionName } = backfillProviderRole(backfill, pulumi.runtime.isDryRun());
    for (const accountId of accounts) {
      const provider =
        accountId === stackAccountId
          ? undefined
          : new aws.Provider(
              `backfill-${accountId}`,
              {
                region: config.region as aws.Region,
                // The provider refuses to act if the assumed role is not in the account it is meant for.
                allowedAccountIds: [accountId],
                assumeRoles: [{ roleArn: `arn:${partitionOf(config.region)}:iam::${accountId}:role/${roleName}`, sessionName }],
              },
              opts,
            );
      const reader = new TrailReaderRole(
        `backfill-reader-${accountId}`,
        {
          trustedRoleArn: trailBackfill.functionRoleArn,
          ...(externalId === undefined ? {} : { externalId }),
          ...(organizationId === undefined ? {} : { organizationId }),
        },
        provider === undefined ? opts : { ...opts, provider },
      );
      trailBackfill.addReaderRole(accountId, reader.roleArn);
    }
    return trailBackfill;
  }
}

/**
 * The cloudtrail-alerts stack: reads the stack config once, composes the components, exports what operators need.
 * `pulumi up` deploys it; `npm start` evaluates it offline and prints what would be created.
 */
import * as aws from "@pulumi/aws";

import {
  AlertTopic,
  AuditTrail,
  BucketCreationAlarm,
  DownloadThresholdAlert,
  LogSubscriptionDispatcher,
  OperationsDashboard,
  TrailBackfill,
  TrailReaderRole,
  UserActivityNotifier,
} from "./components";
import { loadStackConfig, partitionOf } from "./stackConfig";

const config = loadStackConfig();

const alertTopic = new AlertTopic("alerts", config.alertTopic);
const trail = new AuditTrail("trail", config.trail);

if (config.bucketCreationEventNames !== undefined) {
  new BucketCreationAlarm("bucket-creation", {
    logGroupName: trail.logGroupName,
    alertTopicArn: alertTopic.topicArn,
    eventNames: config.bucketCreationEventNames,
  });
}

// The trail's log group has room for two subscription filters (a CloudWatch Logs limit): every consumer reading it
// (UserActivityNotifiers and download alerts with source "logs") shares the one filter of this dispatcher.
const trailSubscription =
  config.userActivityNotifiers.some((n) => n.source === "logs") || config.downloadAlerts?.source === "logs"
    ? new LogSubscriptionDispatcher("trail-subscription", {
        logGroupName: trail.logGroupName,
        logGroupArn: trail.logGroupArn,
        alertTopic,
        logRetentionInDays: config.functionLogRetentionInDays,
      })
    : undefined;
/** The source of a consumer configured with source "logs": the trail's shared dispatcher. */
function fromTrailLogGroup(): { type: "dispatcher"; dispatcher: LogSubscriptionDispatcher } {
  if (trailSubscription === undefined) {
    throw new Error("a consumer reads the trail's log group, but the trail's dispatcher was not created");
  }
  return { type: "dispatcher", dispatcher: trailSubscription };
}

let downloadAlert: DownloadThresholdAlert | undefined;
if (config.downloadAlerts !== undefined) {
  const { source = "eventbridge", ...downloadAlerts } = config.downloadAlerts;
  downloadAlert = new DownloadThresholdAlert("download-alerts", {
    ...downloadAlerts,
    source: source === "logs" ? fromTrailLogGroup() : source,
    trail,
    alertTopic,
  });
}

const notifiers = config.userActivityNotifiers.map(
  (notifier) =>
    new UserActivityNotifier(`activity-${notifier.name}`, {
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
    }),
);

// Organisation-wide CloudTrail backfill: the state machine and function, and a reader role in every account, each
// created through a provider that assumes the deploy role there. StackSets cannot reach the management account; this
// loop can, and the stack's own account gets its role through the default provider, assuming nothing.
let backfill: TrailBackfill | undefined;
if (config.backfill !== undefined) {
  const { accounts, stackAccountId, deployRoleName, organizationId, externalId, maxConcurrency, requestsPerSecond, existingBucketName, prefix } = config.backfill;
  const trailBackfill = new TrailBackfill("backfill", {
    alertTopic,
    maxConcurrency,
    requestsPerSecond,
    functionLogRetentionInDays: config.functionLogRetentionInDays,
    ...(externalId === undefined ? {} : { readerExternalId: externalId }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(existingBucketName === undefined ? {} : { existingBucketName }),
  });
  for (const accountId of accounts) {
    const provider =
      accountId === stackAccountId
        ? undefined
        : new aws.Provider(`backfill-${accountId}`, {
            region: config.region as aws.Region,
            // The provider refuses to act if the assumed role is not in the account it is meant for.
            allowedAccountIds: [accountId],
            assumeRoles: [{ roleArn: `arn:${partitionOf(config.region)}:iam::${accountId}:role/${deployRoleName}`, sessionName: "cloudtrail-alerts-deploy" }],
          });
    const reader = new TrailReaderRole(
      `backfill-reader-${accountId}`,
      {
        trustedRoleArn: trailBackfill.functionRoleArn,
        ...(externalId === undefined ? {} : { externalId }),
        ...(organizationId === undefined ? {} : { organizationId }),
      },
      provider === undefined ? {} : { provider },
    );
    trailBackfill.addReaderRole(accountId, reader.roleArn);
  }
  backfill = trailBackfill;
}

// Last, so that it shows every component above (and the alarm forwardings they made the topic create).
const dashboard = config.dashboard
  ? new OperationsDashboard("operations", {
      alertTopic,
      ...(downloadAlert === undefined ? {} : { downloadAlerts: [downloadAlert] }),
      notifiers,
      ...(trailSubscription === undefined ? {} : { dispatchers: [trailSubscription] }),
      ...(backfill === undefined ? {} : { backfill }),
    })
  : undefined;

/** Topic every alert is published to; subscribe more endpoints to it as needed. */
export const alertTopicArn = alertTopic.topicArn;
/** CloudWatch Logs group the trail delivers to (created or adopted). */
export const trailLogGroupName = trail.logGroupName;
/** The created trail's ARN; undefined when an existing trail was adopted. */
export const trailArn = trail.trailArn;
/** The bucket holding the created trail's log files. */
export const trailBucketName = trail.bucketName;
/** The backfill state machine; `npm run backfill` starts executions of it. Undefined when the backfill is disabled. */
export const backfillStateMachineArn = backfill?.stateMachineArn;
/** Bucket the backfilled CloudTrail log files go to. */
export const backfillBucketName = backfill?.bucketName;
/** Reader role ARN per account. */
export const backfillReaderRoleArns = backfill?.readerRoleArns;
/** The stack's CloudWatch dashboard; undefined when `cloudtrail-alerts:dashboard` is false. */
export const dashboardName = dashboard?.dashboardName;

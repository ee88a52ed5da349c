/**
 * The cloudtrail-alerts stack: reads the stack config once, composes the components, exports what operators need.
 * `pulumi up` deploys it; `npm start` evaluates it offline and prints what would be created.
 */
import {
  AlertTopic,
  AuditTrail,
  BucketCreationAlarm,
  DownloadThresholdAlert,
  LogSubscriptionDispatcher,
  UserActivityNotifier,
} from "./components";
import { loadStackConfig } from "./stackConfig";

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

if (config.downloadAlerts !== undefined) {
  new DownloadThresholdAlert("download-alerts", { ...config.downloadAlerts, trail, alertTopic });
}

// UserActivityNotifiers. Those reading the trail's log group share one subscription filter through one dispatcher
// (CloudWatch Logs allows two filters per log group); other log-driven consumers can connect to it too.
const trailSubscription = config.userActivityNotifiers.some((n) => n.source === "logs")
  ? new LogSubscriptionDispatcher("trail-subscription", {
      logGroupName: trail.logGroupName,
      logGroupArn: trail.logGroupArn,
      alertTopic,
      logRetentionInDays: config.functionLogRetentionInDays,
    })
  : undefined;
for (const notifier of config.userActivityNotifiers) {
  new UserActivityNotifier(`activity-${notifier.name}`, {
    ...notifier.criteria,
    alertTopic,
    source:
      notifier.source === "logs" && trailSubscription
        ? { type: "dispatcher", dispatcher: trailSubscription }
        : { type: "eventbridge", ...(notifier.regions === undefined ? {} : { regions: notifier.regions }) },
    timeZone: notifier.timeZone,
    language: notifier.language,
    chatNotifications: notifier.chatNotifications,
    logRetentionInDays: config.functionLogRetentionInDays,
  });
}

/** Topic every alert is published to; subscribe more endpoints to it as needed. */
export const alertTopicArn = alertTopic.topicArn;
/** CloudWatch Logs group the trail delivers to (created or adopted). */
export const trailLogGroupName = trail.logGroupName;
/** The created trail's ARN; undefined when an existing trail was adopted. */
export const trailArn = trail.trailArn;
/** The bucket holding the created trail's log files. */
export const trailBucketName = trail.bucketName;

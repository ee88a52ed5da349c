/**
 * The cloudtrail-alerts stack: reads the stack config once, composes the components, exports what operators need.
 * `pulumi up` deploys it; `npm start` evaluates it offline and prints what would be created.
 */
import { AlertTopic, AuditTrail, BucketCreationAlarm, DownloadThresholdAlert } from "./components";
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

/** Topic every alert is published to; subscribe more endpoints to it as needed. */
export const alertTopicArn = alertTopic.topicArn;
/** CloudWatch Logs group the trail delivers to (created or adopted). */
export const trailLogGroupName = trail.logGroupName;
/** The created trail's ARN; undefined when an existing trail was adopted. */
export const trailArn = trail.trailArn;
/** The bucket holding the created trail's log files. */
export const trailBucketName = trail.bucketName;

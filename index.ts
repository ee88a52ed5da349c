/**
 * The cloudtrail-alerts stack: reads the stack config, creates the whole stack as one CloudTrailAlerts component,
 * exports what operators need. `pulumi up` deploys it; `npm start` evaluates it offline and prints what would be created.
 */
import { CloudTrailAlerts } from "./components";
import { configArgs } from "./stackConfig";

// The component checks the config with the stack config's readers: a bad value stops here, naming the key.
const alerts = new CloudTrailAlerts("cloudtrail-alerts", configArgs());

/** Topic every alert is published to; subscribe more endpoints to it as needed. */
export const alertTopicArn = alerts.alertTopicArn;
/** CloudWatch Logs group the trail delivers to (created or adopted). */
export const trailLogGroupName = alerts.trailLogGroupName;
/** The created trail's ARN; undefined when an existing trail was adopted. */
export const trailArn = alerts.trailArn;
/** The bucket holding the created trail's log files. */
export const trailBucketName = alerts.trailBucketName;
/** The backfill state machine; `npm run backfill` starts executions of it. Undefined when the backfill is disabled. */
export const backfillStateMachineArn = alerts.backfillStateMachineArn;
/** Bucket the backfilled CloudTrail log files go to. */
export const backfillBucketName = alerts.backfillBucketName;
/** Reader role ARN per account. */
export const backfillReaderRoleArns = alerts.backfillReaderRoleArns;

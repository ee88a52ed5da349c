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

// Outputs of what only some stacks create are exported only when created: an undefined export would make Pulumi warn
// "Undefined value (...) will not show as a stack output" and the offline preview list it as undefined.
const optionalOutputs: Record<string, unknown> = {
  /** The created trail's ARN; absent when an existing trail was adopted. */
  trailArn: alerts.trailArn,
  /** The bucket holding the created trail's log files; absent when an existing trail was adopted. */
  trailBucketName: alerts.trailBucketName,
  /** The backfill state machine; `npm run backfill` starts executions of it. Absent when the backfill is disabled. */
  backfillStateMachineArn: alerts.backfillStateMachineArn,
  /** Bucket the backfilled CloudTrail log files go to. */
  backfillBucketName: alerts.backfillBucketName,
  /** Reader role ARN per account. */
  backfillReaderRoleArns: alerts.backfillReaderRoleArns,
};
for (const [key, value] of Object.entries(optionalOutputs)) {
  if (value !== undefined) {
    (module.exports as Record<string, unknown>)[key] = value;
  }
}

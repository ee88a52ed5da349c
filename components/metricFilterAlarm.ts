/**
 * A metric filter on a log group and an alarm on the metric it publishes, notifying a topic: the machinery under
 * BucketCreationAlarm and SecurityAlarms. Not a component of its own, so that each caller keeps its children (and
 * their names) directly below itself.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic } from "./alertTopic";

/** CloudWatch Logs' limit on the length of a metric filter pattern. */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

/** CloudWatch's limit on the length of an alarm description. */
export const MAX_ALARM_DESCRIPTION_LENGTH = 1024;

/**
 * CloudWatch Logs' quota of metric filters per log group (not adjustable).
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
 */
export const MAX_METRIC_FILTERS_PER_LOG_GROUP = 100;

/** What one metric filter and its alarm are made of. */
export interface MetricFilterAlarmArgs {
  logGroupName: pulumi.Input<string>;
  /**
   * What the alarm notifies: an {@link AlertTopic} or its `topicArn` output, reached from any Region (directly in its
   * own Region, through {@link AlertTopic.forwardAlarm} from any other), or any other topic ARN, which must be in the
   * alarm's Region.
   */
  alertTopic: AlertTopic | pulumi.Input<string>;
  /** The Region of the log group, the filter and the alarm. @default - the provider's Region */
  region?: string;
  filterPattern: string;
  metricNamespace: string;
  metricName: string;
  alarmDescription: pulumi.Input<string>;
  periodInSeconds: number;
  evaluationPeriods: number;
  threshold: number;
  /** Also notify when the alarm returns to OK. */
  notifyOnOk: boolean;
}

/** The two resources. */
export interface MetricFilterAlarm {
  metricFilter: aws.cloudwatch.LogMetricFilter;
  alarm: aws.cloudwatch.MetricAlarm;
}

/**
 * Creates `${name}-filter` (a metric filter counting 1 per matching event, 0 when none) and `${name}-alarm` (Sum over
 * the period at or above the threshold; silence is not breaching), both children of `parent`.
 */
export function metricFilterAlarm(name: string, args: MetricFilterAlarmArgs, parent: pulumi.Resource): MetricFilterAlarm {
  const { logGroupName, alertTopic, filterPattern, metricNamespace, metricName } = args;
  const placed = args.region === undefined ? {} : { region: args.region };
  // An alarm outside the topic's Region has no action of its own: its state changes are forwarded (AlertTopic).
  const topic = alertTopic instanceof AlertTopic ? alertTopic : AlertTopic.ofTopicArn(alertTopic);
  const region = args.region ?? aws.config.region;
  const actions = topic === undefined ? [alertTopic as pulumi.Input<string>] : topic.alarmActionsIn(region);
  const metricFilter = new aws.cloudwatch.LogMetricFilter(
    `${name}-filter`,
    {
      ...placed,
      logGroupName,
      pattern: filterPattern,
      metricTransformation: { namespace: metricNamespace, name: metricName, value: "1", defaultValue: "0" },
    },
    { parent },
  );
  const alarm = new aws.cloudwatch.MetricAlarm(
    `${name}-alarm`,
    {
      ...placed,
      alarmDescription: args.alarmDescription,
      namespace: metricNamespace,
      metricName,
      statistic: "Sum",
      period: args.periodInSeconds,
      evaluationPeriods: args.evaluationPeriods,
      threshold: args.threshold,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      // No matching event in a period means nothing happened, not that data is missing.
      treatMissingData: "notBreaching",
      alarmActions: actions,
      okActions: args.notifyOnOk ? actions : [],
    },
    // The alarm reads the metric the filter publishes.
    { parent, dependsOn: [metricFilter] },
  );
  topic?.forwardAlarm(alarm.arn, region);
  return { metricFilter, alarm };
}

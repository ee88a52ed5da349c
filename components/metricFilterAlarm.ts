/**
 * A metric filter on a log group and an alarm on the metric it publishes, notifying a topic: the machinery under
 * BucketCreationAlarm and SecurityAlarms. Not a component of its own, so that each caller keeps its children (and
 * their names) directly below itself.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

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
  alertTopicArn: pulumi.Input<string>;
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
  const { logGroupName, alertTopicArn, filterPattern, metricNamespace, metricName } = args;
  const metricFilter = new aws.cloudwatch.LogMetricFilter(
    `${name}-filter`,
    {
      logGroupName,
      pattern: filterPattern,
      metricTransformation: { namespace: metricNamespace, name: metricName, value: "1", defaultValue: "0" },
    },
    { parent },
  );
  const alarm = new aws.cloudwatch.MetricAlarm(
    `${name}-alarm`,
    {
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
      alarmActions: [alertTopicArn],
      okActions: args.notifyOnOk ? [alertTopicArn] : [],
    },
    // The alarm reads the metric the filter publishes.
    { parent, dependsOn: [metricFilter] },
  );
  return { metricFilter, alarm };
}

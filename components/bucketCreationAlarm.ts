import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { MAX_FILTER_PATTERN_LENGTH, metricFilterAlarm } from "./metricFilterAlarm";
import { argProblems, isNonEmptyString, wholeNumberIn } from "./validation";

export interface BucketCreationAlarmArgs {
  /** The trail's CloudWatch Logs group, for example `AuditTrail.logGroupName`. */
  logGroupName: pulumi.Input<string>;
  /** Topic that receives the alarm and OK notifications, for example `AlertTopic.topicArn`. */
  alertTopicArn: pulumi.Input<string>;
  /**
   * CloudTrail event names that count, for example `["CreateBucket", "DeleteBucket", "PutBucketPolicy"]`.
   * Mutually exclusive with `filterPattern`.
   * @default ["CreateBucket"], which gives the pattern `{ ($.eventName = "CreateBucket") }`
   */
  eventNames?: string[];
  /**
   * A complete CloudWatch Logs filter pattern, used verbatim instead of one built from `eventNames`.
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
   * @default - built from `eventNames`
   */
  filterPattern?: string;
  /** @default "CloudTrailAlerts" */
  metricNamespace?: string;
  /** @default "BucketCreationEvents" */
  metricName?: string;
  /**
   * Length of one alarm period. CloudWatch alarm windows roll; they cannot anchor to a calendar time.
   * @default 60
   */
  periodInSeconds?: number;
  /** @default 1 */
  evaluationPeriods?: number;
  /** Matching events within one period that set off the alarm. @default 1 */
  threshold?: number;
  /** Also notify when the alarm returns to OK. @default true */
  notifyOnOk?: boolean;
}

/**
 * A CloudWatch Logs metric filter on the trail's log group that counts `CreateBucket` (or the events you choose),
 * and an alarm that notifies the alert topic as soon as one is seen.
 */
export class BucketCreationAlarm extends pulumi.ComponentResource {
  /** The filter pattern deployed on the log group. */
  readonly filterPattern: string;
  readonly metricFilter: aws.cloudwatch.LogMetricFilter;
  readonly alarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: BucketCreationAlarmArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:BucketCreationAlarm", name, {}, opts);
    BucketCreationAlarm.validateArgs(name, args);
    const {
      logGroupName,
      alertTopicArn,
      eventNames = ["CreateBucket"],
      metricNamespace = "CloudTrailAlerts",
      metricName = "BucketCreationEvents",
      periodInSeconds = 60,
      evaluationPeriods = 1,
      threshold = 1,
      notifyOnOk = true,
    } = args;
    this.filterPattern = args.filterPattern ?? eventNamePattern(eventNames);

    const described = args.filterPattern === undefined ? eventNames.join(", ") : `events matching ${this.filterPattern}`;
    const insightsFilter = args.filterPattern === undefined ? ` | filter eventName in ${JSON.stringify(eventNames)}` : "";
    ({ metricFilter: this.metricFilter, alarm: this.alarm } = metricFilterAlarm(
      name,
      {
        logGroupName,
        alertTopicArn,
        filterPattern: this.filterPattern,
        metricNamespace,
        metricName,
        alarmDescription: pulumi.interpolate`CloudTrail recorded ${described} in this account. To see who did it, on which bucket and where, run this CloudWatch Logs Insights query on log group ${logGroupName}: fields eventTime, eventName, userIdentity.arn, awsRegion, requestParameters.bucketName, sourceIPAddress${insightsFilter} | sort eventTime desc`,
        periodInSeconds,
        evaluationPeriods,
        threshold,
        notifyOnOk,
      },
      this,
    ));

    this.registerOutputs({ filterPattern: this.filterPattern, metricFilter: this.metricFilter, alarm: this.alarm });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: BucketCreationAlarmArgs): void {
    const checker = argProblems(`BucketCreationAlarm "${name}"`);
    if (args.eventNames !== undefined && args.filterPattern !== undefined) {
      checker.fail("eventNames and filterPattern are mutually exclusive; give one");
    }
    if (args.eventNames !== undefined && args.eventNames.length === 0) {
      checker.fail("eventNames must name at least one event");
    }
    (args.eventNames ?? []).forEach((eventName, i) =>
      checker.check(`eventNames[${i}]`, eventName, (v: string) => /^[A-Za-z0-9]+$/.test(v), "a CloudTrail event name such as CreateBucket"),
    );
    checker
      .check("filterPattern", args.filterPattern, (v: string) => isNonEmptyString(v) && v.length <= MAX_FILTER_PATTERN_LENGTH, `a non-empty filter pattern of at most ${MAX_FILTER_PATTERN_LENGTH} characters`)
      .check("metricNamespace", args.metricNamespace, (v: string) => /^[^:][^:]{0,254}$/.test(v) && !v.startsWith("AWS/"), "1-255 characters without ':' and not starting with AWS/")
      .check("metricName", args.metricName, (v: string) => v.length >= 1 && v.length <= 255, "1-255 characters")
      .check("periodInSeconds", args.periodInSeconds, (v: number) => Number.isInteger(v) && v >= 60 && v % 60 === 0, "a multiple of 60 seconds")
      .check("evaluationPeriods", args.evaluationPeriods, wholeNumberIn(1, 100), "a whole number from 1 to 100")
      .check("threshold", args.threshold, wholeNumberIn(1, Number.MAX_SAFE_INTEGER), "a whole number >= 1")
      .throwIfAny();
  }
}

/** The metric filter pattern that matches any of `eventNames`: `{ ($.eventName = "A") || ($.eventName = "B") }`. */
export function eventNamePattern(eventNames: string[]): string {
  return `{ ${eventNames.map((eventName) => `($.eventName = "${eventName}")`).join(" || ")} }`;
}

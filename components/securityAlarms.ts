import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { FieldMatcher, RecordPattern } from "../functions/shared/recordPattern";
import { type EventSelection, SECURITY_CONTROL_IDS, SECURITY_CONTROLS, type SecurityControl, type SecurityControlId } from "../functions/shared/securityControls";
import { metricFilterAlarm } from "./metricFilterAlarm";
import { argProblems } from "./validation";

export interface SecurityAlarmsArgs {
  /** The trail's CloudWatch Logs group, for example `AuditTrail.logGroupName`. It must receive management events. */
  logGroupName: pulumi.Input<string>;
  /** Topic the alarms notify, for example `AlertTopic.topicArn`; its policy must let this account's alarms publish. */
  alertTopicArn: pulumi.Input<string>;
  /**
   * Which Security Hub CloudWatch controls to satisfy: `"all"` (CloudWatch.1 to CloudWatch.14) or a list of IDs such
   * as `["CloudWatch.1", "CloudWatch.3"]`. Each takes one of the log group's 100 metric filters.
   * See https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
   */
  controls: "all" | SecurityControlId[];
  /** @default "CloudTrailAlerts" */
  metricNamespace?: string;
  /**
   * Length of one alarm period; the alarm fires on the first matching event of a period.
   * @default 300
   */
  periodInSeconds?: number;
  /**
   * Also notify when an alarm returns to OK (one more message per event, so off by default).
   * @default false
   */
  notifyOnOk?: boolean;
}

/** One control's deployed filter and alarm. */
export interface SecurityAlarm {
  control: SecurityControlId;
  /** The filter pattern on the log group: Security Hub's documented pattern, verbatim. */
  filterPattern: string;
  metricFilter: aws.cloudwatch.LogMetricFilter;
  alarm: aws.cloudwatch.MetricAlarm;
}

/**
 * The CIS AWS Foundations monitoring controls that AWS Security Hub checks as CloudWatch.1 to CloudWatch.14: for each
 * chosen control, a metric filter with the exact pattern Security Hub's documentation prescribes on the trail's log
 * group and an alarm that notifies the alert topic on the first match. Security Hub passes such a control when the
 * filter, the alarm and a topic with a subscriber exist. Each alarm's description says what happened, what to do, and
 * which UserActivityNotifier preset tells who did it (functions/shared/securityControls.ts holds both).
 */
export class SecurityAlarms extends pulumi.ComponentResource {
  /** The controls deployed, in Security Hub's order. */
  readonly controls: SecurityControlId[];
  /** Filter and alarm per control. */
  readonly alarms: Record<string, SecurityAlarm> = {};

  constructor(name: string, args: SecurityAlarmsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:SecurityAlarms", name, {}, opts);
    SecurityAlarms.validateArgs(name, args);
    const { logGroupName, alertTopicArn, metricNamespace = "CloudTrailAlerts", periodInSeconds = 300, notifyOnOk = false } = args;
    this.controls = SecurityAlarms.controlsOf(args.controls);

    for (const control of SECURITY_CONTROLS.filter((c) => this.controls.includes(c.id))) {
      const { metricFilter, alarm } = metricFilterAlarm(
        `${name}-${control.id.toLowerCase().replace(".", "-")}`,
        {
          logGroupName,
          alertTopicArn,
          filterPattern: control.filterPattern,
          metricNamespace,
          metricName: control.metricName,
          alarmDescription: pulumi.output(logGroupName).apply((group) => securityAlarmDescription(control, group)),
          periodInSeconds,
          evaluationPeriods: 1,
          threshold: 1,
          notifyOnOk,
        },
        this,
      );
      this.alarms[control.id] = { control: control.id, filterPattern: control.filterPattern, metricFilter, alarm };
    }

    this.registerOutputs({ controls: this.controls, alarms: this.alarms });
  }

  /** The control IDs `controls` names, in Security Hub's order. */
  static controlsOf(controls: "all" | readonly SecurityControlId[]): SecurityControlId[] {
    return SECURITY_CONTROL_IDS.filter((id) => controls === "all" || controls.includes(id));
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: SecurityAlarmsArgs): void {
    const checker = argProblems(`SecurityAlarms "${name}"`);
    const controls = args.controls as unknown;
    if (controls !== "all") {
      if (!Array.isArray(controls) || controls.length === 0) {
        checker.fail(`controls must be "all" or a non-empty list of control IDs (${SECURITY_CONTROL_IDS[0]} to ${SECURITY_CONTROL_IDS[SECURITY_CONTROL_IDS.length - 1]}), got ${JSON.stringify(controls)}`);
      } else {
        controls.forEach((id: unknown, i) => {
          checker.check(`controls[${i}]`, id, (v: string) => (SECURITY_CONTROL_IDS as readonly string[]).includes(v), `a Security Hub control ID such as CloudWatch.1 (${SECURITY_CONTROL_IDS.join(", ")})`);
          if (controls.indexOf(id) !== i) {
            checker.fail(`controls[${i}] ${JSON.stringify(id)} is listed twice (also controls[${controls.indexOf(id)}]); remove one`);
          }
        });
      }
    }
    checker
      .check("metricNamespace", args.metricNamespace, (v: string) => /^[^:][^:]{0,254}$/.test(v) && !v.startsWith("AWS/"), "1-255 characters without ':' and not starting with AWS/")
      .check("periodInSeconds", args.periodInSeconds, (v: number) => Number.isInteger(v) && v >= 60 && v % 60 === 0 && v <= 86_400, "a multiple of 60 seconds, at most 86400")
      .check("notifyOnOk", args.notifyOnOk, (v: unknown) => typeof v === "boolean", "true or false")
      .throwIfAny();
  }
}

/** The metric filters one SecurityAlarms takes of the 100 a log group may have (MAX_METRIC_FILTERS_PER_LOG_GROUP). */
export function securityAlarmFilterCount(controls: "all" | readonly SecurityControlId[]): number {
  return SecurityAlarms.controlsOf(controls).length;
}

/** A field path as Logs Insights writes it. */
function insightsField(path: readonly string[]): string {
  return path.join(".");
}

/** Text as a literal inside a Logs Insights regular expression. */
function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** One accepted value of a field as a Logs Insights condition. */
function insightsCondition(field: string, matcher: FieldMatcher): string {
  if (typeof matcher !== "object" || matcher === null) {
    return `${field} = ${JSON.stringify(matcher)}`;
  }
  if ("prefix" in matcher) return `${field} like /^${regexLiteral(matcher.prefix)}/`;
  if ("suffix" in matcher) return `${field} like /${regexLiteral(matcher.suffix)}$/`;
  if ("exists" in matcher) return matcher.exists ? `ispresent(${field})` : `not ispresent(${field})`;
  return `${field} != ${JSON.stringify(matcher["anything-but"])}`;
}

/** The record pattern's leaf conditions as Logs Insights conditions (alternatives of one field joined by `or`). */
function insightsConditions(pattern: RecordPattern, path: string[] = []): string[] {
  return Object.entries(pattern).flatMap(([key, value]) => {
    if (value === undefined || key === "$or") return [];
    if (Array.isArray(value)) {
      const alternatives = (value as FieldMatcher[]).map((matcher) => insightsCondition(insightsField([...path, key]), matcher));
      return [alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(" or ")})`];
    }
    return insightsConditions(value, [...path, key]);
  });
}

/** A CloudWatch Logs Insights query that lists who made the calls the selection describes. */
export function securityInsightsQuery(selection: EventSelection): string {
  const conditions = [
    ...(selection.eventSources === undefined ? [] : [`eventSource in ${JSON.stringify(selection.eventSources)}`]),
    ...(selection.eventNames === undefined ? [] : [`eventName in ${JSON.stringify(selection.eventNames)}`]),
    ...insightsConditions(selection.match ?? {}),
  ];
  return `fields eventTime, userIdentity.arn, eventName, sourceIPAddress${conditions.length === 0 ? "" : ` | filter ${conditions.join(" and ")}`} | sort eventTime desc`;
}

/**
 * The alarm description: the control, what a match means, what to do, the notifier preset that says who did it, and
 * a Logs Insights query on the log group that lists the calls. At most 1,024 characters (CloudWatch's limit): the query
 * is left out when it does not fit.
 */
export function securityAlarmDescription(control: SecurityControl, logGroupName: string): string {
  const head = `Security Hub ${control.id} (CIS): ${control.meaning} What to do: ${control.whatToDo} Who did it: the UserActivityNotifier preset "${control.preset.name}" sends a readable message per call (docs/securityAlarms.md).`;
  const withQuery = `${head} Or query log group ${logGroupName} in Logs Insights: ${securityInsightsQuery(control.preset.selection)}`;
  return withQuery.length <= 1024 ? withQuery : head;
}

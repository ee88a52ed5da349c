import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic } from "./alertTopic";
import { awsEnvironment } from "./awsEnvironment";
import { dashboardBody, type DashboardSpec } from "./dashboardBody";
import type { DownloadThresholdAlert } from "./downloadThresholdAlert";
import type { DeliveredRuleTarget } from "./eventSources";
import type { LogSubscriptionDispatcher } from "./logSubscriptionDispatcher";
import type { SecureCallbackFunction } from "./secureCallbackFunction";
import type { TrailBackfill } from "./trailBackfill";
import type { UserActivityNotifier } from "./userActivityNotifier";
import { argProblems } from "./validation";

export { dashboardBody, type DashboardFunction, type DashboardMetric, type DashboardSpec, type DashboardWidget, MAX_WATCH_GRAPHS } from "./dashboardBody";

export interface OperationsDashboardArgs {
  /** The topic every alert and alarm goes to: its messages published and deliveries failed. */
  alertTopic: AlertTopic;
  /** Downloads counted per watch against its threshold, alerts sent. @default - none */
  downloadAlerts?: DownloadThresholdAlert[];
  /** Notifications sent and skipped (sent before). @default - none */
  notifiers?: UserActivityNotifier[];
  /** The dispatchers sharing a log group's subscription: their errors, rejected input and dead letters. @default - none */
  dispatchers?: LogSubscriptionDispatcher[];
  /** Backfill pairs done and failed, events written. @default - none */
  backfill?: TrailBackfill;
  /**
   * The dashboard's name (letters, digits, `-` and `_`, at most 255).
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
   * @default - `${project}-${stack}`
   */
  dashboardName?: string;
}

/** A dead-letter queue and what it holds, by name and Region (from its ARN). */
function queueOf(label: string, queue: { name: pulumi.Output<string>; arn: pulumi.Output<string> }): pulumi.Output<DashboardSpec["queues"][number]> {
  return pulumi.all([queue.name, queue.arn]).apply(([queueName, arn]) => ({ label, queueName, region: arn.split(":")[3] }));
}

/** The name a component was given (the last part of its URN), which labels its lines. */
function nameOf(component: pulumi.Resource): pulumi.Output<string> {
  return component.urn.apply((urn) => urn.split("::").at(-1) ?? urn);
}

/** A function of the stack, labelled with the component it serves. */
function functionOf(component: pulumi.Resource, fn: SecureCallbackFunction): pulumi.Output<DashboardSpec["functions"][number]> {
  return pulumi.all([nameOf(component), fn.functionName]).apply(([label, functionName]) => ({ label, functionName, countsRejectedInput: fn.rejectedInputAlarm !== undefined }));
}

/**
 * A CloudWatch dashboard of the stack: downloads counted per watch against its threshold, alerts and notifications
 * sent, rejected input, dead-letter queue depth (in every Region), errors and throttles per function, backfill pairs
 * done and failed and events written. Every metric is one a handler writes (namespace `CloudTrailAlerts`, see
 * `simulation/handlerMetrics.ts`) or AWS publishes for the stack's resources; `tests/components/operationsDashboard.test.ts`
 * checks both. Create it after the components it shows. See docs/operations.md#the-dashboard.
 */
export class OperationsDashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardName: pulumi.Output<string>;
  /** What the dashboard shows, by name (the input of {@link dashboardBody}). */
  readonly spec: pulumi.Output<DashboardSpec>;

  constructor(name: string, args: OperationsDashboardArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:OperationsDashboard", name, {}, opts);
    OperationsDashboard.validateArgs(name, args);
    const { alertTopic, downloadAlerts = [], notifiers = [], dispatchers = [], backfill } = args;
    const dashboardName = args.dashboardName ?? `${pulumi.getProject()}-${pulumi.getStack()}`;
    const env = awsEnvironment(this);

    const served: Array<[pulumi.Resource, SecureCallbackFunction]> = [
      ...downloadAlerts.map((d): [pulumi.Resource, SecureCallbackFunction] => [d, d.handler]),
      ...notifiers.map((n): [pulumi.Resource, SecureCallbackFunction] => [n, n.handler]),
      ...dispatchers.map((d): [pulumi.Resource, SecureCallbackFunction] => [d, d.handler]),
      ...(backfill === undefined ? [] : [[backfill, backfill.function] as [pulumi.Resource, SecureCallbackFunction]]),
    ];
    const functions = served.map(([component, fn]) => functionOf(component, fn));
    const functionQueues = served.flatMap(([component, fn]) => (fn.deadLetterQueue === undefined ? [] : [nameOf(component).apply((label) => queueOf(`failed events: ${label}`, fn.deadLetterQueue!))]));
    const ruleTargets: Array<[string, DeliveredRuleTarget]> = [
      ...downloadAlerts.flatMap((d): Array<[string, DeliveredRuleTarget]> => (d.ruleTarget === undefined ? [] : [["undelivered downloads", d.ruleTarget]])),
      ...notifiers.flatMap((n) => Object.entries(n.ruleTargets).map(([region, target]): [string, DeliveredRuleTarget] => [`undelivered activity events (${region})`, target])),
      ...alertTopic.alarmForwardings.flatMap((f): Array<[string, DeliveredRuleTarget]> => [
        ["undelivered alarm forwards", f.forwardTarget],
        ["undelivered forwarded alarms", f.notifyTarget],
      ]),
    ];
    const queues = [...functionQueues, ...ruleTargets.map(([label, target]) => queueOf(label, target.deadLetterQueue))];

    const backfillNames = backfill === undefined ? pulumi.output(undefined) : pulumi.all([backfill.function.functionName, backfill.stateMachineArn]).apply(([functionName, stateMachineArn]) => ({ functionName, stateMachineArn }));
    this.spec = pulumi
      .all([
        env.region,
        alertTopic.topicArn,
        pulumi.all(functions),
        pulumi.all(queues),
        pulumi.all(downloadAlerts.map((d) => d.functionName.apply((functionName) => ({ functionName, watches: d.watches })))),
        pulumi.all(notifiers.map((n) => pulumi.all([nameOf(n), n.functionName]).apply(([label, functionName]) => ({ label, functionName })))),
        backfillNames,
      ])
      .apply(
        ([region, topicArn, fns, qs, downloads, notifierNames, backfillSpec]): DashboardSpec => ({
          title: `${pulumi.getProject()} (stack ${pulumi.getStack()})`,
          region,
          alertTopicName: topicArn.split(":")[5],
          downloads,
          notifiers: notifierNames,
          functions: fns,
          queues: qs,
          ...(backfillSpec === undefined ? {} : { backfill: backfillSpec }),
        }),
      );

    this.dashboard = new aws.cloudwatch.Dashboard(name, { dashboardName, dashboardBody: this.spec.apply((spec) => JSON.stringify(dashboardBody(spec))) }, { parent: this });
    this.dashboardName = this.dashboard.dashboardName;
    this.registerOutputs({ dashboard: this.dashboard, dashboardName: this.dashboardName, spec: this.spec });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: OperationsDashboardArgs): void {
    const checker = argProblems(`OperationsDashboard "${name}"`);
    checker.check("dashboardName", args.dashboardName, (v: string) => /^[A-Za-z0-9_-]{1,255}$/.test(v), "1-255 letters, digits, '-' and '_'");
    if (!(args.alertTopic instanceof AlertTopic)) {
      checker.fail("alertTopic must be an AlertTopic");
    }
    checker.throwIfAny();
  }
}

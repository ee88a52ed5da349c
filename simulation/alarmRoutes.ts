/**
 * Where each CloudWatch alarm of a stack notifies, followed through the stack's own resources: its alarm actions in
 * its Region, or the `CloudWatch Alarm State Change` event it raises on its Region's default event bus, matched by
 * the stack's rules (with the event pattern evaluator), forwarded across Regions by event-bus targets and published
 * by an SNS target. A route counts only where the topic policy lets that rule publish (EventBridge for the rule's ARN)
 * and every forwarding target has a role.
 */
import type { RecordedResource } from "../preview/mockCloud";
import { matchesEventPattern } from "./eventPattern";

/** How one alarm reaches a topic, or that it reaches none. */
export interface AlarmRoute {
  /** The alarm's Pulumi name. */
  alarm: string;
  region: string;
  /** The topics it reaches. */
  topics: string[];
  /** How, for example `alarm action` or `rule a (us-east-1) -> bus ap-northeast-1 -> rule b -> topic`. */
  via: string[];
}

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const RULE = "aws:cloudwatch/eventRule:EventRule";
const TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy";

/** The event CloudWatch puts on the default bus of the alarm's Region when it goes into ALARM. */
export function alarmStateChangeEvent(alarm: RecordedResource): Record<string, unknown> {
  const arn = String(alarm.state.arn);
  const [, , , region, account] = arn.split(":");
  return {
    version: "0",
    id: "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    account,
    time: "2025-01-01T00:00:00Z",
    region,
    resources: [arn],
    detail: {
      alarmName: alarm.state.name,
      state: { value: "ALARM", reason: "Threshold Crossed", timestamp: "2025-01-01T00:00:00.000+0000" },
      previousState: { value: "OK", reason: "", timestamp: "2024-12-31T00:00:00.000+0000" },
      configuration: { description: alarm.inputs.alarmDescription, metrics: [] },
    },
  };
}

/** True when the topic policy for `topicArn` lets EventBridge publish for `ruleArn`. */
function topicAdmitsRule(resources: RecordedResource[], topicArn: string, ruleArn: string): boolean {
  const policy = resources.find((r) => r.type === TOPIC_POLICY && r.inputs.arn === topicArn);
  if (policy === undefined) {
    return false;
  }
  const statements = (JSON.parse(String(policy.inputs.policy)) as { Statement: Array<Record<string, unknown>> }).Statement;
  return statements.some((s) => {
    const sourceArns = (s.Condition as { ArnEquals?: Record<string, unknown> } | undefined)?.ArnEquals?.["aws:SourceArn"];
    const listed = Array.isArray(sourceArns) ? sourceArns : [sourceArns];
    return s.Effect === "Allow" && (s.Principal as { Service?: unknown } | undefined)?.Service === "events.amazonaws.com" && s.Action === "sns:Publish" && listed.includes(ruleArn);
  });
}

/** Follows `event` on the default bus of `region`: every rule that matches it, every target of those rules. */
function follow(resources: RecordedResource[], event: Record<string, unknown>, region: string, path: string, hops: number, found: AlarmRoute): void {
  if (hops > 3) {
    return;
  }
  const rules = resources.filter((r) => r.type === RULE && r.placement?.region === region && (r.inputs.eventBusName === undefined || r.inputs.eventBusName === "default"));
  for (const rule of rules) {
    if (typeof rule.inputs.eventPattern !== "string" || !matchesEventPattern(JSON.parse(rule.inputs.eventPattern) as Record<string, unknown>, event)) {
      continue;
    }
    const targets = resources.filter((t) => t.type === TARGET && t.inputs.rule === rule.state.name && t.placement?.region === region);
    for (const target of targets) {
      const arn = String(target.inputs.arn);
      const step = `${path} -> rule ${rule.name} (${region})`;
      if (/^arn:aws[\w-]*:events:[^:]+:\d{12}:event-bus\/default$/.test(arn) && typeof target.inputs.roleArn === "string") {
        follow(resources, event, arn.split(":")[3], `${step} -> default bus of ${arn.split(":")[3]}`, hops + 1, found);
      } else if (/^arn:aws[\w-]*:sns:/.test(arn) && topicAdmitsRule(resources, arn, String(rule.state.arn))) {
        found.topics.push(arn);
        found.via.push(`${step} -> topic`);
      }
    }
  }
}

/** The route of every alarm among `resources`. */
export function alarmRoutes(resources: RecordedResource[]): AlarmRoute[] {
  return resources
    .filter((r) => r.type === ALARM)
    .map((alarm) => {
      const region = String(alarm.state.arn).split(":")[3];
      const route: AlarmRoute = { alarm: alarm.name, region, topics: [], via: [] };
      for (const action of (alarm.inputs.alarmActions as string[] | undefined) ?? []) {
        if (/^arn:aws[\w-]*:sns:/.test(action) && action.split(":")[3] === region) {
          route.topics.push(action);
          route.via.push("alarm action");
        }
      }
      follow(resources, alarmStateChangeEvent(alarm), region, "state change", 0, route);
      return route;
    });
}

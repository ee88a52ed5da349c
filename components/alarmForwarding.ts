import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { AlertTopic } from "./alertTopic";
import { awsEnvironment } from "./awsEnvironment";
import { Contributions } from "./contributions";
import { type DeliveredRuleTarget, EventRuleSource } from "./eventSources";
import { policyDocument } from "./policy";

/** The EventBridge event CloudWatch sends when an alarm changes state. See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html */
export const ALARM_STATE_CHANGE = { source: "aws.cloudwatch", detailType: "CloudWatch Alarm State Change" } as const;

/**
 * Longest name of a forwarding (`${topic}-alarms-${region}`): its children add `-notify` and Pulumi's 8-character
 * suffix, and AWS limits rule and role names to 64 characters.
 */
export const MAX_ALARM_FORWARDING_NAME_LENGTH = 49;

/**
 * The readable text an alarm state change becomes on the alert topic (an EventBridge input transformer): which alarm,
 * where, since when, what it means (the alarm's own description, which says what to do) and CloudWatch's reason.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
export const ALARM_NOTIFICATION = {
  inputPaths: {
    alarm: "$.detail.alarmName",
    state: "$.detail.state.value",
    reason: "$.detail.state.reason",
    description: "$.detail.configuration.description",
    region: "$.region",
    account: "$.account",
    time: "$.time",
  },
  inputTemplate: '"CloudWatch alarm <alarm> in <region> (account <account>) is in state <state> since <time> (UTC), forwarded to this topic from its Region. <description> Reason: <reason>"',
};

export interface AlarmForwardingArgs {
  /** The topic the alarms notify. */
  alertTopic: AlertTopic;
  /** The Region of the alarms (not the topic's). */
  region: string;
  /** The topic's Region, where the forwarded state changes are published to it. */
  homeRegion: string;
}

/**
 * Makes the CloudWatch alarms of one Region notify the alert topic in another. An alarm can notify only a topic in its
 * own Region, so the alarms added here have no action of their own; instead:
 *
 * - in their Region, a rule on the default event bus matches their `CloudWatch Alarm State Change` events into ALARM
 *   and forwards them to the topic Region's default bus, through a role that may only `events:PutEvents` there;
 * - in the topic's Region, a rule matches those forwarded events (by Region and alarm ARN) and publishes each to the
 *   topic as a readable text ({@link ALARM_NOTIFICATION}); the topic's policy admits EventBridge for that rule only, and
 *   its key lets EventBridge encrypt (see `AlertTopic`).
 *
 * Both targets have EventBridge's retry policy and a dead-letter queue in their rule's Region. The home queue's alarm
 * notifies the topic directly. The forwarding queue's alarm is forwarded like the others: it reaches the topic when
 * forwarding works again (an event that could not be forwarded for 24 hours stays in that queue for 14 days).
 *
 * Created by {@link AlertTopic.forwardAlarm}, one per Region, as a child of the topic.
 */
export class AlarmForwarding extends pulumi.ComponentResource {
  /** The rule in the alarms' Region that forwards their state changes. */
  readonly forwardRule: aws.cloudwatch.EventRule;
  /** The rule in the topic's Region that publishes them to the topic. */
  readonly notifyRule: aws.cloudwatch.EventRule;
  readonly forwardTarget: DeliveredRuleTarget;
  readonly notifyTarget: DeliveredRuleTarget;
  /** ARNs of the alarms forwarded, the forwarding queue's own alarm included; resolves after construction. */
  readonly alarmArns: pulumi.Output<string[]>;

  private readonly alarms: Contributions<string>;

  constructor(name: string, args: AlarmForwardingArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:AlarmForwarding", name, {}, opts);
    const { alertTopic, region, homeRegion } = args;
    if (region === homeRegion) {
      throw new Error(`AlarmForwarding "${name}": the alarms are in the topic's Region ${region}; they notify it directly`);
    }
    this.alarms = new Contributions<string>(`AlarmForwarding "${name}" alarms`);
    this.alarmArns = this.alarms.all.apply((arns) => [...arns].sort());
    const child = { parent: this };
    const env = awsEnvironment(this);
    // The home rule's target must be the topic's Region: a rule targets only a topic in its own Region.
    alertTopic.topicArn.apply((arn) => {
      const topicRegion = arn.split(":")[3];
      if (topicRegion !== homeRegion) {
        throw new Error(`AlarmForwarding "${name}": the alert topic ${arn} is in ${topicRegion}, not in ${homeRegion}; alarms of ${region} would be forwarded to the wrong Region`);
      }
    });

    const ownAlarmName = `${pulumi.getProject()}-${pulumi.getStack()}-${name}-undelivered`;
    const forward = new EventRuleSource(name, { region, description: `Forwards the state changes into ALARM of cloudtrail-alerts alarms in ${region} to ${homeRegion}`, eventPattern: this.pattern({}), state: "ENABLED" }, child);
    this.forwardRule = forward.rule;
    const homeBus = aws.cloudwatch.getEventBusOutput({ name: "default", region: homeRegion }, child);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Lets the rule ${name} forward alarm state changes from ${region} to the default bus in ${homeRegion}`,
        // Only EventBridge, acting for exactly this rule of this account, may assume it (confused-deputy protection).
        assumeRolePolicy: policyDocument([
          {
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": env.accountId }, ArnEquals: { "aws:SourceArn": this.forwardRule.arn } },
          },
        ]),
      },
      child,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.id, policy: policyDocument([{ Sid: "ForwardToHomeBus", Effect: "Allow", Action: "events:PutEvents", Resource: homeBus.arn }]) },
      child,
    );
    this.forwardTarget = forward.forward(
      { arn: homeBus.arn, roleArn: role.arn },
      { purpose: `forwards alarm state changes of ${region} to ${homeRegion}`, names: { target: `${name}-target`, deadLetters: `${name}-undelivered`, deadLettersAlarmName: ownAlarmName } },
      // EventBridge assumes the role on the first forwarded event: its permission must be in place.
      { dependsOn: [rolePolicy] },
    );
    // Its queue's alarm is in this Region too: it travels the same way. Its ARN is composed from its fixed name, as the
    // rule's pattern needs it before the alarm exists (the alarm's description names the rule).
    this.alarms.add(pulumi.interpolate`arn:${env.partition}:cloudwatch:${region}:${env.accountId}:alarm:${ownAlarmName}`);

    // The forwarded events keep the Region they happened in.
    const notify = new EventRuleSource(`${name}-notify`, { region: homeRegion, description: `Publishes the alarm state changes forwarded from ${region} to the alert topic`, eventPattern: this.pattern({ region: [region] }), state: "ENABLED" }, child);
    this.notifyRule = notify.rule;
    this.notifyTarget = notify.publishTo(alertTopic, {
      purpose: `publishes alarm state changes forwarded from ${region} to the alert topic`,
      alertTopic,
      names: { target: `${name}-notify-target`, deadLetters: `${name}-notify-undelivered` },
      inputTransformer: ALARM_NOTIFICATION,
    });

    this.registerOutputs({ forwardRule: this.forwardRule, notifyRule: this.notifyRule, forwardTarget: this.forwardTarget, notifyTarget: this.notifyTarget, alarmArns: this.alarmArns });
  }

  /** Forwards the state changes of `alarmArn` (an alarm in this forwarding's Region); call it while constructing resources. */
  add(alarmArn: pulumi.Input<string>): void {
    this.alarms.add(alarmArn);
  }

  /** The event pattern of the forwarded alarms' state changes into ALARM, with `extra` fields. */
  private pattern(extra: Record<string, unknown>): pulumi.Output<string> {
    return this.alarmArns.apply((arns) =>
      JSON.stringify({ source: [ALARM_STATE_CHANGE.source], "detail-type": [ALARM_STATE_CHANGE.detailType], ...extra, resources: arns, detail: { state: { value: ["ALARM"] } } }),
    );
  }
}

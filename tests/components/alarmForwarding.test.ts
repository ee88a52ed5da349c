import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { ALARM_NOTIFICATION, AlarmForwarding, alarmToTopic, AlertTopic, MAX_ALARM_FORWARDING_NAME_LENGTH } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { alarmRoutes, alarmStateChangeEvent } from "../../simulation/alarmRoutes";
import { matchesEventPattern } from "../../simulation/eventPattern";
import { offlineEngine, policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const HOME = "ap-northeast-1";
const REMOTE = "us-east-1";
const typeAndName = (resources: RecordedResource[]) => resources.map((r) => `${r.type} ${r.name}`).sort();
const host = (name: string) => new pulumi.ComponentResource("test:index:Host", name);
/** A queue-depth alarm like the project's, in `region`, notifying `topic`. */
const queueAlarm = (name: string, topic: AlertTopic, parent: pulumi.Resource, region?: string) =>
  alarmToTopic(
    name,
    { ...(region === undefined ? {} : { region }), alarmDescription: `${name} has messages`, namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: name }, statistic: "Maximum", period: 300 },
    topic,
    { parent },
  );

describe("AlarmForwarding", () => {
  describe("two alarms of us-east-1 and one of the topic's Region", () => {
    let topic: AlertTopic;
    let parent: pulumi.ComponentResource;
    let remote: aws.cloudwatch.MetricAlarm[];
    let local: aws.cloudwatch.MetricAlarm;
    let forwarding: RecordedResource[];
    let everything: RecordedResource[];

    before(async () => {
      topic = new AlertTopic("af-topic", {});
      parent = host("af-host");
      remote = [queueAlarm("af-remote-a", topic, parent, REMOTE), queueAlarm("af-remote-b", topic, parent, REMOTE)];
      local = queueAlarm("af-local", topic, parent, HOME);
      const topicResources = await resourcesOf(topic);
      const forwardingComponent = topicResources.find((r) => r.type === "cloudtrail-alerts:index:AlarmForwarding")!;
      forwarding = offlineEngine().cloud.descendantsOf(forwardingComponent.urn);
      everything = [...topicResources, ...(await resourcesOf(parent))];
    });

    it("creates one forwarding for the Region, as a child of the topic: a rule, role and target there, a rule and target at home, a dead-letter queue each", async () => {
      const topicResources = await resourcesOf(topic);
      expect(topicResources.filter((r) => r.type === "cloudtrail-alerts:index:AlarmForwarding").map((r) => r.name)).to.deep.equal([`af-topic-alarms-${REMOTE}`]);
      expect(typeAndName(forwarding)).to.deep.equal([
        `aws:cloudwatch/eventRule:EventRule af-topic-alarms-${REMOTE}`,
        `aws:cloudwatch/eventRule:EventRule af-topic-alarms-${REMOTE}-notify`,
        `aws:cloudwatch/eventTarget:EventTarget af-topic-alarms-${REMOTE}-notify-target`,
        `aws:cloudwatch/eventTarget:EventTarget af-topic-alarms-${REMOTE}-target`,
        `aws:cloudwatch/metricAlarm:MetricAlarm af-topic-alarms-${REMOTE}-notify-undelivered`,
        `aws:cloudwatch/metricAlarm:MetricAlarm af-topic-alarms-${REMOTE}-undelivered`,
        `aws:iam/role:Role af-topic-alarms-${REMOTE}-role`,
        `aws:iam/rolePolicy:RolePolicy af-topic-alarms-${REMOTE}-policy`,
        `aws:sqs/queue:Queue af-topic-alarms-${REMOTE}-notify-undelivered`,
        `aws:sqs/queue:Queue af-topic-alarms-${REMOTE}-undelivered`,
        `aws:sqs/queuePolicy:QueuePolicy af-topic-alarms-${REMOTE}-notify-undelivered`,
        `aws:sqs/queuePolicy:QueuePolicy af-topic-alarms-${REMOTE}-undelivered`,
      ]);
      const regionOf = (name: string) => forwarding.find((r) => r.name === name)!.placement?.region;
      expect(regionOf(`af-topic-alarms-${REMOTE}`)).to.equal(REMOTE);
      expect(regionOf(`af-topic-alarms-${REMOTE}-target`)).to.equal(REMOTE);
      expect(regionOf(`af-topic-alarms-${REMOTE}-notify`)).to.equal(HOME);
      expect(regionOf(`af-topic-alarms-${REMOTE}-notify-target`)).to.equal(HOME);
    });

    it("gives alarms outside the topic's Region no action of their own, and the topic's own Region's alarm the topic", async () => {
      const topicArn = await valueOf(topic.topicArn);
      expect(await Promise.all(remote.map((a) => valueOf(a.alarmActions)))).to.deep.equal([[], []]);
      expect(await valueOf(local.alarmActions)).to.deep.equal([topicArn]);
      expect(topic.alarmActionsIn(REMOTE)).to.deep.equal([]);
      expect(topic.alarmActionsIn(undefined)).to.have.length(1);
    });

    it("forwards the state changes into ALARM of exactly the forwarded alarms (its own queue's included) to the home bus", async () => {
      const rule = single(forwarding, "aws:cloudwatch/eventRule:EventRule", `af-topic-alarms-${REMOTE}`);
      const ownAlarm = single(forwarding, "aws:cloudwatch/metricAlarm:MetricAlarm", `af-topic-alarms-${REMOTE}-undelivered`);
      const arns = [...(await Promise.all(remote.map((a) => valueOf(a.arn)))), String(ownAlarm.state.arn)].sort();
      expect(ownAlarm.inputs.name).to.equal(`cloudtrail-alerts-dev-af-topic-alarms-${REMOTE}-undelivered`);
      expect(JSON.parse(String(rule.inputs.eventPattern))).to.deep.equal({
        source: ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        resources: arns,
        detail: { state: { value: ["ALARM"] } },
      });
      const target = single(forwarding, "aws:cloudwatch/eventTarget:EventTarget", `af-topic-alarms-${REMOTE}-target`);
      expect(target.inputs).to.deep.include({ arn: `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default`, roleArn: single(forwarding, "aws:iam/role:Role").state.arn });
      expect(policyOf(single(forwarding, "aws:iam/rolePolicy:RolePolicy")).Statement).to.deep.equal([
        { Sid: "ForwardToHomeBus", Effect: "Allow", Action: "events:PutEvents", Resource: `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default` },
      ]);
      expect(policyOf(single(forwarding, "aws:iam/role:Role"), "assumeRolePolicy").Statement).to.deep.equal([
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnEquals: { "aws:SourceArn": rule.state.arn } },
        },
      ]);
    });

    it("publishes only the forwarded state changes of its Region to the topic, as readable text", async () => {
      const rule = single(forwarding, "aws:cloudwatch/eventRule:EventRule", `af-topic-alarms-${REMOTE}-notify`);
      const pattern = JSON.parse(String(rule.inputs.eventPattern)) as Record<string, unknown>;
      const alarm = (name: string) => everything.find((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name === name)!;
      expect(pattern.region).to.deep.equal([REMOTE]);
      expect(matchesEventPattern(pattern, alarmStateChangeEvent(alarm("af-remote-a")))).to.equal(true);
      // The home Region's alarm notifies by its action; its state change must not notify a second time.
      expect(matchesEventPattern(pattern, alarmStateChangeEvent(alarm("af-local")))).to.equal(false);
      const back = { ...alarmStateChangeEvent(alarm("af-remote-a")), detail: { state: { value: "OK" } } };
      expect(matchesEventPattern(pattern, back)).to.equal(false);
      expect(single(forwarding, "aws:cloudwatch/eventTarget:EventTarget", `af-topic-alarms-${REMOTE}-notify-target`).inputs).to.deep.include({
        arn: await valueOf(topic.topicArn),
        inputTransformer: ALARM_NOTIFICATION,
      });
    });

    it("lets EventBridge publish for the home rule only, and encrypt with the topic's key for this account's rules", async () => {
      const topicResources = await resourcesOf(topic);
      const rule = single(forwarding, "aws:cloudwatch/eventRule:EventRule", `af-topic-alarms-${REMOTE}-notify`);
      const topicArn = await valueOf(topic.topicArn);
      const statements = policyOf(single(topicResources, "aws:sns/topicPolicy:TopicPolicy")).Statement;
      expect(statements.find((s) => s.Sid === "AllowForwardedAlarms")).to.deep.equal({
        Sid: "AllowForwardedAlarms",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": [rule.state.arn] } },
      });
      expect(policyOf(single(topicResources, "aws:kms/key:Key")).Statement.find((s) => s.Sid === "AllowThisAccountsRulesToEncrypt")).to.deep.equal({
        Sid: "AllowThisAccountsRulesToEncrypt",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:events:${HOME}:${ACCOUNT}:rule/*` } },
      });
    });

    it("makes every alarm, the forwarding's own included, reach the topic exactly once", async () => {
      const topicArn = await valueOf(topic.topicArn);
      const routes = alarmRoutes(everything);
      expect(routes.map((r) => [r.alarm, r.topics]).sort()).to.deep.equal(
        [
          ["af-local", [topicArn]],
          ["af-remote-a", [topicArn]],
          ["af-remote-b", [topicArn]],
          [`af-topic-alarms-${REMOTE}-notify-undelivered`, [topicArn]],
          [`af-topic-alarms-${REMOTE}-undelivered`, [topicArn]],
        ].sort(),
      );
      expect(routes.find((r) => r.alarm === "af-local")!.via).to.deep.equal(["alarm action"]);
    });
  });

  it("refuses alarms of the topic's own Region, and names too long for AWS", () => {
    const topic = new AlertTopic("af-refuse", {});
    expect(() => new AlarmForwarding("af-refuse-x", { alertTopic: topic, region: HOME, homeRegion: HOME })).to.throw(`AlarmForwarding "af-refuse-x": the alarms are in the topic's Region ${HOME}; they notify it directly`);
    const long = new AlertTopic("af-a-topic-name-that-is-far-too-long-for", {});
    expect(MAX_ALARM_FORWARDING_NAME_LENGTH).to.equal(49);
    expect(() => long.forwardAlarm("arn:aws:cloudwatch:us-east-1:111111111111:alarm:x", "ap-southeast-1")).to.throw(
      'AlertTopic "af-a-topic-name-that-is-far-too-long-for": forwarding alarms of ap-southeast-1 needs names of at most 49 characters',
    );
  });

  it("does nothing for an alarm of the topic's Region", async () => {
    const topic = new AlertTopic("af-home", {});
    topic.forwardAlarm("arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:x", HOME);
    topic.forwardAlarm("arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:y");
    expect((await resourcesOf(topic)).filter((r) => r.type === "cloudtrail-alerts:index:AlarmForwarding")).to.deep.equal([]);
  });

  it("warns that an adopted topic's policy and key must admit the rule that publishes forwarded alarms", async () => {
    // Prepare
    const warnings: string[] = [];
    const original = pulumi.log.warn;
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (message: string) => {
      warnings.push(message);
      return Promise.resolve();
    };

    // Act
    try {
      const topic = new AlertTopic("af-adopted", { existingTopicArn: `arn:aws:sns:${HOME}:${ACCOUNT}:org-alerts` });
      const parent = host("af-adopted-host");
      queueAlarm("af-adopted-remote", topic, parent, REMOTE);
      await resourcesOf(topic);
      await resourcesOf(parent);
    } finally {
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
    }

    // Assess
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^AlertTopic "af-adopted": the adopted topic's policy must let events\.amazonaws\.com publish \(aws:SourceArn arn:aws:events:ap-northeast-1:111111111111:rule\/af-adopted-alarms-us-east-1-notify-\w+\) and its key must let events\.amazonaws\.com use kms:GenerateDataKey and kms:Decrypt/);
  });
});

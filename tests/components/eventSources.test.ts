import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import {
  AlertTopic,
  DispatcherRoute,
  EVENTBRIDGE_RETRY_POLICY,
  EventRuleSource,
  LogSubscriptionDispatcher,
  LogSubscriptionSource,
  UNDELIVERED_RETENTION_SECONDS,
  type EventRuleBinding,
  type DeliveredRuleTarget,
  type DispatchConnection,
  type LogSubscriptionBinding,
} from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const HOME = "ap-northeast-1";
const FUNCTION = { functionName: "evs-fn", functionArn: `arn:aws:lambda:${HOME}:${ACCOUNT}:function:evs-fn` };
const PATTERN = JSON.stringify({ source: ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"] });
const LOG_GROUP = "/aws/cloudtrail/evs";
const LOG_GROUP_ARN = `arn:aws:logs:${HOME}:${ACCOUNT}:log-group:${LOG_GROUP}`;

/** A component to hang the sources' resources on, as a component's constructor would. */
const host = (name: string) => new pulumi.ComponentResource("test:index:Host", name);
const typeAndName = (resources: RecordedResource[]) => resources.map((r) => `${r.type} ${r.name}`).sort();

/** The dead-letter queue's policy: EventBridge may send for `rule` only, nobody without TLS. */
const deadLetterStatements = (queueArn: unknown, ruleArn: unknown) => [
  {
    Sid: "KeepUndeliveredEvents",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: queueArn,
    Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
  },
  { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: [queueArn], Condition: { Bool: { "aws:SecureTransport": "false" } } },
];

describe("eventSources", () => {
  describe("EventRuleSource bound to a function, in the provider's Region", () => {
    let parent: pulumi.ComponentResource;
    let topic: AlertTopic;
    let source: EventRuleSource;
    let binding: EventRuleBinding;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("evs-bind");
      topic = new AlertTopic("evs-bind-topic", {});
      source = new EventRuleSource("evs-bind-rule", { description: "S3 downloads", eventPattern: PATTERN, state: "ENABLED" }, { parent });
      binding = source.bind(FUNCTION, { purpose: "S3 downloads counted by evs", alertTopic: topic, names: { permission: "evs-bind-invoke", target: "evs-bind-target", deadLetters: "evs-bind-undelivered" } });
      resources = await resourcesOf(parent);
    });

    it("creates the rule, the invoke permission, the target and its dead-letter queue, queue policy and alarm, as children of the parent", async () => {
      const urn = await valueOf(parent.urn);

      expect(typeAndName(resources)).to.deep.equal([
        "aws:cloudwatch/eventRule:EventRule evs-bind-rule",
        "aws:cloudwatch/eventTarget:EventTarget evs-bind-target",
        "aws:cloudwatch/metricAlarm:MetricAlarm evs-bind-undelivered",
        "aws:lambda/permission:Permission evs-bind-invoke",
        "aws:sqs/queue:Queue evs-bind-undelivered",
        "aws:sqs/queuePolicy:QueuePolicy evs-bind-undelivered",
      ]);
      expect(resources.every((r) => r.parent === urn)).to.equal(true);
      expect(await Promise.all([binding.permission, binding.target, binding.deadLetterQueue, binding.deadLetterQueuePolicy, binding.deadLettersAlarm].map((r) => valueOf(r.urn)))).to.deep.equal(
        ["aws:lambda/permission:Permission", "aws:cloudwatch/eventTarget:EventTarget", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy", "aws:cloudwatch/metricAlarm:MetricAlarm"].map((type) => single(resources, type).urn),
      );
      expect(await valueOf(source.rule.urn)).to.equal(single(resources, "aws:cloudwatch/eventRule:EventRule").urn);
    });

    it("creates the rule as given, with no Region of its own", () => {
      expect(single(resources, "aws:cloudwatch/eventRule:EventRule").inputs).to.deep.equal({ description: "S3 downloads", eventPattern: PATTERN, state: "ENABLED" });
      expect(source.region).to.equal(undefined);
    });

    it("lets this rule, and nothing else, invoke the function", () => {
      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: FUNCTION.functionName,
        principal: "events.amazonaws.com",
        sourceArn: single(resources, "aws:cloudwatch/eventRule:EventRule").state.arn,
      });
    });

    it("targets the function with EventBridge's retry policy written out and the dead-letter queue, once the permission and the queue policy exist", () => {
      const target = single(resources, "aws:cloudwatch/eventTarget:EventTarget");

      expect(target.inputs).to.deep.equal({
        rule: single(resources, "aws:cloudwatch/eventRule:EventRule").state.name,
        arn: FUNCTION.functionArn,
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: single(resources, "aws:sqs/queue:Queue").state.arn },
      });
      expect(EVENTBRIDGE_RETRY_POLICY).to.deep.equal({ maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
      expect(target.dependencies).to.include.members([single(resources, "aws:lambda/permission:Permission").urn, single(resources, "aws:sqs/queuePolicy:QueuePolicy").urn]);
    });

    it("keeps undelivered events 14 days in an SSE-SQS queue that only EventBridge, for this rule, may send to, over TLS", () => {
      const queue = single(resources, "aws:sqs/queue:Queue");
      const queuePolicy = single(resources, "aws:sqs/queuePolicy:QueuePolicy");

      expect(queue.inputs).to.deep.equal({ sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
      expect(UNDELIVERED_RETENTION_SECONDS).to.equal(1209600);
      expect(queuePolicy.inputs.queueUrl).to.equal(queue.state.url);
      expect(policyOf(queuePolicy).Statement).to.deep.equal(deadLetterStatements(queue.state.arn, single(resources, "aws:cloudwatch/eventRule:EventRule").state.arn));
    });

    it("alarms on the first undelivered event, to the alert topic", async () => {
      const queue = single(resources, "aws:sqs/queue:Queue");
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");

      expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs).to.deep.equal({
        alarmDescription: `Events that EventBridge could not deliver to the target of rule ${String(rule.state.name)} (S3 downloads counted by evs) are waiting in SQS queue ${String(queue.state.name)}: alerts may have been missed. Each message's attributes give the error (ERROR_CODE, ERROR_MESSAGE). Fix the cause, then inspect and redrive them within 14 days.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.state.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [await valueOf(topic.topicArn)],
      });
    });
  });

  describe("EventRuleSource in another Region, forwarding to an event bus", () => {
    const region = "us-east-1";
    const bus = `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default`;
    let parent: pulumi.ComponentResource;
    let delivered: DeliveredRuleTarget;
    let rolePolicy: aws.iam.RolePolicy;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("evs-fwd");
      const role = new aws.iam.Role("evs-fwd-role", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }, { parent });
      rolePolicy = new aws.iam.RolePolicy("evs-fwd-policy", { role: role.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }, { parent });
      const source = new EventRuleSource(`evs-fwd-rule-${region}`, { region, description: "forwards", eventPattern: PATTERN, state: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" }, { parent });
      delivered = source.forward({ arn: bus, roleArn: role.arn }, { purpose: "forwards us-east-1 events", names: { target: `evs-fwd-target-${region}`, deadLetters: `evs-fwd-undelivered-${region}` } }, { dependsOn: [rolePolicy] });
      resources = await resourcesOf(parent);
    });

    it("creates the rule, the target, its queue, queue policy and alarm in that Region, and no invoke permission", () => {
      expect(typeAndName(resources)).to.deep.equal([
        `aws:cloudwatch/eventRule:EventRule evs-fwd-rule-${region}`,
        `aws:cloudwatch/eventTarget:EventTarget evs-fwd-target-${region}`,
        `aws:cloudwatch/metricAlarm:MetricAlarm evs-fwd-undelivered-${region}`,
        // The test's own role and policy.
        "aws:iam/role:Role evs-fwd-role",
        "aws:iam/rolePolicy:RolePolicy evs-fwd-policy",
        `aws:sqs/queue:Queue evs-fwd-undelivered-${region}`,
        `aws:sqs/queuePolicy:QueuePolicy evs-fwd-undelivered-${region}`,
      ]);
      const created = resources.filter((r) => r.name.includes(region));
      expect(created.map((r) => r.inputs.region)).to.deep.equal(created.map(() => region));
      expect(resources.filter((r) => r.type === "aws:lambda/permission:Permission")).to.deep.equal([]);
    });

    it("targets the bus through the role, once `dependsOn` (the role's policy) and the queue policy exist", () => {
      const target = single(resources, "aws:cloudwatch/eventTarget:EventTarget");

      expect(target.inputs).to.deep.equal({
        region,
        rule: single(resources, "aws:cloudwatch/eventRule:EventRule").state.name,
        arn: bus,
        roleArn: single(resources, "aws:iam/role:Role").state.arn,
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: single(resources, "aws:sqs/queue:Queue").state.arn },
      });
      expect(target.dependencies).to.include.members([single(resources, "aws:iam/rolePolicy:RolePolicy").urn, single(resources, "aws:sqs/queuePolicy:QueuePolicy").urn]);
    });

    it("keeps its undelivered events in a queue of its Region, whose alarm notifies nobody (no topic in that Region)", async () => {
      const queue = single(resources, "aws:sqs/queue:Queue");

      expect(queue.inputs).to.deep.equal({ region, sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
      expect(String(queue.state.arn)).to.match(new RegExp(`^arn:aws:sqs:${region}:${ACCOUNT}:evs-fwd-undelivered-${region}-`));
      expect(policyOf(single(resources, "aws:sqs/queuePolicy:QueuePolicy")).Statement).to.deep.equal(deadLetterStatements(queue.state.arn, single(resources, "aws:cloudwatch/eventRule:EventRule").state.arn));
      const alarm = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
      expect(alarm.inputs.alarmActions).to.deep.equal([]);
      expect(String(alarm.inputs.alarmDescription)).to.contain(`(forwards us-east-1 events) are waiting in SQS queue ${String(queue.state.name)} in ${region}:`);
      expect(await valueOf(delivered.target.urn)).to.equal(single(resources, "aws:cloudwatch/eventTarget:EventTarget").urn);
    });
  });

  describe("EventRuleSource publishing to the alert topic", () => {
    const transformer = { inputPaths: { name: "$.detail.alarmName" }, inputTemplate: '"alarm <name>"' };
    let parent: pulumi.ComponentResource;
    let topic: AlertTopic;
    let delivered: DeliveredRuleTarget;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("evs-pub");
      topic = new AlertTopic("evs-pub-topic", {});
      const source = new EventRuleSource("evs-pub-rule", { description: "alarms", eventPattern: PATTERN, state: "ENABLED" }, { parent });
      delivered = source.publishTo(topic, { purpose: "publishes alarms", alertTopic: topic, names: { target: "evs-pub-target", deadLetters: "evs-pub-undelivered", deadLettersAlarmName: "evs-pub-undelivered-alarm" }, inputTransformer: transformer });
      resources = await resourcesOf(parent);
    });

    it("targets the topic with the input transformer, and its queue's alarm has the physical name given", async () => {
      expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget").inputs).to.deep.include({ arn: await valueOf(topic.topicArn), inputTransformer: transformer });
      expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs).to.deep.include({ name: "evs-pub-undelivered-alarm", alarmActions: [await valueOf(topic.topicArn)] });
      expect(await valueOf(delivered.deadLettersAlarm.name)).to.equal("evs-pub-undelivered-alarm");
    });

    it("lets EventBridge publish to the topic for this rule only", async () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");
      const statements = policyOf(single(await resourcesOf(topic), "aws:sns/topicPolicy:TopicPolicy")).Statement;
      expect(statements.find((s) => s.Sid === "AllowForwardedAlarms")?.Condition).to.deep.equal({ ArnEquals: { "aws:SourceArn": [rule.state.arn] } });
    });
  });

  describe("LogSubscriptionSource", () => {
    let parent: pulumi.ComponentResource;
    let binding: LogSubscriptionBinding;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("evs-logs");
      const source = new LogSubscriptionSource({ logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, filterPattern: '{ $.eventName = "GetObject" }', accountId: ACCOUNT }, { parent });
      binding = source.bind(FUNCTION, { permission: "evs-logs-permission", subscription: "evs-logs-subscription" });
      resources = await resourcesOf(parent);
    });

    it("creates only the subscription filter and its permission, as children of the parent", async () => {
      const urn = await valueOf(parent.urn);

      expect(typeAndName(resources)).to.deep.equal(["aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter evs-logs-subscription", "aws:lambda/permission:Permission evs-logs-permission"]);
      expect(resources.every((r) => r.parent === urn)).to.equal(true);
      expect(await valueOf(binding.subscriptionFilter.urn)).to.equal(single(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").urn);
      expect(await valueOf(binding.permission.urn)).to.equal(single(resources, "aws:lambda/permission:Permission").urn);
    });

    it("lets only this log group, in this account, invoke the function", () => {
      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: FUNCTION.functionName,
        principal: "logs.amazonaws.com",
        sourceArn: `${LOG_GROUP_ARN}:*`,
        sourceAccount: ACCOUNT,
      });
    });

    it("subscribes the function with the pattern, once the permission exists (CloudWatch Logs test-invokes it)", () => {
      const filter = single(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter");

      expect(filter.inputs).to.deep.equal({ logGroup: LOG_GROUP, filterPattern: '{ $.eventName = "GetObject" }', destinationArn: FUNCTION.functionArn });
      expect(filter.dependencies).to.include(single(resources, "aws:lambda/permission:Permission").urn);
    });
  });

  describe("DispatcherRoute", () => {
    let parent: pulumi.ComponentResource;
    let dispatcher: LogSubscriptionDispatcher;
    let route: DispatcherRoute;
    let connection: DispatchConnection;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("evs-route");
      dispatcher = new LogSubscriptionDispatcher("evs-route-dispatcher", { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: new AlertTopic("evs-route-topic", {}) });
      route = new DispatcherRoute(dispatcher, { key: "evs-route", patterns: [{ eventName: ["ConsoleLogin"] }] }, { parent });
      connection = route.bind(FUNCTION);
      resources = await resourcesOf(parent);
    });

    it("connects the function as a consumer: its SNS subscription and permission are children of the parent, named after the key", async () => {
      const urn = await valueOf(parent.urn);

      expect(typeAndName(resources)).to.deep.equal(["aws:lambda/permission:Permission evs-route-dispatch-permission", "aws:sns/topicSubscription:TopicSubscription evs-route-dispatch"]);
      expect(resources.every((r) => r.parent === urn)).to.equal(true);
      expect(await valueOf(connection.subscription.urn)).to.equal(single(resources, "aws:sns/topicSubscription:TopicSubscription").urn);
    });

    it("lets only the dispatch topic invoke the function, subscribed on its own key", async () => {
      const topicArn = await valueOf(dispatcher.topicArn);

      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.equal({ action: "lambda:InvokeFunction", function: FUNCTION.functionArn, principal: "sns.amazonaws.com", sourceArn: topicArn });
      expect(single(resources, "aws:sns/topicSubscription:TopicSubscription").inputs).to.deep.equal({
        topic: topicArn,
        protocol: "lambda",
        endpoint: FUNCTION.functionArn,
        filterPolicyScope: "MessageAttributes",
        filterPolicy: JSON.stringify({ consumer: ["evs-route"] }),
      });
    });

    it("adds the route's patterns to the dispatcher's one filter pattern", async () => {
      expect(await valueOf(dispatcher.filterPattern)).to.equal('{ $.eventName = "ConsoleLogin" }');
    });

    it("refuses to bind a second function under the same key, as the dispatcher does", () => {
      expect(() => route.bind(FUNCTION)).to.throw('LogSubscriptionDispatcher "evs-route-dispatcher": a consumer named "evs-route" is already connected; consumer names must be unique');
    });
  });
});

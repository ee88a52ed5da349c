import { expect } from "chai";

import { AlertTopic, LogSubscriptionDispatcher, UserActivityNotifier, type UserActivityNotifierArgs } from "../../components";
import { materializeArchive, withEnvironment } from "../../preview/lambdaArchive";
import type { RecordedResource } from "../../preview/mockCloud";
import { policyOf, resourcesOf, single } from "../support/engine";
import { captureOutput } from "../support/captureOutput";
import { FakeSns } from "../../simulation/fakeSns";
import { decide } from "../../simulation/iamSimulator";
import { fixture } from "../../simulation/fixtures";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const HOME = "ap-northeast-1";
const HANDLER_CHILDREN = [
  "aws:cloudwatch/logGroup:LogGroup handler-logs",
  "aws:cloudwatch/metricAlarm:MetricAlarm handler-dead-letters",
  "aws:cloudwatch/metricAlarm:MetricAlarm handler-errors",
  "aws:cloudwatch/metricAlarm:MetricAlarm handler-rejected-input",
  "aws:iam/role:Role handler-role",
  "aws:iam/rolePolicy:RolePolicy handler-policy",
  "aws:lambda/function:Function handler",
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig handler-async",
  "aws:sqs/queue:Queue handler-dead-letters",
  "cloudtrail-alerts:lambda:SecureCallbackFunction handler",
];
/** The function, the sent journal's table (deduplicate, the default) and the burst sweep's schedule (grouping, the default). */
const NOTIFIER_CHILDREN = [
  ...HANDLER_CHILDREN,
  "aws:dynamodb/table:Table sent",
  "aws:cloudwatch/eventRule:EventRule sweep",
  "aws:cloudwatch/eventTarget:EventTarget sweep-target",
  "aws:lambda/permission:Permission sweep-permission",
];
const PERSON_DETAIL_TYPES = ["AWS API Call via CloudTrail", "AWS Console Signin via CloudTrail", "AWS Console Action via CloudTrail"];
const PERSON_EVENT_TYPES = ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"];

/** `type name` of each resource, with the component name prefix replaced by nothing, sorted. */
function inventory(resources: RecordedResource[], prefix: string): string[] {
  return resources.map((r) => `${r.type} ${r.name.startsWith(`${prefix}-`) ? r.name.slice(prefix.length + 1) : r.name}`).sort();
}

describe("UserActivityNotifier", () => {
  // A topic's publisher list closes once construction is done, so each test creates its topic with its notifiers.
  let topic: AlertTopic;
  let topics = 0;
  const newTopic = () => (topic = new AlertTopic(`uan-topic-${++topics}`, {}));

  describe("with the default EventBridge source", () => {
    let notifier: UserActivityNotifier;
    let resources: RecordedResource[];

    before(async () => {
      newTopic();
      notifier = new UserActivityNotifier("uan-ssm", { alertTopic: topic, presets: ["ssm-sessions"], timeZone: "Asia/Tokyo", language: "ja" });
      resources = await resourcesOf(notifier);
    });

    it("creates the function (with its alarms), a rule per Region (the stack's and us-east-1) and the forwarding role", () => {
      expect(inventory(resources, "uan-ssm")).to.deep.equal(
        [
          ...NOTIFIER_CHILDREN,
          "aws:cloudwatch/eventRule:EventRule rule-ap-northeast-1",
          "aws:cloudwatch/eventRule:EventRule rule-us-east-1",
          "aws:cloudwatch/eventTarget:EventTarget target-ap-northeast-1",
          "aws:cloudwatch/eventTarget:EventTarget target-us-east-1",
          "aws:sqs/queue:Queue undelivered-ap-northeast-1",
          "aws:sqs/queue:Queue undelivered-us-east-1",
          "aws:sqs/queuePolicy:QueuePolicy undelivered-ap-northeast-1",
          "aws:sqs/queuePolicy:QueuePolicy undelivered-us-east-1",
          "aws:cloudwatch/metricAlarm:MetricAlarm undelivered-ap-northeast-1",
          "aws:cloudwatch/metricAlarm:MetricAlarm undelivered-us-east-1",
          "aws:iam/role:Role forward-role",
          "aws:iam/rolePolicy:RolePolicy forward-policy",
          "aws:lambda/permission:Permission permission-ap-northeast-1",
        ].sort(),
      );
    });

    it("makes every direct resource a child of the notifier", async () => {
      const urn = await valueOf(notifier.urn);
      const direct = resources.filter((r) => r.parent === urn).map((r) => r.name).sort();

      expect(direct).to.deep.equal(
        [
          "uan-ssm-forward-policy",
          "uan-ssm-forward-role",
          "uan-ssm-handler",
          "uan-ssm-permission-ap-northeast-1",
          "uan-ssm-sent",
          "uan-ssm-rule-ap-northeast-1",
          "uan-ssm-rule-us-east-1",
          "uan-ssm-target-ap-northeast-1",
          "uan-ssm-target-us-east-1",
          "uan-ssm-sweep",
          "uan-ssm-sweep-permission",
          "uan-ssm-sweep-target",
          ...["ap-northeast-1", "us-east-1"].flatMap((region) => Array<string>(3).fill(`uan-ssm-undelivered-${region}`)),
        ].sort(),
      );
    });

    it("places each rule in its Region with the SSM session pattern, without read-only events", () => {
      const expectedPattern = {
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: { eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession", "ResumeSession", "TerminateSession"], eventType: ["AwsApiCall"] },
      };
      for (const region of [HOME, "us-east-1"]) {
        const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${region}`);
        expect(rule.inputs.region).to.equal(region);
        expect(rule.inputs.state).to.equal("ENABLED");
        expect(JSON.parse(String(rule.inputs.eventPattern))).to.deep.equal(expectedPattern);
        expect(String(rule.state.arn)).to.match(new RegExp(`^arn:aws:events:${region}:${ACCOUNT}:rule/uan-ssm-rule-${region}-`));
      }
    });

    it("invokes the function from the home rule only, with a permission scoped to that rule", () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${HOME}`);
      const fn = single(resources, "aws:lambda/function:Function");

      expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget", `uan-ssm-target-${HOME}`).inputs).to.deep.equal({
        region: HOME,
        rule: rule.state.name,
        arn: fn.state.arn,
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: single(resources, "aws:sqs/queue:Queue", `uan-ssm-undelivered-${HOME}`).state.arn },
      });
      expect(single(resources, "aws:lambda/permission:Permission", `uan-ssm-permission-${HOME}`).inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.state.arn,
      });
    });

    it("forwards us-east-1 events to the home Region's default bus through the forwarding role", () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "uan-ssm-rule-us-east-1");
      const role = single(resources, "aws:iam/role:Role", "uan-ssm-forward-role");

      expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget", "uan-ssm-target-us-east-1").inputs).to.deep.equal({
        region: "us-east-1",
        rule: rule.state.name,
        arn: `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default`,
        roleArn: role.state.arn,
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: single(resources, "aws:sqs/queue:Queue", "uan-ssm-undelivered-us-east-1").state.arn },
      });
    });

    it("keeps each Region's undelivered events in a queue of that Region, encrypted (SSE-SQS) and kept 14 days", () => {
      for (const region of [HOME, "us-east-1"]) {
        const queue = single(resources, "aws:sqs/queue:Queue", `uan-ssm-undelivered-${region}`);

        expect(queue.inputs).to.deep.equal({ region, sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
        expect(String(queue.state.arn)).to.match(new RegExp(`^arn:aws:sqs:${region}:${ACCOUNT}:uan-ssm-undelivered-${region}-`));
        expect(notifier.ruleTargets[region].deadLetterQueue).to.not.equal(undefined);
      }
    });

    it("lets only EventBridge, for its Region's rule, send to each dead-letter queue, and nobody without TLS", () => {
      for (const region of [HOME, "us-east-1"]) {
        const queue = single(resources, "aws:sqs/queue:Queue", `uan-ssm-undelivered-${region}`);
        const queuePolicy = single(resources, "aws:sqs/queuePolicy:QueuePolicy", `uan-ssm-undelivered-${region}`);
        const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${region}`);

        expect(queuePolicy.inputs.region).to.equal(region);
        expect(queuePolicy.inputs.queueUrl).to.equal(queue.state.url);
        expect(policyOf(queuePolicy).Statement).to.deep.equal([
          {
            Sid: "KeepUndeliveredEvents",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queue.state.arn,
            Condition: { ArnEquals: { "aws:SourceArn": rule.state.arn } },
          },
          { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: [queue.state.arn], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        ]);
      }
    });

    it("evaluates each dead-letter queue's policy as intended (IAM simulator)", async () => {
      // Prepare
      const decisions: string[] = [];
      for (const region of [HOME, "us-east-1"]) {
        const queue = String(single(resources, "aws:sqs/queue:Queue", `uan-ssm-undelivered-${region}`).state.arn);
        const policy = policyOf(single(resources, "aws:sqs/queuePolicy:QueuePolicy", `uan-ssm-undelivered-${region}`));
        const rule = String(single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${region}`).state.arn);
        const otherRegion = String(single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${region === HOME ? "us-east-1" : HOME}`).state.arn);
        const send = async (title: string, principal: string, context: Record<string, string>) =>
          decisions.push(`${region} ${title}: ${await decide({ principal, action: "sqs:SendMessage", resource: queue, accountId: ACCOUNT, resourcePolicy: policy, context: { "aws:SecureTransport": "true", ...context } })}`);

        // Act
        await send("its rule", "events.amazonaws.com", { "aws:SourceArn": rule });
        await send("the other Region's rule", "events.amazonaws.com", { "aws:SourceArn": otherRegion });
        await send("another rule", "events.amazonaws.com", { "aws:SourceArn": `arn:aws:events:${region}:${ACCOUNT}:rule/other` });
        await send("SNS", "sns.amazonaws.com", { "aws:SourceArn": rule });
        await send("its rule without TLS", "events.amazonaws.com", { "aws:SourceArn": rule, "aws:SecureTransport": "false" });
      }

      // Assess
      expect(decisions).to.deep.equal(
        [HOME, "us-east-1"].flatMap((region) => [
          `${region} its rule: Allowed`,
          `${region} the other Region's rule: ImplicitlyDenied`,
          `${region} another rule: ImplicitlyDenied`,
          `${region} SNS: ImplicitlyDenied`,
          `${region} its rule without TLS: ExplicitlyDenied`,
        ]),
      );
    });

    it("alarms on the first undelivered event in each Region; only the home Region's alarm can notify the alert topic", async () => {
      const topicArn = await valueOf(topic.topicArn);
      for (const region of [HOME, "us-east-1"]) {
        const queue = single(resources, "aws:sqs/queue:Queue", `uan-ssm-undelivered-${region}`);
        const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-ssm-rule-${region}`);
        const purpose = region === HOME ? "invokes the function of UserActivityNotifier uan-ssm" : `forwards us-east-1 events of UserActivityNotifier uan-ssm to ${HOME}`;

        expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", `uan-ssm-undelivered-${region}`).inputs).to.deep.equal({
          region,
          alarmDescription: `Events that EventBridge could not deliver to the target of rule ${String(rule.state.name)} (${purpose}) are waiting in SQS queue ${String(queue.state.name)} in ${region}: alerts may have been missed. Each message's attributes give the error (ERROR_CODE, ERROR_MESSAGE). Fix the cause, then inspect and redrive them within 14 days.`,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: queue.state.name },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
          // A CloudWatch alarm can notify only a topic in its own Region.
          alarmActions: region === HOME ? [topicArn] : [],
        });
      }
    });

    it("creates each target only once its dead-letter queue admits EventBridge", () => {
      for (const region of [HOME, "us-east-1"]) {
        const target = single(resources, "aws:cloudwatch/eventTarget:EventTarget", `uan-ssm-target-${region}`);
        expect(target.dependencies).to.include(single(resources, "aws:sqs/queuePolicy:QueuePolicy", `uan-ssm-undelivered-${region}`).urn);
      }
    });

    it("lets only EventBridge, for the forwarding rules of this account, assume the forwarding role, which may only put events on the home bus", () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "uan-ssm-rule-us-east-1");

      expect(policyOf(single(resources, "aws:iam/role:Role", "uan-ssm-forward-role"), "assumeRolePolicy")).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnEquals: { "aws:SourceArn": [rule.state.arn] } },
          },
        ],
      });
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-ssm-forward-policy")).Statement).to.deep.equal([
        { Sid: "ForwardToHomeBus", Effect: "Allow", Action: "events:PutEvents", Resource: `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default` },
      ]);
    });

    it("evaluates the forwarding role's policies as intended (IAM simulator)", async () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "uan-ssm-rule-us-east-1");
      const role = single(resources, "aws:iam/role:Role", "uan-ssm-forward-role");
      const trust = policyOf(role, "assumeRolePolicy");
      const identity = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-ssm-forward-policy"));
      const assume = (sourceArn: string, sourceAccount = ACCOUNT) =>
        decide({ principal: "events.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), accountId: ACCOUNT, resourcePolicy: trust, context: { "aws:SourceArn": sourceArn, "aws:SourceAccount": sourceAccount } });
      const put = (action: string, resource: string) => decide({ principal: String(role.state.arn), action, resource, accountId: ACCOUNT, identityPolicies: [identity] });

      expect(await assume(String(rule.state.arn))).to.equal("Allowed");
      expect(await assume(`arn:aws:events:us-east-1:${ACCOUNT}:rule/someone-elses-rule`)).to.equal("ImplicitlyDenied");
      expect(await assume(String(rule.state.arn), "222222222222")).to.equal("ImplicitlyDenied");
      expect(await put("events:PutEvents", `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/default`)).to.equal("Allowed");
      expect(await put("events:PutEvents", `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`)).to.equal("ImplicitlyDenied");
      expect(await put("events:PutEvents", `arn:aws:events:${HOME}:${ACCOUNT}:event-bus/custom`)).to.equal("ImplicitlyDenied");
      expect(await put("events:PutRule", `arn:aws:events:${HOME}:${ACCOUNT}:rule/x`)).to.equal("ImplicitlyDenied");
    });

    it("lets the function write its logs and dead letters, publish to the alert topic and read and write its sent journal, nothing else", async () => {
      const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");
      const queue = single(resources, "aws:sqs/queue:Queue", "uan-ssm-handler-dead-letters");
      const table = single(resources, "aws:dynamodb/table:Table");
      const [topicArn, keyArn] = await Promise.all([valueOf(topic.topicArn), valueOf(topic.kmsKeyArn)]);

      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-ssm-handler-policy")).Statement).to.deep.equal([
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${String(logGroup.state.arn)}:log-stream:*` },
        { Sid: "KeepFailedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: queue.state.arn },
        { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
        { Sid: "EncryptAlerts", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn },
        { Sid: "RememberSentNotifications", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], Resource: table.state.arn },
      ]);
    });

    it("keeps its sent journal in an on-demand, encrypted table keyed by event ID, whose entries expire", () => {
      expect(single(resources, "aws:dynamodb/table:Table").inputs).to.deep.include({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "eventID",
        attributes: [{ name: "eventID", type: "S" }],
        ttl: { attributeName: "expiresAt", enabled: true },
        serverSideEncryption: { enabled: true },
      });
      expect(notifier.table).to.not.equal(undefined);
    });

    it("lets the role, in IAM's evaluation, only read, write and (for burst grouping) update items of its own table", async () => {
      const policy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-ssm-handler-policy"));
      const table = String(single(resources, "aws:dynamodb/table:Table").state.arn);
      const otherTable = `arn:aws:dynamodb:${HOME}:${ACCOUNT}:table/other`;
      const actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DeleteTable"];

      const decisions = await Promise.all(
        [...actions.map((action) => [action, table]), ["dynamodb:GetItem", otherTable], ["dynamodb:PutItem", otherTable]].map(
          async ([action, resource]) => `${action} ${resource === table ? "own table" : resource}: ${await decide({ principal: `arn:aws:iam::${ACCOUNT}:role/r`, action, resource, accountId: ACCOUNT, identityPolicies: [policy] })}`,
        ),
      );

      expect(decisions).to.deep.equal([
        "dynamodb:GetItem own table: Allowed",
        "dynamodb:PutItem own table: Allowed",
        "dynamodb:UpdateItem own table: Allowed",
        "dynamodb:DeleteItem own table: ImplicitlyDenied",
        "dynamodb:BatchGetItem own table: ImplicitlyDenied",
        "dynamodb:Query own table: ImplicitlyDenied",
        "dynamodb:Scan own table: ImplicitlyDenied",
        "dynamodb:DeleteTable own table: ImplicitlyDenied",
        `dynamodb:GetItem ${otherTable}: ImplicitlyDenied`,
        `dynamodb:PutItem ${otherTable}: ImplicitlyDenied`,
      ]);
    });

    it("configures the function through its environment", async () => {
      expect(single(resources, "aws:lambda/function:Function").inputs.environment).to.deep.equal({
        variables: {
          ACTIVITY_TIME_ZONE: "Asia/Tokyo",
          ACTIVITY_LANGUAGE: "ja",
          ACTIVITY_CRITERIA: '{"presets":["ssm-sessions"]}',
          ACTIVITY_CHAT_NOTIFICATIONS: "false",
          ACTIVITY_SENT_TABLE: single(resources, "aws:dynamodb/table:Table").state.name,
          ACTIVITY_BURST_WINDOW_SECONDS: "300",
          ACTIVITY_BURST_MAX_MESSAGES_PER_HOUR: "100",
          ALERT_TOPIC_ARN: await valueOf(topic.topicArn),
        },
      });
      expect(await valueOf(notifier.tableName!)).to.equal(single(resources, "aws:dynamodb/table:Table").state.name);
    });

    it("alarms on rejected input through its function, saying that notifications may be missing", async () => {
      const fn = single(resources, "aws:lambda/function:Function");
      const alarm = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "uan-ssm-handler-rejected-input");

      expect(alarm.parent).to.equal(await valueOf(notifier.handler.urn));
      expect(alarm.inputs).to.deep.include({ namespace: "CloudTrailAlerts", metricName: "RejectedInput", dimensions: { FunctionName: fn.state.name } });
      expect(alarm.inputs.alarmDescription).to.equal(
        `Lambda function ${String(fn.state.name)} (${String(fn.inputs.description)}) received input it could not decode: notifications for it may be missing. It logs each reason in log group ${String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.name)} (message "input rejected").`,
      );
    });
  });

  describe("sent journal options", () => {
    it("with deduplicate: false, creates no table and grants no DynamoDB action", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-nodedup", { alertTopic: topic, presets: ["ssm-sessions"], deduplicate: false, source: { type: "eventbridge", regions: [HOME] } });
      const resources = await resourcesOf(notifier);
      const actions = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-nodedup-handler-policy")).Statement.flatMap((s) => [s.Action].flat());

      expect(resources.filter((r) => r.type === "aws:dynamodb/table:Table")).to.deep.equal([]);
      expect(actions.filter((a) => String(a).startsWith("dynamodb:"))).to.deep.equal([]);
      expect(Object.keys((single(resources, "aws:lambda/function:Function").inputs.environment as { variables: object }).variables)).to.not.include("ACTIVITY_SENT_TABLE");
      expect([notifier.table, notifier.tableName]).to.deep.equal([undefined, undefined]);
    });

    it("encrypts the table with the given key and lets the function use it through DynamoDB only", async () => {
      const tableKey = `arn:aws:kms:${HOME}:${ACCOUNT}:key/2f1e0d9c-8b7a-4654-9321-0fedcba98765`;
      newTopic();
      const notifier = new UserActivityNotifier("uan-cmk", { alertTopic: topic, presets: ["ssm-sessions"], tableKmsKeyArn: tableKey, source: { type: "eventbridge", regions: [HOME] } });
      const resources = await resourcesOf(notifier);

      expect(single(resources, "aws:dynamodb/table:Table").inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: tableKey });
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-cmk-handler-policy")).Statement.at(-1)).to.deep.equal({
        Sid: "UseTableKeyThroughDynamoDb",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        Resource: tableKey,
        Condition: { StringEquals: { "kms:ViaService": `dynamodb.${HOME}.amazonaws.com` } },
      });
    });
  });

  describe("burst grouping", () => {
    it("runs the sweep every minute through a rule that alone may invoke the function, without retrying a late run", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-burst", { alertTopic: topic, userNames: ["hogehoge"], source: { type: "eventbridge", regions: [HOME] } });
      const resources = await resourcesOf(notifier);
      const fn = single(resources, "aws:lambda/function:Function");
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "uan-burst-sweep");

      expect(rule.inputs).to.deep.equal({ description: "cloudtrail-alerts: sends the due burst summaries of UserActivityNotifier uan-burst", scheduleExpression: "rate(1 minute)" });
      expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget", "uan-burst-sweep-target").inputs).to.deep.equal({
        rule: rule.state.name,
        arn: fn.state.arn,
        input: '{"cloudtrail-alerts":"burst-sweep"}',
        retryPolicy: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 0 },
      });
      expect(single(resources, "aws:lambda/permission:Permission", "uan-burst-sweep-permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.state.arn,
      });
      expect(notifier.grouping).to.deep.equal({ windowSeconds: 300, maxMessagesPerHour: 100 });
      expect(notifier.sweep?.rule).to.not.equal(undefined);
    });

    it("passes a chosen window and message cap to the function", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-burst2", { alertTopic: topic, userNames: ["hogehoge"], grouping: { windowSeconds: 600 }, source: { type: "eventbridge", regions: [HOME] } });
      const variables = (single(await resourcesOf(notifier), "aws:lambda/function:Function").inputs.environment as { variables: Record<string, string> }).variables;

      expect(variables).to.deep.include({ ACTIVITY_BURST_WINDOW_SECONDS: "600", ACTIVITY_BURST_MAX_MESSAGES_PER_HOUR: "100" });
    });

    it("with grouping: false, creates no sweep, grants no UpdateItem and tells the function nothing of bursts", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-noburst", { alertTopic: topic, userNames: ["hogehoge"], grouping: false, source: { type: "eventbridge", regions: [HOME] } });
      const resources = await resourcesOf(notifier);
      const table = single(resources, "aws:dynamodb/table:Table");
      const variables = Object.keys((single(resources, "aws:lambda/function:Function").inputs.environment as { variables: object }).variables);

      expect(resources.filter((r) => r.name.includes("sweep"))).to.deep.equal([]);
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "uan-noburst-handler-policy")).Statement.filter((st) => st.Sid === "RememberSentNotifications")).to.deep.equal([
        { Sid: "RememberSentNotifications", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: table.state.arn },
      ]);
      expect(variables.filter((v) => v.startsWith("ACTIVITY_BURST"))).to.deep.equal([]);
      expect([notifier.grouping, notifier.sweep]).to.deep.equal([undefined, undefined]);
    });

    it("is off without the journal table (deduplicate: false)", () => {
      expect(UserActivityNotifier.groupingOf({ alertTopic: topic, userNames: ["x"], deduplicate: false })).to.equal(undefined);
      expect(UserActivityNotifier.groupingOf({ alertTopic: topic, userNames: ["x"], grouping: { maxMessagesPerHour: 20 } })).to.deep.equal({ windowSeconds: 300, maxMessagesPerHour: 20 });
    });
  });

  describe("rules for other criteria and Regions", () => {
    it("uses ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS for a user watch, whose read-only calls count", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-user", { alertTopic: topic, userNames: ["hogehoge"], source: { type: "eventbridge", regions: [HOME] } });
      const resources = await resourcesOf(notifier);
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", `uan-user-rule-${HOME}`);

      expect(rule.inputs.state).to.equal("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
      expect(JSON.parse(String(rule.inputs.eventPattern))).to.deep.equal({
        "detail-type": PERSON_DETAIL_TYPES,
        detail: { userIdentity: { userName: ["hogehoge"] }, eventType: PERSON_EVENT_TYPES },
      });
      expect(resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.name)).to.deep.equal(["uan-user-handler-role"]);
    });

    it("uses the console sign-in detail type for the sign-in preset", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-signin", { alertTopic: topic, presets: ["console-sign-in"], source: { type: "eventbridge", regions: ["us-east-1", HOME] } });
      const rules = (await resourcesOf(notifier)).filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.name.includes("-rule-"));

      expect(rules.map((r) => JSON.parse(String(r.inputs.eventPattern)) as unknown)).to.deep.equal([
        { "detail-type": ["AWS Console Signin via CloudTrail"], detail: { eventSource: ["signin.amazonaws.com"], eventName: ["ConsoleLogin"], eventType: ["AwsConsoleSignIn"] } },
        { "detail-type": ["AWS Console Signin via CloudTrail"], detail: { eventSource: ["signin.amazonaws.com"], eventName: ["ConsoleLogin"], eventType: ["AwsConsoleSignIn"] } },
      ]);
    });

    it("lets the home rule accept only forwarded events when the home Region is not watched", async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-remote", { alertTopic: topic, presets: ["iam-changes"], source: { type: "eventbridge", regions: ["us-east-1", "eu-west-1"] } });
      const resources = await resourcesOf(notifier);
      const rules = resources.filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.name.includes("-rule-"));

      expect(rules.map((r) => [r.name, r.inputs.region])).to.deep.equal([
        ["uan-remote-rule-us-east-1", "us-east-1"],
        ["uan-remote-rule-eu-west-1", "eu-west-1"],
        [`uan-remote-rule-${HOME}`, HOME],
      ]);
      expect((JSON.parse(String(rules[2].inputs.eventPattern)) as { region: string[] }).region).to.deep.equal(["us-east-1", "eu-west-1"]);
      const trust = policyOf(single(resources, "aws:iam/role:Role", "uan-remote-forward-role"), "assumeRolePolicy");
      expect((trust.Statement[0].Condition as { ArnEquals: { "aws:SourceArn": string[] } }).ArnEquals["aws:SourceArn"]).to.deep.equal([rules[0].state.arn, rules[1].state.arn]);
    });
  });

  describe("with its own log subscription (one subscription filter per notifier, docs/sourceArticles.md)", () => {
    it("subscribes the function to the log group with a pattern that quotes the user name, and a scoped permission", async () => {
      const logGroupArn = `arn:aws:logs:${HOME}:${ACCOUNT}:log-group:/aws/cloudtrail/org`;
      newTopic();
      const notifier = new UserActivityNotifier("uan-logs", {
        alertTopic: topic,
        userNames: ['o"brien'],
        source: { type: "logs", logGroupName: "/aws/cloudtrail/org", logGroupArn },
      });
      const resources = await resourcesOf(notifier);
      const fn = single(resources, "aws:lambda/function:Function");

      expect(inventory(resources, "uan-logs")).to.deep.equal(
        [...NOTIFIER_CHILDREN, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter subscription", "aws:lambda/permission:Permission logs-permission"].sort(),
      );
      expect(single(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs).to.deep.equal({
        logGroup: "/aws/cloudtrail/org",
        filterPattern: '{ ($.userIdentity.userName = "o\\"brien") && (($.eventType = "AwsApiCall") || ($.eventType = "AwsConsoleSignIn") || ($.eventType = "AwsConsoleAction")) }',
        destinationArn: fn.state.arn,
      });
      expect(single(resources, "aws:lambda/permission:Permission", "uan-logs-logs-permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "logs.amazonaws.com",
        sourceArn: `${logGroupArn}:*`,
        sourceAccount: ACCOUNT,
      });
    });
  });

  describe("through a shared LogSubscriptionDispatcher", () => {
    it("subscribes the function to the dispatch topic, filtered on its own name, as its own children", async () => {
      newTopic();
      const dispatcher = new LogSubscriptionDispatcher("uan-shared", { logGroupName: "/aws/cloudtrail/t", logGroupArn: `arn:aws:logs:${HOME}:${ACCOUNT}:log-group:/aws/cloudtrail/t`, alertTopic: topic });
      const first = new UserActivityNotifier("uan-d1", { alertTopic: topic, userNames: ["hogehoge"], source: { type: "dispatcher", dispatcher } });
      new UserActivityNotifier("uan-d2", { alertTopic: topic, presets: ["bucket-creation"], source: { type: "dispatcher", dispatcher } });
      const resources = await resourcesOf(first);
      const fn = single(resources, "aws:lambda/function:Function");
      const topicArn = await valueOf(dispatcher.topicArn);

      expect(inventory(resources, "uan-d1")).to.deep.equal(
        [...NOTIFIER_CHILDREN, "aws:lambda/permission:Permission dispatch-permission", "aws:sns/topicSubscription:TopicSubscription dispatch"].sort(),
      );
      expect(single(resources, "aws:sns/topicSubscription:TopicSubscription").inputs).to.deep.equal({
        topic: topicArn,
        protocol: "lambda",
        endpoint: fn.state.arn,
        filterPolicyScope: "MessageAttributes",
        filterPolicy: '{"consumer":["uan-d1"]}',
      });
      expect(single(resources, "aws:lambda/permission:Permission", "uan-d1-dispatch-permission").inputs).to.deep.equal({ action: "lambda:InvokeFunction", function: fn.state.arn, principal: "sns.amazonaws.com", sourceArn: topicArn });
      expect(await valueOf(dispatcher.filterPattern)).to.equal(
        '{ (($.userIdentity.userName = "hogehoge") && (($.eventType = "AwsApiCall") || ($.eventType = "AwsConsoleSignIn") || ($.eventType = "AwsConsoleAction"))) || (($.eventSource = "s3.amazonaws.com") && ($.eventName = "CreateBucket") && ($.eventType = "AwsApiCall")) }',
      );
    });
  });

  describe("archive", () => {
    let fnResource: RecordedResource;

    before(async () => {
      newTopic();
      const notifier = new UserActivityNotifier("uan-art", { alertTopic: topic, userNames: ["hogehoge", "administrator"], timeZone: "Asia/Tokyo", language: "ja", source: { type: "eventbridge", regions: [HOME] } });
      fnResource = single(await resourcesOf(notifier), "aws:lambda/function:Function");
    });

    it("carries only the serialized handler, well under 100 KB zipped", async () => {
      const archive = await materializeArchive(fnResource.inputs.code);

      expect(archive.files.map((f) => f.path)).to.deep.equal(["__index.js"]);
      expect(archive.zippedBytes).to.be.at.most(100 * 1024);
    });

    it("loaded from its archive, turns the sample SSM event and the sample CloudWatch Logs payload into notifications, once each", async () => {
      // Prepare: the sent journal's table (by the name the function was given) on dynalite, the topic on the fake SNS.
      const variables = (fnResource.inputs.environment as { variables: Record<string, string> }).variables;
      const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([variables.ALERT_TOPIC_ARN])]);
      await db.createSentJournalTable(variables.ACTIVITY_SENT_TABLE);
      const archive = await materializeArchive(fnResource.inputs.code);
      const ssmEvent = fixture("eventbridge/ssm-start-session.json");

      // Act: the SSM event is delivered twice.
      const { result: results, output } = await captureOutput(() =>
        withEnvironment({ ...db.environment, ...sns.environment, ...variables }, async () => {
          const handler = archive.loadHandler();
          return [await handler(ssmEvent), await handler(fixture("cloudwatch-logs/subscription-event.json")), await handler(ssmEvent)];
        }).finally(() => Promise.all([db.stop(), sns.stop()])),
      );

      // Assess
      expect(output.metrics.map((m) => [m.FunctionName, m.NotificationsPublished ?? m.NotificationsAlreadySent])).to.deep.equal([
        ["user-activity-notifier", 1],
        ["user-activity-notifier", 1],
        ["user-activity-notifier", 1],
      ]);
      expect(output.metrics[2]).to.have.property("NotificationsAlreadySent");
      expect(output.logs.map((l) => l.level)).to.deep.equal(["info", "info", "info", "info"]);
      expect(results).to.deep.equal([
        { records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 0, counted: 0, heldBack: 0 },
        { records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 0, counted: 0, heldBack: 0 },
        { records: 1, matched: 1, published: 0, alreadySent: 1, rejected: 0, counted: 0, heldBack: 0 },
      ]);
      expect(sns.published.map((p) => p.subject)).to.deep.equal(["[ap-northeast-1] ssm:StartSession by hogehoge", "[us-west-2] cloudtrail:DescribeTrails by administrator"]);
      expect(sns.published[0].message.split("\n").slice(0, 3)).to.deep.equal([
        "hogehoge (IAM ユーザー) が ap-northeast-1 で ssm:StartSession を実行しました。",
        "",
        "発生時刻: 2023-04-25 18:47:10 +09:00",
      ]);
      expect(sns.published[1].message.split("\n")).to.include("発生時刻: 2017-02-08 23:45:46 +09:00");
    });
  });

  describe("archive with chat notifications", () => {
    it("publishes the readable text for email and the Amazon Q Developer JSON for HTTPS subscribers in one message", async () => {
      // Prepare
      newTopic();
      const notifier = new UserActivityNotifier("uan-chat", { alertTopic: topic, presets: ["ssm-sessions"], language: "en", chatNotifications: true, source: { type: "eventbridge", regions: [HOME] } });
      const fn = single(await resourcesOf(notifier), "aws:lambda/function:Function");
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([variables.ALERT_TOPIC_ARN])]);
      await db.createSentJournalTable(variables.ACTIVITY_SENT_TABLE);
      const archive = await materializeArchive(fn.inputs.code);

      // Act
      await captureOutput(() =>
        withEnvironment({ ...db.environment, ...sns.environment, ...variables }, () => archive.loadHandler()(fixture("eventbridge/ssm-start-session.json"))).finally(() => Promise.all([db.stop(), sns.stop()])),
      );

      // Assess
      expect(sns.refused).to.deep.equal([]);
      const document = JSON.parse(sns.published[0].message) as { default: string; https: string };
      expect(document.default.split("\n")[0]).to.equal("hogehoge (IAM user) called ssm:StartSession in ap-northeast-1.");
      expect(JSON.parse(document.https)).to.deep.include({ version: "1.0", source: "custom", id: "9a8b7c6d-5e4f-4321-9abc-def012345678" });
    });
  });

  describe("validateArgs", () => {
    const base: UserActivityNotifierArgs = { alertTopic: undefined as unknown as AlertTopic, userNames: ["hogehoge"] };
    const cases: Array<[string, Partial<UserActivityNotifierArgs> & Record<string, unknown>, string]> = [
      ["no criteria", { userNames: undefined }, "the arguments must name at least one of userNames, principalArns, sessionNames, eventSources, eventNames, presets"],
      ["an unknown preset", { presets: ["ssh" as never] }, 'presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, root-activity, unauthorized-calls, no-mfa-sign-in, iam-policy-changes, trail-changes, console-auth-failures, key-deletion, bucket-policy-changes, config-changes, security-group-changes, network-acl-changes, network-gateway-changes, route-table-changes, vpc-changes, network-changes, got "ssh"'],
      ["a bad principal ARN", { principalArns: ["role/admin"] }, 'principalArns[0] must be an IAM or STS principal ARN'],
      ["an unknown time zone", { timeZone: "Tokyo" }, 'timeZone must be an IANA time zone such as Asia/Tokyo, got "Tokyo"'],
      ["an unknown language", { language: "fr" as never }, 'language must be "ja" or "en", got "fr"'],
      ["a deduplicate flag that is not a boolean", { deduplicate: "yes" as never }, 'deduplicate must be true or false, got "yes"'],
      ["a table key without a table", { deduplicate: false, tableKmsKeyArn: `arn:aws:kms:${HOME}:${ACCOUNT}:key/k` }, "tableKmsKeyArn encrypts the sent journal table, which deduplicate: false does not create; remove one of them"],
      ["an unknown Region", { source: { type: "eventbridge", regions: ["tokyo-1"] } }, 'source.regions[0] must be an AWS region such as us-east-1, got "tokyo-1"'],
      ["no Regions", { source: { type: "eventbridge", regions: [] } }, "source.regions must be a non-empty list of regions, got []"],
      ["an unknown source", { source: { type: "sqs" } as never }, 'source.type must be "eventbridge", "logs" or "dispatcher", got "sqs"'],
      ["a log group ARN with :*", { source: { type: "logs", logGroupName: "g", logGroupArn: `arn:aws:logs:${HOME}:${ACCOUNT}:log-group:g:*` } }, "source.logGroupArn must be a log group ARN without the :* suffix"],
      ["a dispatcher that is not one", { source: { type: "dispatcher", dispatcher: {} as never } }, "source.dispatcher must be a LogSubscriptionDispatcher"],
      ["grouping without a table", { deduplicate: false, grouping: { windowSeconds: 120 } }, "grouping keeps its state in the sent journal's table, which deduplicate: false does not create; remove one of them"],
      ["a grouping window over an hour", { grouping: { windowSeconds: 7200 } }, "grouping.windowSeconds must be a whole number from 60 to 3600, got 7200"],
      ["a message cap of 0", { grouping: { maxMessagesPerHour: 0 } }, "grouping.maxMessagesPerHour must be a whole number from 1 to 10000, got 0"],
      ["an unknown grouping setting", { grouping: { window: 60 } as never }, "grouping.window is not a known setting (expected windowSeconds, maxMessagesPerHour)"],
      ["grouping that is neither false nor settings", { grouping: true as never }, "grouping must be false or { windowSeconds, maxMessagesPerHour }, got true"],
      ["too many user names for an event pattern", { userNames: Array.from({ length: 150 }, (_, i) => `user-with-a-long-name-${i}`) }, "the criteria take"],
    ];
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => UserActivityNotifier.validateArgs("v", { ...base, ...override })).to.throw(`UserActivityNotifier "v": ${message}`);
      });
    }

    it("rejects a name too long for the names derived from it", () => {
      expect(() => UserActivityNotifier.validateArgs("n".repeat(37), base)).to.throw(`name must be at most 36 characters`);
    });

    it("rejects an event pattern EventBridge would refuse", () => {
      const arns = Array.from({ length: 40 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/a-rather-long-role-name-number-${i}`);

      expect(() => UserActivityNotifier.validateArgs("v", { ...base, principalArns: arns })).to.throw("EventBridge accepts 2048 by default");
    });
  });
});

import { expect } from "chai";

import { AlertTopic, LogSubscriptionDispatcher, UserActivityNotifier } from "../../components";
import { materializeArchive, withEnvironment } from "../../preview/lambdaArchive";
import type { RecordedResource } from "../../preview/mockCloud";
import { captureOutput } from "../support/captureOutput";
import { policyOf, resourcesOf, single } from "../support/engine";
import { FakeSns } from "../../simulation/fakeSns";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import { fixture, record, subscriptionPayload } from "../../simulation/fixtures";
import { decide } from "../../simulation/iamSimulator";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const LOG_GROUP = "/aws/cloudtrail/lsd";
const LOG_GROUP_ARN = `arn:aws:logs:ap-northeast-1:${ACCOUNT}:log-group:${LOG_GROUP}`;
/** The root user of the account the CloudTrail fixtures were recorded in. */
const ROOT = "arn:aws:iam::123456789012:root";

describe("LogSubscriptionDispatcher", () => {
  describe("with two notifiers connected", () => {
    let dispatcher: LogSubscriptionDispatcher;
    let notifiers: UserActivityNotifier[];
    let resources: RecordedResource[];

    before(async () => {
      const topic = new AlertTopic("lsd-alerts", {});
      dispatcher = new LogSubscriptionDispatcher("lsd", { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: topic });
      notifiers = [
        new UserActivityNotifier("lsd-user", { alertTopic: topic, userNames: ["hogehoge"], timeZone: "Asia/Tokyo", language: "en", source: { type: "dispatcher", dispatcher } }),
        new UserActivityNotifier("lsd-root", { alertTopic: topic, presets: ["console-sign-in"], principalArns: [ROOT], source: { type: "dispatcher", dispatcher } }),
      ];
      resources = await resourcesOf(dispatcher);
    });

    it("creates one subscription filter, its function (with its rejected-input alarm), the dispatch topic and its policy, and a permission", async () => {
      const urn = await valueOf(dispatcher.urn);

      expect(resources.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal(
        [
          "aws:cloudwatch/logGroup:LogGroup lsd-handler-logs",
          "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter lsd-filter",
          "aws:cloudwatch/metricAlarm:MetricAlarm lsd-handler-dead-letters",
          "aws:cloudwatch/metricAlarm:MetricAlarm lsd-handler-errors",
          "aws:cloudwatch/metricAlarm:MetricAlarm lsd-handler-rejected-input",
          "aws:iam/role:Role lsd-handler-role",
          "aws:iam/rolePolicy:RolePolicy lsd-handler-policy",
          "aws:lambda/function:Function lsd-handler",
          "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig lsd-handler-async",
          "aws:lambda/permission:Permission lsd-permission",
          "aws:sns/topic:Topic lsd-topic",
          "aws:sns/topicPolicy:TopicPolicy lsd-topic-policy",
          "aws:sqs/queue:Queue lsd-handler-dead-letters",
          "cloudtrail-alerts:lambda:SecureCallbackFunction lsd-handler",
        ].sort(),
      );
      expect(resources.filter((r) => r.parent === urn).map((r) => r.name).sort()).to.deep.equal(["lsd-filter", "lsd-handler", "lsd-permission", "lsd-topic", "lsd-topic-policy"]);
    });

    it("subscribes its function with the OR of the consumers' patterns", () => {
      const fn = single(resources, "aws:lambda/function:Function");

      expect(single(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs).to.deep.equal({
        logGroup: LOG_GROUP,
        destinationArn: fn.state.arn,
        filterPattern:
          '{ (($.userIdentity.userName = "hogehoge") && (($.eventType = "AwsApiCall") || ($.eventType = "AwsConsoleSignIn") || ($.eventType = "AwsConsoleAction"))) || ' +
          '((($.userIdentity.arn = "arn:aws:iam::123456789012:root") || ($.userIdentity.sessionContext.sessionIssuer.arn = "arn:aws:iam::123456789012:root")) && ($.eventSource = "signin.amazonaws.com") && ($.eventName = "ConsoleLogin") && ($.eventType = "AwsConsoleSignIn")) }',
      });
    });

    it("lets only this log group, in this account, invoke the function", () => {
      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: single(resources, "aws:lambda/function:Function").state.name,
        principal: "logs.amazonaws.com",
        sourceArn: `${LOG_GROUP_ARN}:*`,
        sourceAccount: ACCOUNT,
      });
    });

    it("hands the function each consumer's key and patterns", () => {
      const variables = (single(resources, "aws:lambda/function:Function").inputs.environment as { variables: Record<string, string> }).variables;

      expect(variables.DISPATCH_TOPIC_ARN).to.equal(single(resources, "aws:sns/topic:Topic").state.arn);
      expect(JSON.parse(variables.DISPATCH_ROUTES)).to.deep.equal([
        { key: "lsd-user", patterns: [{ userIdentity: { userName: ["hogehoge"] }, eventType: ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"] }] },
        {
          key: "lsd-root",
          patterns: [
            {
              userIdentity: { $or: [{ arn: [ROOT] }, { sessionContext: { sessionIssuer: { arn: [ROOT] } } }] },
              eventSource: ["signin.amazonaws.com"],
              eventName: ["ConsoleLogin"],
              eventType: ["AwsConsoleSignIn"],
            },
          ],
        },
      ]);
    });

    it("lets the function publish to the dispatch topic and nothing else", () => {
      const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");
      const queue = single(resources, "aws:sqs/queue:Queue");

      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement).to.deep.equal([
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${String(logGroup.state.arn)}:log-stream:*` },
        { Sid: "KeepFailedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: queue.state.arn },
        { Sid: "ForwardToConsumers", Effect: "Allow", Action: "sns:Publish", Resource: single(resources, "aws:sns/topic:Topic").state.arn },
      ]);
    });

    it("encrypts the topic and lets only the dispatcher publish to it, over TLS", () => {
      const topic = single(resources, "aws:sns/topic:Topic");
      const role = single(resources, "aws:iam/role:Role");

      expect(topic.inputs.kmsMasterKeyId).to.equal("alias/aws/sns");
      expect(policyOf(single(resources, "aws:sns/topicPolicy:TopicPolicy")).Statement).to.deep.equal([
        { Sid: "AllowDispatcher", Effect: "Allow", Principal: { AWS: role.state.arn }, Action: "sns:Publish", Resource: topic.state.arn },
        { Sid: "DenyOtherPublishers", Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: topic.state.arn, Condition: { ArnNotEquals: { "aws:PrincipalArn": role.state.arn } } },
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: ["sns:Publish", "sns:Subscribe", "sns:SetTopicAttributes", "sns:GetTopicAttributes"],
          Resource: topic.state.arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    });

    it("refuses forged records: no other principal may publish, even with sns:Publish on * (IAM simulator)", async () => {
      const topicArn = String(single(resources, "aws:sns/topic:Topic").state.arn);
      const roleArn = String(single(resources, "aws:iam/role:Role").state.arn);
      const topicPolicy = policyOf(single(resources, "aws:sns/topicPolicy:TopicPolicy"));
      const ownPolicy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy"));
      const broad = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sns:*", Resource: "*" }] };
      const publish = (principal: string, identity: unknown, secure = "true") =>
        decide({ principal, action: "sns:Publish", resource: topicArn, accountId: ACCOUNT, identityPolicies: [identity], resourcePolicy: topicPolicy, context: { "aws:PrincipalArn": principal, "aws:SecureTransport": secure } });

      expect(await publish(roleArn, ownPolicy)).to.equal("Allowed");
      expect(await publish(roleArn, ownPolicy, "false")).to.equal("ExplicitlyDenied");
      expect(await publish(`arn:aws:iam::${ACCOUNT}:role/admin`, broad)).to.equal("ExplicitlyDenied");
    });

    it("makes each consumer's subscription and permission children of the consumer", async () => {
      const own = await resourcesOf(notifiers[1]);
      const urn = await valueOf(notifiers[1].urn);

      expect(own.filter((r) => r.parent === urn && /dispatch/.test(r.name)).map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
        "aws:lambda/permission:Permission lsd-root-dispatch-permission",
        "aws:sns/topicSubscription:TopicSubscription lsd-root-dispatch",
      ]);
    });

    it("alarms on rejected input through its function, saying that the records reached no consumer", async () => {
      const fn = single(resources, "aws:lambda/function:Function");
      const alarm = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "lsd-handler-rejected-input");

      expect(alarm.parent).to.equal(await valueOf(dispatcher.handler.urn));
      expect(alarm.inputs).to.deep.include({ namespace: "CloudTrailAlerts", metricName: "RejectedInput", dimensions: { FunctionName: fn.state.name } });
      expect(alarm.inputs.alarmDescription).to.equal(
        `Lambda function ${String(fn.state.name)} (${String(fn.inputs.description)}) received input it could not decode: the records in it reached no consumer. It logs each reason in log group ${String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.name)} (message "input rejected").`,
      );
    });

    it("refuses a second consumer with the same name, and patterns it cannot evaluate", () => {
      expect(() => dispatcher.connect(notifiers[0], "lsd-user", { functionArn: "arn", patterns: [{ a: ["b"] }] })).to.throw(
        'LogSubscriptionDispatcher "lsd": a consumer named "lsd-user" is already connected; consumer names must be unique',
      );
      expect(() => dispatcher.connect(notifiers[0], "lsd-other", { functionArn: "arn", patterns: [{ eventName: [] }] })).to.throw(
        'LogSubscriptionDispatcher "lsd": consumer "lsd-other": patterns[0].eventName must list at least one accepted value',
      );
    });

    describe("archives", () => {
      it("forward a CloudWatch Logs batch through the dispatch topic to the notifier that wants each record", async () => {
        // Prepare
        const dispatcherFn = single(resources, "aws:lambda/function:Function");
        const notifierFn = single(await resourcesOf(notifiers[0]), "aws:lambda/function:Function");
        const dispatchVariables = (dispatcherFn.inputs.environment as { variables: Record<string, string> }).variables;
        const notifierVariables = (notifierFn.inputs.environment as { variables: Record<string, string> }).variables;
        const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([dispatchVariables.DISPATCH_TOPIC_ARN, notifierVariables.ALERT_TOPIC_ARN])]);
        await db.createSentJournalTable(notifierVariables.ACTIVITY_SENT_TABLE);
        const [dispatcherArchive, notifierArchive] = await Promise.all([materializeArchive(dispatcherFn.inputs.code), materializeArchive(notifierFn.inputs.code)]);
        const ssm = fixture<{ detail: object }>("eventbridge/ssm-start-session.json").detail;
        const batch = subscriptionPayload([ssm, record("root-console-login-failure.json"), record("federated-user-list-buckets.json")]);

        // Act
        const { result, output } = await captureOutput(async () => {
          const dispatched = await withEnvironment({ ...sns.environment, ...dispatchVariables }, () => dispatcherArchive.loadHandler()(batch));
          const forUser = sns.published.filter((p) => p.attributes?.consumer === "lsd-user");
          const delivery = { Records: forUser.map((p) => ({ EventSource: "aws:sns", Sns: { MessageId: p.messageId, TopicArn: p.topicArn, Message: p.message } })) };
          const notified = await withEnvironment({ ...db.environment, ...sns.environment, ...notifierVariables }, () => notifierArchive.loadHandler()(delivery));
          return { dispatched, notified };
        }).finally(() => Promise.all([db.stop(), sns.stop()]));

        // Assess
        expect(result).to.deep.equal({
          dispatched: { logEvents: 3, forwarded: { "lsd-user": 1, "lsd-root": 1 }, messages: 2, rejected: 0 },
          notified: { records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 0, counted: 0, heldBack: 0 },
        });
        expect(sns.published.map((p) => [p.topicArn, p.attributes?.consumer ?? p.subject]).sort()).to.deep.equal(
          [
            [dispatchVariables.DISPATCH_TOPIC_ARN, "lsd-root"],
            [dispatchVariables.DISPATCH_TOPIC_ARN, "lsd-user"],
            [notifierVariables.ALERT_TOPIC_ARN, "[ap-northeast-1] ssm:StartSession by hogehoge"],
          ].sort(),
        );
        expect(output.metrics.map((m) => Object.keys(m).filter((k) => k !== "_aws" && k !== "FunctionName"))).to.deep.equal([["NotificationsPublished"]]);
      });
    });
  });

  describe("without consumers", () => {
    it("subscribes to every event (and warns), unless given a pattern", async () => {
      const topic = new AlertTopic("lsd-empty-topic", {});
      const empty = new LogSubscriptionDispatcher("lsd-empty", { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: topic });
      const fixed = new LogSubscriptionDispatcher("lsd-fixed", { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: topic, filterPattern: '{ $.eventName = "X" }' });

      expect([await valueOf(empty.filterPattern), await valueOf(fixed.filterPattern)]).to.deep.equal(["", '{ $.eventName = "X" }']);
    });
  });

  describe("connect after construction", () => {
    it("is refused rather than silently leaving the consumer out", async () => {
      const topic = new AlertTopic("lsd-late-topic", {});
      const late = new LogSubscriptionDispatcher("lsd-late", { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: topic });
      await valueOf(late.urn);
      await new Promise((resolve) => setImmediate(resolve));

      expect(() => late.connect(late, "lsd-late-consumer", { functionArn: "arn", patterns: [{ eventName: ["A"] }] })).to.throw("added after the program finished constructing resources");
    });
  });

  describe("validateArgs", () => {
    const base = { logGroupName: LOG_GROUP, logGroupArn: LOG_GROUP_ARN, alertTopic: undefined as unknown as AlertTopic };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["an ARN with :*", { logGroupArn: `${LOG_GROUP_ARN}:*` }, `logGroupArn must be a log group ARN without the :* suffix, got "${LOG_GROUP_ARN}:*"`],
      ["an empty log group", { logGroupName: "" }, 'logGroupName must be a log group name, got ""'],
      ["a pattern over 1,024 characters", { filterPattern: "x".repeat(1025) }, "filterPattern must be a filter pattern of at most 1024 characters"],
      ["a retention CloudWatch Logs does not offer", { logRetentionInDays: 2 }, "logRetentionInDays must be one of CloudWatch Logs' retention periods, got 2"],
    ];
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => LogSubscriptionDispatcher.validateArgs("v", { ...base, ...override })).to.throw(`LogSubscriptionDispatcher "v": ${message}`);
      });
    }
  });
});

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic } from "../../components";
import { offlineEngine, policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";
const alarmCondition = {
  StringEquals: { "aws:SourceAccount": ACCOUNT },
  ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
};
const TLS_DENY_ACTIONS = [
  "sns:AddPermission",
  "sns:DeleteTopic",
  "sns:GetTopicAttributes",
  "sns:ListSubscriptionsByTopic",
  "sns:Publish",
  "sns:RemovePermission",
  "sns:SetTopicAttributes",
  "sns:Subscribe",
];

describe("AlertTopic", () => {
  it("uses the dev stack's account and region", () => {
    // Prepare / Act / Assess: the root hook configured the engine from Pulumi.dev.yaml.
    expect(offlineEngine()).to.include({ accountId: ACCOUNT, region: REGION });
  });

  describe("created with defaults", () => {
    it("creates a customer managed key, the topic, its policy and one subscription per email, all as children", async () => {
      // Prepare
      const topic = new AlertTopic("at-default", { emailAddresses: ["security@example.com", "ops@example.com"] });

      // Act
      const resources = await resourcesOf(topic);

      // Assess
      expect(resources.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
        "aws:kms/key:Key at-default-key",
        "aws:sns/topic:Topic at-default",
        "aws:sns/topicPolicy:TopicPolicy at-default-policy",
        "aws:sns/topicSubscription:TopicSubscription at-default-email-ops@example.com",
        "aws:sns/topicSubscription:TopicSubscription at-default-email-security@example.com",
      ]);
      const componentUrn = await valueOf(topic.urn);
      expect(resources.every((r) => r.parent === componentUrn)).to.equal(true);
      const key = single(resources, "aws:kms/key:Key");
      const snsTopic = single(resources, "aws:sns/topic:Topic");
      expect(snsTopic.inputs.kmsMasterKeyId).to.equal(key.state.arn);
      expect(key.inputs.enableKeyRotation).to.equal(true);
      const subscription = single(resources, "aws:sns/topicSubscription:TopicSubscription", "at-default-email-security@example.com");
      expect(subscription.inputs).to.include({ protocol: "email", endpoint: "security@example.com", topic: snsTopic.state.arn });
    });

    it("lets only IAM (through the account root) and this account's alarms use the key", async () => {
      const topic = new AlertTopic("at-key", {});
      const key = single(await resourcesOf(topic), "aws:kms/key:Key");

      expect(policyOf(key).Statement).to.deep.equal([
        { Sid: "EnableIamPolicies", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
        {
          Sid: "AllowThisAccountsAlarmsToEncrypt",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: "*",
          Condition: alarmCondition,
        },
      ]);
    });

    it("allows this account's alarms, denies other IAM publishers and plain HTTP when no function publishes", async () => {
      const topic = new AlertTopic("at-nopub", {});
      const resources = await resourcesOf(topic);
      const topicArn = single(resources, "aws:sns/topic:Topic").state.arn;

      expect(policyOf(single(resources, "aws:sns/topicPolicy:TopicPolicy")).Statement).to.deep.equal([
        { Sid: "AllowThisAccountsAlarms", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: alarmCondition },
        { Sid: "DenyOtherPublishers", Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: topicArn, Condition: { Bool: { "aws:PrincipalIsAWSService": "false" } } },
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: TLS_DENY_ACTIONS, Resource: topicArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
      ]);
    });

    it("names registered publisher roles in the allow and exempts exactly them from the deny", async () => {
      // Prepare
      const topic = new AlertTopic("at-pub", {});
      const roles = ["arn:aws:iam::111111111111:role/one", "arn:aws:iam::111111111111:role/two"];

      // Act
      roles.forEach((role) => topic.allowPublisher(pulumi.output(role)));
      const policy = policyOf(single(await resourcesOf(topic), "aws:sns/topicPolicy:TopicPolicy"));

      // Assess
      const topicArn = await valueOf(topic.topicArn);
      expect(policy.Statement[1]).to.deep.equal({ Sid: "AllowProjectFunctions", Effect: "Allow", Principal: { AWS: roles }, Action: "sns:Publish", Resource: topicArn });
      expect(policy.Statement[2]).to.deep.equal({
        Sid: "DenyOtherPublishers",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { Bool: { "aws:PrincipalIsAWSService": "false" }, ArnNotEquals: { "aws:PrincipalArn": roles } },
      });
    });

    it("refuses a publisher registered after construction instead of leaving it out of the policy", async () => {
      const topic = new AlertTopic("at-late", {});
      await resourcesOf(topic);

      expect(() => topic.allowPublisher("arn:aws:iam::111111111111:role/late")).to.throw(
        'AlertTopic "at-late" publishers: added after the program finished constructing resources',
      );
    });

    it("drops the publisher deny when restrictPublishers is false", async () => {
      const topic = new AlertTopic("at-open", { restrictPublishers: false });
      const policy = policyOf(single(await resourcesOf(topic), "aws:sns/topicPolicy:TopicPolicy"));

      expect(policy.Statement.map((s) => s.Sid)).to.deep.equal(["AllowThisAccountsAlarms", "DenyInsecureTransport"]);
    });

    it("grants publishers sns:Publish on the topic and use of its key", async () => {
      const topic = new AlertTopic("at-grants", {});
      const [topicArn, keyArn, statements] = await Promise.all([valueOf(topic.topicArn), valueOf(topic.kmsKeyArn), valueOf(topic.publishStatements())]);

      expect(statements).to.deep.equal([
        { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
        { Sid: "EncryptAlerts", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn },
      ]);
    });

    it("subscribes HTTPS, SQS and Lambda endpoints under stable names", async () => {
      const queueArn = "arn:aws:sqs:ap-northeast-1:111111111111:alerts-queue";
      const topic = new AlertTopic("at-subs", {
        subscriptions: [
          { name: "pager", protocol: "https", endpoint: "https://pager.example.com/hook" },
          { name: "archive", protocol: "sqs", endpoint: queueArn, rawMessageDelivery: true },
          { name: "forwarder", protocol: "lambda", endpoint: "arn:aws:lambda:ap-northeast-1:111111111111:function:fwd" },
        ],
      });
      const subscriptions = (await resourcesOf(topic)).filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");

      const rows = subscriptions.map((s) => [s.name, s.inputs.protocol, s.inputs.endpoint, s.inputs.rawMessageDelivery]);
      expect(rows.sort()).to.deep.equal([
        ["at-subs-archive", "sqs", queueArn, true],
        ["at-subs-forwarder", "lambda", "arn:aws:lambda:ap-northeast-1:111111111111:function:fwd", undefined],
        ["at-subs-pager", "https", "https://pager.example.com/hook", undefined],
      ]);
    });
  });

  describe("created with a caller key", () => {
    it("creates no key and encrypts with the one given", async () => {
      const topic = new AlertTopic("at-callerkey", { kmsMasterKeyId: "alias/team-alerts" });
      const resources = await resourcesOf(topic);

      expect(resources.map((r) => r.type).sort()).to.deep.equal(["aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"]);
      expect(single(resources, "aws:sns/topic:Topic").inputs.kmsMasterKeyId).to.equal("alias/team-alerts");
      expect(await valueOf(topic.kmsKeyArn)).to.match(/^arn:aws:kms:ap-northeast-1:111111111111:key\/[0-9a-f-]{36}$/);
    });

    it("warns that CloudWatch alarms cannot publish with the AWS managed key", async () => {
      // Prepare
      const warnings: string[] = [];
      const original = pulumi.log.warn;
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (message: string) => {
        warnings.push(message);
        return Promise.resolve();
      };

      // Act
      try {
        await resourcesOf(new AlertTopic("at-awskey", { kmsMasterKeyId: "alias/aws/sns" }));
      } finally {
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
      }

      // Assess
      expect(warnings).to.deep.equal([
        'AlertTopic "at-awskey": CloudWatch alarms cannot publish to a topic encrypted with alias/aws/sns; alarm notifications will be dropped. Omit kmsMasterKeyId to get a key that allows them.',
      ]);
    });
  });

  describe("adopted", () => {
    const existing = "arn:aws:sns:ap-northeast-1:111111111111:org-security-alerts";

    it("creates only the subscriptions, on the existing topic", async () => {
      const topic = new AlertTopic("at-adopt", { existingTopicArn: existing, emailAddresses: ["security@example.com"] });
      const resources = await resourcesOf(topic);

      expect(resources.map((r) => `${r.type} ${r.name}`)).to.deep.equal([
        "aws:sns/topicSubscription:TopicSubscription at-adopt-email-security@example.com",
      ]);
      expect(resources[0].inputs.topic).to.equal(existing);
      expect(await valueOf(topic.topicArn)).to.equal(existing);
      topic.allowPublisher("arn:aws:iam::111111111111:role/any"); // no topic policy to change: a no-op
    });

    it("grants publishers the existing topic's key when it is given, and no KMS otherwise", async () => {
      const keyArn = "arn:aws:kms:ap-northeast-1:111111111111:key/0f0f0f0f-1111-2222-3333-444455556666";
      const withKey = new AlertTopic("at-adopt-key", { existingTopicArn: existing, existingTopicKmsKeyArn: keyArn });
      const withoutKey = new AlertTopic("at-adopt-nokey", { existingTopicArn: existing });

      expect(await valueOf(withKey.publishStatements())).to.deep.equal([
        { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: existing },
        { Sid: "EncryptAlerts", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn },
      ]);
      expect(await valueOf(withoutKey.publishStatements())).to.deep.equal([
        { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: existing },
      ]);
    });
  });

  describe("validateArgs", () => {
    const cases: Array<[string, Parameters<typeof AlertTopic.validateArgs>[1], string]> = [
      [
        "adopt and create args together",
        { existingTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t", kmsMasterKeyId: "alias/k" } as never,
        'AlertTopic "v": existingTopicArn adopts a topic and cannot be combined with kmsMasterKeyId',
      ],
      ["an existing topic that is not an SNS ARN", { existingTopicArn: "my-topic" }, 'AlertTopic "v": existingTopicArn must be an SNS topic ARN, got "my-topic"'],
      ["a key for an adopted topic without the topic", { existingTopicKmsKeyArn: "arn:aws:kms:x" } as never, 'AlertTopic "v": existingTopicKmsKeyArn applies only together with existingTopicArn'],
      ["a malformed email", { emailAddresses: ["security@example.com", "bob@"] }, 'AlertTopic "v": emailAddresses[1] must be an email address, got "bob@"'],
      [
        "a plain-HTTP endpoint",
        { subscriptions: [{ name: "hook", protocol: "https", endpoint: "http://hook.example.com" }] },
        'AlertTopic "v": subscriptions[0].endpoint must be an https:// URL, got "http://hook.example.com"',
      ],
      [
        "an unsupported protocol",
        { subscriptions: [{ name: "sms", protocol: "sms", endpoint: "+81000000000" }] } as never,
        'AlertTopic "v": subscriptions[0].protocol must be https, sqs or lambda, got "sms"',
      ],
      [
        "a queue endpoint that is not an SQS ARN",
        { subscriptions: [{ name: "q", protocol: "sqs", endpoint: "https://sqs.ap-northeast-1.amazonaws.com/1/q" }] },
        'AlertTopic "v": subscriptions[0].endpoint must be an sqs ARN, got "https://sqs.ap-northeast-1.amazonaws.com/1/q"',
      ],
      [
        "two subscriptions with one name",
        {
          subscriptions: [
            { name: "hook", protocol: "https", endpoint: "https://a.example.com" },
            { name: "hook", protocol: "https", endpoint: "https://b.example.com" },
          ],
        },
        'AlertTopic "v": subscriptions[1].name "hook" is used twice',
      ],
    ];
    for (const [title, args, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => AlertTopic.validateArgs("v", args)).to.throw(message);
      });
    }

    it("accepts Outputs it cannot check yet", () => {
      expect(() => AlertTopic.validateArgs("v", { existingTopicArn: pulumi.output("not-checked-until-deploy") })).not.to.throw();
    });
  });
});

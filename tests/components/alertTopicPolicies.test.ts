import { expect } from "chai";

import { alertKeyStatements, alertTopicStatements, AlertTopic } from "../../components";

const TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
const ALARMS = { StringEquals: { "aws:SourceAccount": "111111111111" } };

describe("alertTopicPolicies", () => {
  it("admits EventBridge only for the rules given, sorted, and only when there are some", () => {
    const rules = ["arn:aws:events:ap-northeast-1:111111111111:rule/b", "arn:aws:events:ap-northeast-1:111111111111:rule/a"];
    const withRules = alertTopicStatements({ topicArn: TOPIC, fromThisAccountsAlarms: ALARMS, roleArns: [], restrictPublishers: true, eventRuleArns: rules });
    const without = alertTopicStatements({ topicArn: TOPIC, fromThisAccountsAlarms: ALARMS, roleArns: [], restrictPublishers: true });

    expect(withRules.map((s) => s.Sid)).to.deep.equal(["AllowThisAccountsAlarms", "AllowForwardedAlarms", "DenyOtherPublishers", "DenyInsecureTransport"]);
    expect(withRules[1]).to.deep.equal({
      Sid: "AllowForwardedAlarms",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sns:Publish",
      Resource: TOPIC,
      Condition: { ArnEquals: { "aws:SourceArn": [...rules].sort() } },
    });
    expect(without.map((s) => s.Sid)).to.deep.equal(["AllowThisAccountsAlarms", "DenyOtherPublishers", "DenyInsecureTransport"]);
    expect(AlertTopic.policyStatements({ topicArn: TOPIC, fromThisAccountsAlarms: ALARMS, roleArns: [], restrictPublishers: true, eventRuleArns: rules })).to.deep.equal(withRules);
  });

  it("lets EventBridge use the key only once rules publish, under the condition given", () => {
    const rules = { StringEquals: { "aws:SourceAccount": "111111111111" }, ArnLike: { "aws:SourceArn": "arn:aws:events:ap-northeast-1:111111111111:rule/*" } };
    const root = "arn:aws:iam::111111111111:root";

    expect(alertKeyStatements({ accountRoot: root, fromThisAccountsAlarms: ALARMS }).map((s) => s.Sid)).to.deep.equal(["EnableIamPolicies", "AllowThisAccountsAlarmsToEncrypt"]);
    expect(alertKeyStatements({ accountRoot: root, fromThisAccountsAlarms: ALARMS, fromThisAccountsRules: rules })[2]).to.deep.equal({
      Sid: "AllowThisAccountsRulesToEncrypt",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: rules,
    });
  });
});

import * as pulumi from "@pulumi/pulumi";

import type { PolicyStatement } from "./policy";

/** Actions a topic policy can name; the TLS-only statement denies them all without TLS. */
const TOPIC_ACTIONS = [
  "sns:AddPermission",
  "sns:DeleteTopic",
  "sns:GetTopicAttributes",
  "sns:ListSubscriptionsByTopic",
  "sns:Publish",
  "sns:RemovePermission",
  "sns:SetTopicAttributes",
  "sns:Subscribe",
];

/** What the alert topic's policy admits: see {@link alertTopicStatements}. */
export interface AlertTopicPolicyParams {
  topicArn: pulumi.Input<string>;
  /** Condition of the alarms that may publish (this account's, this Region's). */
  fromThisAccountsAlarms: pulumi.Input<Record<string, unknown>>;
  /** The project's function roles that publish alerts. */
  roleArns: string[];
  /** Deny `sns:Publish` to every other IAM principal. */
  restrictPublishers: boolean;
  /** EventBridge rules that publish forwarded alarms (see `AlertTopic.forwardAlarm`). @default - none */
  eventRuleArns?: string[];
}

/**
 * The alert topic's policy: this account's alarms, EventBridge for the rules that publish forwarded alarms, and the
 * project's function roles may publish; with `restrictPublishers` every other IAM principal is denied; nothing
 * without TLS.
 */
export function alertTopicStatements(p: AlertTopicPolicyParams): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    {
      Sid: "AllowThisAccountsAlarms",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: p.topicArn,
      Condition: p.fromThisAccountsAlarms,
    },
  ];
  if ((p.eventRuleArns ?? []).length > 0) {
    statements.push({
      Sid: "AllowForwardedAlarms",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sns:Publish",
      Resource: p.topicArn,
      Condition: { ArnEquals: { "aws:SourceArn": [...(p.eventRuleArns ?? [])].sort() } },
    });
  }
  if (p.roleArns.length > 0) {
    statements.push({
      Sid: "AllowProjectFunctions",
      Effect: "Allow",
      Principal: { AWS: p.roleArns },
      Action: "sns:Publish",
      Resource: p.topicArn,
    });
  }
  if (p.restrictPublishers) {
    statements.push({
      Sid: "DenyOtherPublishers",
      Effect: "Deny",
      Principal: "*",
      Action: "sns:Publish",
      Resource: p.topicArn,
      Condition: {
        // Service principals (CloudWatch) carry no principal ARN; they are limited by the allow statement above.
        Bool: { "aws:PrincipalIsAWSService": "false" },
        ...(p.roleArns.length > 0 ? { ArnNotEquals: { "aws:PrincipalArn": p.roleArns } } : {}),
      },
    });
  }
  statements.push({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: TOPIC_ACTIONS,
    Resource: p.topicArn,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
  return statements;
}

/**
 * The created key's policy: IAM policies of the account (AWS's default statement), this account's alarms and, once
 * alarms of another Region are forwarded (`fromThisAccountsRules`), this account's EventBridge rules, which publish
 * them. In a key policy `"Resource": "*"` means this key. See
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 */
export function alertKeyStatements(p: {
  accountRoot: pulumi.Input<string>;
  fromThisAccountsAlarms: Record<string, unknown>;
  fromThisAccountsRules?: Record<string, unknown>;
}): PolicyStatement[] {
  return [
    {
      // AWS's default key policy statement: it delegates access to IAM policies of this account and keeps the key
      // manageable. In a key policy "Resource": "*" means this key; nothing narrower exists.
      Sid: "EnableIamPolicies",
      Effect: "Allow",
      Principal: { AWS: p.accountRoot },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "AllowThisAccountsAlarmsToEncrypt",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: p.fromThisAccountsAlarms,
    },
    ...(p.fromThisAccountsRules === undefined
      ? []
      : [
          {
            Sid: "AllowThisAccountsRulesToEncrypt",
            Effect: "Allow" as const,
            Principal: { Service: "events.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: p.fromThisAccountsRules,
          },
        ]),
  ];
}

/**
 * Trust policies and resource policies of the dev stack, simulated: each role can be assumed only by its intended
 * principal (with `aws:SourceArn`, `sts:ExternalId` and `aws:PrincipalOrgID` honoured where configured), and each
 * topic, bucket, queue, key and Lambda permission admits only its intended callers.
 */
import { expect } from "chai";

import { ChatChannels } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { fixture } from "../../simulation/fixtures";
import { devStack } from "../support/devStack";
import { resourcesOf } from "../support/engine";
import { decide } from "../../simulation/iamSimulator";
import { verifyReport } from "../../simulation/verifyReport";

const ACCOUNT = "111111111111";
const ORG = "o-exampleorg1";
const EXTERNAL_ID = "cloudtrail-alerts-dev-backfill";

interface Case {
  title: string;
  principal: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
  resourcePolicy: unknown;
  identityPolicies?: unknown[];
  expected: "allowed" | "denied";
}

const parse = (text: unknown): unknown => JSON.parse(String(text));

describe("trust and resource policies, proven by IAM simulation", function () {
  this.timeout(120_000);
  let resources: RecordedResource[];
  const byType = (type: string) => resources.filter((r) => r.type === type);
  const named = (type: string, name: string) => {
    const found = byType(type).find((r) => r.name === name);
    if (!found) throw new Error(`the dev stack has no ${type} ${name}`);
    return found;
  };
  const arn = (type: string, name: string) => String(named(type, name).state.arn);
  const rolePolicy = (roleName: string) =>
    byType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => (p.propertyDependencies.role ?? []).includes(named("aws:iam/role:Role", roleName).urn))
      .map((p) => parse(p.inputs.policy));

  before(async () => {
    ({ resources } = await devStack());
  });

  async function check(group: string, cases: Case[]): Promise<void> {
    const failures: string[] = [];
    for (const c of cases) {
      const decision = await decide({
        principal: c.principal,
        action: c.action,
        resource: c.resource,
        accountId: c.resource.split(":")[4] || ACCOUNT,
        context: { "aws:SecureTransport": "true", ...c.context },
        identityPolicies: c.identityPolicies ?? [],
        resourcePolicy: c.resourcePolicy,
      });
      const actual = decision === "Allowed" ? "allowed" : "denied";
      verifyReport.policies.push({ policy: group, request: c.title, expected: c.expected, actual: decision });
      if (actual !== c.expected) {
        failures.push(`${c.title}: expected ${c.expected}, simulator said ${decision}`);
      }
    }
    expect(failures).to.deep.equal([]);
  }

  it("Lambda execution roles can be assumed by the Lambda service only", async () => {
    const roles = byType("aws:iam/role:Role").filter((r) => r.name.endsWith("-handler-role") || r.name === "backfill-function-role");
    expect(roles).to.have.length(5);
    await check(
      "Lambda role trust",
      roles.flatMap((role) => [
        { title: `${role.name}: lambda.amazonaws.com`, principal: "lambda.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy), expected: "allowed" as const },
        { title: `${role.name}: ec2.amazonaws.com`, principal: "ec2.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy), expected: "denied" as const },
        { title: `${role.name}: another role of the account`, principal: `arn:aws:iam::${ACCOUNT}:role/someone`, action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy), expected: "denied" as const },
      ]),
    );
  });

  it("the delivery role can be assumed by CloudTrail acting for this trail only", async () => {
    const role = named("aws:iam/role:Role", "trail-delivery-role");
    const trust = parse(role.inputs.assumeRolePolicy);
    const trailArn = arn("aws:cloudtrail/trail:Trail", "trail");
    const base = { principal: "cloudtrail.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: trust };
    await check("CloudTrail delivery role trust", [
      { ...base, title: "CloudTrail for this trail", context: { "aws:SourceArn": trailArn }, expected: "allowed" },
      { ...base, title: "CloudTrail for another trail", context: { "aws:SourceArn": `arn:aws:cloudtrail:ap-northeast-1:${ACCOUNT}:trail/other` }, expected: "denied" },
      { ...base, title: "CloudTrail without a source", expected: "denied" },
    ]);
  });

  it("the state machine role can be assumed by Step Functions for this state machine and its Map Run's children only", async () => {
    const role = named("aws:iam/role:Role", "backfill-state-machine-role");
    const machineArn = arn("aws:sfn/stateMachine:StateMachine", "backfill");
    const base = { principal: "states.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy) };
    await check("Step Functions role trust", [
      { ...base, title: "Step Functions for this state machine", context: { "aws:SourceArn": machineArn, "aws:SourceAccount": ACCOUNT }, expected: "allowed" },
      // Distributed Map children run as `stateMachine:<name>/<label>:<map run id>`; an exact-ARN condition refused them.
      { ...base, title: "Step Functions for a child of its Map Run", context: { "aws:SourceArn": `${machineArn}/Pairs:0b3c5d7e-1111-4222-8333-444455556666`, "aws:SourceAccount": ACCOUNT }, expected: "allowed" },
      { ...base, title: "Step Functions for a child of another Map", context: { "aws:SourceArn": `${machineArn}/Other:0b3c5d7e-1111-4222-8333-444455556666`, "aws:SourceAccount": ACCOUNT }, expected: "denied" },
      { ...base, title: "Step Functions for another state machine", context: { "aws:SourceArn": `arn:aws:states:ap-northeast-1:${ACCOUNT}:stateMachine:other`, "aws:SourceAccount": ACCOUNT }, expected: "denied" },
      { ...base, title: "Step Functions for another state machine's Map Run", context: { "aws:SourceArn": `arn:aws:states:ap-northeast-1:${ACCOUNT}:stateMachine:other/Pairs:1`, "aws:SourceAccount": ACCOUNT }, expected: "denied" },
      { ...base, title: "Lambda", principal: "lambda.amazonaws.com", expected: "denied" },
    ]);
  });

  it("the EventBridge forwarding roles can be assumed by EventBridge for their own rules only", async () => {
    const role = named("aws:iam/role:Role", "activity-ssm-sessions-forward-role");
    const ruleArn = arn("aws:cloudwatch/eventRule:EventRule", "activity-ssm-sessions-rule-us-east-1");
    const base = { principal: "events.amazonaws.com", action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy) };
    const alarmsRole = named("aws:iam/role:Role", "alerts-alarms-us-east-1-role");
    const alarmsRule = arn("aws:cloudwatch/eventRule:EventRule", "alerts-alarms-us-east-1");
    const alarms = { ...base, resource: String(alarmsRole.state.arn), resourcePolicy: parse(alarmsRole.inputs.assumeRolePolicy) };
    await check("EventBridge role trust", [
      { ...base, title: "EventBridge for its us-east-1 rule", context: { "aws:SourceArn": ruleArn, "aws:SourceAccount": ACCOUNT }, expected: "allowed" },
      { ...base, title: "EventBridge for another rule", context: { "aws:SourceArn": `arn:aws:events:us-east-1:${ACCOUNT}:rule/other`, "aws:SourceAccount": ACCOUNT }, expected: "denied" },
      { ...alarms, title: "alarm forwarding: EventBridge for its us-east-1 rule", context: { "aws:SourceArn": alarmsRule, "aws:SourceAccount": ACCOUNT }, expected: "allowed" },
      { ...alarms, title: "alarm forwarding: EventBridge for the notifier's rule", context: { "aws:SourceArn": ruleArn, "aws:SourceAccount": ACCOUNT }, expected: "denied" },
    ]);
  });

  it("reader roles can be assumed by the backfill function's role only, with the external ID, from the organisation", async () => {
    const functionRole = named("aws:iam/role:Role", "backfill-function-role");
    const readers = byType("aws:iam/role:Role").filter((r) => r.name.startsWith("backfill-reader-"));
    expect(readers).to.have.length(4);
    await check(
      "reader role trust",
      readers.flatMap((reader) => {
        const base = {
          principal: String(functionRole.state.arn),
          action: "sts:AssumeRole",
          resource: String(reader.state.arn),
          resourcePolicy: parse(reader.inputs.assumeRolePolicy),
          identityPolicies: rolePolicy("backfill-function-role"),
        };
        const good = { "sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORG };
        return [
          { ...base, title: `${reader.name}: backfill role, external ID, organisation`, context: good, expected: "allowed" as const },
          { ...base, title: `${reader.name}: without the external ID`, context: { "aws:PrincipalOrgID": ORG }, expected: "denied" as const },
          { ...base, title: `${reader.name}: from another organisation`, context: { ...good, "aws:PrincipalOrgID": "o-otherorg000" }, expected: "denied" as const },
          { ...base, title: `${reader.name}: another role of the stack's account`, principal: `arn:aws:iam::${ACCOUNT}:role/someone`, identityPolicies: [], context: good, expected: "denied" as const },
        ];
      }),
    );
  });

  it("the alert topic takes alarms of this account, forwarded alarms, the project's functions, and nobody else or without TLS", async () => {
    const topicArn = arn("aws:sns/topic:Topic", "alerts");
    const policy = parse(byType("aws:sns/topicPolicy:TopicPolicy").find((p) => p.inputs.arn === topicArn)!.inputs.policy);
    const notifierRole = arn("aws:iam/role:Role", "activity-hogehoge-handler-role");
    const broad = [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sns:Publish", Resource: "*" }] }];
    const base = { action: "sns:Publish", resource: topicArn, resourcePolicy: policy };
    const asRole = (role: string) => ({ principal: role, context: { "aws:PrincipalArn": role, "aws:PrincipalIsAWSService": "false" } });
    await check("alert topic policy", [
      { ...base, title: "an alarm of this account", principal: "cloudwatch.amazonaws.com", context: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:cloudwatch:ap-northeast-1:${ACCOUNT}:alarm:any`, "aws:PrincipalIsAWSService": "true" }, expected: "allowed" },
      { ...base, title: "an alarm of another account", principal: "cloudwatch.amazonaws.com", context: { "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:cloudwatch:ap-northeast-1:999999999999:alarm:any", "aws:PrincipalIsAWSService": "true" }, expected: "denied" },
      { ...base, title: "EventBridge for the rule that publishes forwarded alarms", principal: "events.amazonaws.com", context: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": arn("aws:cloudwatch/eventRule:EventRule", "alerts-alarms-us-east-1-notify"), "aws:PrincipalIsAWSService": "true" }, expected: "allowed" },
      { ...base, title: "EventBridge for another rule", principal: "events.amazonaws.com", context: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:events:ap-northeast-1:${ACCOUNT}:rule/other`, "aws:PrincipalIsAWSService": "true" }, expected: "denied" },
      { ...base, title: "a notifier function's role", ...asRole(notifierRole), identityPolicies: rolePolicy("activity-hogehoge-handler-role"), expected: "allowed" },
      { ...base, title: "a role with sns:Publish on *", ...asRole(`arn:aws:iam::${ACCOUNT}:role/broad`), identityPolicies: broad, expected: "denied" },
      { ...base, title: "a notifier function's role without TLS", ...asRole(notifierRole), identityPolicies: rolePolicy("activity-hogehoge-handler-role"), context: { ...asRole(notifierRole).context, "aws:SecureTransport": "false" }, expected: "denied" },
    ]);
  });

  it("the dispatcher's topic takes the dispatcher only", async () => {
    const topicArn = arn("aws:sns/topic:Topic", "trail-subscription-topic");
    const policy = parse(byType("aws:sns/topicPolicy:TopicPolicy").find((p) => p.inputs.arn === topicArn)!.inputs.policy);
    const dispatcher = arn("aws:iam/role:Role", "trail-subscription-handler-role");
    const other = arn("aws:iam/role:Role", "activity-hogehoge-handler-role");
    const base = { action: "sns:Publish", resource: topicArn, resourcePolicy: policy };
    await check("dispatcher topic policy", [
      { ...base, title: "the dispatcher's role", principal: dispatcher, context: { "aws:PrincipalArn": dispatcher }, identityPolicies: rolePolicy("trail-subscription-handler-role"), expected: "allowed" },
      { ...base, title: "a notifier's role, which may publish alerts elsewhere", principal: other, context: { "aws:PrincipalArn": other }, identityPolicies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sns:Publish", Resource: "*" }] }], expected: "denied" },
    ]);
  });

  it("the trail bucket takes log files from this trail only, under AWSLogs/<account>/, and nothing without TLS", async () => {
    const bucketArn = arn("aws:s3/bucket:Bucket", "trail-bucket");
    const policy = parse(byType("aws:s3/bucketPolicy:BucketPolicy").find((p) => p.name === "trail-bucket-policy")!.inputs.policy);
    const trailArn = arn("aws:cloudtrail/trail:Trail", "trail");
    const write = { principal: "cloudtrail.amazonaws.com", action: "s3:PutObject", resourcePolicy: policy };
    const fromTrail = { "aws:SourceArn": trailArn, "s3:x-amz-acl": "bucket-owner-full-control" };
    await check("trail bucket policy", [
      { ...write, title: "this trail, under AWSLogs/<account>/", resource: `${bucketArn}/AWSLogs/${ACCOUNT}/CloudTrail/x.json.gz`, context: fromTrail, expected: "allowed" },
      { ...write, title: "this trail, outside AWSLogs/<account>/", resource: `${bucketArn}/AWSLogs/999999999999/x.json.gz`, context: fromTrail, expected: "denied" },
      { ...write, title: "another trail", resource: `${bucketArn}/AWSLogs/${ACCOUNT}/x.json.gz`, context: { ...fromTrail, "aws:SourceArn": `arn:aws:cloudtrail:ap-northeast-1:${ACCOUNT}:trail/other` }, expected: "denied" },
      { title: "this trail's ACL check", principal: "cloudtrail.amazonaws.com", action: "s3:GetBucketAcl", resource: bucketArn, resourcePolicy: policy, context: { "aws:SourceArn": trailArn }, expected: "allowed" },
      { ...write, title: "this trail without TLS", resource: `${bucketArn}/AWSLogs/${ACCOUNT}/x.json.gz`, context: { ...fromTrail, "aws:SecureTransport": "false" }, expected: "denied" },
    ]);
  });

  it("the backfill bucket takes the backfill function's log files under AWSLogs/ only, and nothing without TLS", async () => {
    const bucketArn = arn("aws:s3/bucket:Bucket", "backfill-bucket");
    const policy = parse(byType("aws:s3/bucketPolicy:BucketPolicy").find((p) => p.name === "backfill-bucket-policy")!.inputs.policy);
    const role = arn("aws:iam/role:Role", "backfill-function-role");
    const base = { principal: role, action: "s3:PutObject", resourcePolicy: policy, identityPolicies: rolePolicy("backfill-function-role"), context: { "aws:PrincipalArn": role } };
    await check("backfill bucket policy", [
      { ...base, title: "the function, under AWSLogs/", resource: `${bucketArn}/AWSLogs/${ACCOUNT}/CloudTrail/ap-northeast-1/2025/01/01/x.json.gz`, expected: "allowed" },
      { ...base, title: "the function, elsewhere in the bucket", resource: `${bucketArn}/elsewhere/x`, expected: "denied" },
      { ...base, title: "the function without TLS", resource: `${bucketArn}/AWSLogs/x`, context: { ...base.context, "aws:SecureTransport": "false" }, expected: "denied" },
    ]);
  });

  it("the topic's key lets this account's alarms and rules (forwarded alarms) encrypt, and no other service or account", async () => {
    const key = byType("aws:kms/key:Key")[0];
    const base = { action: "kms:GenerateDataKey", resource: String(key.state.arn), resourcePolicy: parse(key.inputs.policy) };
    await check("alert key policy", [
      { ...base, title: "an alarm of this account", principal: "cloudwatch.amazonaws.com", context: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:cloudwatch:ap-northeast-1:${ACCOUNT}:alarm:a` }, expected: "allowed" },
      { ...base, title: "CloudWatch for another account", principal: "cloudwatch.amazonaws.com", context: { "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:cloudwatch:ap-northeast-1:999999999999:alarm:a" }, expected: "denied" },
      { ...base, title: "EventBridge for a rule of this account", principal: "events.amazonaws.com", context: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": arn("aws:cloudwatch/eventRule:EventRule", "alerts-alarms-us-east-1-notify") }, expected: "allowed" },
      { ...base, title: "EventBridge for another account", principal: "events.amazonaws.com", context: { "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:events:ap-northeast-1:999999999999:rule/r" }, expected: "denied" },
      { ...base, title: "EventBridge without a source", principal: "events.amazonaws.com", expected: "denied" },
      { ...base, title: "SQS", principal: "sqs.amazonaws.com", expected: "denied" },
    ]);
  });

  it("each rule's dead-letter queue takes EventBridge for the rule whose target uses it, nobody else, nothing without TLS", async () => {
    // Prepare
    const queuePolicies = byType("aws:sqs/queuePolicy:QueuePolicy");
    expect(queuePolicies.map((p) => p.name).sort()).to.deep.equal([
      "activity-ssm-sessions-undelivered-ap-northeast-1",
      "activity-ssm-sessions-undelivered-us-east-1",
      "alerts-alarms-us-east-1-notify-undelivered",
      "alerts-alarms-us-east-1-undelivered",
      "download-alerts-downloads-undelivered",
    ]);
    const cases = queuePolicies.flatMap((queuePolicy): Case[] => {
      const queue = byType("aws:sqs/queue:Queue").find((q) => (queuePolicy.propertyDependencies.queueUrl ?? []).includes(q.urn))!;
      const queueArn = String(queue.state.arn);
      // The rule whose target sends its undelivered events to this queue.
      const target = byType("aws:cloudwatch/eventTarget:EventTarget").find((t) => (t.inputs.deadLetterConfig as { arn?: string } | undefined)?.arn === queueArn)!;
      const rule = byType("aws:cloudwatch/eventRule:EventRule").find((r) => r.state.name === target.inputs.rule)!;
      const region = queueArn.split(":")[3];
      const base = { action: "sqs:SendMessage", resource: queueArn, resourcePolicy: parse(queuePolicy.inputs.policy) };
      return [
        { ...base, title: `${queue.name}: EventBridge for ${rule.name}`, principal: "events.amazonaws.com", context: { "aws:SourceArn": String(rule.state.arn) }, expected: "allowed" as const },
        { ...base, title: `${queue.name}: EventBridge for another rule`, principal: "events.amazonaws.com", context: { "aws:SourceArn": `arn:aws:events:${region}:${ACCOUNT}:rule/other` }, expected: "denied" as const },
        // The policy grants no principal of its own account anything (their IAM policies decide), and no other account.
        { ...base, title: `${queue.name}: a role of the account without an IAM grant`, principal: `arn:aws:iam::${ACCOUNT}:role/someone`, context: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/someone` }, expected: "denied" as const },
        { ...base, title: `${queue.name}: a role of another account with sqs:SendMessage on *`, principal: "arn:aws:iam::999999999999:role/someone", context: { "aws:PrincipalArn": "arn:aws:iam::999999999999:role/someone" }, identityPolicies: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" }] }], expected: "denied" as const },
        { ...base, title: `${queue.name}: EventBridge for ${rule.name} without TLS`, principal: "events.amazonaws.com", context: { "aws:SourceArn": String(rule.state.arn), "aws:SecureTransport": "false" }, expected: "denied" as const },
      ];
    });

    // Act / Assess
    await check("rule dead-letter queue policies", cases);
  });

  it("every Lambda permission admits its one source only", async () => {
    const functions = byType("aws:lambda/function:Function");
    const permissions = byType("aws:lambda/permission:Permission");
    expect(permissions.length).to.be.greaterThan(0);
    await check(
      "Lambda permissions",
      permissions.flatMap((permission) => {
        const fn = functions.find((f) => (permission.propertyDependencies.function ?? []).includes(f.urn))!;
        // The resource policy Lambda writes for a permission (AddPermission).
        const policy = {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: String(permission.inputs.principal) },
              Action: String(permission.inputs.action),
              Resource: String(fn.state.arn),
              Condition: {
                ArnLike: { "aws:SourceArn": String(permission.inputs.sourceArn) },
                ...(typeof permission.inputs.sourceAccount === "string" ? { StringEquals: { "aws:SourceAccount": permission.inputs.sourceAccount } } : {}),
              },
            },
          ],
        };
        const base = { principal: String(permission.inputs.principal), action: "lambda:InvokeFunction", resource: String(fn.state.arn), resourcePolicy: policy };
        const account = { "aws:SourceAccount": ACCOUNT };
        return [
          { ...base, title: `${permission.name}: its source`, context: { ...account, "aws:SourceArn": String(permission.inputs.sourceArn).replace(/:\*$/, ":x") }, expected: "allowed" as const },
          { ...base, title: `${permission.name}: another source`, context: { ...account, "aws:SourceArn": `arn:aws:events:ap-northeast-1:${ACCOUNT}:rule/other` }, expected: "denied" as const },
        ];
      }),
    );
  });

  it("the chat channels' role can be assumed by Amazon Q Developer in chat applications only", async () => {
    const chat = await resourcesOf(new ChatChannels("verify-chat-trust", { alertTopicArn: arn("aws:sns/topic:Topic", "alerts"), slack: [{ teamId: "T07EA123LEP", channelId: "C07EZ1ABC23" }] }));
    const role = chat.find((r) => r.type === "aws:iam/role:Role")!;
    const base = { action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: parse(role.inputs.assumeRolePolicy) };
    await check("chat channel role trust", [
      { ...base, title: "chatbot.amazonaws.com", principal: "chatbot.amazonaws.com", expected: "allowed" },
      { ...base, title: "lambda.amazonaws.com", principal: "lambda.amazonaws.com", expected: "denied" },
      { ...base, title: "another role of the account", principal: `arn:aws:iam::${ACCOUNT}:role/someone`, expected: "denied" },
    ]);
  });

  it("the alert topic lets Amazon Q Developer's service-linked role subscribe a channel, as it is, and not publish", async () => {
    // The role and policy AWS documents for adding a configuration's topic subscriptions; the topic needs no statement.
    const linked = fixture<{ roleArn: string; policy: unknown }>("awsdocs/chatbot-service-linked-role.json");
    const topicArn = arn("aws:sns/topic:Topic", "alerts");
    const policy = parse(byType("aws:sns/topicPolicy:TopicPolicy").find((p) => p.inputs.arn === topicArn)!.inputs.policy);
    const base = { principal: linked.roleArn, resource: topicArn, resourcePolicy: policy, identityPolicies: [linked.policy], context: { "aws:PrincipalArn": linked.roleArn, "aws:PrincipalIsAWSService": "false" } };
    await check("alert topic policy (chat subscriptions)", [
      { ...base, title: "Subscribe, by the service-linked role", action: "sns:Subscribe", expected: "allowed" },
      { ...base, title: "Subscribe without TLS", action: "sns:Subscribe", context: { ...base.context, "aws:SecureTransport": "false" }, expected: "denied" },
      { ...base, title: "Publish, by the service-linked role", action: "sns:Publish", expected: "denied" },
    ]);
  });
});

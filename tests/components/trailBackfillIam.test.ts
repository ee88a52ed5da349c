/**
 * What the backfill's roles can and cannot do, decided by an IAM policy simulator over the policies the components
 * generate: the function role, a reader role's trust and permissions, the state machine role and the bucket policy.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { expect } from "chai";
import * as aws from "@pulumi/aws";

import { AlertTopic, TrailBackfill, TrailReaderRole } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

type Policy = { Version: string; Statement: Array<Record<string, unknown>> };
type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

async function decide(p: {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  identity: Policy[];
  resourcePolicy?: Policy;
  context?: Record<string, string>;
}): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: p.identity.map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(p.resourcePolicy === undefined ? {} : { resourcePolicy: p.resourcePolicy }),
      request: { action: p.action, principal: p.principal, resource: { accountId: p.resourceAccount, resource: p.resource }, contextVariables: p.context ?? {} },
    },
    {},
  );
  if (response.resultType === "error") {
    throw new Error(`simulation refused: ${JSON.stringify(response.errors)}`);
  }
  return response.overallResult;
}

describe("TrailBackfill IAM (simulated)", () => {
  const member = "222222222222";
  let resources: RecordedResource[];
  let functionRole: string;
  let functionPolicy: Policy;
  let readerArn: string;
  let readerTrust: Policy;
  let readerPolicy: Policy;
  let machinePolicy: Policy;
  let bucketPolicy: Policy;
  let bucketArn: string;
  let functionArn: string;
  let machineArn: string;

  before(async () => {
    const backfill = new TrailBackfill("tbi", { alertTopic: new AlertTopic("tbi-topic", {}), readerExternalId: "tbi-external" });
    const provider = new aws.Provider(`tbi-provider-${member}`, { region: "ap-northeast-1", assumeRoles: [{ roleArn: `arn:aws:iam::${member}:role/OrganizationAccountAccessRole` }] });
    const reader = new TrailReaderRole(`tbi-reader-${member}`, { trustedRoleArn: backfill.functionRoleArn, externalId: "tbi-external", organizationId: "o-exampleorg1" }, { provider });
    backfill.addReaderRole(member, reader.roleArn);
    resources = await resourcesOf(backfill);
    const readerResources = await resourcesOf(reader);
    functionRole = await valueOf(backfill.functionRoleArn);
    functionPolicy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tbi-function-policy"));
    readerArn = await valueOf(reader.roleArn);
    readerTrust = policyOf(single(readerResources, "aws:iam/role:Role"), "assumeRolePolicy");
    readerPolicy = policyOf(single(readerResources, "aws:iam/rolePolicy:RolePolicy"));
    machinePolicy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tbi-state-machine-policy"));
    bucketPolicy = policyOf(single(resources, "aws:s3/bucketPolicy:BucketPolicy"));
    bucketArn = single(resources, "aws:s3/bucket:Bucket").state.arn as string;
    functionArn = await valueOf(backfill.function.functionArn);
    machineArn = await valueOf(backfill.stateMachineArn);
  });

  it("lets the function write log files under AWSLogs/ over TLS, and nothing else in the bucket", async () => {
    const write = (key: string, action = "s3:PutObject", secure = "true") =>
      decide({ principal: functionRole, action, resource: `${bucketArn}/${key}`, resourceAccount: "111111111111", identity: [functionPolicy], resourcePolicy: bucketPolicy, context: { "aws:SecureTransport": secure } });
    const key = `AWSLogs/${member}/CloudTrail/us-east-1/2024/05/20/${member}_CloudTrail_us-east-1_20240520T1000Z_AbCdEfGhIjKlMnOp.json.gz`;

    expect(await write(key)).to.equal("Allowed");
    expect(await write(key, "s3:PutObject", "false")).to.equal("ExplicitlyDenied");
    expect(await write("other/file.json.gz")).to.equal("ImplicitlyDenied");
    expect(await write(key, "s3:GetObject")).to.equal("ImplicitlyDenied");
    expect(await write(key, "s3:DeleteObject")).to.equal("ImplicitlyDenied");
  });

  it("in the organization trail layout, lets the function write under AWSLogs/<organization ID>/ only", async () => {
    // Prepare
    const backfill = new TrailBackfill("tbi-org", { alertTopic: new AlertTopic("tbi-org-topic", {}), keyLayout: "organization", organizationId: "o-exampleorg1" });
    backfill.addReaderRole(member, `arn:aws:iam::${member}:role/tbi-org-reader`);
    const orgResources = await resourcesOf(backfill);
    const role = await valueOf(backfill.functionRoleArn);
    const policy = policyOf(single(orgResources, "aws:iam/rolePolicy:RolePolicy", "tbi-org-function-policy"));
    const bucket = single(orgResources, "aws:s3/bucket:Bucket").state.arn as string;
    const write = (key: string) =>
      decide({ principal: role, action: "s3:PutObject", resource: `${bucket}/${key}`, resourceAccount: "111111111111", identity: [policy], resourcePolicy: policyOf(single(orgResources, "aws:s3/bucketPolicy:BucketPolicy")), context: { "aws:SecureTransport": "true" } });
    const file = `CloudTrail/us-east-1/2024/05/20/${member}_CloudTrail_us-east-1_20240520T1000Z_AbCdEfGhIjKlMnOp.json.gz`;

    // Assess
    expect(await write(`AWSLogs/o-exampleorg1/${member}/${file}`)).to.equal("Allowed");
    expect(await write(`AWSLogs/${member}/${file}`)).to.equal("ImplicitlyDenied");
    expect(await write(`AWSLogs/o-otherorg0001/${member}/${file}`)).to.equal("ImplicitlyDenied");
  });

  it("lets the function assume the reader role only with the external ID and from inside the organisation", async () => {
    const assume = (roleArn: string, context: Record<string, string>) =>
      decide({ principal: functionRole, action: "sts:AssumeRole", resource: roleArn, resourceAccount: member, identity: [functionPolicy], resourcePolicy: readerTrust, context });
    const inside = { "sts:ExternalId": "tbi-external", "aws:PrincipalOrgID": "o-exampleorg1" };

    expect(await assume(readerArn, inside)).to.equal("Allowed");
    expect(await assume(readerArn, { ...inside, "sts:ExternalId": "guess" })).to.equal("ImplicitlyDenied");
    expect(await assume(readerArn, { ...inside, "aws:PrincipalOrgID": "o-otherorg0001" })).to.equal("ImplicitlyDenied");
    expect(await assume(`arn:aws:iam::${member}:role/OrganizationAccountAccessRole`, inside)).to.equal("ImplicitlyDenied");
  });

  it("does not let anyone else assume the reader role, nor the function read CloudTrail itself", async () => {
    const other = "arn:aws:iam::111111111111:role/someone-else";
    const everything: Policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

    expect(
      await decide({ principal: other, action: "sts:AssumeRole", resource: readerArn, resourceAccount: member, identity: [everything], resourcePolicy: readerTrust, context: { "sts:ExternalId": "tbi-external", "aws:PrincipalOrgID": "o-exampleorg1" } }),
    ).to.equal("ImplicitlyDenied");
    expect(await decide({ principal: functionRole, action: "cloudtrail:LookupEvents", resource: "*", resourceAccount: "111111111111", identity: [functionPolicy] })).to.equal("ImplicitlyDenied");
  });

  it("lets the reader role look up events and nothing else", async () => {
    const reader = (action: string, resource: string) => decide({ principal: readerArn, action, resource, resourceAccount: member, identity: [readerPolicy] });

    expect(await reader("cloudtrail:LookupEvents", "*")).to.equal("Allowed");
    expect(await reader("cloudtrail:StopLogging", `arn:aws:cloudtrail:us-east-1:${member}:trail/org`)).to.equal("ImplicitlyDenied");
    expect(await reader("cloudtrail:DescribeTrails", "*")).to.equal("ImplicitlyDenied");
    expect(await reader("s3:GetObject", "arn:aws:s3:::any-bucket/any-key")).to.equal("ImplicitlyDenied");
  });

  it("lets the state machine invoke only its function and start and manage only its own Map Run's children", async () => {
    const machineRole = single(resources, "aws:iam/role:Role", "tbi-state-machine-role").state.arn as string;
    const machine = (action: string, resource: string) => decide({ principal: machineRole, action, resource, resourceAccount: "111111111111", identity: [machinePolicy] });
    const name = machineArn.split(":").pop() as string;
    const executions = `arn:aws:states:ap-northeast-1:111111111111:execution:${name}`;

    expect(await machine("lambda:InvokeFunction", functionArn)).to.equal("Allowed");
    expect(await machine("lambda:InvokeFunction", "arn:aws:lambda:ap-northeast-1:111111111111:function:other")).to.equal("ImplicitlyDenied");
    expect(await machine("states:StartExecution", machineArn)).to.equal("Allowed");
    expect(await machine("states:StartExecution", `${machineArn}-other`)).to.equal("ImplicitlyDenied");
    expect(await machine("states:StopExecution", `${executions}/Pairs:0f0f0f0f-1111-2222-3333-444455556666`)).to.equal("Allowed");
    expect(await machine("states:DescribeExecution", `${executions}/Pairs:0f0f0f0f-1111-2222-3333-444455556666`)).to.equal("Allowed");
    expect(await machine("states:StopExecution", `${executions}:parent-execution`)).to.equal("ImplicitlyDenied");
    expect(await machine("states:StopExecution", `arn:aws:states:ap-northeast-1:111111111111:execution:other-machine/Pairs:1`)).to.equal("ImplicitlyDenied");
  });
});

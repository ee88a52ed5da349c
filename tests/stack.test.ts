/**
 * The dev stack as `pulumi up` would create it (index.ts with Pulumi.dev.yaml on the offline engine), checked as a
 * whole: what it creates, and the guarantees every resource must keep.
 */
import * as path from "path";

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { materializeArchive } from "../preview/lambdaArchive";
import { RecordedResource } from "../preview/mockCloud";
import { offlineEngine, PROJECT_DIRECTORY, settle } from "./support/engine";

/** Allow statements that may use a wildcard, each with the reason AWS leaves no narrower choice. */
const WILDCARD_EXCEPTIONS: Array<{ type: string; sid: string; why: string }> = [
  { type: "aws:kms/key:Key", sid: "EnableIamPolicies", why: "AWS's default key policy statement delegating to IAM; in a key policy Resource * means this key" },
  { type: "aws:kms/key:Key", sid: "AllowThisAccountsAlarmsToEncrypt", why: "in a key policy Resource * means this key" },
];

/** Every IAM policy document among a resource's inputs. */
function policiesOf(resource: RecordedResource): Array<{ input: string; statements: Array<Record<string, unknown>> }> {
  return Object.entries(resource.inputs).flatMap(([input, value]) => {
    if (typeof value !== "string" || !value.includes('"Statement"')) {
      return [];
    }
    const document = JSON.parse(value) as { Statement: Array<Record<string, unknown>> };
    return [{ input, statements: document.Statement }];
  });
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

describe("dev stack", function () {
  this.timeout(60_000);
  let resources: RecordedResource[];
  let outputs: Record<string, unknown>;

  before(async () => {
    outputs = (await pulumi.runtime.runInPulumiStack(() => Promise.resolve(require(path.join(PROJECT_DIRECTORY, "index.ts")) as Record<string, unknown>))) ?? {};
    await settle();
    const { cloud } = offlineEngine();
    const stack = cloud.resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
    resources = [stack, ...cloud.descendantsOf(stack.urn)];
  });

  it("creates the trail, its bucket and log group, the topic with its subscription, and the bucket-creation filter and alarm", () => {
    const count = (type: string) => resources.filter((r) => r.type === type).length;
    expect({
      components: resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => `${r.type} ${r.name}`).sort(),
      trails: count("aws:cloudtrail/trail:Trail"),
      buckets: count("aws:s3/bucket:Bucket"),
      logGroups: count("aws:cloudwatch/logGroup:LogGroup"),
      topics: count("aws:sns/topic:Topic"),
      subscriptions: count("aws:sns/topicSubscription:TopicSubscription"),
      metricFilters: count("aws:cloudwatch/logMetricFilter:LogMetricFilter"),
      alarms: count("aws:cloudwatch/metricAlarm:MetricAlarm"),
    }).to.deep.equal({
      components: ["cloudtrail-alerts:index:AlertTopic alerts", "cloudtrail-alerts:index:AuditTrail trail", "cloudtrail-alerts:index:BucketCreationAlarm bucket-creation"],
      trails: 1,
      buckets: 1,
      logGroups: 1,
      topics: 1,
      subscriptions: 1,
      metricFilters: 1,
      alarms: 1,
    });
  });

  it("exports the topic ARN and the trail's log group", () => {
    expect(outputs).to.deep.include({
      alertTopicArn: resources.find((r) => r.type === "aws:sns/topic:Topic")!.state.arn,
      trailLogGroupName: "/aws/cloudtrail/cloudtrail-alerts-dev-trail",
    });
  });

  it("grants no wildcard action, no Resource \"*\" and no public principal, except where AWS allows nothing narrower", () => {
    const violations = resources.flatMap((resource) =>
      policiesOf(resource).flatMap(({ input, statements }) =>
        statements
          .filter((statement) => statement.Effect === "Allow")
          .filter((statement) => !WILDCARD_EXCEPTIONS.some((e) => e.type === resource.type && e.sid === statement.Sid))
          .filter(
            (statement) =>
              asList(statement.Action).some((action) => String(action).includes("*")) ||
              asList(statement.Resource).includes("*") ||
              statement.Principal === "*" ||
              asList((statement.Principal as { AWS?: unknown } | undefined)?.AWS).includes("*"),
          )
          .map((statement) => `${resource.type} ${resource.name} ${input} ${JSON.stringify(statement)}`),
      ),
    );
    expect(violations).to.deep.equal([]);
  });

  it("attaches no managed policy to any role", () => {
    expect(resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" || r.type === "aws:iam/policyAttachment:PolicyAttachment")).to.deep.equal([]);
    expect(resources.filter((r) => r.type === "aws:iam/role:Role" && asList(r.inputs.managedPolicyArns).length > 0).map((r) => r.name)).to.deep.equal([]);
  });

  it("never renders an Output into a string", () => {
    const rendered = resources.filter((r) => JSON.stringify(r.inputs).includes("Calling [toString] on an [Output<T>]"));
    expect(rendered.map((r) => r.name)).to.deep.equal([]);
  });

  it("encrypts every topic and queue, and gives every log group a retention", () => {
    const unencrypted = resources.filter(
      (r) =>
        (r.type === "aws:sns/topic:Topic" && !r.inputs.kmsMasterKeyId) ||
        (r.type === "aws:sqs/queue:Queue" && r.inputs.sqsManagedSseEnabled !== true && !r.inputs.kmsMasterKeyId),
    );
    const forever = resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && !r.inputs.retentionInDays);
    expect(unencrypted.map((r) => r.name)).to.deep.equal([]);
    expect(forever.map((r) => r.name)).to.deep.equal([]);
  });

  it("scopes every Lambda permission to its source", () => {
    expect(resources.filter((r) => r.type === "aws:lambda/permission:Permission" && !r.inputs.sourceArn).map((r) => r.name)).to.deep.equal([]);
  });

  it("runs every function on an explicit runtime with its own role, from an archive under 100 KB without the AWS SDK", async () => {
    const functions = resources.filter((r) => r.type === "aws:lambda/function:Function");
    const roleArns = new Set(resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.state.arn));
    for (const fn of functions) {
      const archive = await materializeArchive(fn.inputs.code);
      expect(fn.inputs.runtime, fn.name).to.be.oneOf(["nodejs22.x", "nodejs24.x"]);
      expect(roleArns.has(fn.inputs.role), `${fn.name} role`).to.equal(true);
      expect(archive.zippedBytes, `${fn.name} archive`).to.be.at.most(100 * 1024);
      expect(archive.files.filter((f) => /^node_modules\/@(aws-sdk|smithy|pulumi)\//.test(f.path)), fn.name).to.deep.equal([]);
    }
  });
});

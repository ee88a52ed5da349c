/**
 * The dev stack as `pulumi up` would create it (index.ts with Pulumi.dev.yaml on the offline engine), checked as a
 * whole: what it creates, and the guarantees every resource must keep.
 */
import * as path from "path";

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { guarantees } from "../policy/guarantees";
import { materializeArchive } from "../preview/lambdaArchive";
import { RecordedResource } from "../preview/mockCloud";
import { checkPolicies } from "../preview/policyCheck";
import { offlineEngine, PROJECT_DIRECTORY, settle } from "./support/engine";

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

  it("keeps every guarantee of the policy pack", async () => {
    expect(await checkPolicies(guarantees, resources)).to.deep.equal([]);
  });

  it("never renders an Output into a string", () => {
    const rendered = resources.filter((r) => JSON.stringify(r.inputs).includes("Calling [toString] on an [Output<T>]"));
    expect(rendered.map((r) => r.name)).to.deep.equal([]);
  });

  it("ships every function in an archive under 100 KB without the AWS SDK or Pulumi", async () => {
    for (const fn of resources.filter((r) => r.type === "aws:lambda/function:Function")) {
      const archive = await materializeArchive(fn.inputs.code);
      expect(archive.zippedBytes, `${fn.name} archive`).to.be.at.most(100 * 1024);
      expect(archive.files.filter((f) => /^node_modules\/@(aws-sdk|smithy|pulumi)\//.test(f.path)), fn.name).to.deep.equal([]);
    }
  });
});

/**
 * The dev stack as `pulumi up` would create it (index.ts with Pulumi.dev.yaml on the offline engine), checked as a
 * whole: what it creates, and the guarantees every resource must keep.
 */
import { expect } from "chai";

import { guarantees } from "../policy/guarantees";
import { materializeArchive } from "../preview/lambdaArchive";
import { RecordedResource } from "../preview/mockCloud";
import { checkPolicies } from "../preview/policyCheck";
import { devStack } from "./support/devStack";
import { verifyReport } from "../simulation/verifyReport";

describe("dev stack", function () {
  this.timeout(60_000);
  let resources: RecordedResource[];
  let outputs: Record<string, unknown>;

  before(async () => {
    ({ resources, outputs } = await devStack());
  });

  it("creates every system of the dev stack: trail, topic, bucket-creation alarm, download alert, notifiers, backfill", () => {
    expect(resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "cloudtrail-alerts:index:AlertTopic alerts",
      "cloudtrail-alerts:index:AuditTrail trail",
      "cloudtrail-alerts:index:BucketCreationAlarm bucket-creation",
      "cloudtrail-alerts:index:CloudTrailAlerts cloudtrail-alerts",
      "cloudtrail-alerts:index:DownloadThresholdAlert download-alerts",
      "cloudtrail-alerts:index:LogSubscriptionDispatcher trail-subscription",
      "cloudtrail-alerts:index:TrailBackfill backfill",
      "cloudtrail-alerts:index:TrailReaderRole backfill-reader-111111111111",
      "cloudtrail-alerts:index:TrailReaderRole backfill-reader-222222222222",
      "cloudtrail-alerts:index:TrailReaderRole backfill-reader-333333333333",
      "cloudtrail-alerts:index:TrailReaderRole backfill-reader-444444444444",
      "cloudtrail-alerts:index:UserActivityNotifier activity-hogehoge",
      "cloudtrail-alerts:index:UserActivityNotifier activity-ssm-sessions",
      "cloudtrail-alerts:lambda:SecureCallbackFunction activity-hogehoge-handler",
      "cloudtrail-alerts:lambda:SecureCallbackFunction activity-ssm-sessions-handler",
      "cloudtrail-alerts:lambda:SecureCallbackFunction backfill-function",
      "cloudtrail-alerts:lambda:SecureCallbackFunction download-alerts-handler",
      "cloudtrail-alerts:lambda:SecureCallbackFunction trail-subscription-handler",
    ]);
  });

  it("keeps the trail's log group to one subscription filter, shared by every log-driven consumer", () => {
    expect(resources.filter((r) => r.type === "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").map((r) => r.name)).to.deep.equal(["trail-subscription-filter"]);
  });

  it("exports the topic ARN, the trail's log group and the backfill state machine", () => {
    const arnOf = (type: string, name: string) => resources.find((r) => r.type === type && r.name === name)!.state.arn;
    expect(outputs).to.deep.include({
      alertTopicArn: arnOf("aws:sns/topic:Topic", "alerts"),
      trailLogGroupName: "/aws/cloudtrail/cloudtrail-alerts-dev-trail",
      backfillStateMachineArn: arnOf("aws:sfn/stateMachine:StateMachine", "backfill"),
    });
  });

  it("keeps every guarantee of the policy pack", async () => {
    const violations = await checkPolicies(guarantees, resources);
    for (const policy of guarantees) {
      verifyReport.policyPack.push({ policy: policy.name, devStackViolations: violations.filter((v) => v.policy === policy.name).length, caughtWeakened: 0 });
    }
    expect(violations).to.deep.equal([]);
  });

  it("never renders an Output into a string", () => {
    const rendered = resources.filter((r) => JSON.stringify(r.inputs).includes("Calling [toString] on an [Output<T>]"));
    expect(rendered.map((r) => r.name)).to.deep.equal([]);
  });

  it("ships every function in an archive under 100 KB zipped and 128 KB unzipped, without the AWS SDK or Pulumi", async () => {
    for (const fn of resources.filter((r) => r.type === "aws:lambda/function:Function")) {
      const archive = await materializeArchive(fn.inputs.code);
      expect(archive.zippedBytes, `${fn.name} archive, zipped`).to.be.at.most(100 * 1024);
      // Unzipped too, so that a whole package bundled where a file would do fails here.
      expect(archive.unzippedBytes, `${fn.name} archive, unzipped`).to.be.at.most(128 * 1024);
      expect(archive.files.filter((f) => /^node_modules\/@(aws-sdk|smithy|pulumi)\//.test(f.path)), fn.name).to.deep.equal([]);
    }
  });
});

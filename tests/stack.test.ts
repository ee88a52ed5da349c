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
import { alarmRoutes } from "../simulation/alarmRoutes";
import { verifyReport } from "../simulation/verifyReport";

describe("dev stack", function () {
  this.timeout(60_000);
  let resources: RecordedResource[];
  let outputs: Record<string, unknown>;

  before(async () => {
    ({ resources, outputs } = await devStack());
  });

  it("creates every system of the dev stack: trail, topic, bucket-creation alarm, download alert, notifiers, backfill, dashboard", () => {
    expect(resources.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "cloudtrail-alerts:index:AlarmForwarding alerts-alarms-us-east-1",
      "cloudtrail-alerts:index:AlertTopic alerts",
      "cloudtrail-alerts:index:AuditTrail trail",
      "cloudtrail-alerts:index:BucketCreationAlarm bucket-creation",
      "cloudtrail-alerts:index:CloudTrailAlerts cloudtrail-alerts",
      "cloudtrail-alerts:index:DownloadThresholdAlert download-alerts",
      "cloudtrail-alerts:index:LogSubscriptionDispatcher trail-subscription",
      "cloudtrail-alerts:index:OperationsDashboard operations",
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

  it("makes every alarm, in every Region, reach the alert topic exactly once: by its action, or forwarded from its Region", () => {
    const topicArn = String(outputs.alertTopicArn);
    const routes = alarmRoutes(resources);
    const forwarded = routes.filter((r) => r.region !== "ap-northeast-1");

    expect(routes.filter((r) => r.topics.length !== 1 || r.topics[0] !== topicArn), "alarms that notify no one, or not once").to.deep.equal([]);
    // The notifier's rule in us-east-1 (global services) and the forwarding's own queue; both forwarded.
    expect(forwarded.map((r) => `${r.alarm} ${r.via.join()}`).sort()).to.deep.equal([
      "activity-ssm-sessions-undelivered-us-east-1 state change -> rule alerts-alarms-us-east-1 (us-east-1) -> default bus of ap-northeast-1 -> rule alerts-alarms-us-east-1-notify (ap-northeast-1) -> topic",
      "alerts-alarms-us-east-1-undelivered state change -> rule alerts-alarms-us-east-1 (us-east-1) -> default bus of ap-northeast-1 -> rule alerts-alarms-us-east-1-notify (ap-northeast-1) -> topic",
    ]);
    expect(routes.length).to.be.greaterThan(forwarded.length);
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

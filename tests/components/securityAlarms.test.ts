import { expect } from "chai";

import { AlertTopic, AuditTrail, SecurityAlarms, securityAlarmDescription, securityAlarmFilterCount, securityInsightsQuery } from "../../components";
import { SECURITY_CONTROLS, securityControl } from "../../functions/shared/securityControls";
import { decide } from "../../simulation/iamSimulator";
import { fixture } from "../../simulation/fixtures";
import { policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const documented = fixture<{ controls: Array<{ id: string; filterPattern: string }> }>("awsdocs/securityhub-cloudwatch-controls.json").controls;

describe("SecurityAlarms", () => {
  describe('with controls: "all", on a created trail and topic', () => {
    let topic: AlertTopic;
    let trail: AuditTrail;
    let alarms: SecurityAlarms;
    let resources: Awaited<ReturnType<typeof resourcesOf>>;
    // In the controls' order (alarms wait for their filter, so registrations may interleave in any order).
    const controlNumber = (name: string) => Number(/cloudwatch-(\d+)-/.exec(name)![1]);
    const ofType = (type: string) => resources.filter((r) => r.type === type).sort((a, b) => controlNumber(a.name) - controlNumber(b.name));
    const filters = () => ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
    const metricAlarms = () => ofType("aws:cloudwatch/metricAlarm:MetricAlarm");

    before(async () => {
      topic = new AlertTopic("sa-topic", {});
      trail = new AuditTrail("sa-trail", {});
      alarms = new SecurityAlarms("sa", { logGroupName: trail.logGroupName, alertTopicArn: topic.topicArn, controls: "all" });
      resources = await resourcesOf(alarms);
    });

    it("creates exactly 14 metric filters and 14 alarms, as children named after the control", async () => {
      const urn = await valueOf(alarms.urn);
      expect(resources.every((r) => r.parent === urn)).to.equal(true);
      expect(filters().map((r) => r.name)).to.deep.equal(SECURITY_CONTROLS.map((c) => `sa-${c.id.toLowerCase().replace(".", "-")}-filter`));
      expect(metricAlarms().map((r) => r.name)).to.deep.equal(SECURITY_CONTROLS.map((c) => `sa-${c.id.toLowerCase().replace(".", "-")}-alarm`));
      expect(resources).to.have.length(28);
      expect(alarms.controls).to.deep.equal(SECURITY_CONTROLS.map((c) => c.id));
    });

    it("deploys each control's documented filter pattern verbatim on the trail's log group, counting 1 per event", async () => {
      const logGroupName = await valueOf(trail.logGroupName);
      expect(filters().map((r) => r.inputs.pattern)).to.deep.equal(documented.map((c) => c.filterPattern));
      for (const [i, filter] of filters().entries()) {
        expect(filter.inputs).to.deep.equal({
          logGroupName,
          pattern: documented[i].filterPattern,
          metricTransformation: { namespace: "CloudTrailAlerts", name: SECURITY_CONTROLS[i].metricName, value: "1", defaultValue: "0" },
        });
      }
    });

    it("alarms on the first matching event of five minutes, treats silence as OK, and notifies the alert topic on alarm only", async () => {
      const topicArn = await valueOf(topic.topicArn);
      for (const [i, alarm] of metricAlarms().entries()) {
        expect(alarm.inputs).to.deep.include({
          namespace: "CloudTrailAlerts",
          metricName: SECURITY_CONTROLS[i].metricName,
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [topicArn],
          okActions: [],
        });
      }
    });

    it("describes each alarm with the control, what to do and the preset that says who, within CloudWatch's 1,024 characters", async () => {
      const logGroupName = await valueOf(trail.logGroupName);
      for (const [i, alarm] of metricAlarms().entries()) {
        const control = SECURITY_CONTROLS[i];
        const description = String(alarm.inputs.alarmDescription);
        expect(description).to.equal(securityAlarmDescription(control, logGroupName));
        expect(description.startsWith(`Security Hub ${control.id} (CIS): ${control.meaning} What to do: ${control.whatToDo}`)).to.equal(true);
        expect(description).to.include(`the UserActivityNotifier preset "${control.preset.name}"`);
        expect(description).to.include(`Or query log group ${logGroupName} in Logs Insights: `);
        expect(description.length).to.be.at.most(1024);
      }
    });

    it("notifies a topic whose policy lets exactly these alarms publish (IAM simulation of each alarm's request)", async () => {
      const topicArn = await valueOf(topic.topicArn);
      const topicResources = await resourcesOf(topic);
      const policy = policyOf(single(topicResources, "aws:sns/topicPolicy:TopicPolicy"));
      for (const alarm of metricAlarms()) {
        const alarmArn = String(alarm.state.arn);
        const [, , , region, account] = alarmArn.split(":");
        const request = { principal: "cloudwatch.amazonaws.com", action: "sns:Publish", resource: topicArn, accountId: account, resourcePolicy: policy };
        const context = { "aws:SourceAccount": account, "aws:SourceArn": alarmArn, "aws:PrincipalIsAWSService": "true", "aws:SecureTransport": "true" };
        expect(await decide({ ...request, context }), alarm.name).to.equal("Allowed");
        expect(region).to.equal(topicArn.split(":")[3]);
        const elsewhere = { ...context, "aws:SourceAccount": "999999999999", "aws:SourceArn": alarmArn.replace(`:${account}:`, ":999999999999:") };
        expect(await decide({ ...request, context: elsewhere }), `${alarm.name} of another account`).to.not.equal("Allowed");
      }
    });
  });

  it("deploys only the listed controls, in Security Hub's order, with the chosen namespace, period and OK notifications", async () => {
    const alarms = new SecurityAlarms("sa-some", {
      logGroupName: "org-trail",
      alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t",
      controls: ["CloudWatch.7", "CloudWatch.1"],
      metricNamespace: "LogMetrics",
      periodInSeconds: 60,
      notifyOnOk: true,
    });
    const resources = await resourcesOf(alarms);

    expect(resources.map((r) => r.name).sort()).to.deep.equal(["sa-some-cloudwatch-1-alarm", "sa-some-cloudwatch-1-filter", "sa-some-cloudwatch-7-alarm", "sa-some-cloudwatch-7-filter"]);
    expect(Object.keys(alarms.alarms)).to.deep.equal(["CloudWatch.1", "CloudWatch.7"]);
    expect(alarms.alarms["CloudWatch.7"].filterPattern).to.equal(documented[6].filterPattern);
    expect(single(resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "sa-some-cloudwatch-7-filter").inputs.metricTransformation).to.deep.include({ namespace: "LogMetrics", name: "DisableOrDeleteCMK" });
    expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "sa-some-cloudwatch-1-alarm").inputs).to.deep.include({ period: 60, okActions: ["arn:aws:sns:ap-northeast-1:111111111111:t"] });
  });

  it("counts the metric filters it takes of the log group's 100", () => {
    expect(securityAlarmFilterCount("all")).to.equal(14);
    expect(securityAlarmFilterCount(["CloudWatch.3"])).to.equal(1);
  });

  it("writes a Logs Insights query from a preset's selection", () => {
    expect(securityInsightsQuery(securityControl("CloudWatch.2").preset.selection)).to.equal(
      "fields eventTime, userIdentity.arn, eventName, sourceIPAddress | filter (errorCode like /UnauthorizedOperation$/ or errorCode like /^AccessDenied/) | sort eventTime desc",
    );
    expect(securityInsightsQuery(securityControl("CloudWatch.7").preset.selection)).to.equal(
      'fields eventTime, userIdentity.arn, eventName, sourceIPAddress | filter eventSource in ["kms.amazonaws.com"] and eventName in ["DisableKey","ScheduleKeyDeletion"] | sort eventTime desc',
    );
  });

  it("leaves the query out of a description that would pass 1,024 characters", () => {
    const description = securityAlarmDescription(securityControl("CloudWatch.4"), "x".repeat(400));
    expect(description.length).to.be.at.most(1024);
    expect(description).to.not.include("Logs Insights");
    expect(description).to.include('preset "iam-policy-changes"');
  });

  describe("validateArgs", () => {
    const base = { logGroupName: "g", alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t", controls: "all" as const };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["an empty list of controls", { controls: [] }, 'controls must be "all" or a non-empty list of control IDs (CloudWatch.1 to CloudWatch.14), got []'],
      ["a word other than all", { controls: "some" }, 'controls must be "all" or a non-empty list of control IDs (CloudWatch.1 to CloudWatch.14), got "some"'],
      ["an unknown control", { controls: ["CloudWatch.15"] }, 'controls[0] must be a Security Hub control ID such as CloudWatch.1 (CloudWatch.1, CloudWatch.2, CloudWatch.3, CloudWatch.4, CloudWatch.5, CloudWatch.6, CloudWatch.7, CloudWatch.8, CloudWatch.9, CloudWatch.10, CloudWatch.11, CloudWatch.12, CloudWatch.13, CloudWatch.14), got "CloudWatch.15"'],
      ["a control listed twice", { controls: ["CloudWatch.1", "CloudWatch.1"] }, 'controls[1] "CloudWatch.1" is listed twice (also controls[0]); remove one'],
      ["a period that is not whole minutes", { periodInSeconds: 90 }, "periodInSeconds must be a multiple of 60 seconds, at most 86400, got 90"],
      ["an AWS/ namespace", { metricNamespace: "AWS/Logs" }, 'metricNamespace must be 1-255 characters without \':\' and not starting with AWS/, got "AWS/Logs"'],
    ];
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => SecurityAlarms.validateArgs("v", { ...base, ...override })).to.throw(`SecurityAlarms "v": ${message}`);
      });
    }
  });
});

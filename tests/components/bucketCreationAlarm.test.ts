import { expect } from "chai";

import { AlertTopic, AuditTrail, BucketCreationAlarm, eventNamePattern } from "../../components";
import { resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

describe("BucketCreationAlarm", () => {
  describe("with defaults, on a created trail", () => {
    let topic: AlertTopic;
    let trail: AuditTrail;
    let alarm: BucketCreationAlarm;
    let resources: Awaited<ReturnType<typeof resourcesOf>>;

    before(async () => {
      topic = new AlertTopic("bca-topic", {});
      trail = new AuditTrail("bca-trail", {});
      alarm = new BucketCreationAlarm("bca", { logGroupName: trail.logGroupName, alertTopicArn: topic.topicArn });
      resources = await resourcesOf(alarm);
    });

    it("creates exactly a metric filter and an alarm, as children", async () => {
      const urn = await valueOf(alarm.urn);
      expect(resources.map((r) => [r.type, r.name, r.parent === urn])).to.deep.equal([
        ["aws:cloudwatch/logMetricFilter:LogMetricFilter", "bca-filter", true],
        ["aws:cloudwatch/metricAlarm:MetricAlarm", "bca-alarm", true],
      ]);
    });

    it("deploys exactly the pattern { ($.eventName = \"CreateBucket\") } on the trail's log group, counting 1 per event", async () => {
      expect(single(resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs).to.deep.equal({
        logGroupName: await valueOf(trail.logGroupName),
        pattern: '{ ($.eventName = "CreateBucket") }',
        metricTransformation: { namespace: "CloudTrailAlerts", name: "BucketCreationEvents", value: "1", defaultValue: "0" },
      });
      expect(alarm.filterPattern).to.equal('{ ($.eventName = "CreateBucket") }');
    });

    it("alarms on Sum >= 1 over 60 seconds, treats silence as OK, and notifies the alert topic on alarm and OK", async () => {
      const topicArn = await valueOf(topic.topicArn);
      expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs).to.deep.include({
        namespace: "CloudTrailAlerts",
        metricName: "BucketCreationEvents",
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [topicArn],
        okActions: [topicArn],
      });
    });

    it("describes what happened and gives a query that shows who, which bucket and where", async () => {
      const description = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs.alarmDescription;
      expect(description).to.equal(
        `CloudTrail recorded CreateBucket in this account. To see who did it, on which bucket and where, run this CloudWatch Logs Insights query on log group ${await valueOf(trail.logGroupName)}: fields eventTime, eventName, userIdentity.arn, awsRegion, requestParameters.bucketName, sourceIPAddress | filter eventName in ["CreateBucket"] | sort eventTime desc`,
      );
      expect(String(description).length).to.be.at.most(1024);
    });
  });

  it("also counts the event names a user adds, without forking", async () => {
    const resources = await resourcesOf(
      new BucketCreationAlarm("bca-more", { logGroupName: "org-trail", alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t", eventNames: ["CreateBucket", "DeleteBucket", "PutBucketPolicy"], notifyOnOk: false }),
    );

    expect(single(resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs.pattern).to.equal(
      '{ ($.eventName = "CreateBucket") || ($.eventName = "DeleteBucket") || ($.eventName = "PutBucketPolicy") }',
    );
    expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs.okActions).to.deep.equal([]);
  });

  it("deploys a caller's own filter pattern verbatim", async () => {
    const pattern = '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "PutBucketAcl") }';
    const resources = await resourcesOf(new BucketCreationAlarm("bca-raw", { logGroupName: "g", alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t", filterPattern: pattern, metricName: "BucketAclChanges" }));

    expect(single(resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs).to.deep.include({ pattern });
  });

  it("builds one alternative per event name", () => {
    expect(eventNamePattern(["A"])).to.equal('{ ($.eventName = "A") }');
    expect(eventNamePattern(["A", "B"])).to.equal('{ ($.eventName = "A") || ($.eventName = "B") }');
  });

  describe("validateArgs", () => {
    const base = { logGroupName: "g", alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:t" };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["both eventNames and filterPattern", { eventNames: ["CreateBucket"], filterPattern: "x" }, "eventNames and filterPattern are mutually exclusive; give one"],
      ["no event names", { eventNames: [] }, "eventNames must name at least one event"],
      ["an event name that could break the pattern", { eventNames: ['CreateBucket") || ($.x = "y'] }, 'eventNames[0] must be a CloudTrail event name such as CreateBucket, got "CreateBucket\\") || ($.x = \\"y"'],
      ["a pattern over 1024 characters", { filterPattern: "x".repeat(1025) }, "filterPattern must be a non-empty filter pattern of at most 1024 characters"],
      ["a period that is not whole minutes", { periodInSeconds: 90 }, "periodInSeconds must be a multiple of 60 seconds, got 90"],
      ["a threshold below 1", { threshold: 0 }, "threshold must be a whole number >= 1, got 0"],
      ["an AWS/ namespace", { metricNamespace: "AWS/S3" }, 'metricNamespace must be 1-255 characters without \':\' and not starting with AWS/, got "AWS/S3"'],
    ];
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => BucketCreationAlarm.validateArgs("v", { ...base, ...override })).to.throw(`BucketCreationAlarm "v": ${message}`);
      });
    }
  });
});

import { expect } from "chai";

import { loadStackConfig } from "../../stackConfig";
import { devConfig, stackConfigErrorOf } from "../support/stackConfig";

describe("stackConfig", () => {
  it("reads the dev stack into one typed object", () => {
    const config = loadStackConfig(devConfig());

    expect(config).to.deep.include({
      region: "ap-northeast-1",
      allowedAccountIds: ["111111111111"],
      timeZone: "Asia/Tokyo",
      language: "ja",
      alertTopic: { emailAddresses: ["security@example.com"] },
      trail: { logRetentionInDays: 365 },
      bucketCreationEventNames: ["CreateBucket"],
      functionLogRetentionInDays: 30,
    });
  });

  it("adopts an existing topic and an existing trail when their keys are set", () => {
    const config = loadStackConfig(
      devConfig({
        "cloudtrail-alerts:existingAlertTopicArn": "arn:aws:sns:ap-northeast-1:111111111111:org-alerts",
        "cloudtrail-alerts:existingTrailLogGroupName": "aws-controltower/CloudTrailLogs",
        "cloudtrail-alerts:bucketCreationAlarm": "false",
      }),
    );

    expect(config.alertTopic).to.deep.equal({ existingTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:org-alerts", emailAddresses: ["security@example.com"] });
    expect(config.trail).to.deep.equal({ existingLogGroupName: "aws-controltower/CloudTrailLogs" });
    expect(config.bucketCreationEventNames).to.equal(undefined);
  });

  it("reports the first bad key in the order Pulumi.yaml declares them", () => {
    const error = stackConfigErrorOf({
      "cloudtrail-alerts:backfill": '{"enabled":"yes"}',
      "cloudtrail-alerts:functionLogRetentionInDays": "31",
      "cloudtrail-alerts:language": "fr",
    });

    expect(error.key).to.equal("cloudtrail-alerts:language");
  });

  it("gives the stack's time zone and language to download alerts and notifiers that set none", () => {
    const config = loadStackConfig(devConfig({ "cloudtrail-alerts:timeZone": "Europe/Paris", "cloudtrail-alerts:language": "en" }));

    expect(config.downloadAlerts).to.deep.include({ timeZone: "Europe/Paris", language: "en", logRetentionInDays: 30 });
    expect(config.downloadAlerts?.reset).to.deep.equal({ schedule: "0 1 * * 1", timeZone: "Europe/Paris" });
    expect(config.userActivityNotifiers.map((n) => [n.name, n.timeZone, n.language])).to.deep.equal([
      ["hogehoge", "Europe/Paris", "en"],
      ["ssm-sessions", "Europe/Paris", "en"],
    ]);
  });
});

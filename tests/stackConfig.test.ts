import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { loadStackFiles, OFFLINE_SECRET_PLACEHOLDER } from "../preview/stackFiles";
import { loadStackConfig, StackConfigError } from "../stackConfig";
import { PROJECT_DIRECTORY } from "./support/engine";

/** The dev stack's effective config (Pulumi.yaml defaults + Pulumi.dev.yaml), with some keys replaced. */
function devConfig(overrides: Record<string, string | undefined> = {}): (key: string) => string | undefined {
  const values: Record<string, string | undefined> = { ...loadStackFiles(PROJECT_DIRECTORY, "dev").config, ...overrides };
  return (key) => values[key];
}

function errorOf(overrides: Record<string, string | undefined>): StackConfigError {
  try {
    loadStackConfig(devConfig(overrides));
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

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

  const bad: Array<[string, Record<string, string | undefined>, string]> = [
    ["an account ID that is not 12 digits", { "aws:allowedAccountIds": '["12345"]' }, 'aws:allowedAccountIds[0] must be a 12-digit AWS account ID, got "12345"'],
    ["an unknown region", { "aws:region": "ap-northeast-9" }, 'aws:region must be an AWS region such as ap-northeast-1, got "ap-northeast-9"'],
    ["a missing region", { "aws:region": undefined }, "aws:region is required; set it with: pulumi config set aws:region <value>"],
    ["an unknown time zone", { "cloudtrail-alerts:timeZone": "Asia/Tokio" }, 'cloudtrail-alerts:timeZone must be an IANA time zone such as Asia/Tokyo, got "Asia/Tokio"'],
    ["an unsupported language", { "cloudtrail-alerts:language": "fr" }, 'cloudtrail-alerts:language must be "ja" or "en", got "fr"'],
    ["a malformed email", { "cloudtrail-alerts:alertEmails": '["security@example.com","security@"]' }, 'cloudtrail-alerts:alertEmails[1] must be an email address, got "security@"'],
    ["emails that are not a list", { "cloudtrail-alerts:alertEmails": '"security@example.com"' }, 'cloudtrail-alerts:alertEmails must be a list, got "security@example.com"'],
    ["a retention that is not a number", { "cloudtrail-alerts:trailLogRetentionInDays": "a year" }, 'cloudtrail-alerts:trailLogRetentionInDays must be a whole number, got "a year"'],
    ["a retention CloudWatch Logs does not offer", { "cloudtrail-alerts:trailLogRetentionInDays": "100" }, "cloudtrail-alerts:trailLogRetentionInDays must be one of CloudWatch Logs' retention periods in days"],
    ["a flag that is not a boolean", { "cloudtrail-alerts:bucketCreationAlarm": "yes" }, 'cloudtrail-alerts:bucketCreationAlarm must be true or false, got "yes"'],
    ["an event name that is not one", { "cloudtrail-alerts:bucketCreationEventNames": '["Create Bucket"]' }, 'cloudtrail-alerts:bucketCreationEventNames[0] must be a CloudTrail event name such as CreateBucket, got "Create Bucket"'],
    ["a topic ARN of another service", { "cloudtrail-alerts:existingAlertTopicArn": "arn:aws:sqs:ap-northeast-1:111111111111:q" }, 'cloudtrail-alerts:existingAlertTopicArn must be an SNS topic ARN or empty, got "arn:aws:sqs:ap-northeast-1:111111111111:q"'],
  ];
  for (const [title, overrides, message] of bad) {
    it(`rejects ${title}, naming the key and the value`, () => {
      const error = errorOf(overrides);
      expect(error.message.startsWith(message), error.message).to.equal(true);
      expect(error.message).not.to.include("\n");
      expect(error.key.startsWith(Object.keys(overrides)[0])).to.equal(true, error.key);
    });
  }
});

describe("stack files", () => {
  it("hands secrets to the program as secret placeholders, since they cannot be decrypted offline", () => {
    // Prepare
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
    fs.copyFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.yaml"), path.join(directory, "Pulumi.yaml"));
    fs.writeFileSync(path.join(directory, "Pulumi.sec.yaml"), "config:\n  aws:region: ap-northeast-1\n  cloudtrail-alerts:existingTrailLogGroupName:\n    secure: v1:AAAABBBBCCCC\n");

    // Act
    const files = loadStackFiles(directory, "sec");

    // Assess
    expect(files.secretKeys).to.deep.equal(["cloudtrail-alerts:existingTrailLogGroupName"]);
    expect(files.config["cloudtrail-alerts:existingTrailLogGroupName"]).to.equal(OFFLINE_SECRET_PLACEHOLDER);
    expect(files.config["cloudtrail-alerts:timeZone"]).to.equal("UTC");
  });
});

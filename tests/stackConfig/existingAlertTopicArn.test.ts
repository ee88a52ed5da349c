import { expect } from "chai";

import { readExistingAlertTopicArn } from "../../stackConfig/existingAlertTopicArn";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:existingAlertTopicArn", () => {
  itRejects([
    [
      "a topic ARN of another service",
      { "cloudtrail-alerts:existingAlertTopicArn": "arn:aws:sqs:ap-northeast-1:111111111111:q" },
      'cloudtrail-alerts:existingAlertTopicArn must be an SNS topic ARN or empty, got "arn:aws:sqs:ap-northeast-1:111111111111:q"',
    ],
  ]);

  it("is empty (create a topic) when not set, and reads a topic ARN of any partition", () => {
    expect(readExistingAlertTopicArn(readerOf())).to.equal("");
    expect(readExistingAlertTopicArn(readerOf({ "cloudtrail-alerts:existingAlertTopicArn": "arn:aws-cn:sns:cn-north-1:111111111111:alerts" }))).to.equal(
      "arn:aws-cn:sns:cn-north-1:111111111111:alerts",
    );
  });
});

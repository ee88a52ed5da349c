import { expect } from "chai";

import { readExistingTrailLogGroupName } from "../../stackConfig/existingTrailLogGroupName";
import { readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:existingTrailLogGroupName", () => {
  it("is empty (create a trail) when not set, and reads a log group name as written", () => {
    expect(readExistingTrailLogGroupName(readerOf())).to.equal("");
    expect(readExistingTrailLogGroupName(readerOf({ "cloudtrail-alerts:existingTrailLogGroupName": "aws-controltower/CloudTrailLogs" }))).to.equal("aws-controltower/CloudTrailLogs");
  });
});

describe("stack config: a log group ARN where its name is expected", () => {
  for (const arn of ["arn:aws:logs:ap-northeast-1:111111111111:log-group:aws-controltower/CloudTrailLogs", "arn:aws:logs:ap-northeast-1:111111111111:log-group:aws-controltower/CloudTrailLogs:*"]) {
    it(`refuses ${arn} with the name to set instead`, () => {
      expect(() => readExistingTrailLogGroupName(readerOf({ "cloudtrail-alerts:existingTrailLogGroupName": arn }))).to.throw(
        `cloudtrail-alerts:existingTrailLogGroupName must be a log group name, not an ARN, got ${JSON.stringify(arn)}; set it with: pulumi config set cloudtrail-alerts:existingTrailLogGroupName aws-controltower/CloudTrailLogs`,
      );
    });
  }
});

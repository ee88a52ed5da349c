import { expect } from "chai";

import { readExistingTrailLogGroupName } from "../../stackConfig/existingTrailLogGroupName";
import { readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:existingTrailLogGroupName", () => {
  it("is empty (create a trail) when not set, and reads a log group name as written", () => {
    expect(readExistingTrailLogGroupName(readerOf())).to.equal("");
    expect(readExistingTrailLogGroupName(readerOf({ "cloudtrail-alerts:existingTrailLogGroupName": "aws-controltower/CloudTrailLogs" }))).to.equal("aws-controltower/CloudTrailLogs");
  });
});

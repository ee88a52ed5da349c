import { expect } from "chai";

import { partitionOf } from "../../stackConfig";
import { readRegion } from "../../stackConfig/region";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: aws:region", () => {
  itRejects([
    ["an unknown region", { "aws:region": "ap-northeast-9" }, 'aws:region must be an AWS region such as ap-northeast-1, got "ap-northeast-9"'],
    ["a missing region", { "aws:region": undefined }, "aws:region is required; set it with: pulumi config set aws:region <value>"],
  ]);

  it("reads a region the AWS provider knows", () => {
    expect(readRegion(readerOf({ "aws:region": "eu-central-2" }))).to.equal("eu-central-2");
  });

  it("names the partition of a region, for ARNs of roles that exist before the stack", () => {
    expect(["ap-northeast-1", "cn-north-1", "us-gov-west-1", "us-east-1"].map(partitionOf)).to.deep.equal(["aws", "aws-cn", "aws-us-gov", "aws"]);
  });
});

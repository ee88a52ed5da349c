import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { awsEnvironment } from "../../components";
import { resourcesOf } from "../support/engine";
import { valueOf } from "../support/outputs";

const host = (name: string, opts: pulumi.ComponentResourceOptions = {}) => new pulumi.ComponentResource("test:index:Host", name, {}, opts);
const resolved = (parent: pulumi.Resource) => {
  const env = awsEnvironment(parent);
  return valueOf(pulumi.all([env.accountId, env.region, env.partition]));
};

describe("awsEnvironment", () => {
  it("gives the account, Region and partition of the default provider, creating nothing", async () => {
    const parent = host("awe-default");

    expect(await resolved(parent)).to.deep.equal(["111111111111", "ap-northeast-1", "aws"]);
    expect(await resourcesOf(parent)).to.deep.equal([]);
  });

  it("follows the provider the parent uses: its account, its Region and that Region's partition", async () => {
    const member = new aws.Provider("awe-member-provider", {
      region: "us-west-2",
      allowedAccountIds: ["222222222222"],
      assumeRoles: [{ roleArn: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole" }],
    });
    const china = new aws.Provider("awe-china-provider", { region: "cn-north-1" });

    expect(await resolved(host("awe-member", { providers: [member] }))).to.deep.equal(["222222222222", "us-west-2", "aws"]);
    expect(await resolved(host("awe-china", { providers: [china] }))).to.deep.equal(["111111111111", "cn-north-1", "aws-cn"]);
  });
});

import { expect } from "chai";

import { awsProviderConfigNames, checkConfigKeys } from "../../stackConfig/configKeys";
import { StackConfigError } from "../../stackConfig";
import { devConfig } from "../support/stackConfig";
import { loadStackConfig } from "../../stackConfig";

describe("stack config: keys of the AWS provider", () => {
  it("reads the provider's config variables from @pulumi/aws", () => {
    const names = awsProviderConfigNames();
    expect(names).to.include.members(["region", "allowedAccountIds", "assumeRoles", "defaultTags", "profile"]);
    expect(names).not.to.include("allowedAccountId");
  });

  it("refuses a key the provider does not have, suggesting the one meant", () => {
    expect(() => checkConfigKeys(["aws:region", "cloudtrail-alerts:timeZone", "aws:allowedAccountId"]))
      .to.throw(StackConfigError, "aws:allowedAccountId is not a config key of the AWS provider (@pulumi/aws), which would ignore it; did you mean aws:allowedAccountIds?")
      .with.property("key", "aws:allowedAccountId");
    expect(() => checkConfigKeys(["aws:somethingElseEntirely"])).to.throw("aws:somethingElseEntirely is not a config key of the AWS provider (@pulumi/aws), which would ignore it");
  });

  it("takes every key the provider has, and keys of other namespaces", () => {
    expect(() => checkConfigKeys([...awsProviderConfigNames().map((n) => `aws:${n}`), "cloudtrail-alerts:anything", "other:thing"])).not.to.throw();
  });

  it("is checked when the stack config is loaded", () => {
    expect(() => loadStackConfig(devConfig(), ["aws:region", "aws:allowedAccountId"])).to.throw(StackConfigError, "aws:allowedAccountId");
  });

  it("is a RunError, which the Pulumi CLI prints as one line", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const error = new StackConfigError("k", "k must be x, got y");
    expect(pulumi.RunError.isInstance(error)).to.equal(true);
    expect(error.name).to.equal("StackConfigError");
  });
});

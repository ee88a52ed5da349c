import { expect } from "chai";

import { loadStackConfig } from "../../stackConfig";
import { readSecurityAlarms } from "../../stackConfig/securityAlarms";
import { devConfig, itRejects, readerOf } from "../support/stackConfig";

const KEY = "cloudtrail-alerts:securityAlarms";

describe("stack config: cloudtrail-alerts:securityAlarms", () => {
  itRejects([
    ["a word other than all", { [KEY]: "everything" }, `${KEY} must be all or a list of Security Hub control IDs such as [CloudWatch.1, CloudWatch.3], got "everything"`],
    ["an unknown control", { [KEY]: '["CloudWatch.1","CloudWatch.15"]' }, `${KEY}[1] must be a Security Hub control ID (CloudWatch.1 to CloudWatch.14), or the whole value all, got "CloudWatch.15"`],
    ["a control listed twice", { [KEY]: '["CloudWatch.3","CloudWatch.3"]' }, `${KEY}[1] "CloudWatch.3" is listed twice (also ${KEY}[0]); remove one`],
    ["all among control IDs", { [KEY]: '["CloudWatch.1","all"]' }, `${KEY}[1] must be a Security Hub control ID (CloudWatch.1 to CloudWatch.14), or the whole value all, got "all"`],
  ]);

  it("deploys nothing by default, nor for an empty list, so that existing stacks do not change", () => {
    expect(readSecurityAlarms(readerOf())).to.equal(undefined);
    expect(readSecurityAlarms(readerOf({ [KEY]: "[]" }))).to.equal(undefined);
    expect(loadStackConfig(devConfig())).to.not.have.property("securityAlarms");
  });

  it("reads all, or the listed control IDs", () => {
    expect(readSecurityAlarms(readerOf({ [KEY]: "all" }))).to.equal("all");
    expect(readSecurityAlarms(readerOf({ [KEY]: '["CloudWatch.1","CloudWatch.3"]' }))).to.deep.equal(["CloudWatch.1", "CloudWatch.3"]);
    expect(loadStackConfig(devConfig({ [KEY]: "all" })).securityAlarms).to.equal("all");
  });
});

describe("stack config: securityAlarms as component arguments write it", () => {
  it('reads ["all"] (the list form other languages pass) as all', () => {
    expect(readSecurityAlarms(readerOf({ "cloudtrail-alerts:securityAlarms": '["all"]' }))).to.equal("all");
  });
});

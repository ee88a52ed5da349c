import { expect } from "chai";

import { loadStackConfig } from "../../stackConfig";
import { readDashboard } from "../../stackConfig/dashboard";
import { devConfig, itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:dashboard", () => {
  itRejects([["a flag that is not a boolean", { "cloudtrail-alerts:dashboard": "yes" }, 'cloudtrail-alerts:dashboard must be true or false, got "yes"']]);

  it("is on by default and off when false", () => {
    expect(readDashboard(readerOf())).to.equal(true);
    expect(readDashboard(readerOf({ "cloudtrail-alerts:dashboard": "false" }))).to.equal(false);
  });

  it("reaches the stack config", () => {
    expect(loadStackConfig(devConfig()).dashboard).to.equal(true);
    expect(loadStackConfig(devConfig({ "cloudtrail-alerts:dashboard": "false" })).dashboard).to.equal(false);
  });
});

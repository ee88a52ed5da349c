import { expect } from "chai";

import { readTrailLogRetentionInDays } from "../../stackConfig/trailLogRetentionInDays";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:trailLogRetentionInDays", () => {
  itRejects([
    ["a retention that is not a number", { "cloudtrail-alerts:trailLogRetentionInDays": "a year" }, 'cloudtrail-alerts:trailLogRetentionInDays must be a whole number, got "a year"'],
    ["a retention CloudWatch Logs does not offer", { "cloudtrail-alerts:trailLogRetentionInDays": "100" }, "cloudtrail-alerts:trailLogRetentionInDays must be one of CloudWatch Logs' retention periods in days"],
  ]);

  it("defaults to a year", () => {
    expect(readTrailLogRetentionInDays(readerOf())).to.equal(365);
  });
});

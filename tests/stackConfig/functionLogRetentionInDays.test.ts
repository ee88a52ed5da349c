import { expect } from "chai";

import { readFunctionLogRetentionInDays } from "../../stackConfig/functionLogRetentionInDays";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:functionLogRetentionInDays", () => {
  itRejects([
    [
      "a retention CloudWatch Logs does not offer",
      { "cloudtrail-alerts:functionLogRetentionInDays": "31" },
      "cloudtrail-alerts:functionLogRetentionInDays must be one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, ...), got 31",
    ],
  ]);

  it("defaults to 30 days and reads another retention period", () => {
    expect(readFunctionLogRetentionInDays(readerOf())).to.equal(30);
    expect(readFunctionLogRetentionInDays(readerOf({ "cloudtrail-alerts:functionLogRetentionInDays": "90" }))).to.equal(90);
  });
});

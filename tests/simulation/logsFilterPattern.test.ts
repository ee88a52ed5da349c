import { expect } from "chai";

import { logsFilterMatches } from "../../simulation/logsFilterPattern";

describe("logsFilterPattern (the filter-pattern evaluator of the tests)", () => {
  const event = { eventSource: "kms.amazonaws.com", eventName: "DisableKey", sourceIPAddress: "123.123.4.5", count: 12, userIdentity: { type: "Root" } };

  it("reads values written without quotes, as AWS's own patterns write them", () => {
    expect(logsFilterMatches("{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}", event)).to.equal(true);
    expect(logsFilterMatches("{($.eventSource=s3.amazonaws.com) && ($.eventName=DisableKey)}", event)).to.equal(false);
    expect(logsFilterMatches("{ $.eventName = DisableKey }", event)).to.equal(true);
  });

  it("treats * in an unquoted value as a wildcard, and an unquoted number as a number", () => {
    expect(logsFilterMatches("{ $.sourceIPAddress != 123.123.* }", event)).to.equal(false);
    expect(logsFilterMatches("{ $.sourceIPAddress != 10.0.* }", event)).to.equal(true);
    expect(logsFilterMatches("{ $.sourceIPAddress = 123.* }", event)).to.equal(true);
    expect(logsFilterMatches("{ $.count = 12 }", event)).to.equal(true);
    expect(logsFilterMatches('{ $.count = "12" }', event)).to.equal(false);
  });

  it("still reads quoted values, NOT EXISTS and spacing around operators", () => {
    expect(logsFilterMatches('{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventSource !="s3.amazonaws.com"}', event)).to.equal(true);
    expect(logsFilterMatches('{ ($.eventName = "DisableKey") }', event)).to.equal(true);
  });

  it("refuses a comparison without a value", () => {
    expect(() => logsFilterMatches("{ $.eventName = }", event)).to.throw(/Invalid filter pattern .*: expected a token at token 2, got the end/);
  });
});

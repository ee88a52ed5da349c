import { expect } from "chai";

import { readAllowedAccountIds } from "../../stackConfig/allowedAccountIds";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: aws:allowedAccountIds", () => {
  itRejects([["an account ID that is not 12 digits", { "aws:allowedAccountIds": '["12345"]' }, 'aws:allowedAccountIds[0] must be a 12-digit AWS account ID, got "12345"']]);

  it("allows any account when not set", () => {
    expect(readAllowedAccountIds(readerOf())).to.deep.equal([]);
  });

  it("reads a list of account IDs", () => {
    expect(readAllowedAccountIds(readerOf({ "aws:allowedAccountIds": '["111111111111","222222222222"]' }))).to.deep.equal(["111111111111", "222222222222"]);
  });
});

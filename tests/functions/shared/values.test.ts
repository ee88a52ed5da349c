import { expect } from "chai";

import { isObject, shown } from "../../../functions/shared/values";

describe("values", () => {
  it("isObject: plain objects only", () => {
    expect([{}, { a: 1 }].map(isObject)).to.deep.equal([true, true]);
    expect([null, [], "x", 1, undefined].map(isObject)).to.deep.equal([false, false, false, false, false]);
  });

  it("shown: JSON with quotes and escapes, cut to the length asked", () => {
    expect(shown("a\u200bb")).to.equal('"a\u200bb"');
    expect(shown("a\nb")).to.equal('"a\\nb"');
    expect(shown(undefined)).to.equal("undefined");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(shown(cyclic)).to.equal("[object Object]");
    expect(shown("x".repeat(300), 10)).to.equal('"xxxxxx...');
    expect(shown("x".repeat(300), 10)).to.have.length(10);
  });
});

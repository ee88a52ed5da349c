import { expect } from "chai";

import { collectProblems } from "../../../functions/shared/problems";

describe("problems", () => {
  it("collects checks that fail and messages, in order, and throws them as one error", () => {
    const problems = collectProblems()
      .check("threshold", 0, (v: number) => v >= 1, "a whole number >= 1")
      .check("bucket", "b", (v: string) => v !== "", "a bucket name")
      .check("key", undefined, () => false, "never judged when undefined")
      .fail("watches[1] gives both key and keyPrefix");
    expect(problems.list).to.deep.equal(["threshold must be a whole number >= 1, got 0", "watches[1] gives both key and keyPrefix"]);
    expect(() => problems.throwIfAny((message) => new RangeError(message))).to.throw(RangeError, "threshold must be a whole number >= 1, got 0; watches[1] gives both key and keyPrefix");
  });

  it("passes over values it is told to skip, and throws nothing without problems", () => {
    const problems = collectProblems({ skip: (v) => v === "later" }).check("name", "later", () => false, "anything");
    expect(problems.list).to.deep.equal([]);
    expect(() => problems.throwIfAny((m) => new Error(m))).not.to.throw();
  });
});

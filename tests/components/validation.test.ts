import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";

import { argProblems, isTimeZone, wholeNumberIn } from "../../components/validation";

describe("argProblems", () => {
  it("throws one error naming the component and every problem, in order", () => {
    const problems = argProblems('Thing "x"')
      .check("count", 0, wholeNumberIn(1, 10), "a whole number from 1 to 10")
      .fail("name is used twice")
      .check("timeZone", "JST", isTimeZone, "an IANA time zone");

    expect(() => problems.throwIfAny()).to.throw(Error, 'Thing "x": count must be a whole number from 1 to 10, got 0; name is used twice; timeZone must be an IANA time zone, got "JST"');
    expect(problems.list).to.have.length(3);
  });

  it("skips values that are still unresolved Outputs, which are known only at deployment", () => {
    const problems = argProblems('Thing "x"')
      .check("count", pulumi.output(0), () => false, "a whole number")
      .check("name", pulumi.Output.create("a b"), () => false, "a name")
      .check("unset", undefined, () => false, "set");

    expect(problems.list).to.deep.equal([]);
    expect(() => problems.throwIfAny()).not.to.throw();
  });

  it("checks a plain value that an Output would have been skipped for", () => {
    const problems = argProblems('Thing "x"').check("count", 0, () => false, "a whole number >= 1");

    expect(problems.list).to.deep.equal(["count must be a whole number >= 1, got 0"]);
  });

  it("throws the error toError makes when given one", () => {
    const problems = argProblems('Thing "x"').fail("a is wrong").fail("b is wrong");

    expect(() => problems.throwIfAny((message) => new RangeError(message))).to.throw(RangeError, /^a is wrong; b is wrong$/);
  });
});

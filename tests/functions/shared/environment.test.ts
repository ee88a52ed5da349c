import { expect } from "chai";

import { environmentReader, INVALID_ENVIRONMENT_ERROR } from "../../../functions/shared/environment";
import { hasErrorName } from "../../../functions/shared/runtime";

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    expect(hasErrorName(error, INVALID_ENVIRONMENT_ERROR), String(error)).to.equal(true);
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("environment reader", () => {
  const reader = environmentReader({ NAME: "x", EMPTY: "", MODE: "fast", LIST: "[1,2]", BAD_JSON: "{", N: "7", FLAG: "true" });

  it("reads required and optional variables, an empty one as missing", () => {
    expect(reader.required("NAME")).to.equal("x");
    expect(reader.optional("EMPTY")).to.equal(undefined);
    expect(thrown(() => reader.required("EMPTY")).message).to.equal("environment variable EMPTY is not set; the function was deployed without it");
    expect(thrown(() => reader.required("MISSING")).message).to.contain("MISSING is not set");
  });

  it("checks enumerations, JSON, numbers and booleans, naming the variable and the value", () => {
    expect(reader.oneOf("MODE", ["fast", "slow"])).to.equal("fast");
    expect(reader.oneOf("MISSING", ["fast", "slow"], "slow")).to.equal("slow");
    expect(thrown(() => reader.oneOf("NAME", ["fast", "slow"])).message).to.equal('environment variable NAME must be "fast" or "slow", got "x"');
    expect(reader.json<number[]>("LIST", (v) => (Array.isArray(v) ? [] : ["must be a list"]))).to.deep.equal([1, 2]);
    expect(thrown(() => reader.json("LIST", () => ["[0] is wrong"])).message).to.equal("environment variable LIST is invalid: [0] is wrong");
    expect(thrown(() => reader.json("BAD_JSON", () => [])).message).to.match(/^environment variable BAD_JSON must be JSON \(.+\), got "\{"$/);
    expect(reader.number("N", 1, (n) => n > 0, "a positive number")).to.equal(7);
    expect(reader.number("MISSING", 1, (n) => n > 0, "a positive number")).to.equal(1);
    expect(thrown(() => reader.number("NAME", 1, (n) => n > 0, "a positive number")).message).to.equal('environment variable NAME must be a positive number, got "x"');
    expect(reader.boolean("FLAG", false)).to.equal(true);
    expect(reader.boolean("MISSING", false)).to.equal(false);
    expect(thrown(() => reader.boolean("NAME", false)).message).to.equal('environment variable NAME must be "true" or "false", got "x"');
  });
});

import { expect } from "chai";

import { firstProblemThrows, StackConfigError } from "../../stackConfig/reader";
import { readerOf } from "../support/stackConfig";

/** The StackConfigError that `read` throws. */
function errorOf(read: () => unknown): StackConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

const isShort = (v: string) => v.length <= 3;

describe("stack config reader", () => {
  describe("string", () => {
    it("reads the value as written, or the fallback when the key is not set", () => {
      const read = readerOf({ "p:set": "abc" });

      expect(read.string("p:set", { fallback: "x" })).to.equal("abc");
      expect(read.string("p:unset", { fallback: "x" })).to.equal("x");
    });

    it("requires a key without a fallback, saying how to set it", () => {
      const error = errorOf(() => readerOf().string("p:name", { valid: isShort, expectation: "short" }));

      expect(error).to.include({ name: "StackConfigError", key: "p:name", message: "p:name is required; set it with: pulumi config set p:name <value>" });
    });

    it("names the key, the expectation and the value it refuses", () => {
      const error = errorOf(() => readerOf({ "p:name": "abcd" }).string("p:name", { fallback: "", valid: isShort, expectation: "at most 3 characters" }));

      expect(error).to.include({ key: "p:name", message: 'p:name must be at most 3 characters, got "abcd"' });
    });
  });

  describe("integer", () => {
    it("reads a whole number and refuses anything else", () => {
      const read = readerOf({ "p:n": "42", "p:x": "4.2" });

      expect(read.integer("p:n", { fallback: 1 })).to.equal(42);
      expect(read.integer("p:unset", { fallback: 1 })).to.equal(1);
      expect(errorOf(() => read.integer("p:x", { fallback: 1 }))).to.include({ key: "p:x", message: 'p:x must be a whole number, got "4.2"' });
    });

    it("judges the number and shows the value as written", () => {
      const error = errorOf(() => readerOf({ "p:n": "7" }).integer("p:n", { fallback: 1, valid: (n) => n % 2 === 0, expectation: "even" }));

      expect(error).to.include({ key: "p:n", message: "p:n must be even, got 7" });
    });
  });

  describe("boolean", () => {
    it("reads true and false only", () => {
      const read = readerOf({ "p:t": "true", "p:f": "false", "p:y": "yes" });

      expect([read.boolean("p:t", {}), read.boolean("p:f", {}), read.boolean("p:unset", { fallback: true })]).to.deep.equal([true, false, true]);
      expect(errorOf(() => read.boolean("p:y", { fallback: true }))).to.include({ key: "p:y", message: 'p:y must be true or false, got "yes"' });
    });
  });

  describe("stringArray", () => {
    it("reads a list of strings, naming the item it refuses", () => {
      const read = readerOf({ "p:ok": '["a","b"]', "p:long": '["a","long"]', "p:number": '["a",1]', "p:object": '{"a":1}' });

      expect(read.stringArray("p:ok", { valid: isShort, expectation: "short" })).to.deep.equal(["a", "b"]);
      expect(read.stringArray("p:unset", { fallback: ["z"] })).to.deep.equal(["z"]);
      expect(errorOf(() => read.stringArray("p:long", { valid: isShort, expectation: "short" }))).to.include({ key: "p:long[1]", message: 'p:long[1] must be short, got "long"' });
      expect(errorOf(() => read.stringArray("p:number", {}))).to.include({ key: "p:number[1]", message: "p:number[1] must be a string, got 1" });
      expect(errorOf(() => read.stringArray("p:object", {}))).to.include({ key: "p:object", message: 'p:object must be a list, got {"a":1}' });
    });
  });

  describe("json", () => {
    it("parses structured config, or gives the fallback when the key is not set", () => {
      const read = readerOf({ "p:o": '{"a":[1]}', "p:bad": "{a" });

      expect(read.json("p:o", {})).to.deep.equal({ a: [1] });
      expect(read.json("p:unset", { enabled: false })).to.deep.equal({ enabled: false });
      expect(errorOf(() => read.json("p:bad", {}))).to.include({ key: "p:bad", message: 'p:bad must be structured config (a list or an object), got "{a"' });
    });
  });
});

describe("firstProblemThrows", () => {
  it("throws the first problem from check, naming its full path as the error's key", () => {
    const sink = firstProblemThrows("p:settings");

    const error = errorOf(() => sink.check("watches[0].threshold", 0, (v: number) => v >= 1, "a whole number >= 1").check("notify", "twice", () => false, "every or once"));

    expect(error).to.include({ key: "p:settings.watches[0].threshold", message: "p:settings.watches[0].threshold must be a whole number >= 1, got 0" });
  });

  it("throws a problem from fail under the structured key", () => {
    const error = errorOf(() => firstProblemThrows("p:settings").fail('watches[0] has unknown field "treshold"'));

    expect(error).to.include({ key: "p:settings", message: 'p:settings.watches[0] has unknown field "treshold"' });
  });

  it("passes good values and undefined ones, and chains", () => {
    const sink = firstProblemThrows("p:settings");

    expect(sink.check("a", 1, () => true, "anything").check("b", undefined, () => false, "set")).to.equal(sink);
  });
});

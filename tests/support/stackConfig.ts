/** Helpers for the stack config tests: the dev stack's config with some keys replaced, and the error it raises. */
import { expect } from "chai";

import { loadStackFiles } from "../../preview/stackFiles";
import { ConfigReader, loadStackConfig, type RawConfig, StackConfigError } from "../../stackConfig";
import { PROJECT_DIRECTORY } from "./engine";

/** The dev stack's effective config (Pulumi.yaml defaults + Pulumi.dev.yaml), with some keys replaced. */
export function devConfig(overrides: Record<string, string | undefined> = {}): RawConfig {
  const values: Record<string, string | undefined> = { ...loadStackFiles(PROJECT_DIRECTORY, "dev").config, ...overrides };
  return (key) => values[key];
}

/** The StackConfigError that loading the dev stack's config with `overrides` throws. */
export function stackConfigErrorOf(overrides: Record<string, string | undefined>): StackConfigError {
  try {
    loadStackConfig(devConfig(overrides));
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

/** A reader of exactly `values` (full keys to raw strings); unset keys read as not set. */
export function readerOf(values: Record<string, string> = {}): ConfigReader {
  return new ConfigReader((key) => values[key]);
}

/** One bad value: what it is, the keys replaced in the dev stack, the start of the error message. */
export type BadConfig = [title: string, overrides: Record<string, string | undefined>, message: string];

/** One test per bad value: loading the dev stack with it throws one line that names the key and the value. */
export function itRejects(bad: BadConfig[]): void {
  for (const [title, overrides, message] of bad) {
    it(`rejects ${title}, naming the key and the value`, () => {
      const error = stackConfigErrorOf(overrides);
      expect(error.message.startsWith(message), error.message).to.equal(true);
      expect(error.message).not.to.include("\n");
      expect(error.key.startsWith(Object.keys(overrides)[0])).to.equal(true, error.key);
    });
  }
}

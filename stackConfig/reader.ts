/**
 * Typed access to the stack's raw config strings, and the config error every reader throws: each message names the
 * key and shows the value received.
 */
import * as pulumi from "@pulumi/pulumi";

import { collectProblems, type ProblemSink } from "../functions/shared/problems";
import { shown } from "../functions/shared/values";

/** The project's config namespace (its name in Pulumi.yaml). */
export const PROJECT = "cloudtrail-alerts";

/**
 * A stack config value that is missing, of the wrong type or invalid; the message names the key and the value.
 * It is a `pulumi.RunError`, so that the Pulumi CLI prints it as one line, without a stack trace ("failed with an
 * unhandled exception" is what any other error gets).
 */
export class StackConfigError extends pulumi.RunError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "StackConfigError";
  }
}

/** Reads one raw (string) config value by its full key, `namespace:name`. */
export type RawConfig = (key: string) => string | undefined;

/** Reads the current stack's config through Pulumi. */
export function pulumiRawConfig(): RawConfig {
  return (key) => {
    const [namespace, name] = key.split(":");
    return new pulumi.Config(namespace).get(name);
  };
}

/** How a value is read: required or with a fallback, and what makes it valid (said in words by `expectation`). */
export type ReadOptions<T, V = string> = {
  required?: boolean;
  fallback?: T;
} & ({ valid: (value: V) => boolean; expectation: string } | { valid?: undefined; expectation?: undefined });

/** Typed access to raw config strings; every error is a {@link StackConfigError} that names the key and shows the value. */
export class ConfigReader {
  constructor(private readonly raw: RawConfig) {}

  /** A string; `valid` judges it as written. */
  string(key: string, options: ReadOptions<string>): string {
    const value = this.raw(key);
    if (value === undefined) {
      return this.missing(key, options);
    }
    this.validate(key, value, options);
    return value;
  }

  /** A whole number written in decimal; `valid` judges the number. */
  integer(key: string, options: ReadOptions<number, number>): number {
    const value = this.raw(key);
    if (value === undefined) {
      return this.missing(key, options);
    }
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
      throw new StackConfigError(key, `${key} must be a whole number, got ${shown(value)}`);
    }
    if (options.valid && !options.valid(parsed)) {
      throw new StackConfigError(key, `${key} must be ${options.expectation}, got ${value}`);
    }
    return parsed;
  }

  /** `true` or `false`. */
  boolean(key: string, options: Omit<ReadOptions<boolean>, "valid" | "expectation">): boolean {
    const value = this.raw(key);
    if (value === undefined) {
      return this.missing(key, options);
    }
    if (value !== "true" && value !== "false") {
      throw new StackConfigError(key, `${key} must be true or false, got ${shown(value)}`);
    }
    return value === "true";
  }

  /** A list of strings (structured config); `valid` judges each item, and errors name the item (`key[1]`). */
  stringArray(key: string, options: ReadOptions<string[], string>): string[] {
    const items = this.json(key, options.fallback ?? []);
    if (!Array.isArray(items)) {
      throw new StackConfigError(key, `${key} must be a list, got ${shown(items)}`);
    }
    const seen = new Map<string, number>();
    return items.map((item: unknown, i) => {
      const itemKey = `${key}[${i}]`;
      if (typeof item !== "string") {
        throw new StackConfigError(itemKey, `${itemKey} must be a string, got ${shown(item)}`);
      }
      this.validate(itemKey, item, options);
      // A list of names or addresses says each once; a repeat would become two resources of one name.
      const first = seen.get(item);
      if (first !== undefined) {
        throw new StackConfigError(itemKey, `${itemKey} ${shown(item)} is listed twice (also ${key}[${first}]); remove one`);
      }
      seen.set(item, i);
      return item;
    });
  }

  /** A structured (object or list) value, parsed from JSON; `fallback` when the key is not set. */
  json(key: string, fallback: unknown): unknown {
    const value = this.raw(key);
    if (value === undefined) {
      return fallback;
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw new StackConfigError(key, `${key} must be structured config (a list or an object), got ${shown(value)}`);
    }
  }

  private missing<T>(key: string, options: { required?: boolean; fallback?: T }): T {
    if (options.required || options.fallback === undefined) {
      throw new StackConfigError(key, `${key} is required; set it with: pulumi config set ${key} <value>`);
    }
    return options.fallback;
  }

  private validate(key: string, value: string, options: ReadOptions<unknown, string>): void {
    if (options.valid) {
      collectProblems()
        .check(key, value, options.valid, options.expectation)
        .throwIfAny((message) => new StackConfigError(key, message));
    }
  }
}

/**
 * The problems of a structured key's value (checked by a component's own rules) as config errors: the first problem
 * throws a {@link StackConfigError} whose message names the full path under `key`. A problem from `check` gives that
 * path as the error's key (`cloudtrail-alerts:downloadAlerts.notify`); one from `fail` gives `key`.
 */
export function firstProblemThrows(key: string): ProblemSink {
  const sink: ProblemSink = {
    check(path, value, ok, expectation) {
      collectProblems()
        .check(`${key}.${path}`, value, ok, expectation)
        .throwIfAny((message) => new StackConfigError(`${key}.${path}`, message));
      return sink;
    },
    fail(message) {
      throw new StackConfigError(key, `${key}.${message}`);
    },
  };
  return sink;
}

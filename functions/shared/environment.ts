/**
 * The one reader of handler settings from environment variables. Each handler's `settings.ts` owns its contract in
 * both directions with it: `toEnvironment(settings)`, which the component calls at deploy time, and
 * `fromEnvironment(env)`, which the handler calls at cold start. Every problem is an {@link INVALID_ENVIRONMENT_ERROR}
 * that names the variable and shows the value, so a function deployed wrong fails at once and says why.
 */
import { namedError } from "./runtime";
import { shown } from "./values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The name of every error the reader throws: a variable missing, empty where it must not be, or invalid. */
export const INVALID_ENVIRONMENT_ERROR = "InvalidEnvironmentError";

/**
 * The variable that holds the alert topic's ARN in every function that publishes alerts. `SecureCallbackFunction`
 * sets it from its `alertTopic`; the handlers' settings read it.
 */
export const ALERT_TOPIC_ARN_VARIABLE = "ALERT_TOPIC_ARN";

/**
 * A value of a handler's environment: a string at run time. At deploy time a component may pass something that
 * becomes a string only on deployment (a Pulumi `Output<string>`); `V` is that type, and nothing here inspects it.
 */
export type EnvironmentValue<V = never> = string | V;

/** Reads one handler's variables; each method throws {@link INVALID_ENVIRONMENT_ERROR} naming the variable. */
export interface EnvironmentReader {
  /** The variable's value; throws when it is missing or empty. */
  required(name: string): string;
  /** The variable's value, or undefined when it is missing or empty. */
  optional(name: string): string | undefined;
  /** One of `values`; `fallback` (when given) for a missing or empty variable. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T;
  /** The parsed JSON of a required variable; `check` returns problems (empty when the value is good). */
  json<T>(name: string, check: (value: unknown) => readonly string[]): T;
  /** A number that `valid` accepts; `fallback` for a missing or empty variable. */
  number(name: string, fallback: number, valid: (value: number) => boolean, expectation: string): number;
  /** "true" or "false"; `fallback` for a missing or empty variable. */
  boolean(name: string, fallback: boolean): boolean;
  /** An error for a variable whose value the caller found invalid: "must be <expectation>, got <value>". */
  invalid(name: string, expectation: string): Error;
}

/** A reader over `env` (by default the process's environment). */
export function environmentReader(env: NodeJS.ProcessEnv = process.env): EnvironmentReader {
  const optional = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  const invalid = (name: string, expectation: string): Error =>
    namedError(INVALID_ENVIRONMENT_ERROR, `environment variable ${name} must be ${expectation}, got ${shown(env[name], 200)}`, { variable: name });
  const required = (name: string): string => {
    const value = optional(name);
    if (value === undefined) {
      throw namedError(INVALID_ENVIRONMENT_ERROR, `environment variable ${name} is not set; the function was deployed without it`, { variable: name });
    }
    return value;
  };
  return {
    required,
    optional,
    invalid,
    oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T {
      const value = fallback === undefined ? required(name) : (optional(name) ?? fallback);
      if (!(values as readonly string[]).includes(value)) {
        throw invalid(name, values.map((v) => JSON.stringify(v)).join(" or "));
      }
      return value as T;
    },
    json<T>(name: string, check: (value: unknown) => readonly string[]): T {
      const text = required(name);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw invalid(name, `JSON (${(error as Error).message})`);
      }
      const problems = check(value);
      if (problems.length > 0) {
        throw namedError(INVALID_ENVIRONMENT_ERROR, `environment variable ${name} is invalid: ${problems.join("; ")}`, { variable: name });
      }
      return value as T;
    },
    number(name: string, fallback: number, valid: (value: number) => boolean, expectation: string): number {
      const text = optional(name);
      if (text === undefined) {
        return fallback;
      }
      const value = Number(text);
      if (!valid(value)) {
        throw invalid(name, expectation);
      }
      return value;
    },
    boolean(name: string, fallback: boolean): boolean {
      return this.oneOf(name, ["true", "false"], fallback ? "true" : "false") === "true";
    },
  };
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Cron } from "croner";

import { collectProblems, type Problems } from "../functions/shared/problems";

/** Retention periods CloudWatch Logs accepts, in days (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A component's argument problems; `throwIfAny()` throws one Error that names the component and each argument. */
export interface ArgumentProblems extends Problems {
  /** Throws `<subject>: <problems joined by "; ">` (or `toError` of the joined problems) when there is any. */
  throwIfAny(toError?: (message: string) => Error): void;
}

/**
 * Collects the argument problems of one component. Values that are still unresolved Outputs are not checked here
 * (they are known only at deployment): pass `pulumi.Output` values and they are skipped.
 * @param subject how the error names the component, e.g. `AlertTopic "alerts"`.
 */
export function argProblems(subject: string): ArgumentProblems {
  const problems = collectProblems({ skip: (value) => pulumi.Output.isInstance(value) });
  const argumentProblems: ArgumentProblems = {
    get list() {
      return problems.list;
    },
    check(path, value, ok, expectation) {
      problems.check(path, value, ok, expectation);
      return argumentProblems;
    },
    fail(message) {
      problems.fail(message);
      return argumentProblems;
    },
    throwIfAny(toError = (message) => new Error(`${subject}: ${message}`)) {
      problems.throwIfAny(toError);
    },
  };
  return argumentProblems;
}

/** A whole number within [min, max]. */
export const wholeNumberIn =
  (min: number, max: number) =>
  (value: unknown): boolean =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/** One of CloudWatch Logs' retention periods. */
export const isLogRetention = (value: unknown): boolean =>
  typeof value === "number" && LOG_RETENTION_DAYS.includes(value);

// Deliberately simple: one @, no spaces, a dot in the domain. SNS confirms the address by mail anyway.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A plausible email address. */
export const isEmailAddress = (value: unknown): boolean => typeof value === "string" && EMAIL.test(value);

/** A 12-digit AWS account ID. */
export const isAccountId = (value: unknown): boolean => typeof value === "string" && /^\d{12}$/.test(value);

const KNOWN_REGIONS: ReadonlySet<string> = new Set(Object.values(aws.Region));

/** A region the AWS provider knows. */
export const isRegion = (value: unknown): boolean => typeof value === "string" && KNOWN_REGIONS.has(value);

/**
 * Zone IDs that ICU accepts although the IANA time zone database does not have them: the three-letter IDs of old Java
 * (ICU's "JDK compatibility" IDs) and System V names. They are ambiguous (IST: India, Israel or Ireland) or say less
 * than they do (PST follows daylight saving), so they are refused with the IANA name to use instead.
 */
const ICU_ONLY_ZONE_IDS: ReadonlySet<string> = new Set([
  "ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST", "CTT", "EAT", "ECT", "IET", "IST", "JST", "MIT",
  "NET", "NST", "PLT", "PNT", "PRT", "PST", "SST", "VST",
]);

/**
 * An IANA time zone name (such as Asia/Tokyo, Asia/Kolkata, Etc/UTC or GMT) that both the JavaScript runtime (and so
 * the Lambda runtime) and croner (the reset schedules) accept. Any IANA name is taken, also a link ICU does not list
 * as canonical (Asia/Kolkata, Europe/Kyiv); spelled as IANA spells it, since ICU ignores case and other tools do not.
 */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== "string" || ICU_ONLY_ZONE_IDS.has(value) || value.startsWith("SystemV/")) {
    return false;
  }
  // IANA names: "Area/Location[/Sub]" segments starting with a capital letter (Etc/GMT+9, America/Port-au-Prince),
  // or a single capitalised legacy name (UTC, GMT, EST5EDT, Japan).
  if (!/^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(value)) {
    return false;
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value }).format(0);
    new Cron("0 0 1 1 *", { timezone: value }).nextRun(new Date(0));
    return true;
  } catch {
    return false;
  }
}

/** A non-empty string. */
export const isNonEmptyString = (value: unknown): boolean => typeof value === "string" && value.trim() !== "";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Retention periods CloudWatch Logs accepts, in days (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Renders a received value for an error message. */
export function shown(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Collects argument problems of one component and throws them as one error that names each argument. */
export class ArgChecker {
  private readonly problems: string[] = [];

  /** @param subject how the error names the component, e.g. `AlertTopic "alerts"`. */
  constructor(private readonly subject: string) {}

  /**
   * Records a problem unless `ok`. Values that are still unresolved Outputs are not checked here (they are
   * known only at deployment); pass `pulumi.Output` values and they are skipped.
   */
  check(arg: string, value: unknown, ok: (value: never) => boolean, expectation: string): this {
    if (value === undefined || pulumi.Output.isInstance(value)) {
      return this;
    }
    if (!ok(value as never)) {
      this.problems.push(`${arg} must be ${expectation}, got ${shown(value)}`);
    }
    return this;
  }

  /** Records a problem that the caller detected itself. */
  fail(message: string): this {
    this.problems.push(message);
    return this;
  }

  /** Throws if any problem was recorded. */
  done(): void {
    if (this.problems.length > 0) {
      throw new Error(`${this.subject}: ${this.problems.join("; ")}`);
    }
  }
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
 * An IANA time zone name (such as Asia/Tokyo or UTC) that the JavaScript runtime, and so the Lambda runtime, can
 * format dates in. Abbreviations such as JST or PST are refused although ICU maps them to a zone: they are not IANA
 * names and PST would silently follow daylight saving.
 */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== "string" || value === "") {
    return false;
  }
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
    return resolved === value || Intl.supportedValuesOf("timeZone").includes(value);
  } catch {
    return false;
  }
}

/** A non-empty string. */
export const isNonEmptyString = (value: unknown): boolean => typeof value === "string" && value.trim() !== "";

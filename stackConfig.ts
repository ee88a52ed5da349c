import * as pulumi from "@pulumi/pulumi";

import type { AlertTopicArgs, AuditTrailArgs } from "./components";
import { checkDownloadAlertSettings, type DownloadAlertSettingsArgs } from "./components/downloadThresholdAlert";
import type { ProblemSink } from "./functions/shared/problems";
import { isAccountId, isEmailAddress, isLogRetention, isRegion, isTimeZone, shown } from "./components/validation";
import { type ActivityCriteria, ACTIVITY_CRITERIA_KEYS, activityCriteriaProblems } from "./functions/activityCriteria";

/** The project's config namespace (its name in Pulumi.yaml). */
export const PROJECT = "cloudtrail-alerts";

/** A stack config value that is missing, of the wrong type or invalid; the message names the key and the value. */
export class StackConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = "StackConfigError";
  }
}

/** Everything the stack program reads from config, validated once. */
export interface StackConfig {
  /** `aws:region`: where the stack's resources go. */
  region: string;
  /** `aws:allowedAccountIds`: the accounts the AWS provider may deploy to (empty: any). */
  allowedAccountIds: string[];
  /** IANA time zone alerts show times in. */
  timeZone: string;
  /** Language of alert bodies. */
  language: "ja" | "en";
  alertTopic: AlertTopicArgs;
  trail: AuditTrailArgs;
  /** Event names counted by the bucket creation alarm; undefined when the alarm is disabled. */
  bucketCreationEventNames?: string[];
  /** Retention of each function's own log group. */
  functionLogRetentionInDays: number;
  /**
   * Download threshold alerts (`downloadAlerts`); undefined when no object is watched. Source `logs` means the trail's
   * log group through the stack's shared LogSubscriptionDispatcher.
   */
  downloadAlerts?: DownloadAlertSettingsArgs;
  /** UserActivityNotifiers, by their stable name; empty when none are configured. */
  userActivityNotifiers: UserActivityNotifierConfig[];
  /** The organisation-wide CloudTrail backfill; undefined when disabled. */
  backfill?: BackfillConfig;
}

/** One entry of `userActivityNotifiers`, defaults applied. */
export interface UserActivityNotifierConfig {
  /** The entry's key: a stable name; the component is named `activity-<name>`. */
  name: string;
  criteria: ActivityCriteria;
  /** `eventbridge` (rules per Region) or `logs` (the trail's log group, through the stack's shared dispatcher). */
  source: "eventbridge" | "logs";
  /** Regions of the eventbridge source; undefined for its default (the stack's Region and us-east-1). */
  regions?: string[];
  timeZone: string;
  language: "ja" | "en";
  chatNotifications: boolean;
  /** Keep a journal of sent notifications so that retries notify each event once (the component's `deduplicate`). */
  deduplicate: boolean;
}

/** `cloudtrail-alerts:backfill`: TrailBackfill and one TrailReaderRole per account. */
export interface BackfillConfig {
  /** Every account that gets a reader role (and can be backfilled). */
  accounts: string[];
  /** The account the stack deploys to (`aws:allowedAccountIds`): its reader role is created without assuming a role. */
  stackAccountId: string;
  /** Role assumed in every other account to create its reader role. */
  deployRoleName: string;
  /** Regions enabled in the accounts: what the backfill command covers by default. */
  regions: string[];
  organizationId?: string;
  externalId?: string;
  maxConcurrency: number;
  requestsPerSecond: number;
  existingBucketName?: string;
  prefix?: string;
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

/**
 * Parses and validates the stack config. Throws {@link StackConfigError} on the first bad value, before any
 * resource is created.
 */
export function loadStackConfig(raw: RawConfig = pulumiRawConfig()): StackConfig {
  const read = new ConfigReader(raw);
  const region = read.string("aws:region", { required: true, valid: isRegion, expectation: "an AWS region such as ap-northeast-1" });
  const allowedAccountIds = read.stringArray("aws:allowedAccountIds", { valid: isAccountId, expectation: "a 12-digit AWS account ID" });
  const timeZone = read.string(`${PROJECT}:timeZone`, { fallback: "UTC", valid: isTimeZone, expectation: "an IANA time zone such as Asia/Tokyo" });
  const language = read.string(`${PROJECT}:language`, { fallback: "en", valid: (v) => v === "ja" || v === "en", expectation: '"ja" or "en"' }) as "ja" | "en";

  const alertEmails = read.stringArray(`${PROJECT}:alertEmails`, { valid: isEmailAddress, expectation: "an email address" });
  const existingTopicArn = read.string(`${PROJECT}:existingAlertTopicArn`, { fallback: "", valid: (v) => v === "" || /^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(v), expectation: "an SNS topic ARN or empty" });
  const existingTrailLogGroupName = read.string(`${PROJECT}:existingTrailLogGroupName`, { fallback: "" });
  const trailLogRetentionInDays = read.integer(`${PROJECT}:trailLogRetentionInDays`, { fallback: 365, valid: isLogRetention, expectation: "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)" });
  const bucketCreationAlarm = read.boolean(`${PROJECT}:bucketCreationAlarm`, { fallback: true });
  const bucketCreationEventNames = read.stringArray(`${PROJECT}:bucketCreationEventNames`, { fallback: ["CreateBucket"], valid: (v) => /^[A-Za-z0-9]+$/.test(v), expectation: "a CloudTrail event name such as CreateBucket" });
  const functionLogRetentionInDays = read.integer(`${PROJECT}:functionLogRetentionInDays`, { fallback: 30, valid: isLogRetention, expectation: "one of CloudWatch Logs' retention periods in days (1, 3, 5, 7, 14, 30, 60, 90, ...)" });
  const downloadAlerts = readDownloadAlerts(read, { timeZone, language, functionLogRetentionInDays });
  const userActivityNotifiers = readUserActivityNotifiers(read, { timeZone, language });
  const backfill = readBackfillConfig(read, allowedAccountIds);

  return {
    region,
    allowedAccountIds,
    timeZone,
    language,
    alertTopic:
      existingTopicArn === ""
        ? { emailAddresses: alertEmails }
        : { existingTopicArn, emailAddresses: alertEmails },
    trail:
      existingTrailLogGroupName === ""
        ? { logRetentionInDays: trailLogRetentionInDays }
        : { existingLogGroupName: existingTrailLogGroupName },
    ...(bucketCreationAlarm ? { bucketCreationEventNames } : {}),
    functionLogRetentionInDays,
    ...(downloadAlerts === undefined ? {} : { downloadAlerts }),
    userActivityNotifiers,
    ...(backfill === undefined ? {} : { backfill }),
  };
}

/** The partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs of roles that exist before the stack. */
export function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

const BACKFILL_FIELDS = ["enabled", "accounts", "regions", "deployRoleName", "organizationId", "externalId", "maxConcurrency", "requestsPerSecond", "existingBucketName", "prefix"];

/**
 * Reads `cloudtrail-alerts:backfill`, an object (Pulumi cannot type objects, so every field is checked here and
 * errors name the field, e.g. `cloudtrail-alerts:backfill.accounts[1]`). Undefined when `enabled` is not true.
 */
export function readBackfillConfig(read: ConfigReader, allowedAccountIds: string[]): BackfillConfig | undefined {
  const key = `${PROJECT}:backfill`;
  const value = read.json(key, { enabled: false });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackConfigError(key, `${key} must be an object such as { enabled: true, accounts: [...], regions: [...] }, got ${shown(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((field) => !BACKFILL_FIELDS.includes(field));
  if (unknown.length > 0) {
    throw new StackConfigError(`${key}.${unknown[0]}`, `${key} has unknown field ${JSON.stringify(unknown[0])}; its fields are ${BACKFILL_FIELDS.join(", ")}`);
  }
  const fail = (field: string, expectation: string, got: unknown): never => {
    throw new StackConfigError(`${key}.${field}`, `${key}.${field} must be ${expectation}, got ${shown(got)}`);
  };
  const optionalString = (field: string, valid: (v: string) => boolean, expectation: string): string | undefined => {
    const v = fields[field];
    if (v === undefined) return undefined;
    return typeof v === "string" && valid(v) ? v : fail(field, expectation, v);
  };
  const list = (field: string, valid: (v: string) => boolean, expectation: string, plural: string, required: boolean): string[] => {
    const v = fields[field];
    if (v === undefined && !required) return [];
    if (!Array.isArray(v) || v.length === 0) return fail(field, `a non-empty list of ${plural}`, v);
    const seen = new Set<string>();
    return v.map((item: unknown, i) => {
      if (typeof item !== "string" || !valid(item)) fail(`${field}[${i}]`, expectation, item);
      if (seen.has(item as string)) {
        throw new StackConfigError(`${key}.${field}[${i}]`, `${key}.${field}[${i}] ${shown(item)} is listed twice`);
      }
      seen.add(item as string);
      return item as string;
    });
  };
  const number = (field: string, fallback: number, valid: (v: number) => boolean, expectation: string): number => {
    const v = fields[field];
    if (v === undefined) return fallback;
    return typeof v === "number" && valid(v) ? v : fail(field, expectation, v);
  };

  const enabled = fields.enabled ?? false;
  if (typeof enabled !== "boolean") {
    return fail("enabled", "true or false", enabled);
  }
  const accounts = list("accounts", isAccountId, "a 12-digit AWS account ID", "12-digit AWS account IDs", enabled);
  const regions = list("regions", isRegion, "an AWS region such as us-east-1", "AWS regions", enabled);
  const deployRoleName = optionalString("deployRoleName", (v) => /^[\w+=,.@-]{1,64}$/.test(v), "an IAM role name such as OrganizationAccountAccessRole") ?? "OrganizationAccountAccessRole";
  const organizationId = optionalString("organizationId", (v) => /^o-[a-z0-9]{10,32}$/.test(v), "an organization ID such as o-a1b2c3d4e5");
  const externalId = optionalString("externalId", (v) => /^[\w+=,.@:/-]{2,1224}$/.test(v), "2-1224 letters, digits and +=,.@:/-_");
  const maxConcurrency = number("maxConcurrency", 40, (v) => Number.isInteger(v) && v >= 1 && v <= 10000, "a whole number from 1 to 10000");
  const requestsPerSecond = number("requestsPerSecond", 2, (v) => v > 0 && v <= 2, "more than 0 and at most 2 (LookupEvents allows 2 requests per second per account and region)");
  const existingBucketName = optionalString("existingBucketName", (v) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v), "an S3 bucket name");
  const prefix = optionalString("prefix", (v) => /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(v), "S3 key segments separated by '/', without leading or trailing '/'");
  if (!enabled) {
    return undefined;
  }
  if (allowedAccountIds.length !== 1) {
    throw new StackConfigError(
      "aws:allowedAccountIds",
      `aws:allowedAccountIds must name exactly the stack's account when ${key}.enabled is true (that account's reader role is created without assuming a role), got ${shown(allowedAccountIds)}`,
    );
  }
  return {
    accounts,
    stackAccountId: allowedAccountIds[0],
    deployRoleName,
    regions,
    maxConcurrency,
    requestsPerSecond,
    ...(organizationId === undefined ? {} : { organizationId }),
    ...(externalId === undefined ? {} : { externalId }),
    ...(existingBucketName === undefined ? {} : { existingBucketName }),
    ...(prefix === undefined ? {} : { prefix }),
  };
}

const DOWNLOAD_ALERT_FIELDS = ["watches", "reset", "notify", "source", "counter"];

/**
 * `downloadAlerts`: `{ watches, reset, notify, source, counter }`, checked by the component's own rules; the first
 * problem is reported as one line naming the full path, e.g. `cloudtrail-alerts:downloadAlerts.watches[0].threshold`.
 * Alerts use the stack's language and time zone, and the reset defaults to the stack's time zone.
 */
function readDownloadAlerts(
  read: ConfigReader,
  stack: { timeZone: string; language: "ja" | "en"; functionLogRetentionInDays: number },
): DownloadAlertSettingsArgs | undefined {
  const key = `${PROJECT}:downloadAlerts`;
  const value = read.json(key, { watches: [] });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackConfigError(key, `${key} must be an object { watches, reset, notify, source, counter }, got ${shown(value)}`);
  }
  const settings = value as Record<string, unknown>;
  for (const field of Object.keys(settings)) {
    if (!DOWNLOAD_ALERT_FIELDS.includes(field)) {
      throw new StackConfigError(`${key}.${field}`, `${key} has unknown field ${JSON.stringify(field)}; expected ${DOWNLOAD_ALERT_FIELDS.join(", ")}`);
    }
  }
  if (Array.isArray(settings.watches) && settings.watches.length === 0) {
    return undefined;
  }
  // Source "logs" reads the trail's log group through the stack's one LogSubscriptionDispatcher (see index.ts).
  checkDownloadAlertSettings(settings, firstProblemThrows(key), "dispatcher");
  const checked = settings as unknown as DownloadAlertSettingsArgs;
  return {
    ...checked,
    reset: { ...checked.reset, timeZone: checked.reset?.timeZone ?? stack.timeZone },
    language: stack.language,
    timeZone: stack.timeZone,
    logRetentionInDays: stack.functionLogRetentionInDays,
  };
}

/** Reports a component's argument problems as config errors under `key`, stopping at the first. */
function firstProblemThrows(key: string): ProblemSink {
  return {
    check(arg, value, ok, expectation) {
      if (value !== undefined && !ok(value as never)) {
        throw new StackConfigError(`${key}.${arg}`, `${key}.${arg} must be ${expectation}, got ${shown(value)}`);
      }
      return this;
    },
    fail(message) {
      throw new StackConfigError(key, `${key}.${message}`);
    },
  };
}

/** Settings of a `userActivityNotifiers` entry besides its criteria. */
const NOTIFIER_SETTINGS = ["source", "regions", "timeZone", "language", "chatNotifications", "deduplicate"] as const;

/** Stable names: they become part of resource names (`activity-<name>-...`), which AWS limits to 64 characters. */
const NOTIFIER_NAME = /^[a-z0-9][a-z0-9-]{0,26}$/;

/**
 * Reads `userActivityNotifiers`: an object whose keys are stable notifier names and whose values are criteria
 * (userNames, principalArns, sessionNames, eventSources, eventNames, presets, readOnlyEvents, exclude) plus source,
 * regions, timeZone, language, chatNotifications and deduplicate. Errors name the full key path and the value.
 */
function readUserActivityNotifiers(read: ConfigReader, defaults: { timeZone: string; language: "ja" | "en" }): UserActivityNotifierConfig[] {
  const key = `${PROJECT}:userActivityNotifiers`;
  const value = read.json(key, {});
  const fail = (path: string, message: string): never => {
    throw new StackConfigError(key, `${path} ${message}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(key, `must be an object of notifiers by name, got ${shown(value)}`);
  }
  return Object.entries(value as Record<string, unknown>).map(([name, entry]) => {
    const path = `${key}.${name}`;
    if (!NOTIFIER_NAME.test(name)) {
      fail(path, `is not a valid notifier name: use 1-27 lowercase letters, digits or '-', starting with a letter or digit (got ${shown(name)})`);
    }
    const problems = activityCriteriaProblems(entry, path, NOTIFIER_SETTINGS);
    if (problems.length > 0) {
      throw new StackConfigError(key, problems.join("; "));
    }
    const settings = entry as Record<string, unknown>;
    const source = settings.source ?? "eventbridge";
    if (source !== "eventbridge" && source !== "logs") {
      fail(`${path}.source`, `must be "eventbridge" or "logs", got ${shown(source)}`);
    }
    const regions = settings.regions;
    if (regions !== undefined) {
      if (source !== "eventbridge") {
        fail(`${path}.regions`, `applies only to source "eventbridge", got ${shown(regions)} with source ${shown(source)}`);
      }
      if (!Array.isArray(regions) || regions.length === 0) {
        fail(`${path}.regions`, `must be a non-empty list of regions, got ${shown(regions)}`);
      }
      (regions as unknown[]).forEach((region, i) => {
        if (!isRegion(region)) fail(`${path}.regions[${i}]`, `must be an AWS region such as us-east-1, got ${shown(region)}`);
      });
    }
    const timeZone = settings.timeZone ?? defaults.timeZone;
    if (!isTimeZone(timeZone)) {
      fail(`${path}.timeZone`, `must be an IANA time zone such as Asia/Tokyo, got ${shown(timeZone)}`);
    }
    const language = settings.language ?? defaults.language;
    if (language !== "ja" && language !== "en") {
      fail(`${path}.language`, `must be "ja" or "en", got ${shown(language)}`);
    }
    const chatNotifications = settings.chatNotifications ?? false;
    if (typeof chatNotifications !== "boolean") {
      fail(`${path}.chatNotifications`, `must be true or false, got ${shown(chatNotifications)}`);
    }
    const deduplicate = settings.deduplicate ?? true;
    if (typeof deduplicate !== "boolean") {
      fail(`${path}.deduplicate`, `must be true or false, got ${shown(deduplicate)}`);
    }
    const criteria = Object.fromEntries(ACTIVITY_CRITERIA_KEYS.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]])) as ActivityCriteria;
    return {
      name,
      criteria,
      source: source as "eventbridge" | "logs",
      ...(regions === undefined ? {} : { regions: regions as string[] }),
      timeZone: timeZone as string,
      language: language as "ja" | "en",
      chatNotifications: chatNotifications as boolean,
      deduplicate: deduplicate as boolean,
    };
  });
}

interface ReadOptions<T, V = string> {
  required?: boolean;
  fallback?: T;
  valid?: (value: V) => boolean;
  expectation?: string;
}

/** Typed access to raw config strings; every error names the key and shows the value. */
export class ConfigReader {
  constructor(private readonly raw: RawConfig) {}

  string(key: string, options: ReadOptions<string>): string {
    const value = this.raw(key);
    if (value === undefined) {
      return this.missing(key, options);
    }
    this.validate(key, value, options);
    return value;
  }

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

  boolean(key: string, options: Omit<ReadOptions<boolean>, "valid">): boolean {
    const value = this.raw(key);
    if (value === undefined) {
      return this.missing(key, options);
    }
    if (value !== "true" && value !== "false") {
      throw new StackConfigError(key, `${key} must be true or false, got ${shown(value)}`);
    }
    return value === "true";
  }

  stringArray(key: string, options: ReadOptions<string[]>): string[] {
    const items = this.json(key, options.fallback ?? []);
    if (!Array.isArray(items)) {
      throw new StackConfigError(key, `${key} must be a list, got ${shown(items)}`);
    }
    return items.map((item: unknown, i) => {
      const itemKey = `${key}[${i}]`;
      if (typeof item !== "string") {
        throw new StackConfigError(itemKey, `${itemKey} must be a string, got ${shown(item)}`);
      }
      this.validate(itemKey, item, options);
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

  private missing<T>(key: string, options: ReadOptions<T, never>): T {
    if (options.required || options.fallback === undefined) {
      throw new StackConfigError(key, `${key} is required; set it with: pulumi config set ${key} <value>`);
    }
    return options.fallback;
  }

  private validate(key: string, value: string, options: ReadOptions<unknown, string>): void {
    if (options.valid && !options.valid(value)) {
      throw new StackConfigError(key, `${key} must be ${options.expectation}, got ${shown(value)}`);
    }
  }
}

import { BACKFILL_KEY_LAYOUTS, type BackfillKeyLayout } from "../components/trailBackfill";
import { isAccountId, isRegion } from "../components/validation";
import { shown } from "../functions/shared/values";
import { type ConfigReader, PROJECT, StackConfigError } from "./reader";

/** `cloudtrail-alerts:backfill`: TrailBackfill and one TrailReaderRole per account. */
export interface BackfillConfig {
  /** Every account that gets a reader role (and can be backfilled). */
  accounts: string[];
  /** The account the stack deploys to (`aws:allowedAccountIds`): its reader role is created without assuming a role. */
  stackAccountId: string;
  /** Role assumed in every other account to create its reader role. */
  deployRoleName: string;
  /** Read-only role a preview assumes in every other account instead of `deployRoleName`; undefined: the deploy role. */
  previewRoleName?: string;
  /** Regions enabled in the accounts: what the backfill command covers by default. */
  regions: string[];
  organizationId?: string;
  externalId?: string;
  maxConcurrency: number;
  requestsPerSecond: number;
  existingBucketName?: string;
  prefix?: string;
  /** Key layout of the log files: an account trail's, or an organization trail's (under `organizationId`). */
  keyLayout: BackfillKeyLayout;
}

const BACKFILL_FIELDS = ["enabled", "accounts", "regions", "deployRoleName", "organizationId", "externalId", "maxConcurrency", "requestsPerSecond", "existingBucketName", "prefix", "previewRoleName", "keyLayout"];

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
  const field = fieldReader(key, fields);

  const enabled = fields.enabled ?? false;
  if (typeof enabled !== "boolean") {
    return field.fail("enabled", "true or false", enabled);
  }
  const accounts = field.list("accounts", isAccountId, "a 12-digit AWS account ID", "12-digit AWS account IDs", enabled);
  const regions = field.list("regions", isRegion, "an AWS region such as us-east-1", "AWS regions", enabled);
  const isRoleName = (v: string) => /^[\w+=,.@-]{1,64}$/.test(v);
  const deployRoleName = field.optionalString("deployRoleName", isRoleName, "an IAM role name such as OrganizationAccountAccessRole") ?? "OrganizationAccountAccessRole";
  const organizationId = field.optionalString("organizationId", (v) => /^o-[a-z0-9]{10,32}$/.test(v), "an organization ID such as o-a1b2c3d4e5");
  const externalId = field.optionalString("externalId", (v) => /^[\w+=,.@:/-]{2,1224}$/.test(v), "2-1224 letters, digits and +=,.@:/-_");
  const maxConcurrency = field.number("maxConcurrency", 40, (v) => Number.isInteger(v) && v >= 1 && v <= 10000, "a whole number from 1 to 10000");
  const requestsPerSecond = field.number("requestsPerSecond", 2, (v) => v > 0 && v <= 2, "more than 0 and at most 2 (LookupEvents allows 2 requests per second per account and region)");
  const existingBucketName = field.optionalString("existingBucketName", (v) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v), "an S3 bucket name");
  const prefix = field.optionalString("prefix", (v) => /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(v), "S3 key segments separated by '/', without leading or trailing '/'");
  const previewRoleName = field.optionalString("previewRoleName", isRoleName, "an IAM role name such as cloudtrail-alerts-preview");
  const keyLayout = (field.optionalString("keyLayout", (v) => (BACKFILL_KEY_LAYOUTS as readonly string[]).includes(v), '"account" or "organization"') ?? "account") as BackfillKeyLayout;
  if (keyLayout === "organization" && organizationId === undefined) {
    throw new StackConfigError(
      `${key}.organizationId`,
      `${key}.keyLayout "organization" needs ${key}.organizationId (an organization ID such as o-a1b2c3d4e5, which the organization trail's keys hold), which is not set`,
    );
  }
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
    keyLayout,
    ...(previewRoleName === undefined ? {} : { previewRoleName }),
    ...(organizationId === undefined ? {} : { organizationId }),
    ...(externalId === undefined ? {} : { externalId }),
    ...(existingBucketName === undefined ? {} : { existingBucketName }),
    ...(prefix === undefined ? {} : { prefix }),
  };
}

/** Typed access to the fields of the object at `key`; every error names the field (`key.field`) and shows the value. */
function fieldReader(key: string, fields: Record<string, unknown>) {
  const fail = (field: string, expectation: string, got: unknown): never => {
    throw new StackConfigError(`${key}.${field}`, `${key}.${field} must be ${expectation}, got ${shown(got)}`);
  };
  return {
    fail,
    /** A string field; undefined when absent. */
    optionalString(field: string, valid: (v: string) => boolean, expectation: string): string | undefined {
      const v = fields[field];
      if (v === undefined) return undefined;
      return typeof v === "string" && valid(v) ? v : fail(field, expectation, v);
    },
    /** A non-empty list of distinct strings; empty when absent and not `required`. */
    list(field: string, valid: (v: string) => boolean, expectation: string, plural: string, required: boolean): string[] {
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
    },
    /** A number field; `fallback` when absent. */
    number(field: string, fallback: number, valid: (v: number) => boolean, expectation: string): number {
      const v = fields[field];
      if (v === undefined) return fallback;
      return typeof v === "number" && valid(v) ? v : fail(field, expectation, v);
    },
  };
}

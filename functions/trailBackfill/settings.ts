/**
 * The backfill function's settings and their environment variables, in both directions: the component writes them
 * with {@link toEnvironment}, the function reads them at cold start with {@link fromEnvironment}. The variable names
 * are spelled here only.
 */
import { type EnvironmentValue, environmentReader } from "../shared/environment";
import { ORGANIZATION_ID } from "./awsFacts";
import { KEY_PREFIX_EXPECTATION, ORGANIZATION_ID_EXPECTATION, trimmedKeyPrefix } from "./logFiles";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** `LookupEvents` quota: 2 requests per second per account and region. */
export const DEFAULT_REQUESTS_PER_SECOND = 2;
/** Sub-ranges of one pair paged at once; enough to keep 2 requests/s busy with calls taking up to 2 s. */
export const DEFAULT_CONCURRENT_REQUESTS = 4;

const VARIABLES = {
  bucket: "BACKFILL_BUCKET",
  prefix: "BACKFILL_KEY_PREFIX",
  organizationId: "BACKFILL_KEY_ORGANIZATION_ID",
  bucketOwner: "BACKFILL_BUCKET_OWNER",
  externalId: "READER_EXTERNAL_ID",
  requestsPerSecond: "REQUESTS_PER_SECOND",
  concurrentRequests: "CONCURRENT_REQUESTS_PER_PAIR",
} as const;

// What the function accepts; the component is stricter (at most 2 requests per second, LookupEvents' quota, and 16).
const isRequestsPerSecond = (value: number): boolean => value > 0 && value <= 100;
const isConcurrentRequests = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= 32;

/**
 * What the function is deployed with. `V` is the type of values known only at deployment (a Pulumi `Output<string>`
 * in the component); at run time every value is a string.
 */
export interface TrailBackfillSettings<V = never> {
  /** The bucket the log files go to. */
  bucket: EnvironmentValue<V>;
  /** Key prefix before `AWSLogs/`, without leading or trailing slashes; empty for none. */
  prefix: string;
  /**
   * Organization ID after `AWSLogs/` in every key: the organization trail layout, `AWSLogs/{o-id}/{account}/...`.
   * @default - none: the account trail layout, `AWSLogs/{account}/...`
   */
  organizationId?: string;
  /** Account expected to own the bucket; S3 refuses the write otherwise. @default - not checked */
  bucketOwner?: EnvironmentValue<V>;
  /** External ID presented when assuming reader roles. @default - none */
  externalId?: EnvironmentValue<V>;
  /** LookupEvents requests per second per pair. */
  requestsPerSecond: number;
  /** Requests of one pair in flight at once. */
  concurrentRequests: number;
}

/** The function's environment variables for `settings`. */
export function toEnvironment<V = never>(settings: TrailBackfillSettings<V>): Record<string, EnvironmentValue<V>> {
  return {
    [VARIABLES.bucket]: settings.bucket,
    [VARIABLES.prefix]: settings.prefix,
    ...(settings.organizationId === undefined ? {} : { [VARIABLES.organizationId]: settings.organizationId }),
    ...(settings.bucketOwner === undefined ? {} : { [VARIABLES.bucketOwner]: settings.bucketOwner }),
    [VARIABLES.requestsPerSecond]: String(settings.requestsPerSecond),
    [VARIABLES.concurrentRequests]: String(settings.concurrentRequests),
    ...(settings.externalId === undefined ? {} : { [VARIABLES.externalId]: settings.externalId }),
  };
}

/** Reads the settings at cold start; throws `InvalidEnvironmentError` naming the first missing or invalid variable. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): TrailBackfillSettings {
  const read = environmentReader(env);
  const bucket = read.required(VARIABLES.bucket);
  const prefix = trimmedKeyPrefix(read.optional(VARIABLES.prefix));
  if (prefix === undefined) {
    throw read.invalid(VARIABLES.prefix, KEY_PREFIX_EXPECTATION);
  }
  const organizationId = read.optional(VARIABLES.organizationId);
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    throw read.invalid(VARIABLES.organizationId, ORGANIZATION_ID_EXPECTATION);
  }
  const bucketOwner = read.optional(VARIABLES.bucketOwner);
  const externalId = read.optional(VARIABLES.externalId);
  return {
    bucket,
    prefix,
    ...(organizationId === undefined ? {} : { organizationId }),
    ...(bucketOwner === undefined ? {} : { bucketOwner }),
    ...(externalId === undefined ? {} : { externalId }),
    requestsPerSecond: read.number(VARIABLES.requestsPerSecond, DEFAULT_REQUESTS_PER_SECOND, isRequestsPerSecond, "a number more than 0 and at most 100"),
    concurrentRequests: read.number(VARIABLES.concurrentRequests, DEFAULT_CONCURRENT_REQUESTS, isConcurrentRequests, "a whole number from 1 to 32"),
  };
}

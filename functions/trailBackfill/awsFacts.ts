/**
 * What AWS defines that the backfill relies on: the shapes of account IDs, regions, organization IDs and role ARNs, and what
 * `LookupEvents` returns (50 events a page, the last 90 days only).
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** `LookupEvents` returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;
/** `LookupEvents` only holds the last 90 days. */
export const LOOKBACK_MS = 90 * 24 * 60 * 60 * 1000;

/** A 12-digit AWS account ID. */
export const ACCOUNT_ID = /^\d{12}$/;
/** An AWS region name such as `us-east-1` or `us-gov-west-1`. */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** An AWS Organizations organization ID such as `o-a1b2c3d4e5` (the Organizations API's pattern). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
/** An IAM role ARN in any partition; the first group is its account. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

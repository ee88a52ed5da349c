/**
 * The log files the backfill writes, in CloudTrail's own layout and format: one gzipped `{"Records":[...]}` object per
 * account, region and 5-minute window, under a key derived from those three only, so that writing the same window
 * again overwrites the same object with the same bytes.
 */
import { createHash } from "crypto";
import { gzipSync } from "zlib";

import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

import { WINDOW_MS } from "../shared/timeIntervals";
import { shown } from "../shared/values";
import { ACCOUNT_ID, ORGANIZATION_ID, REGION } from "./awsFacts";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What a key prefix must be once its leading and trailing slashes are removed. */
export const KEY_PREFIX_EXPECTATION = "S3 key segments of letters, digits and !_.*'()- separated by '/'";

const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The prefix without leading and trailing slashes, or undefined when what is left is not a plain S3 key prefix. */
export function trimmedKeyPrefix(prefix: string | undefined): string | undefined {
  const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  const valid = trimmed === "" || (PREFIX.test(trimmed) && !trimmed.split("/").some((part) => part === "." || part === ".."));
  return valid ? trimmed : undefined;
}

/** Removes leading and trailing slashes; throws when what is left is not a plain S3 key prefix. */
export function normalizeKeyPrefix(prefix: string | undefined): string {
  const trimmed = trimmedKeyPrefix(prefix);
  if (trimmed === undefined) {
    throw new Error(`prefix must be ${KEY_PREFIX_EXPECTATION}, got ${shown(prefix, 120)}`);
  }
  return trimmed;
}

/** What an organization ID in the keys must be. */
export const ORGANIZATION_ID_EXPECTATION = "an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits)";

/**
 * The folder every log file goes under: `[prefix/]AWSLogs/` in the account trail layout, `[prefix/]AWSLogs/{o-id}/`
 * in the organization trail layout (when `organizationId` is given). See "Finding your CloudTrail log files",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
 */
export function logFilesFolder(prefix: string | undefined, organizationId?: string): string {
  if (organizationId !== undefined && !ORGANIZATION_ID.test(organizationId)) {
    throw new Error(`organizationId must be ${ORGANIZATION_ID_EXPECTATION}, got ${shown(organizationId, 120)}`);
  }
  const trimmed = normalizeKeyPrefix(prefix);
  return `${trimmed === "" ? "" : `${trimmed}/`}AWSLogs/${organizationId === undefined ? "" : `${organizationId}/`}`;
}

/**
 * The S3 key of the log file holding one pair's events of one 5-minute window, in CloudTrail's own layout:
 * `[prefix/]AWSLogs/[{o-id}/]{account}/CloudTrail/{region}/{YYYY}/{MM}/{DD}/{account}_CloudTrail_{region}_{YYYYMMDDTHHmmZ}_{16 alphanumerics}.json.gz`,
 * with the organization ID only in the organization trail layout (`organizationId` given). The 16 characters are
 * derived from the account, region and window, so the same window always gets the same key.
 */
export function logFileKey(p: { prefix?: string; organizationId?: string; accountId: string; region: string; windowStart: Date }): string {
  if (!ACCOUNT_ID.test(p.accountId)) {
    throw new Error(`accountId must be a 12-digit AWS account ID, got ${shown(p.accountId, 120)}`);
  }
  if (!REGION.test(p.region)) {
    throw new Error(`region must be an AWS region such as us-east-1, got ${shown(p.region, 120)}`);
  }
  const ms = p.windowStart.getTime();
  if (!Number.isFinite(ms) || ms % WINDOW_MS !== 0 || ms < 0 || ms >= Date.UTC(10000, 0, 1)) {
    throw new Error(`windowStart must be a time on a 5-minute boundary between 1970 and 9999, got ${Number.isFinite(ms) ? p.windowStart.toISOString() : "an invalid date"}`);
  }
  const iso = p.windowStart.toISOString();
  const [yyyy, mm, dd, hh, min] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13), iso.slice(14, 16)];
  const digest = createHash("sha256").update(`${p.accountId}/${p.region}/${iso}`).digest();
  let suffix = "";
  for (let i = 0; i < 16; i++) {
    suffix += BASE62[digest[i] % 62];
  }
  return (
    `${logFilesFolder(p.prefix, p.organizationId)}${p.accountId}/CloudTrail/${p.region}/${yyyy}/${mm}/${dd}/` +
    `${p.accountId}_CloudTrail_${p.region}_${yyyy}${mm}${dd}T${hh}${min}Z_${suffix}.json.gz`
  );
}

/**
 * A log file's gzipped content: `{"Records":[...]}` with each event's `CloudTrailEvent` JSON text as LookupEvents
 * returned it, oldest first and by event ID within the same time, so the same events always give the same bytes.
 */
export function logFileBody(events: ReadonlyMap<string, { time: number; json: string }>): Buffer {
  const records = [...events.entries()]
    .sort(([idA, a], [idB, b]) => a.time - b.time || (idA < idB ? -1 : idA > idB ? 1 : 0))
    .map(([, event]) => event.json);
  return gzipSync(Buffer.from(`{"Records":[${records.join(",")}]}`, "utf8"));
}

/** Where the log files go. */
export interface LogFileDestination {
  bucket: string;
  /** Key prefix before `AWSLogs/`. @default - none */
  prefix?: string;
  /** Organization ID after `AWSLogs/`: the organization trail layout. @default - none: the account trail layout */
  organizationId?: string;
  /** Account expected to own the bucket; S3 refuses the write otherwise. @default - not checked */
  bucketOwner?: string;
}

/** Writes the log file of one pair's window (the events keyed by event ID). */
export async function putLogFile(
  s3: Pick<S3Client, "send">,
  destination: LogFileDestination,
  file: { accountId: string; region: string; windowStart: number; events: ReadonlyMap<string, { time: number; json: string }> },
  signal?: AbortSignal,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: destination.bucket,
      Key: logFileKey({ prefix: destination.prefix, organizationId: destination.organizationId, accountId: file.accountId, region: file.region, windowStart: new Date(file.windowStart) }),
      Body: logFileBody(file.events),
      ContentType: "application/json",
      ContentEncoding: "gzip",
      ...(destination.bucketOwner === undefined ? {} : { ExpectedBucketOwner: destination.bucketOwner }),
    }),
    { abortSignal: signal },
  );
}

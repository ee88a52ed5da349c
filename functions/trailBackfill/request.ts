/**
 * The `plan` step: the execution input `{ accounts, regions, startTime, endTime }`, validated and expanded into one
 * item per account-region pair over the range widened to whole 5-minute windows.
 */
import { namedError } from "../shared/runtime";
import { type Interval, intervalToIso, WINDOW_MS, widenToWindows } from "../shared/timeIntervals";
import { isObject, shown } from "../shared/values";
import { ACCOUNT_ID, LOOKBACK_MS, REGION } from "./awsFacts";
import type { PairItem } from "./checkpoint";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Tolerated clock skew of an `endTime` in the future. */
export const FUTURE_SKEW_MS = 5 * 60 * 1000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const FIELDS = ["accounts", "regions", "startTime", "endTime"];

/** What an execution is started with. */
export interface BackfillRequest {
  accounts: string[];
  regions: string[];
  startTime: string;
  endTime: string;
}

/** Output of the `plan` step. */
export interface BackfillPlan {
  /** The range as requested. */
  requested: { startTime: string; endTime: string };
  /** The range widened to whole 5-minute windows, so that every file holds its whole window. */
  startTime: string;
  endTime: string;
  /** 5-minute windows per pair: the most files a pair can write. */
  windowsPerPair: number;
  /** Items without the range (the Map's ItemSelector adds it), to keep the state small. */
  items: Array<Pick<PairItem, "account" | "region" | "roleArn">>;
}

/** Milliseconds of an ISO 8601 time with a time zone; undefined for anything else, impossible dates included. */
export function parseIsoTime(value: unknown): number | undefined {
  if (typeof value !== "string" || !ISO_TIME.test(value)) {
    return undefined;
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    return undefined;
  }
  // Date.parse rolls over impossible dates (2024-02-30 becomes March 1); compare the written date with the parsed one.
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  const offsetMs = offset ? (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0;
  return new Date(ms + offsetMs).toISOString().slice(0, 16) === value.slice(0, 16) ? ms : undefined;
}

function listProblems(field: string, value: unknown, valid: RegExp, expectation: string, plural: string, problems: string[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${field} must be a non-empty list of ${plural}, got ${shown(value, 120)}`);
    return [];
  }
  const seen = new Set<string>();
  const items: string[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== "string" || !valid.test(item)) {
      problems.push(`${field}[${i}] must be ${expectation}, got ${shown(item, 120)}`);
    } else if (seen.has(item)) {
      problems.push(`${field}[${i}] ${shown(item, 120)} is listed twice`);
    } else {
      seen.add(item);
      items.push(item);
    }
  });
  return items;
}

/** Problems of the requested range: valid times, in order, within the last 90 days and not in the future. */
function rangeProblems(input: Record<string, unknown>, now: number): string[] {
  const problems: string[] = [];
  const start = parseIsoTime(input.startTime);
  const end = parseIsoTime(input.endTime);
  const example = "an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z";
  if (start === undefined) {
    problems.push(`startTime must be ${example}, got ${shown(input.startTime, 120)}`);
  }
  if (end === undefined) {
    problems.push(`endTime must be ${example}, got ${shown(input.endTime, 120)}`);
  }
  if (start !== undefined && end !== undefined && start >= end) {
    problems.push(`startTime must be before endTime, got ${String(input.startTime)} and ${String(input.endTime)}`);
  }
  if (start !== undefined && start < now - LOOKBACK_MS) {
    problems.push(`startTime must be within the last 90 days (LookupEvents holds no older events): not before ${new Date(now - LOOKBACK_MS).toISOString()}, got ${String(input.startTime)}`);
  }
  if (end !== undefined && end > now + FUTURE_SKEW_MS) {
    problems.push(`endTime must not be in the future (now is ${new Date(now).toISOString()}), got ${String(input.endTime)}`);
  }
  return problems;
}

/**
 * Every problem of a backfill request, each naming the field and the value (empty when it is valid). `now` is the
 * clock the 90-day limit is measured from; `knownAccounts`, when given, are the accounts that have a reader role.
 */
export function backfillRequestProblems(input: unknown, now: number, knownAccounts?: readonly string[]): string[] {
  const problems: string[] = [];
  if (!isObject(input)) {
    return [`input must be an object { accounts, regions, startTime, endTime }, got ${shown(input, 120)}`];
  }
  const unknownFields = Object.keys(input).filter((key) => !FIELDS.includes(key));
  if (unknownFields.length > 0) {
    problems.push(`input has unknown fields ${unknownFields.join(", ")}; expected accounts, regions, startTime, endTime`);
  }
  const accounts = listProblems("accounts", input.accounts, ACCOUNT_ID, "a 12-digit AWS account ID", "12-digit AWS account IDs", problems);
  listProblems("regions", input.regions, REGION, "an AWS region such as us-east-1", "AWS regions", problems);
  if (knownAccounts !== undefined) {
    accounts.forEach((account) => {
      if (!knownAccounts.includes(account)) {
        problems.push(`accounts: ${account} has no reader role; deployed reader roles are in ${knownAccounts.length === 0 ? "no account" : knownAccounts.join(", ")}`);
      }
    });
  }
  return [...problems, ...rangeProblems(input, now)];
}

/** The request widened to whole 5-minute windows, as `[start, end)` in ms. Assumes a valid request. */
export function widenedRange(request: Pick<BackfillRequest, "startTime" | "endTime">): Interval {
  return widenToWindows([[Date.parse(request.startTime), Date.parse(request.endTime)]])[0];
}

/**
 * Validates the execution input and lists the pairs. Throws `InvalidBackfillInputError` naming every problem.
 * `readerRoleArns` maps each account that has a reader role to that role's ARN.
 */
export function planBackfill(input: unknown, options: { now: number; readerRoleArns: Record<string, string> }): BackfillPlan {
  const problems = backfillRequestProblems(input, options.now, Object.keys(options.readerRoleArns));
  if (problems.length > 0) {
    throw namedError("InvalidBackfillInputError", `invalid backfill input: ${problems.join("; ")}`, { problems });
  }
  const request = input as BackfillRequest;
  const [start, end] = widenedRange(request);
  const [startTime, endTime] = intervalToIso([start, end]);
  return {
    requested: { startTime: request.startTime, endTime: request.endTime },
    startTime,
    endTime,
    windowsPerPair: (end - start) / WINDOW_MS,
    items: request.accounts.flatMap((account) => request.regions.map((region) => ({ account, region, roleArn: options.readerRoleArns[account] }))),
  };
}

/**
 * What passes between the state machine and the `fetch` step: a pair item (the first invocation of a pair), the
 * checkpoint an unfinished invocation returns and the next one resumes from, and the pair's totals when it is done.
 */
import { namedError } from "../shared/runtime";
import { type Interval, intervalFromIso, intervalToIso, WINDOW_MS } from "../shared/timeIntervals";
import { isObject, shown } from "../shared/values";
import { ACCOUNT_ID, REGION, ROLE_ARN } from "./awsFacts";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** One account-region pair as the Distributed Map hands it to a child execution. */
export interface PairItem {
  account: string;
  region: string;
  /** The pair account's reader role, which the function assumes. */
  roleArn: string;
  /** The (widened) range to backfill, ISO 8601. */
  startTime: string;
  endTime: string;
}

/** Counters of one pair, accumulated over its invocations. */
export interface PairStats {
  invocations: number;
  /** LookupEvents requests sent, throttled ones included. */
  requests: number;
  /** Requests refused for the rate quota (ThrottlingException, HTTP 429 and the like). */
  throttled: number;
  /** Requests retried after other transient errors. */
  retried: number;
  /** Events written (each once). */
  events: number;
  /** Log files written. */
  files: number;
  /** Events skipped because LookupEvents returned them without a usable CloudTrailEvent or EventId. */
  rejected: number;
}

/** What an unfinished pair's invocation returns and the next one receives. */
export interface PairCheckpoint extends PairItem {
  done: false;
  /** Windows not yet written, as ISO `[start, end)` pairs, window-aligned. */
  remaining: Array<[string, string]>;
  /** Invocations in a row that neither wrote a file nor finished a window. */
  stalled: number;
  stats: PairStats;
}

/** What the last invocation of a pair returns: the pair's line in the execution output. */
export interface PairDone extends Omit<PairStats, "retried"> {
  account: string;
  region: string;
  status: "DONE";
  done: true;
}

/** Counters of a pair that has not started. */
export function emptyStats(): PairStats {
  return { invocations: 0, requests: 0, throttled: 0, retried: 0, events: 0, files: 0, rejected: 0 };
}

function invalidFetchInput(message: string): Error {
  return namedError("InvalidBackfillInputError", `invalid fetch input: ${message}`);
}

/** The item's fields, checked: account, region, a role in that account, and a window-aligned range. */
function decodePairItem(value: Record<string, unknown>): { item: PairItem; range: Interval } {
  const { account, region, roleArn, startTime, endTime } = value;
  if (typeof account !== "string" || !ACCOUNT_ID.test(account)) throw invalidFetchInput(`account must be a 12-digit AWS account ID, got ${shown(account, 120)}`);
  if (typeof region !== "string" || !REGION.test(region)) throw invalidFetchInput(`region must be an AWS region, got ${shown(region, 120)}`);
  const roleAccount = typeof roleArn === "string" ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
  if (roleAccount !== account) throw invalidFetchInput(`roleArn must be an IAM role ARN in account ${account}, got ${shown(roleArn, 120)}`);
  const range = intervalFromIso([startTime, endTime]);
  if (range === undefined || range[0] % WINDOW_MS !== 0 || range[1] % WINDOW_MS !== 0) {
    throw invalidFetchInput(`startTime and endTime must be ISO times on 5-minute boundaries, startTime first, got ${shown(startTime, 120)} and ${shown(endTime, 120)}`);
  }
  return { item: { account, region, roleArn: roleArn as string, startTime: startTime as string, endTime: endTime as string }, range };
}

/** A checkpoint's `remaining`: window-aligned parts of the item's range. */
function decodeRemaining(value: unknown, item: PairItem, range: Interval): Array<[string, string]> {
  if (!Array.isArray(value)) throw invalidFetchInput(`remaining must be a list, got ${shown(value, 120)}`);
  return value.map((entry: unknown) => {
    const interval = intervalFromIso(entry);
    if (interval === undefined || interval[0] < range[0] || interval[1] > range[1] || interval[0] % WINDOW_MS !== 0 || interval[1] % WINDOW_MS !== 0) {
      throw invalidFetchInput(`remaining holds ${shown(entry, 120)}, which is not a window-aligned part of ${item.startTime}..${item.endTime}`);
    }
    return intervalToIso(interval);
  });
}

/** A checkpoint's counters; anything that is not a whole number >= 0 counts as 0. */
function decodeStats(value: unknown): PairStats {
  const stats = isObject(value) ? value : {};
  const counters = emptyStats();
  for (const key of Object.keys(counters) as Array<keyof PairStats>) {
    const n = stats[key];
    counters[key] = typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
  return counters;
}

/** Reads a `fetch` payload: a pair item (first invocation) or a checkpoint. Throws `InvalidBackfillInputError`. */
export function decodePairInput(value: unknown): PairCheckpoint {
  if (!isObject(value)) {
    throw invalidFetchInput(`expected a pair item or checkpoint object, got ${shown(value, 120)}`);
  }
  const { item, range } = decodePairItem(value);
  if (value.remaining === undefined) {
    return { ...item, done: false, remaining: [intervalToIso(range)], stalled: 0, stats: emptyStats() };
  }
  const remaining = decodeRemaining(value.remaining, item, range);
  const stalled = typeof value.stalled === "number" && Number.isSafeInteger(value.stalled) ? value.stalled : 0;
  return { ...item, done: false, remaining, stalled, stats: decodeStats(value.stats) };
}

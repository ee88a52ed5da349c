/**
 * TrailBackfill's function: re-fetches CloudTrail management events with `LookupEvents` for one account-region pair
 * at a time and writes them to S3 as native CloudTrail log files, one per 5 minutes of event time.
 *
 * One function serves the three steps of the state machine:
 * - `plan`: validates `{ accounts, regions, startTime, endTime }`, widens the range to whole 5-minute windows and
 *   lists one item per account-region pair;
 * - `fetch`: backfills one pair until shortly before the invocation's deadline and returns a checkpoint (the windows
 *   not yet written) that the next invocation resumes from; the last one returns the pair's totals;
 * - `summarize`: turns the pairs' results into the execution output (pairs done and failed).
 *
 * Within an invocation a pair's remaining range is cut into sub-ranges that are paged concurrently (newest first, as
 * the API returns them) under one shared rate limiter, so the pair reaches its quota even when a call takes a second
 * or more. A window's file is written once every sub-range touching it has been read past it. Files are named from
 * the pair and the window only and their content is sorted, so running the same range again overwrites the same
 * objects with the same bytes.
 */
import { createHash } from "crypto";
import { gzipSync } from "zlib";

import { CloudTrailClient, LookupEventsCommand, type Event as TrailEvent } from "@aws-sdk/client-cloudtrail";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";

import { createRateLimiter } from "./shared/rateLimiter";
import { backoffDelay } from "./shared/retry";
import { assertIsError, type Clock, consoleLogger, embeddedMetricSink, type Logger, type MetricSink, namedError, requireEnv, systemClock } from "./shared/runtime";
import {
  type Interval,
  intervalFromIso,
  intervalToIso,
  splitIntervals,
  splitPoint,
  totalLength,
  WINDOW_MS,
  widenToWindows,
  windowCount,
  windowStartOf,
} from "./shared/timeIntervals";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** `LookupEvents` returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;
/** `LookupEvents` only holds the last 90 days. */
export const LOOKBACK_MS = 90 * 24 * 60 * 60 * 1000;
/** `LookupEvents` quota: 2 requests per second per account and region. */
export const DEFAULT_REQUESTS_PER_SECOND = 2;
/** Sub-ranges of one pair paged at once; enough to keep 2 requests/s busy with calls taking up to 2 s. */
export const DEFAULT_CONCURRENT_REQUESTS = 4;
/** How long before Lambda's deadline an invocation stops sending requests, to finish writing and return. */
export const INVOCATION_SAFETY_MS = 120_000;
/** Tolerated clock skew of an `endTime` in the future. */
export const FUTURE_SKEW_MS = 5 * 60 * 1000;
/** Invocations in a row that may end without writing or finishing anything before the pair is given up. */
export const MAX_STALLED_INVOCATIONS = 3;
/** Errors the state machine does not retry: retrying cannot fix them. */
export const NON_RETRYABLE_ERRORS = [
  "InvalidBackfillInputError",
  "ReaderRoleAccessDeniedError",
  "LookupEventsAccessDeniedError",
  "NoProgressError",
] as const;

// Sub-ranges shorter than this are not split further: the split would cost more requests than it saves.
const MIN_SPLIT_MS = 10_000;
// CloudTrail's own clock is the judge of "90 days"; keep a minute of margin.
const LOOKBACK_MARGIN_MS = 60_000;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RETRYABLE_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ServiceUnavailableException", "InternalServerError", "InternalFailure"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Removes leading and trailing slashes; throws when what is left is not a plain S3 key prefix. */
export function normalizeKeyPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  if (trimmed !== "" && (!PREFIX.test(trimmed) || trimmed.split("/").some((part) => part === "." || part === ".."))) {
    throw new Error(`prefix must be S3 key segments of letters, digits and !_.*'()- separated by '/', got ${shown(prefix)}`);
  }
  return trimmed;
}

/**
 * The S3 key of the log file holding one pair's events of one 5-minute window, in CloudTrail's own layout:
 * `[prefix/]AWSLogs/{account}/CloudTrail/{region}/{YYYY}/{MM}/{DD}/{account}_CloudTrail_{region}_{YYYYMMDDTHHmmZ}_{16 alphanumerics}.json.gz`.
 * The 16 characters are derived from the account, region and window, so the same window always gets the same key.
 */
export function logFileKey(p: { prefix?: string; accountId: string; region: string; windowStart: Date }): string {
  if (!ACCOUNT.test(p.accountId)) {
    throw new Error(`accountId must be a 12-digit AWS account ID, got ${shown(p.accountId)}`);
  }
  if (!REGION.test(p.region)) {
    throw new Error(`region must be an AWS region such as us-east-1, got ${shown(p.region)}`);
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
  const prefix = normalizeKeyPrefix(p.prefix);
  return (
    `${prefix === "" ? "" : `${prefix}/`}AWSLogs/${p.accountId}/CloudTrail/${p.region}/${yyyy}/${mm}/${dd}/` +
    `${p.accountId}_CloudTrail_${p.region}_${yyyy}${mm}${dd}T${hh}${min}Z_${suffix}.json.gz`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// plan: the execution input, validated and expanded into one item per account-region pair
// ---------------------------------------------------------------------------------------------------------------

/** What an execution is started with. */
export interface BackfillRequest {
  accounts: string[];
  regions: string[];
  startTime: string;
  endTime: string;
}

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

function parseIsoTime(value: unknown): number | undefined {
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
    problems.push(`${field} must be a non-empty list of ${plural}, got ${shown(value)}`);
    return [];
  }
  const seen = new Set<string>();
  const items: string[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== "string" || !valid.test(item)) {
      problems.push(`${field}[${i}] must be ${expectation}, got ${shown(item)}`);
    } else if (seen.has(item)) {
      problems.push(`${field}[${i}] ${shown(item)} is listed twice`);
    } else {
      seen.add(item);
      items.push(item);
    }
  });
  return items;
}

/**
 * Every problem of a backfill request, each naming the field and the value (empty when it is valid). `now` is the
 * clock the 90-day limit is measured from; `knownAccounts`, when given, are the accounts that have a reader role.
 */
export function backfillRequestProblems(input: unknown, now: number, knownAccounts?: readonly string[]): string[] {
  const problems: string[] = [];
  if (!isObject(input)) {
    return [`input must be an object { accounts, regions, startTime, endTime }, got ${shown(input)}`];
  }
  const unknownFields = Object.keys(input).filter((key) => !["accounts", "regions", "startTime", "endTime"].includes(key));
  if (unknownFields.length > 0) {
    problems.push(`input has unknown fields ${unknownFields.join(", ")}; expected accounts, regions, startTime, endTime`);
  }
  const accounts = listProblems("accounts", input.accounts, ACCOUNT, "a 12-digit AWS account ID", "12-digit AWS account IDs", problems);
  listProblems("regions", input.regions, REGION, "an AWS region such as us-east-1", "AWS regions", problems);
  if (knownAccounts !== undefined) {
    accounts.forEach((account) => {
      if (!knownAccounts.includes(account)) {
        problems.push(`accounts: ${account} has no reader role; deployed reader roles are in ${knownAccounts.length === 0 ? "no account" : knownAccounts.join(", ")}`);
      }
    });
  }
  const start = parseIsoTime(input.startTime);
  const end = parseIsoTime(input.endTime);
  const example = "an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z";
  if (start === undefined) {
    problems.push(`startTime must be ${example}, got ${shown(input.startTime)}`);
  }
  if (end === undefined) {
    problems.push(`endTime must be ${example}, got ${shown(input.endTime)}`);
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
    items: request.accounts.flatMap((account) =>
      request.regions.map((region) => ({ account, region, roleArn: options.readerRoleArns[account] })),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// fetch: one pair, one invocation
// ---------------------------------------------------------------------------------------------------------------

/** Counters of one pair, accumulated over its invocations. */
export interface PairStats {
  invocations: number;
  /** LookupEvents requests sent, throttled ones included. */
  requests: number;
  /** Requests answered with ThrottlingException. */
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

/** Everything one invocation of `fetch` needs. */
export interface PairBackfillDeps {
  /** A LookupEvents client for the pair's account (the reader role's credentials) and region. */
  cloudTrail: Pick<CloudTrailClient, "send">;
  s3: Pick<S3Client, "send">;
  bucket: string;
  /** Key prefix before `AWSLogs/`. @default - none */
  prefix?: string;
  /** Account expected to own the bucket; S3 refuses the write otherwise. @default - not checked */
  bucketOwner?: string;
  /** @default the system clock */
  clock?: Clock;
  /** Clock time after which no new request is sent. */
  stopAt: number;
  /** @default 2 */
  requestsPerSecond?: number;
  /** @default 4 */
  concurrentRequests?: number;
  /** @default consoleLogger */
  logger?: Logger;
  metrics?: MetricSink;
  /** Aborts the invocation (like a crash: nothing is returned). */
  signal?: AbortSignal;
  /** @default Math.random */
  random?: () => number;
}

function emptyStats(): PairStats {
  return { invocations: 0, requests: 0, throttled: 0, retried: 0, events: 0, files: 0, rejected: 0 };
}

/** Reads a `fetch` payload: a pair item (first invocation) or a checkpoint. Throws `InvalidBackfillInputError`. */
export function decodePairInput(value: unknown): PairCheckpoint {
  const problem = (message: string) => namedError("InvalidBackfillInputError", `invalid fetch input: ${message}`);
  if (!isObject(value)) {
    throw problem(`expected a pair item or checkpoint object, got ${shown(value)}`);
  }
  const { account, region, roleArn, startTime, endTime } = value;
  if (typeof account !== "string" || !ACCOUNT.test(account)) throw problem(`account must be a 12-digit AWS account ID, got ${shown(account)}`);
  if (typeof region !== "string" || !REGION.test(region)) throw problem(`region must be an AWS region, got ${shown(region)}`);
  const roleAccount = typeof roleArn === "string" ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
  if (roleAccount !== account) throw problem(`roleArn must be an IAM role ARN in account ${account}, got ${shown(roleArn)}`);
  const range = intervalFromIso([startTime, endTime]);
  if (range === undefined || range[0] % WINDOW_MS !== 0 || range[1] % WINDOW_MS !== 0) {
    throw problem(`startTime and endTime must be ISO times on 5-minute boundaries, startTime first, got ${shown(startTime)} and ${shown(endTime)}`);
  }
  const item = { account, region, roleArn: roleArn as string, startTime: startTime as string, endTime: endTime as string };
  if (value.remaining === undefined) {
    return { ...item, done: false, remaining: [intervalToIso(range)], stalled: 0, stats: emptyStats() };
  }
  if (!Array.isArray(value.remaining)) throw problem(`remaining must be a list, got ${shown(value.remaining)}`);
  const remaining = value.remaining.map((entry: unknown) => {
    const interval = intervalFromIso(entry);
    if (interval === undefined || interval[0] < range[0] || interval[1] > range[1] || interval[0] % WINDOW_MS !== 0 || interval[1] % WINDOW_MS !== 0) {
      throw problem(`remaining holds ${shown(entry)}, which is not a window-aligned part of ${String(startTime)}..${String(endTime)}`);
    }
    return intervalToIso(interval);
  });
  const stats = isObject(value.stats) ? value.stats : {};
  const counters = emptyStats();
  for (const key of Object.keys(counters) as Array<keyof PairStats>) {
    const n = stats[key];
    counters[key] = typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
  const stalled = typeof value.stalled === "number" && Number.isSafeInteger(value.stalled) ? value.stalled : 0;
  return { ...item, done: false, remaining, stalled, stats: counters };
}

/** A part of the pair's range that one chain of requests reads, newest first. */
interface Task {
  /** Lower bound; raised when another chain takes over the older part. */
  start: number;
  /** Everything in `[doneFrom, end)` has been read. */
  doneFrom: number;
  end: number;
  /** The running query: its NextToken and the bounds it was started with (a token only works with them). */
  token?: string;
  queryStart: number;
  queryEnd: number;
  finished: boolean;
  owner?: number;
  /** Milliseconds of event time the last full page covered: how much one more request is likely to cover. */
  lastPageSpan?: number;
}

/** One buffered event: its time and its `CloudTrailEvent` JSON text, as LookupEvents returned it. */
interface BufferedEvent {
  time: number;
  json: string;
}

/** A promise and the function that resolves it. */
function waiting(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function isRetryable(error: Error): boolean {
  const details = error as { $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  return (
    details.$fault === "server" ||
    (details.$metadata?.httpStatusCode ?? 0) >= 500 ||
    RETRYABLE_NAMES.has(error.name) ||
    (details.code !== undefined && RETRYABLE_NAMES.has(details.code))
  );
}

/**
 * Estimated requests left in a task: its undone span divided by the span its last full page covered (event density
 * changes a lot over a range, so the latest page says more than the average). Infinite before the first page.
 */
function estimatedPages(task: Task): number {
  const span = task.doneFrom - task.start;
  return task.lastPageSpan === undefined || task.lastPageSpan <= 0 ? Number.POSITIVE_INFINITY : span / task.lastPageSpan;
}

/**
 * Backfills one pair until it is done or the clock reaches `deps.stopAt`. Returns the pair's totals when every
 * window has been written, otherwise a checkpoint to pass to the next invocation. Throws when the invocation fails;
 * the caller then retries with the previous checkpoint (files written meanwhile are overwritten with the same bytes).
 */
export async function backfillPair(input: PairCheckpoint, deps: PairBackfillDeps): Promise<PairCheckpoint | PairDone> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? consoleLogger;
  const random = deps.random ?? Math.random;
  const concurrency = deps.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS;
  const limiter = createRateLimiter(deps.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, clock);
  const stats: PairStats = { ...input.stats, invocations: input.stats.invocations + 1 };
  const before = input.remaining.map((entry) => intervalFromIso(entry) as Interval);
  const pair = { account: input.account, region: input.region };
  const internal = new AbortController();
  const signal = deps.signal === undefined ? internal.signal : AbortSignal.any([deps.signal, internal.signal]);

  // Without knowing where the events are, cut only between windows; chains split a dense window once they see it.
  const tasks: Task[] = splitIntervals(before, concurrency, MIN_SPLIT_MS, false).map(([start, end]) => ({
    start,
    doneFrom: end,
    end,
    queryStart: start,
    queryEnd: end,
    finished: false,
  }));
  const windows = new Map<number, Map<string, BufferedEvent>>();
  const written = new Set<number>();
  let consecutiveThrottles = 0;
  let filesThisInvocation = 0;
  let agedOutWarned = false;

  const undoneIntersects = (from: number, to: number) => tasks.some((t) => !t.finished && t.start < to && t.doneFrom > from);

  const steal = (worker: number): Task | undefined => {
    const open = tasks.filter((t) => !t.finished);
    const unowned = open.filter((t) => t.owner === undefined).sort((a, b) => b.doneFrom - b.start - (a.doneFrom - a.start))[0];
    if (unowned !== undefined) {
      unowned.owner = worker;
      return unowned;
    }
    for (const victim of open.sort((a, b) => estimatedPages(b) - estimatedPages(a))) {
      if (estimatedPages(victim) < 3) {
        return undefined;
      }
      // Inside a window only when the victim's last page says the part holds several pages.
      const cut = splitPoint(victim.start, victim.doneFrom, MIN_SPLIT_MS, Number.isFinite(estimatedPages(victim)));
      if (cut !== undefined) {
        // The thief reads the older part with a fresh query; the victim keeps its query and stops at the cut.
        const task: Task = { start: victim.start, doneFrom: cut, end: cut, queryStart: victim.start, queryEnd: cut, finished: false, owner: worker };
        victim.start = cut;
        tasks.push(task);
        return task;
      }
    }
    return undefined;
  };

  // Chains with nothing to take wait for the next page read anywhere (it may reveal a part worth splitting).
  let wake = waiting();
  const notify = () => {
    const current = wake;
    wake = waiting();
    current.resolve();
  };

  const accept = (task: Task, events: TrailEvent[], lastPage: boolean) => {
    const upper = task.doneFrom;
    let oldest = Number.POSITIVE_INFINITY;
    for (const event of events) {
      const time = event.EventTime?.getTime();
      if (time === undefined || !Number.isFinite(time)) {
        stats.rejected += 1;
        logger.warn("event without EventTime skipped", { ...pair, eventId: event.EventId });
        continue;
      }
      oldest = Math.min(oldest, time);
      // Older than the task's part: another chain reads it. At or after doneFrom: read already (bounds are inclusive).
      if (time < task.start || time >= upper) {
        continue;
      }
      const json = event.CloudTrailEvent;
      let parsed: unknown;
      try {
        parsed = typeof json === "string" ? JSON.parse(json) : undefined;
      } catch {
        parsed = undefined;
      }
      if (typeof event.EventId !== "string" || event.EventId === "" || !isObject(parsed)) {
        stats.rejected += 1;
        logger.warn("event without EventId or CloudTrailEvent object skipped", { ...pair, eventId: event.EventId, eventTime: new Date(time).toISOString() });
        continue;
      }
      const windowStart = windowStartOf(time);
      if (written.has(windowStart)) {
        throw namedError("BackfillInternalError", `event ${event.EventId} at ${new Date(time).toISOString()} arrived after its window was written`);
      }
      let buffer = windows.get(windowStart);
      if (buffer === undefined) {
        buffer = new Map();
        windows.set(windowStart, buffer);
      }
      buffer.set(event.EventId, { time, json: json as string });
    }
    if (lastPage || oldest < task.start) {
      task.doneFrom = task.start;
      task.finished = true;
    } else if (Number.isFinite(oldest)) {
      // Events at `oldest` itself may continue on the next page.
      task.doneFrom = Math.max(task.start, Math.min(task.doneFrom, oldest + 1));
      task.lastPageSpan = upper - task.doneFrom;
    }
  };

  const writeWindow = async (windowStart: number, buffer: Map<string, BufferedEvent>) => {
    const records = [...buffer.entries()]
      .sort(([idA, a], [idB, b]) => a.time - b.time || (idA < idB ? -1 : idA > idB ? 1 : 0))
      .map(([, event]) => event.json);
    const body = gzipSync(Buffer.from(`{"Records":[${records.join(",")}]}`, "utf8"));
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.bucket,
        Key: logFileKey({ prefix: deps.prefix, accountId: input.account, region: input.region, windowStart: new Date(windowStart) }),
        Body: body,
        ContentType: "application/json",
        ContentEncoding: "gzip",
        ...(deps.bucketOwner === undefined ? {} : { ExpectedBucketOwner: deps.bucketOwner }),
      }),
      { abortSignal: signal },
    );
    stats.files += 1;
    stats.events += records.length;
    filesThisInvocation += 1;
  };

  const writeCompleteWindows = async () => {
    const ready = [...windows.keys()].filter((w) => !undoneIntersects(w, w + WINDOW_MS)).sort((a, b) => a - b);
    for (const windowStart of ready) {
      const buffer = windows.get(windowStart) as Map<string, BufferedEvent>;
      windows.delete(windowStart);
      written.add(windowStart);
      await writeWindow(windowStart, buffer);
    }
  };

  /** Reads one page of `task`; false when the deadline came first. */
  const readPage = async (task: Task): Promise<boolean> => {
    let attempts = 0;
    for (;;) {
      if (clock.now() >= deps.stopAt) {
        return false;
      }
      await limiter.acquire(signal);
      if (clock.now() >= deps.stopAt) {
        return false;
      }
      if (task.token === undefined) {
        task.queryStart = task.start;
        task.queryEnd = task.doneFrom;
      }
      const oldestAvailable = clock.now() - LOOKBACK_MS + LOOKBACK_MARGIN_MS;
      const startTime = Math.max(task.queryStart, oldestAvailable);
      if (startTime > task.queryEnd) {
        if (!agedOutWarned) {
          agedOutWarned = true;
          logger.warn("events older than 90 days have aged out of LookupEvents and cannot be backfilled", { ...pair, before: new Date(oldestAvailable).toISOString() });
        }
        task.doneFrom = task.start;
        task.finished = true;
        return true;
      }
      stats.requests += 1;
      try {
        const output = await deps.cloudTrail.send(
          new LookupEventsCommand({
            StartTime: new Date(startTime),
            EndTime: new Date(task.queryEnd),
            MaxResults: LOOKUP_PAGE_SIZE,
            ...(task.token === undefined ? {} : { NextToken: task.token }),
          }),
          { abortSignal: signal },
        );
        consecutiveThrottles = 0;
        limiter.succeeded();
        accept(task, output.Events ?? [], output.NextToken === undefined || output.NextToken === "");
        task.token = task.finished ? undefined : output.NextToken;
        return true;
      } catch (error) {
        assertIsError(error);
        if (signal.aborted || error.name === "ReaderRoleAccessDeniedError") {
          throw error;
        }
        if (error.name === "ThrottlingException") {
          // The quota is shared with every other caller in the account and region: everyone here waits, then goes on
          // at a lower rate that climbs back as requests succeed.
          stats.throttled += 1;
          consecutiveThrottles += 1;
          limiter.throttled(backoffDelay(consecutiveThrottles, 1000, 20_000, random));
        } else if (error.name === "InvalidNextTokenException") {
          // The token expired or no longer matches: start the task's query again from where it got to.
          logger.warn("NextToken refused; querying again from the last position read", { ...pair, doneFrom: new Date(task.doneFrom).toISOString() });
          task.token = undefined;
        } else if (/AccessDenied|UnrecognizedClient|InvalidClientTokenId|UnauthorizedOperation/.test(error.name)) {
          throw namedError("LookupEventsAccessDeniedError", `LookupEvents in ${input.account} ${input.region} was refused with ${error.name}: ${error.message}. Check the reader role's policy and that the region is enabled in the account.`);
        } else if (isRetryable(error) && attempts < 5) {
          attempts += 1;
          stats.retried += 1;
          logger.warn("LookupEvents failed; retrying", { ...pair, error: error.name, errorMessage: error.message, attempt: attempts });
          await clock.sleep(backoffDelay(attempts, 500, 10_000, random), signal);
        } else {
          throw error;
        }
      }
    }
  };

  const worker = async (id: number) => {
    let task: Task | undefined = tasks[id];
    if (task !== undefined) {
      task.owner = id;
    }
    for (;;) {
      if (task === undefined || task.finished) {
        if (signal.aborted || clock.now() >= deps.stopAt || !tasks.some((t) => !t.finished)) {
          return;
        }
        task = steal(id);
        if (task === undefined) {
          await wake.promise;
          continue;
        }
      }
      const read = await readPage(task);
      notify();
      if (!read) {
        return;
      }
      await writeCompleteWindows();
    }
  };

  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, id) =>
      worker(id)
        .catch((error: unknown) => {
          internal.abort(error);
          throw error;
        })
        .finally(notify),
    ),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failure !== undefined) {
    throw failure.reason;
  }
  await writeCompleteWindows();

  const remaining = widenToWindows(tasks.filter((t) => !t.finished).map((t) => [t.start, t.doneFrom] as const));
  for (const windowStart of windows.keys()) {
    if (!remaining.some(([start, end]) => windowStart >= start && windowStart < end)) {
      throw namedError("BackfillInternalError", `window ${new Date(windowStart).toISOString()} holds events but is neither written nor remaining`);
    }
  }
  const progressed = filesThisInvocation > 0 || totalLength(remaining) < totalLength(before);
  const stalled = progressed ? 0 : input.stalled + 1;
  deps.metrics?.count("LookupEventsThrottled", stats.throttled - input.stats.throttled);
  logger.info("backfill invocation finished", {
    ...pair,
    windowsLeft: windowCount(remaining),
    files: filesThisInvocation,
    requests: stats.requests - input.stats.requests,
    throttled: stats.throttled - input.stats.throttled,
  });
  if (remaining.length === 0) {
    const { invocations, requests, throttled, events, files, rejected } = stats;
    return { account: input.account, region: input.region, status: "DONE", done: true, invocations, requests, throttled, events, files, rejected };
  }
  if (stalled >= MAX_STALLED_INVOCATIONS) {
    throw namedError(
      "NoProgressError",
      `${input.account} ${input.region}: ${stalled} invocations in a row wrote nothing (${stats.throttled} throttled requests so far). ` +
        "Either another tool uses the whole LookupEvents quota, or one 5-minute window holds more events than an invocation can read.",
    );
  }
  return { ...input, remaining: remaining.map(intervalToIso), stalled, stats };
}

// ---------------------------------------------------------------------------------------------------------------
// summarize
// ---------------------------------------------------------------------------------------------------------------

/** A pair that could not be backfilled: the error name the state machine caught. */
export interface PairFailed {
  account: string;
  region: string;
  status: "FAILED";
  error: string;
}

/** The execution output. */
export interface BackfillSummary {
  requested: { startTime: string; endTime: string };
  startTime: string;
  endTime: string;
  pairs: number;
  totals: { events: number; files: number; requests: number; throttled: number };
  done: Array<Omit<PairDone, "status" | "done">>;
  failed: Array<Omit<PairFailed, "status">>;
}

/** Sorts the pairs' results into done and failed and adds up the totals. */
export function summarizeBackfill(plan: unknown, results: unknown): BackfillSummary {
  const p = isObject(plan) ? plan : {};
  const requested = isObject(p.requested) ? p.requested : {};
  const list = Array.isArray(results) ? (results as unknown[]) : [];
  const done: BackfillSummary["done"] = [];
  const failed: BackfillSummary["failed"] = [];
  const count = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
  for (const result of list) {
    const r = isObject(result) ? result : {};
    const account = typeof r.account === "string" ? r.account : "unknown";
    const region = typeof r.region === "string" ? r.region : "unknown";
    if (r.status === "DONE") {
      done.push({
        account,
        region,
        invocations: count(r.invocations),
        requests: count(r.requests),
        throttled: count(r.throttled),
        events: count(r.events),
        files: count(r.files),
        rejected: count(r.rejected),
      });
    } else {
      // A child execution that failed outside the catch (tolerated by the Map) has no status: report it as failed.
      failed.push({ account, region, error: typeof r.error === "string" ? r.error : typeof r.Error === "string" ? r.Error : "ChildExecutionFailed" });
    }
  }
  const sum = (key: "events" | "files" | "requests" | "throttled") => done.reduce((total, d) => total + d[key], 0);
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    requested: { startTime: text(requested.startTime), endTime: text(requested.endTime) },
    startTime: text(p.startTime),
    endTime: text(p.endTime),
    pairs: list.length,
    totals: { events: sum("events"), files: sum("files"), requests: sum("requests"), throttled: sum("throttled") },
    done,
    failed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The Lambda handler
// ---------------------------------------------------------------------------------------------------------------

/** The payloads the state machine sends. */
export type BackfillEvent =
  | { action: "plan"; input: unknown; readerRoleArns: Record<string, string> }
  | { action: "fetch"; checkpoint: unknown }
  | { action: "summarize"; plan: unknown; results: unknown };

/** What the handler needs besides the event; the callback factory builds it from the environment. */
export interface BackfillHandlerDeps extends Omit<PairBackfillDeps, "cloudTrail" | "stopAt"> {
  /** A LookupEvents client with the reader role's credentials; rejects when the role cannot be assumed. */
  cloudTrailFor(roleArn: string, region: string): Promise<Pick<CloudTrailClient, "send">>;
  /** Milliseconds this invocation may still run (Lambda's `context.getRemainingTimeInMillis()`). */
  remainingTimeInMillis: number;
  /** Stop sending requests this long before the invocation's deadline. @default 120000 */
  safetyMarginMs?: number;
}

/** Runs one state machine step. */
export async function handleBackfillEvent(event: unknown, deps: BackfillHandlerDeps): Promise<BackfillPlan | PairCheckpoint | PairDone | BackfillSummary> {
  const clock = deps.clock ?? systemClock;
  if (!isObject(event) || typeof event.action !== "string") {
    throw namedError("InvalidBackfillInputError", `expected { action: "plan" | "fetch" | "summarize", ... }, got ${shown(event)}`);
  }
  switch (event.action) {
    case "plan": {
      const roles = isObject(event.readerRoleArns) ? event.readerRoleArns : {};
      const readerRoleArns = Object.fromEntries(Object.entries(roles).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
      return planBackfill(event.input, { now: clock.now(), readerRoleArns });
    }
    case "fetch": {
      const checkpoint = decodePairInput(event.checkpoint);
      const cloudTrail = await deps.cloudTrailFor(checkpoint.roleArn, checkpoint.region);
      const stopAt = clock.now() + deps.remainingTimeInMillis - (deps.safetyMarginMs ?? INVOCATION_SAFETY_MS);
      return backfillPair(checkpoint, { ...deps, cloudTrail, stopAt });
    }
    case "summarize": {
      const summary = summarizeBackfill(event.plan, event.results);
      deps.metrics?.count("BackfillFailedPairs", summary.failed.length);
      (deps.logger ?? consoleLogger).info("backfill finished", { pairs: summary.pairs, failed: summary.failed.length, ...summary.totals });
      return summary;
    }
    default:
      throw namedError("InvalidBackfillInputError", `unknown action ${shown(event.action)}; expected plan, fetch or summarize`);
  }
}

/** Credentials of an assumed reader role, refreshed five minutes before they expire. */
export function readerRoleCredentials(sts: Pick<STSClient, "send">, roleArn: string, externalId: string | undefined, sessionName: string) {
  let current: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } | undefined;
  return async () => {
    if (current !== undefined && current.expiration.getTime() - Date.now() > 5 * 60_000) {
      return current;
    }
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600, ...(externalId === undefined ? {} : { ExternalId: externalId }) }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error("AssumeRole returned no credentials");
      }
      current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      return current;
    } catch (error) {
      assertIsError(error);
      if (error.name === "AccessDenied" || error.name === "AccessDeniedException") {
        throw namedError(
          "ReaderRoleAccessDeniedError",
          `cannot assume ${roleArn}: ${error.message}. Deploy the stack so the role trusts this function (and check the external ID and organization condition).`,
        );
      }
      throw error;
    }
  };
}

function numberFromEnv(name: string, fallback: number, valid: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!valid(value)) {
    throw namedError("MissingEnvironmentError", `environment variable ${name} is not valid: ${shown(raw)}`, { variable: name });
  }
  return value;
}

/**
 * The Lambda callback: reads its settings from the environment, builds SDK clients once per cold start and
 * dispatches each state machine step to {@link handleBackfillEvent}.
 */
export function trailBackfillCallbackFactory(): (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown> {
  const bucket = requireEnv("BACKFILL_BUCKET");
  const prefix = normalizeKeyPrefix(process.env.BACKFILL_KEY_PREFIX);
  const bucketOwner = process.env.BACKFILL_BUCKET_OWNER || undefined;
  const externalId = process.env.READER_EXTERNAL_ID || undefined;
  const requestsPerSecond = numberFromEnv("REQUESTS_PER_SECOND", DEFAULT_REQUESTS_PER_SECOND, (n) => n > 0 && n <= 100);
  const concurrentRequests = numberFromEnv("CONCURRENT_REQUESTS_PER_PAIR", DEFAULT_CONCURRENT_REQUESTS, (n) => Number.isInteger(n) && n >= 1 && n <= 32);
  const sts = new STSClient({});
  // The bucket may be in another region (an adopted trail bucket): follow S3's redirect.
  const s3 = new S3Client({ followRegionRedirects: true });
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "trail-backfill");
  const credentials = new Map<string, ReturnType<typeof readerRoleCredentials>>();
  const clients = new Map<string, CloudTrailClient>();

  const cloudTrailFor = async (roleArn: string, region: string) => {
    let provider = credentials.get(roleArn);
    if (provider === undefined) {
      provider = readerRoleCredentials(sts, roleArn, externalId, "cloudtrail-alerts-backfill");
      credentials.set(roleArn, provider);
    }
    // Assume the role now, so that a refusal fails the pair with a clear error before any paging starts.
    await provider();
    const key = `${roleArn} ${region}`;
    let client = clients.get(key);
    if (client === undefined) {
      // Every request goes through the rate limiter: no SDK retries of its own, and no request hangs for long.
      client = new CloudTrailClient({ region, credentials: provider, maxAttempts: 1, requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 } });
      clients.set(key, client);
    }
    return client;
  };

  return async (event, context) => {
    try {
      return await handleBackfillEvent(event, {
        cloudTrailFor,
        s3,
        bucket,
        prefix,
        bucketOwner,
        requestsPerSecond,
        concurrentRequests,
        metrics,
        remainingTimeInMillis: context.getRemainingTimeInMillis(),
      });
    } catch (error) {
      assertIsError(error);
      const pair = isObject(event) && isObject(event.checkpoint) ? { account: event.checkpoint.account, region: event.checkpoint.region } : {};
      consoleLogger.error("backfill step failed", { action: isObject(event) ? event.action : undefined, ...pair, error: error.name, errorMessage: error.message, stack: error.stack });
      throw error;
    }
  };
}

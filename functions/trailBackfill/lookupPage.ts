/**
 * One `LookupEvents` page of a task, as one chain of requests reads it: under the pair's shared rate limiter, until
 * the invocation's deadline, backing off for everyone when throttled, retrying transient errors, querying again when
 * a NextToken is refused, and never asking for events older than the 90 days LookupEvents holds.
 */
import { type CloudTrailClient, type Event as TrailEvent, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";

import type { RateLimiter } from "../shared/rateLimiter";
import { backoffDelay, isRetryableError, isThrottlingError } from "../shared/retry";
import { assertIsError, type Clock, type Logger, namedError } from "../shared/runtime";
import { LOOKBACK_MS, LOOKUP_PAGE_SIZE } from "./awsFacts";
import type { PairStats } from "./checkpoint";
import { finishTask, type Task } from "./taskQueue";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** CloudTrail's own clock is the judge of "90 days"; keep a minute of margin. */
export const LOOKBACK_MARGIN_MS = 60_000;
/** Retries of one page after transient errors (throttling not counted). */
export const MAX_PAGE_RETRIES = 5;

/** What the page reads of one pair's invocation share. */
export interface PageReading {
  /** A LookupEvents client for the pair's account (the reader role's credentials) and region. */
  cloudTrail: Pick<CloudTrailClient, "send">;
  clock: Clock;
  /** Clock time after which no new request is sent. */
  stopAt: number;
  limiter: RateLimiter;
  signal: AbortSignal;
  random: () => number;
  logger: Logger;
  pair: { account: string; region: string };
  stats: PairStats;
  /** Throttled answers in a row, over all chains of the pair; whether the 90-day warning was logged. */
  state: { consecutiveThrottles: number; agedOutWarned: boolean };
  /** Pages answered and the milliseconds chains spent on them (request latency, and writing what they completed). */
  timing: { pages: number; busyMs: number };
  /** Takes a page of the task's events; `lastPage` when LookupEvents returned no NextToken. */
  accept(task: Task, events: readonly TrailEvent[], lastPage: boolean): void;
}

/** Waits for the rate limiter; false when the deadline comes first. */
async function mayRequest(reading: PageReading): Promise<boolean> {
  if (reading.clock.now() >= reading.stopAt) {
    return false;
  }
  await reading.limiter.acquire(reading.signal);
  return reading.clock.now() < reading.stopAt;
}

/**
 * The `StartTime` of the task's next request: the query's own (a NextToken only works with the bounds it was issued
 * for), raised to the oldest time LookupEvents still holds. Undefined when all of the query has aged out.
 */
function queryStartTime(task: Task, reading: PageReading): number | undefined {
  if (task.token === undefined) {
    // EndTime is inclusive and everything at or after doneFrom has been read (events exactly on a window boundary
    // belong to the newer window, which another task reads): end a millisecond before it, so that the query's first
    // page holds only events this task still needs. doneFrom is above start while the task is unfinished. Were the
    // bound compared in whole seconds only, nothing would be missed either: CloudTrail's event times are whole seconds.
    task.queryStart = task.start;
    task.queryEnd = task.doneFrom - 1;
  }
  const oldestAvailable = reading.clock.now() - LOOKBACK_MS + LOOKBACK_MARGIN_MS;
  const startTime = Math.max(task.queryStart, oldestAvailable);
  if (startTime <= task.queryEnd) {
    return startTime;
  }
  if (!reading.state.agedOutWarned) {
    reading.state.agedOutWarned = true;
    reading.logger.warn("events older than 90 days have aged out of LookupEvents and cannot be backfilled", { ...reading.pair, before: new Date(oldestAvailable).toISOString() });
  }
  return undefined;
}

/**
 * Decides what a failed request means: throws when retrying cannot help, otherwise adjusts the limiter, the task or
 * waits, and returns the page's transient-error retries so far.
 */
async function recoverFromFailure(error: Error, task: Task, retries: number, reading: PageReading): Promise<number> {
  const { pair, stats, state, random } = reading;
  if (reading.signal.aborted || error.name === "ReaderRoleAccessDeniedError") {
    throw error;
  }
  if (isThrottlingError(error)) {
    // The quota is shared with every other caller in the account and region: everyone here waits, then goes on at a
    // lower rate that climbs back as requests succeed.
    stats.throttled += 1;
    state.consecutiveThrottles += 1;
    reading.limiter.throttled(backoffDelay(state.consecutiveThrottles, 1000, 20_000, random));
    return retries;
  }
  if (error.name === "InvalidNextTokenException") {
    // The token expired or no longer matches: start the task's query again from where it got to.
    reading.logger.warn("NextToken refused; querying again from the last position read", { ...pair, doneFrom: new Date(task.doneFrom).toISOString() });
    task.token = undefined;
    return retries;
  }
  if (/AccessDenied|UnrecognizedClient|InvalidClientTokenId|UnauthorizedOperation/.test(error.name)) {
    throw namedError(
      "LookupEventsAccessDeniedError",
      `LookupEvents in ${pair.account} ${pair.region} was refused with ${error.name}: ${error.message}. Check the reader role's policy and that the region is enabled in the account.`,
    );
  }
  if (!isRetryableError(error) || retries >= MAX_PAGE_RETRIES) {
    throw error;
  }
  stats.retried += 1;
  reading.logger.warn("LookupEvents failed; retrying", { ...pair, error: error.name, errorMessage: error.message, attempt: retries + 1 });
  await reading.clock.sleep(backoffDelay(retries + 1, 500, 10_000, random), reading.signal);
  return retries + 1;
}

/** Reads one page of `task` and hands it to `reading.accept`; false when the deadline came first. */
export async function readPage(task: Task, reading: PageReading): Promise<boolean> {
  let retries = 0;
  for (;;) {
    if (!(await mayRequest(reading))) {
      return false;
    }
    const startTime = queryStartTime(task, reading);
    if (startTime === undefined) {
      finishTask(task);
      return true;
    }
    reading.stats.requests += 1;
    const sentAt = reading.clock.now();
    try {
      const output = await reading.cloudTrail.send(
        new LookupEventsCommand({
          StartTime: new Date(startTime),
          EndTime: new Date(task.queryEnd),
          MaxResults: LOOKUP_PAGE_SIZE,
          ...(task.token === undefined ? {} : { NextToken: task.token }),
        }),
        { abortSignal: reading.signal },
      );
      reading.timing.pages += 1;
      reading.timing.busyMs += reading.clock.now() - sentAt;
      reading.state.consecutiveThrottles = 0;
      reading.limiter.succeeded();
      reading.accept(task, output.Events ?? [], output.NextToken === undefined || output.NextToken === "");
      task.token = task.finished ? undefined : output.NextToken;
      return true;
    } catch (error) {
      assertIsError(error);
      retries = await recoverFromFailure(error, task, retries, reading);
    }
  }
}

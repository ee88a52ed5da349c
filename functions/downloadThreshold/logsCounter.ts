/**
 * The FilterLogEvents re-count (docs/sourceArticles.md): re-counts an object's window with `FilterLogEvents` on the trail's log group. Also the
 * one definition of "a successful GetObject" in CloudWatch Logs filter syntax, which the component's subscription
 * filter pattern shares.
 */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";

import type { CloudTrailRecord } from "../shared/cloudtrailEvents";
import { quoteFilterString } from "../shared/recordPattern";
import { backoffDelay, isRetryableError } from "../shared/retry";
import { assertIsError, namedError, systemClock, type Clock } from "../shared/runtime";
import type { DownloadCounter } from "./downloadCounter";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The CloudWatch Logs filter pattern clause of a successful S3 `GetObject` (failed requests carry an errorCode). */
export const SUCCESSFUL_GET_OBJECT = '($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.errorCode NOT EXISTS)';

/** The `FilterLogEvents` pattern for successful `GetObject` events on one object. */
export function objectFilterPattern(bucket: string, key: string): string {
  return `{ ${SUCCESSFUL_GET_OBJECT} && ($.requestParameters.bucketName = ${quoteFilterString(bucket)}) && ($.requestParameters.key = ${quoteFilterString(key)}) }`;
}

/** Options of the logs counter. */
export interface LogsCounterOptions {
  clock?: Clock;
  /** Random numbers in [0, 1) for backoff jitter. */
  random?: () => number;
  /**
   * Backoff after the first failed call; it doubles per consecutive failure up to `maxBackoffMs`, with the shared
   * equal jitter (see `backoffDelay` in functions/shared/retry.ts). @default 200
   */
  baseBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
}

/**
 * The FilterLogEvents re-count (docs/sourceArticles.md), kept for users who want no table: every download re-counts its object's window with
 * `FilterLogEvents` on the trail's log group (paged until there is no `nextToken`), and its count is its position
 * among the distinct events found (by event time, then event ID), so the download that crosses the threshold is the
 * same whichever invocation asks.
 *
 * Limits, measured in docs/downloadThresholdAlert.md:
 * - Cost grows with the window: each call scans at most 1 MB of the log group, so a download late in a busy window
 *   needs many pages (O(downloads so far), including every other event the trail logs).
 * - `FilterLogEvents` allows 5 requests per second per account and region, shared with every other caller, and AWS
 *   does not raise it. Throttled calls (and other retryable errors) are retried with jittered backoff until the
 *   invocation's time budget is spent; then the invocation fails and Lambda retries it.
 * - No state: a redelivered event (Lambda retries, at-least-once delivery) is alerted again.
 * - The log group must already hold the earlier downloads: with an EventBridge source a download can arrive before
 *   earlier ones reach CloudWatch Logs, and the count is then too low.
 */
export function logsDownloadCounter(
  logs: Pick<CloudWatchLogsClient, "send">,
  logGroupName: string,
  options: LogsCounterOptions = {},
): DownloadCounter {
  const { clock = systemClock, random = Math.random, baseBackoffMs = 200, maxBackoffMs = 5000 } = options;
  return {
    async count(download, window, { deadline }) {
      const { bucket, key, record } = download;
      const current = { time: Date.parse(record.eventTime), id: record.eventID };
      const seen = new Map<string, number>([[current.id, current.time]]);
      let nextToken: string | undefined;
      do {
        const input = {
          logGroupName,
          startTime: window.start.getTime(),
          // CloudTrail events carry whole seconds; include every event of the current one's second.
          endTime: current.time + 999,
          filterPattern: objectFilterPattern(bucket, key),
          ...(nextToken === undefined ? {} : { nextToken }),
        };
        const page = await withinBudget(() => logs.send(new FilterLogEventsCommand(input)), { clock, random, baseBackoffMs, maxBackoffMs, deadline });
        for (const logEvent of page.events ?? []) {
          const found = parseDownloadEvent(logEvent.message);
          // The pattern's `*` has no escape, so compare exactly here.
          if (found !== undefined && found.bucket === bucket && found.key === key) {
            seen.set(found.id, found.time);
          }
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      let count = 0;
      for (const [id, time] of seen) {
        if (time < current.time || (time === current.time && id <= current.id)) {
          count += 1;
        }
      }
      return { counted: true, count };
    },
  };
}

/** A successful GetObject event of a FilterLogEvents page, or undefined for anything else. */
export function parseDownloadEvent(message: string | undefined): { bucket: string; key: string; id: string; time: number } | undefined {
  try {
    const record = JSON.parse(message ?? "") as Partial<CloudTrailRecord>;
    const bucket = record.requestParameters?.bucketName;
    const key = record.requestParameters?.key;
    const time = Date.parse(String(record.eventTime));
    if (record.eventName !== "GetObject" || record.errorCode || typeof bucket !== "string" || typeof key !== "string" || typeof record.eventID !== "string" || Number.isNaN(time)) {
      return undefined;
    }
    return { bucket, key, id: record.eventID, time };
  } catch {
    return undefined;
  }
}

/** How {@link withinBudget} retries. */
export interface RetryBudget {
  clock: Clock;
  random: () => number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** The time (on `clock`) by which a retry must have started; a backoff that would end later is not waited out. */
  deadline: number;
}

/**
 * Calls `call` until it succeeds, retrying what the shared policy calls retryable (see `isRetryableError`) after the
 * shared backoff; fails with `TimeBudgetExceededError` when the next backoff would end after `deadline`, so that the
 * invocation fails (and Lambda retries it) before the function times out.
 */
export async function withinBudget<T>(call: () => Promise<T>, budget: RetryBudget): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      assertIsError(error);
      if (!isRetryableError(error)) {
        throw error;
      }
      const delay = Math.round(backoffDelay(attempt, budget.baseBackoffMs, budget.maxBackoffMs, budget.random));
      if (budget.clock.now() + delay > budget.deadline) {
        throw namedError("TimeBudgetExceededError", `FilterLogEvents still failing with ${error.name} after ${attempt} attempts; giving up before the function times out so that Lambda retries the event`, { attempts: attempt });
      }
      await budget.clock.sleep(delay);
    }
  }
}

/**
 * The `fetch` step: backfills one account-region pair until shortly before the invocation's deadline and returns a
 * checkpoint (the windows not yet written) that the next invocation resumes from; the last one returns the pair's
 * totals.
 *
 * Within an invocation the pair's remaining range is cut into tasks that are paged concurrently (newest first, as the
 * API returns them) under one shared rate limiter, so the pair reaches its quota even when a call takes a second or
 * more; an idle chain takes over part of another's task. A window's file is written once every task touching it has
 * been read past it. Files are named from the pair and the window only and their content is sorted, so running the
 * same range again overwrites the same objects with the same bytes.
 */
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type { S3Client } from "@aws-sdk/client-s3";

import { createRateLimiter } from "../shared/rateLimiter";
import { type Clock, consoleLogger, type Logger, type MetricSink, namedError, systemClock } from "../shared/runtime";
import { type Interval, intervalFromIso, intervalToIso, totalLength, windowCount } from "../shared/timeIntervals";
import type { PairCheckpoint, PairDone } from "./checkpoint";
import { acceptPage, type EventBuffer, eventBuffer, takeCompleteWindows } from "./eventBuffer";
import { type LogFileDestination, putLogFile } from "./logFiles";
import { type PageReading, readPage } from "./lookupPage";
import { DEFAULT_CONCURRENT_REQUESTS, DEFAULT_REQUESTS_PER_SECOND } from "./settings";
import { initialTasks, stealTask, type Task, unreadRanges, type Wakeup, wakeup } from "./taskQueue";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Invocations in a row that may end without writing or finishing anything before the pair is given up. */
export const MAX_STALLED_INVOCATIONS = 3;

/** Where one pair's files go and how fast it may read. */
export interface PairBackfillSettings extends LogFileDestination {
  /** @default 2 */
  requestsPerSecond?: number;
  /** @default 4 */
  concurrentRequests?: number;
}

/** What one invocation of `fetch` works with besides its settings. */
export interface PairBackfillDependencies {
  /** A LookupEvents client for the pair's account (the reader role's credentials) and region. */
  cloudTrail: Pick<CloudTrailClient, "send">;
  s3: Pick<S3Client, "send">;
  /** @default the system clock */
  clock?: Clock;
  /** Clock time after which no new request is sent. */
  stopAt: number;
  /** @default consoleLogger */
  logger?: Logger;
  metrics?: MetricSink;
  /** Aborts the invocation (like a crash: nothing is returned). */
  signal?: AbortSignal;
  /** @default Math.random */
  random?: () => number;
}

/** What the chains of one invocation share. */
interface PairInvocation {
  input: PairCheckpoint;
  settings: PairBackfillSettings;
  s3: Pick<S3Client, "send">;
  /** The windows left when the invocation started. */
  before: Interval[];
  tasks: Task[];
  buffer: EventBuffer;
  reading: PageReading;
  wake: Wakeup;
  /** Aborts every chain when one fails. */
  internal: AbortController;
  filesWritten: number;
}

function startInvocation(input: PairCheckpoint, settings: PairBackfillSettings, deps: PairBackfillDependencies): PairInvocation {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? consoleLogger;
  const stats = { ...input.stats, invocations: input.stats.invocations + 1 };
  const pair = { account: input.account, region: input.region };
  const before = input.remaining.map((entry) => intervalFromIso(entry) as Interval);
  const internal = new AbortController();
  const buffer = eventBuffer();
  const reading: PageReading = {
    cloudTrail: deps.cloudTrail,
    clock,
    stopAt: deps.stopAt,
    limiter: createRateLimiter(settings.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, clock),
    signal: deps.signal === undefined ? internal.signal : AbortSignal.any([deps.signal, internal.signal]),
    random: deps.random ?? Math.random,
    logger,
    pair,
    stats,
    state: { consecutiveThrottles: 0, agedOutWarned: false },
    accept: (task, events, lastPage) => acceptPage(task, events, lastPage, buffer, { stats, logger, pair }),
  };
  const tasks = initialTasks(before, settings.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS);
  return { input, settings, s3: deps.s3, before, tasks, buffer, reading, wake: wakeup(), internal, filesWritten: 0 };
}

/** Writes the file of every window no chain still has to read. */
async function writeCompleteWindows(run: PairInvocation): Promise<void> {
  const { input, reading } = run;
  for (const [windowStart, events] of takeCompleteWindows(run.buffer, run.tasks)) {
    await putLogFile(run.s3, run.settings, { accountId: input.account, region: input.region, windowStart, events }, reading.signal);
    reading.stats.files += 1;
    reading.stats.events += events.size;
    run.filesWritten += 1;
  }
}

/** One chain of requests: reads its task page by page, then takes over another part, until nothing is left. */
async function runChain(run: PairInvocation, id: number): Promise<void> {
  const { reading, tasks } = run;
  let task: Task | undefined = tasks[id];
  if (task !== undefined) {
    task.owner = id;
  }
  for (;;) {
    if (task === undefined || task.finished) {
      if (reading.signal.aborted || reading.clock.now() >= reading.stopAt || !tasks.some((t) => !t.finished)) {
        return;
      }
      task = stealTask(tasks, id);
      if (task === undefined) {
        await run.wake.wait();
        continue;
      }
    }
    const read = await readPage(task, reading);
    run.wake.notify();
    if (!read) {
      return;
    }
    await writeCompleteWindows(run);
  }
}

/** Runs the chains; the first failure aborts the others and is thrown. */
async function runChains(run: PairInvocation, concurrency: number): Promise<void> {
  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, id) =>
      runChain(run, id)
        .catch((error: unknown) => {
          run.internal.abort(error);
          throw error;
        })
        .finally(() => run.wake.notify()),
    ),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failure !== undefined) {
    throw failure.reason;
  }
}

/** The invocation's output: the pair's totals when nothing is left, else a checkpoint; throws when it stalled too long. */
function invocationResult(run: PairInvocation, metrics: MetricSink | undefined): PairCheckpoint | PairDone {
  const { input, reading } = run;
  const { stats, pair } = reading;
  const remaining = unreadRanges(run.tasks);
  for (const windowStart of run.buffer.pending.keys()) {
    if (!remaining.some(([start, end]) => windowStart >= start && windowStart < end)) {
      throw namedError("BackfillInternalError", `window ${new Date(windowStart).toISOString()} holds events but is neither written nor remaining`);
    }
  }
  const progressed = run.filesWritten > 0 || totalLength(remaining) < totalLength(run.before);
  const stalled = progressed ? 0 : input.stalled + 1;
  metrics?.count("LookupEventsThrottled", stats.throttled - input.stats.throttled);
  reading.logger.info("backfill invocation finished", {
    ...pair,
    windowsLeft: windowCount(remaining),
    files: run.filesWritten,
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

/**
 * Backfills one pair until it is done or the clock reaches `deps.stopAt`. Returns the pair's totals when every
 * window has been written, otherwise a checkpoint to pass to the next invocation. Throws when the invocation fails;
 * the caller then retries with the previous checkpoint (files written meanwhile are overwritten with the same bytes).
 */
export async function backfillPair(input: PairCheckpoint, settings: PairBackfillSettings, deps: PairBackfillDependencies): Promise<PairCheckpoint | PairDone> {
  const run = startInvocation(input, settings, deps);
  await runChains(run, settings.concurrentRequests ?? DEFAULT_CONCURRENT_REQUESTS);
  await writeCompleteWindows(run);
  return invocationResult(run, deps.metrics);
}

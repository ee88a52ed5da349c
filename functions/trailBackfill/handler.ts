/**
 * TrailBackfill's function: re-fetches CloudTrail management events with `LookupEvents` for one account-region pair
 * at a time and writes them to S3 as native CloudTrail log files, one per 5 minutes of event time.
 *
 * One function serves the three steps of the state machine:
 * - `plan` ({@link planBackfill}): validates `{ accounts, regions, startTime, endTime }`, widens the range to whole
 *   5-minute windows and lists one item per account-region pair;
 * - `fetch` ({@link backfillPair}): backfills one pair until shortly before the invocation's deadline and returns a
 *   checkpoint that the next invocation resumes from; the last one returns the pair's totals;
 * - `summarize` ({@link summarizeBackfill}): turns the pairs' results into the execution output.
 */
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";

import { assertIsError, consoleLogger, embeddedMetricSink, namedError, systemClock } from "../shared/runtime";
import { isObject, shown } from "../shared/values";
import { decodePairInput, type PairCheckpoint, type PairDone } from "./checkpoint";
import { readerCloudTrailClients } from "./credentials";
import { backfillPair, type PairBackfillDependencies, type PairBackfillSettings } from "./pairBackfill";
import { type BackfillPlan, planBackfill } from "./request";
import { fromEnvironment } from "./settings";
import { type BackfillSummary, summarizeBackfill } from "./summary";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** How long before Lambda's deadline an invocation stops sending requests, to finish writing and return. */
export const INVOCATION_SAFETY_MS = 120_000;
/** Errors the state machine does not retry: retrying cannot fix them. */
export const NON_RETRYABLE_ERRORS = ["InvalidBackfillInputError", "ReaderRoleAccessDeniedError", "LookupEventsAccessDeniedError", "NoProgressError"] as const;

/** The payloads the state machine sends. */
export type BackfillEvent =
  | { action: "plan"; input: unknown; readerRoleArns: Record<string, string> }
  | { action: "fetch"; checkpoint: unknown }
  | { action: "summarize"; plan: unknown; results: unknown };

/** What one step returns. */
export type BackfillStepResult = BackfillPlan | PairCheckpoint | PairDone | BackfillSummary;

/** What the handler works with besides the event and its settings; the callback factory builds it once per cold start. */
export interface BackfillHandlerDependencies extends Omit<PairBackfillDependencies, "cloudTrail" | "stopAt"> {
  /** A LookupEvents client with the reader role's credentials; rejects when the role cannot be assumed. */
  cloudTrailFor(roleArn: string, region: string): Promise<Pick<CloudTrailClient, "send">>;
  /** Milliseconds this invocation may still run (Lambda's `context.getRemainingTimeInMillis()`). */
  remainingTimeInMillis: number;
  /** Stop sending requests this long before the invocation's deadline. @default 120000 */
  safetyMarginMs?: number;
}

/** Only the reader role ARNs that are strings: the state machine passes what the component put in its definition. */
function readerRoleArnsOf(value: unknown): Record<string, string> {
  const roles = isObject(value) ? value : {};
  return Object.fromEntries(Object.entries(roles).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** Runs one state machine step. */
export async function handleBackfillEvent(event: unknown, settings: PairBackfillSettings, deps: BackfillHandlerDependencies): Promise<BackfillStepResult> {
  const clock = deps.clock ?? systemClock;
  if (!isObject(event) || typeof event.action !== "string") {
    throw namedError("InvalidBackfillInputError", `expected { action: "plan" | "fetch" | "summarize", ... }, got ${shown(event, 120)}`);
  }
  switch (event.action) {
    case "plan":
      return planBackfill(event.input, { now: clock.now(), readerRoleArns: readerRoleArnsOf(event.readerRoleArns) });
    case "fetch": {
      const checkpoint = decodePairInput(event.checkpoint);
      const cloudTrail = await deps.cloudTrailFor(checkpoint.roleArn, checkpoint.region);
      const stopAt = clock.now() + deps.remainingTimeInMillis - (deps.safetyMarginMs ?? INVOCATION_SAFETY_MS);
      return backfillPair(checkpoint, settings, { ...deps, cloudTrail, stopAt });
    }
    case "summarize": {
      const summary = summarizeBackfill(event.plan, event.results);
      deps.metrics?.count("BackfillFailedPairs", summary.failed.length);
      (deps.logger ?? consoleLogger).info("backfill finished", { pairs: summary.pairs, failed: summary.failed.length, ...summary.totals });
      return summary;
    }
    default:
      throw namedError("InvalidBackfillInputError", `unknown action ${shown(event.action, 120)}; expected plan, fetch or summarize`);
  }
}

/**
 * The Lambda callback: reads its settings from the environment, builds SDK clients once per cold start and
 * dispatches each state machine step to {@link handleBackfillEvent}.
 */
export function trailBackfillCallbackFactory(): (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown> {
  const settings = fromEnvironment();
  // The bucket may be in another region (an adopted trail bucket): follow S3's redirect.
  const s3 = new S3Client({ followRegionRedirects: true });
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "trail-backfill");
  const cloudTrailFor = readerCloudTrailClients(new STSClient({}), settings.externalId);

  return async (event, context) => {
    try {
      return await handleBackfillEvent(event, settings, { cloudTrailFor, s3, metrics, remainingTimeInMillis: context.getRemainingTimeInMillis() });
    } catch (error) {
      assertIsError(error);
      const pair = isObject(event) && isObject(event.checkpoint) ? { account: event.checkpoint.account, region: event.checkpoint.region } : {};
      consoleLogger.error("backfill step failed", { action: isObject(event) ? event.action : undefined, ...pair, error: error.name, errorMessage: error.message, stack: error.stack });
      throw error;
    }
  };
}

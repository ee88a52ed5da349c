/** The `summarize` step: the pairs' results turned into the execution output (pairs done and failed, with totals). */
import { isObject } from "../shared/values";
import type { PairDone } from "./checkpoint";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

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

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** One pair's result as the Map returned it: done with its counters, or failed with the error caught. */
function pairResult(result: unknown): { done: BackfillSummary["done"][number] } | { failed: BackfillSummary["failed"][number] } {
  const r = isObject(result) ? result : {};
  const account = typeof r.account === "string" ? r.account : "unknown";
  const region = typeof r.region === "string" ? r.region : "unknown";
  if (r.status === "DONE") {
    const { invocations, requests, throttled, events, files, rejected } = r;
    return { done: { account, region, invocations: count(invocations), requests: count(requests), throttled: count(throttled), events: count(events), files: count(files), rejected: count(rejected) } };
  }
  // A child execution that failed outside the catch (tolerated by the Map) has no status: report it as failed.
  return { failed: { account, region, error: typeof r.error === "string" ? r.error : typeof r.Error === "string" ? r.Error : "ChildExecutionFailed" } };
}

/** Sorts the pairs' results into done and failed and adds up the totals. */
export function summarizeBackfill(plan: unknown, results: unknown): BackfillSummary {
  const p = isObject(plan) ? plan : {};
  const requested = isObject(p.requested) ? p.requested : {};
  const list = Array.isArray(results) ? (results as unknown[]) : [];
  const done: BackfillSummary["done"] = [];
  const failed: BackfillSummary["failed"] = [];
  for (const result of list.map(pairResult)) {
    if ("done" in result) {
      done.push(result.done);
    } else {
      failed.push(result.failed);
    }
  }
  const sum = (key: "events" | "files" | "requests" | "throttled") => done.reduce((total, d) => total + d[key], 0);
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

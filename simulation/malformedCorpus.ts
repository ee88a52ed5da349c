/**
 * The malformed-input corpus (tests/fixtures/malformed/, written by scripts/makeMalformedCorpus.ts): one JSON file per
 * case, holding the payload exactly as a handler receives it and, per handler that could receive it, what that
 * handler must do with it. The settings every handler runs the corpus with are defined here, next to the case type,
 * so that the script and the tests agree on them.
 */
import * as fs from "fs";
import * as path from "path";

import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import type { ActivityCriteria } from "../functions/userActivity/criteria";

export const MALFORMED_DIRECTORY = path.join(__dirname, "..", "tests", "fixtures", "malformed");

/** The handlers a case can be fed to. */
export type CorpusHandler = "download" | "userActivity" | "dispatcher" | "backfill";

/** How an invocation must end. */
export type CorpusInvocation = "succeeded" | "failed on purpose";

/** What one record handler (download, user activity) must do with a case. */
export interface RecordHandlerExpectation {
  /** Event IDs fully processed (an alert or notification sent for each), in any order. */
  processed: string[];
  /** Each rejected payload or record's reason, as a prefix (JSON.parse messages differ between Node.js versions). */
  rejected: string[];
  invocation: CorpusInvocation;
  /** True for a CloudWatch Logs health check (skipped, nothing rejected). */
  control?: boolean;
}

/** What the dispatcher must do: forward exactly these event IDs to each consumer. */
export interface DispatcherExpectation {
  forwarded: Record<string, string[]>;
  rejected: string[];
  invocation: CorpusInvocation;
}

/** What the backfill must do with an execution input or a fetch payload. */
export interface BackfillExpectation {
  /** The error the step fails with; the state machine must not retry it. */
  error: string;
  /** The problems the error names, exactly. */
  rejected: string[];
  invocation: CorpusInvocation;
}

/** A payload the test builds itself (too large to commit). */
export interface BuiltPayload {
  kind: "megabyteBatch";
  /** Bytes of incompressible text each large record carries. */
  bytes: number;
  /** Event IDs of the large records. */
  download: string;
  activity: string;
}

export interface MalformedCase {
  /** File name without `.json`. */
  name: string;
  description: string;
  /** The payload as the handler receives it: a Lambda event, or for the backfill a state machine step's payload. */
  payload?: unknown;
  build?: BuiltPayload;
  expected: {
    download?: RecordHandlerExpectation;
    userActivity?: RecordHandlerExpectation;
    dispatcher?: DispatcherExpectation;
    backfill?: BackfillExpectation;
  };
}

/** The download handler's watches: the whole bucket `confidential-reports`, and exact keys in `exact-keys`. */
export const CORPUS_WATCHES: WatchedObject[] = [
  { bucket: "confidential-reports", keyPrefix: "", threshold: 1 },
  { bucket: "exact-keys", key: "café.pdf".normalize("NFC"), threshold: 1 },
  { bucket: "exact-keys", key: "e\u0301clair.pdf", threshold: 1 },
  { bucket: "exact-keys", key: "a+b.pdf", threshold: 1 },
  { bucket: "exact-keys", key: "a%20b.pdf", threshold: 1 },
  { bucket: "exact-keys", key: "reports/q*.pdf", threshold: 1 },
  { bucket: "exact-keys", key: "invoice.pdf", threshold: 1 },
];

/** The notifier's criteria: activity of these users (exact names, compared as CloudTrail writes them). */
export const CORPUS_CRITERIA: ActivityCriteria = {
  userNames: ["hogehoge", "山田太郎", "José".normalize("NFC"), "🦊 fox", "admin", `o'brien "q" \\ back`],
};

/** The dispatcher's consumers. */
export const DOWNLOAD_ROUTE = "download-alerts";
export const ACTIVITY_ROUTE = "user-activity";

/** Accounts with a reader role in the backfill cases, and the clock they run at. */
export const CORPUS_READER_ROLES: Record<string, string> = {
  "111111111111": "arn:aws:iam::111111111111:role/reader",
  "222222222222": "arn:aws:iam::222222222222:role/reader",
};
export const CORPUS_BACKFILL_NOW = Date.parse("2024-06-01T00:00:00Z");

/** Every case of the corpus, sorted by name. */
export function malformedCorpus(): MalformedCase[] {
  return fs
    .readdirSync(MALFORMED_DIRECTORY)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ name: file.slice(0, -".json".length), ...(JSON.parse(fs.readFileSync(path.join(MALFORMED_DIRECTORY, file), "utf8")) as Omit<MalformedCase, "name">) }));
}

/**
 * The download threshold function's settings and their environment contract, in both directions: the component
 * writes them with {@link toEnvironment}, the handler reads them at cold start with {@link fromEnvironment}. The
 * variable names are spelled here only.
 */
import { ALERT_TOPIC_ARN_VARIABLE, environmentReader, type EnvironmentReader, type EnvironmentValue } from "../shared/environment";
import { formatLocalTime, type Language } from "../shared/readableEvent";
import { resetScheduleProblem, type ResetSchedule } from "./countingWindow";
import { watchesProblems, type WatchedObject } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** `every`: alert on each download past the threshold (as the FilterLogEvents re-count of docs/sourceArticles.md did). `once`: once per object and window. */
export type NotifyMode = "every" | "once";

/** Languages of alert bodies (subjects are always ASCII English). */
export type AlertLanguage = Language;

/**
 * The settings the function's environment carries. `V` is the type of a value known only on deployment (a Pulumi
 * `Output<string>` for the table or log group name); the handler reads plain strings.
 */
export interface DeployedDownloadThresholdSettings<V = never> {
  watches: WatchedObject[];
  reset: ResetSchedule;
  notify: NotifyMode;
  counter: { kind: "dynamodb"; tableName: EnvironmentValue<V> } | { kind: "logs"; logGroupName: EnvironmentValue<V> };
  language: AlertLanguage;
  /** IANA time zone alert bodies show times in. */
  timeZone: string;
}

/** Everything the handler needs: the deployed settings, the alert topic, and a time limit that tests and benchmarks set. */
export interface DownloadThresholdSettings extends DeployedDownloadThresholdSettings {
  counter: { kind: "dynamodb"; tableName: string } | { kind: "logs"; logGroupName: string };
  topicArn: string;
  /**
   * Longest time one invocation may spend waiting out throttling (logs counter) when the handler is called without a
   * Lambda context; in Lambda the function's remaining time minus 5 s applies. @default 240000
   */
  timeBudgetMs?: number;
}

const VARIABLES = {
  watches: "WATCHED_OBJECTS",
  resetSchedule: "RESET_SCHEDULE",
  resetTimeZone: "RESET_TIME_ZONE",
  notify: "NOTIFY",
  counter: "COUNTER",
  tableName: "COUNTS_TABLE_NAME",
  logGroupName: "TRAIL_LOG_GROUP_NAME",
  language: "ALERT_LANGUAGE",
  timeZone: "ALERT_TIME_ZONE",
} as const;

/**
 * The function's environment variables for `settings` (the alert topic's variable is set by SecureCallbackFunction).
 * Watches are written with their four fields only, in a fixed order.
 */
export function toEnvironment<V = never>(settings: DeployedDownloadThresholdSettings<V>): Record<string, EnvironmentValue<V>> {
  const { watches, reset, notify, counter, language, timeZone } = settings;
  return {
    [VARIABLES.watches]: JSON.stringify(watches.map(({ bucket, key, keyPrefix, threshold }) => (key !== undefined ? { bucket, key, threshold } : { bucket, keyPrefix, threshold }))),
    [VARIABLES.resetSchedule]: reset.schedule,
    [VARIABLES.resetTimeZone]: reset.timeZone,
    [VARIABLES.notify]: notify,
    [VARIABLES.counter]: counter.kind,
    ...(counter.kind === "dynamodb" ? { [VARIABLES.tableName]: counter.tableName } : { [VARIABLES.logGroupName]: counter.logGroupName }),
    [VARIABLES.language]: language,
    [VARIABLES.timeZone]: timeZone,
  };
}

/**
 * Reads and checks the settings at cold start; throws `InvalidEnvironmentError` naming the variable when one is
 * missing or invalid.
 */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): DownloadThresholdSettings {
  const read = environmentReader(env);
  const watches = read.json<WatchedObject[]>(VARIABLES.watches, (value) => watchesProblems(value));
  const schedule = read.required(VARIABLES.resetSchedule);
  const reset = { schedule, timeZone: timeZoneFrom(read, VARIABLES.resetTimeZone) };
  const problem = resetScheduleProblem(reset);
  if (problem !== undefined) {
    throw read.invalid(VARIABLES.resetSchedule, problem);
  }
  const notify = read.oneOf(VARIABLES.notify, ["every", "once"]);
  const language = read.oneOf(VARIABLES.language, ["ja", "en"]);
  const counterKind = read.oneOf(VARIABLES.counter, ["dynamodb", "logs"]);
  const timeZone = timeZoneFrom(read, VARIABLES.timeZone);
  return {
    watches,
    reset,
    notify,
    counter: counterKind === "dynamodb" ? { kind: "dynamodb", tableName: read.required(VARIABLES.tableName) } : { kind: "logs", logGroupName: read.required(VARIABLES.logGroupName) },
    topicArn: read.required(ALERT_TOPIC_ARN_VARIABLE),
    language,
    timeZone,
  };
}

/** A required variable that holds an IANA time zone the runtime can format dates in. */
function timeZoneFrom(read: EnvironmentReader, name: string): string {
  const timeZone = read.required(name);
  try {
    formatLocalTime(new Date(0), timeZone);
  } catch {
    throw read.invalid(name, "an IANA time zone such as Asia/Tokyo");
  }
  return timeZone;
}

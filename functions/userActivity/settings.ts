/**
 * The UserActivityNotifier function's environment contract, in both directions: {@link toEnvironment}, which the
 * component calls at deploy time, and {@link fromEnvironment}, which the handler calls at cold start. The variable
 * names are spelled here only.
 */
import type { BurstSettings } from "./bursts";
import { type ActivityCriteria, activityCriteriaProblems } from "./criteria";
import type { FormatOptions } from "./format";
import { ALERT_TOPIC_ARN_VARIABLE, environmentReader, type EnvironmentValue } from "../shared/environment";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/**
 * Everything the handler is configured with. `V` is the type of a value known only on deployment (a Pulumi
 * `Output<string>` in the component); the handler's settings have none.
 */
export interface UserActivitySettings<V = never> extends FormatOptions {
  /** The alert topic notifications are published to (set by the function's `alertTopic`, not by {@link toEnvironment}). */
  topicArn: string;
  criteria: ActivityCriteria;
  /** Also send the Amazon Q Developer custom notification to HTTPS subscribers. */
  chatNotifications: boolean;
  /** The DynamoDB table of the sent journal; without it, notifications are at least once. */
  sentTableName?: EnvironmentValue<V>;
  /** Burst grouping (its state is kept in the sent journal's table); undefined: every matching event is sent. */
  burst?: BurstSettings;
}

/** The limits burst settings must keep: a window of 1 minute to 1 hour, 1 to 10,000 messages an hour. */
export const BURST_LIMITS = { windowSeconds: [60, 3600], maxMessagesPerHour: [1, 10_000] } as const;

/** True when `value` is a whole number within the limits of `setting`. */
export function isBurstSetting(setting: keyof typeof BURST_LIMITS, value: unknown): boolean {
  const [min, max] = BURST_LIMITS[setting];
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Problems of a notifier's `grouping` setting given as plain data (component argument or stack config): `false`, or
 * `{ windowSeconds?, maxMessagesPerHour? }` within {@link BURST_LIMITS}; grouping needs the table of `deduplicate`.
 */
export function groupingProblems(value: unknown, path: string, deduplicate: boolean): string[] {
  if (value === undefined || value === false) {
    return [];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${path} must be false or { windowSeconds, maxMessagesPerHour }, got ${JSON.stringify(value)}`];
  }
  const problems: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (key !== "windowSeconds" && key !== "maxMessagesPerHour") {
      problems.push(`${path}.${key} is not a known setting (expected windowSeconds, maxMessagesPerHour)`);
    } else if (!isBurstSetting(key, item)) {
      problems.push(`${path}.${key} must be a whole number from ${BURST_LIMITS[key][0]} to ${BURST_LIMITS[key][1]}, got ${JSON.stringify(item)}`);
    }
  }
  if (!deduplicate) {
    problems.push(`${path} keeps its state in the sent journal's table, which deduplicate: false does not create; remove one of them`);
  }
  return problems;
}

/** The variables, named once. */
const VARIABLES = {
  timeZone: "ACTIVITY_TIME_ZONE",
  language: "ACTIVITY_LANGUAGE",
  criteria: "ACTIVITY_CRITERIA",
  chatNotifications: "ACTIVITY_CHAT_NOTIFICATIONS",
  /** Optional: the sent journal's table. */
  sentTableName: "ACTIVITY_SENT_TABLE",
  /** Optional, with the table: burst grouping on, and its window. */
  burstWindowSeconds: "ACTIVITY_BURST_WINDOW_SECONDS",
  /** Optional: the hourly message cap of burst grouping. */
  burstMaxMessagesPerHour: "ACTIVITY_BURST_MAX_MESSAGES_PER_HOUR",
} as const;

/**
 * The function's environment for `settings`. The alert topic's variable is left out: the function's
 * `SecureCallbackFunction` sets it from its `alertTopic`.
 */
export function toEnvironment<V>(settings: Omit<UserActivitySettings<V>, "topicArn">): Record<string, EnvironmentValue<V>> {
  return {
    [VARIABLES.timeZone]: settings.timeZone,
    [VARIABLES.language]: settings.language,
    [VARIABLES.criteria]: JSON.stringify(settings.criteria),
    [VARIABLES.chatNotifications]: String(settings.chatNotifications),
    ...(settings.sentTableName === undefined ? {} : { [VARIABLES.sentTableName]: settings.sentTableName }),
    ...(settings.burst === undefined
      ? {}
      : { [VARIABLES.burstWindowSeconds]: String(settings.burst.windowSeconds), [VARIABLES.burstMaxMessagesPerHour]: String(settings.burst.maxMessagesPerHour) }),
  };
}

/** Burst settings from the environment; undefined when grouping is off (no window given). */
function burstFromEnvironment(reader: ReturnType<typeof environmentReader>, sentTableName: string | undefined): BurstSettings | undefined {
  if (reader.optional(VARIABLES.burstWindowSeconds) === undefined) {
    return undefined;
  }
  if (sentTableName === undefined) {
    throw reader.invalid(VARIABLES.burstWindowSeconds, `unset without ${VARIABLES.sentTableName} (burst grouping keeps its state in that table)`);
  }
  const whole = (setting: keyof typeof BURST_LIMITS) => `a whole number from ${BURST_LIMITS[setting][0]} to ${BURST_LIMITS[setting][1]}`;
  return {
    windowSeconds: reader.number(VARIABLES.burstWindowSeconds, 0, (v) => isBurstSetting("windowSeconds", v), whole("windowSeconds")),
    maxMessagesPerHour: reader.number(VARIABLES.burstMaxMessagesPerHour, 100, (v) => isBurstSetting("maxMessagesPerHour", v), whole("maxMessagesPerHour")),
  };
}

/** True when `timeZone` is an IANA time zone this runtime knows. */
function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks the handler's settings; throws InvalidEnvironmentError naming the variable at cold start. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): UserActivitySettings {
  const reader = environmentReader(env);
  const timeZone = reader.required(VARIABLES.timeZone);
  if (!isTimeZone(timeZone)) {
    throw reader.invalid(VARIABLES.timeZone, "an IANA time zone");
  }
  const language = reader.oneOf(VARIABLES.language, ["ja", "en"]);
  const criteria = reader.json<ActivityCriteria>(VARIABLES.criteria, (value) => activityCriteriaProblems(value, VARIABLES.criteria));
  const chatNotifications = reader.boolean(VARIABLES.chatNotifications, false);
  const sentTableName = reader.optional(VARIABLES.sentTableName);
  const burst = burstFromEnvironment(reader, sentTableName);
  return {
    topicArn: reader.required(ALERT_TOPIC_ARN_VARIABLE),
    timeZone,
    language,
    criteria,
    chatNotifications,
    ...(sentTableName === undefined ? {} : { sentTableName }),
    ...(burst === undefined ? {} : { burst }),
  };
}

/**
 * The UserActivityNotifier function's environment contract, in both directions: {@link toEnvironment}, which the
 * component calls at deploy time, and {@link fromEnvironment}, which the handler calls at cold start. The variable
 * names are spelled here only.
 */
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
}

/** The variables, named once. */
const VARIABLES = {
  timeZone: "ACTIVITY_TIME_ZONE",
  language: "ACTIVITY_LANGUAGE",
  criteria: "ACTIVITY_CRITERIA",
  chatNotifications: "ACTIVITY_CHAT_NOTIFICATIONS",
  /** Optional: the sent journal's table. */
  sentTableName: "ACTIVITY_SENT_TABLE",
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
  return {
    topicArn: reader.required(ALERT_TOPIC_ARN_VARIABLE),
    timeZone,
    language,
    criteria,
    chatNotifications,
    ...(sentTableName === undefined ? {} : { sentTableName }),
  };
}

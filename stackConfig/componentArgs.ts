/**
 * The stack config as CloudTrailAlerts' arguments, and back: the stack program reads the `cloudtrail-alerts:` keys
 * into the component's arguments, and the component turns its arguments back into config strings, which the stack
 * config's own readers check. A value survives the round trip exactly as written, so that a stack config and the same
 * arguments are checked by one set of rules, with one set of messages.
 */
import type { CloudTrailAlertsArgs } from "../components/cloudTrailAlerts";
import { PROJECT, pulumiRawConfig, type RawConfig } from "./reader";

/** Every key of the stack config in the project's namespace, each an argument of CloudTrailAlerts. */
const KEYS: Record<keyof CloudTrailAlertsArgs, true> = {
  timeZone: true,
  language: true,
  alertEmails: true,
  existingAlertTopicArn: true,
  existingTrailLogGroupName: true,
  trailLogRetentionInDays: true,
  bucketCreationAlarm: true,
  bucketCreationEventNames: true,
  securityAlarms: true,
  functionLogRetentionInDays: true,
  downloadAlerts: true,
  userActivityNotifiers: true,
  backfill: true,
};

/** The `cloudtrail-alerts:` config keys (Pulumi.yaml declares these), which are CloudTrailAlerts' argument names. */
export const CONFIG_KEYS = Object.keys(KEYS) as ReadonlyArray<keyof CloudTrailAlertsArgs>;

/**
 * A config string as a value: structured config (objects, lists) parsed; a number or boolean parsed only when it reads
 * back as the same text; anything else (every string) as written. So {@link configText} gives back the text.
 */
export function configValue(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof parsed === "number" || typeof parsed === "boolean") {
    return String(parsed) === text ? parsed : text;
  }
  // Objects, lists and null; a JSON string stays the text it was written as.
  return typeof parsed === "string" ? text : parsed;
}

/** A value as config text, as Pulumi passes config to a program: a string as written, anything else as JSON. */
export function configText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The stack's `cloudtrail-alerts:` keys as CloudTrailAlerts' arguments, unchecked (the component checks them, naming
 * the key). Keys the stack does not set are left out, so the component applies the same defaults as Pulumi.yaml.
 */
export function configArgs(raw: RawConfig = pulumiRawConfig()): CloudTrailAlertsArgs {
  const args: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const text = raw(`${PROJECT}:${key}`);
    if (text !== undefined) {
      args[key] = configValue(text);
    }
  }
  return args;
}

/** CloudTrailAlerts' arguments as the stack config they stand for; keys outside the project's namespace from `other`. */
export function argsRawConfig(args: CloudTrailAlertsArgs, other: RawConfig = pulumiRawConfig()): RawConfig {
  const values = args as Record<string, unknown>;
  return (key) => {
    const [namespace, name] = key.split(":", 2);
    if (namespace !== PROJECT || name === undefined) {
      return other(key);
    }
    const value = values[name];
    return value === undefined ? undefined : configText(value);
  };
}

import { checkDownloadAlertSettings, type DownloadAlertSettingsArgs } from "../components/downloadThresholdAlert";
import type { Language } from "../functions/shared/readableEvent";
import { shown } from "../functions/shared/values";
import { type ConfigReader, firstProblemThrows, PROJECT, StackConfigError } from "./reader";

const DOWNLOAD_ALERT_FIELDS = ["watches", "reset", "notify", "source", "counter"];

/**
 * `cloudtrail-alerts:downloadAlerts`: `{ watches, reset, notify, source, counter }`, checked by the component's own
 * rules; the first problem is reported as one line naming the full path, e.g.
 * `cloudtrail-alerts:downloadAlerts.watches[0].threshold`. Alerts use the stack's language and time zone, and the reset
 * defaults to the stack's time zone. Undefined when no object is watched.
 */
export function readDownloadAlerts(
  read: ConfigReader,
  stack: { timeZone: string; language: Language; functionLogRetentionInDays: number },
): DownloadAlertSettingsArgs | undefined {
  const key = `${PROJECT}:downloadAlerts`;
  const value = read.json(key, { watches: [] });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackConfigError(key, `${key} must be an object { watches, reset, notify, source, counter }, got ${shown(value)}`);
  }
  const settings = value as Record<string, unknown>;
  for (const field of Object.keys(settings)) {
    if (!DOWNLOAD_ALERT_FIELDS.includes(field)) {
      throw new StackConfigError(`${key}.${field}`, `${key} has unknown field ${JSON.stringify(field)}; expected ${DOWNLOAD_ALERT_FIELDS.join(", ")}`);
    }
  }
  if (Array.isArray(settings.watches) && settings.watches.length === 0) {
    return undefined;
  }
  // Source "logs" reads the trail's log group through the stack's one LogSubscriptionDispatcher (see index.ts).
  checkDownloadAlertSettings(settings, firstProblemThrows(key), "dispatcher");
  const checked = settings as unknown as DownloadAlertSettingsArgs;
  return {
    ...checked,
    reset: { ...checked.reset, timeZone: checked.reset?.timeZone ?? stack.timeZone },
    language: stack.language,
    timeZone: stack.timeZone,
    logRetentionInDays: stack.functionLogRetentionInDays,
  };
}

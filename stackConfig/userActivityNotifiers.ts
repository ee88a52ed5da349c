import type { BurstSettings } from "../functions/userActivity/bursts";
import { type ActivityCriteria, ACTIVITY_CRITERIA_KEYS, activityCriteriaProblems } from "../functions/userActivity/criteria";
import { groupingProblems } from "../functions/userActivity/settings";
import type { Language } from "../functions/shared/readableEvent";
import { shown } from "../functions/shared/values";
import { isRegion, isTimeZone } from "../components/validation";
import { type ConfigReader, PROJECT, StackConfigError } from "./reader";

/** One entry of `userActivityNotifiers`, defaults applied. */
export interface UserActivityNotifierConfig {
  /** The entry's key: a stable name; the component is named `activity-<name>`. */
  name: string;
  criteria: ActivityCriteria;
  /** `eventbridge` (rules per Region) or `logs` (the trail's log group, through the stack's shared dispatcher). */
  source: "eventbridge" | "logs";
  /** Regions of the eventbridge source; undefined for its default (the stack's Region and us-east-1). */
  regions?: string[];
  timeZone: string;
  language: Language;
  chatNotifications: boolean;
  /** Keep a journal of sent notifications so that retries notify each event once (the component's `deduplicate`). */
  deduplicate: boolean;
  /** Burst grouping (the component's `grouping`); undefined for its default. */
  grouping?: false | Partial<BurstSettings>;
}

/** Settings of a `userActivityNotifiers` entry besides its criteria. */
const NOTIFIER_SETTINGS = ["source", "regions", "timeZone", "language", "chatNotifications", "deduplicate", "grouping"] as const;

/** Stable names: they become part of resource names (`activity-<name>-...`), which AWS limits to 64 characters. */
const NOTIFIER_NAME = /^[a-z0-9][a-z0-9-]{0,26}$/;

/**
 * `cloudtrail-alerts:userActivityNotifiers`: an object whose keys are stable notifier names and whose values are
 * criteria (userNames, principalArns, sessionNames, eventSources, eventNames, presets, readOnlyEvents, exclude) plus
 * source, regions, timeZone, language, chatNotifications, deduplicate and grouping. Errors name the full key path and
 * the value.
 */
export function readUserActivityNotifiers(read: ConfigReader, defaults: { timeZone: string; language: Language }): UserActivityNotifierConfig[] {
  const key = `${PROJECT}:userActivityNotifiers`;
  const value = read.json(key, {});
  const fail = (path: string, message: string): never => {
    throw new StackConfigError(key, `${path} ${message}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(key, `must be an object of notifiers by name, got ${shown(value)}`);
  }
  return Object.entries(value as Record<string, unknown>).map(([name, entry]) => {
    const path = `${key}.${name}`;
    if (!NOTIFIER_NAME.test(name)) {
      fail(path, `is not a valid notifier name: use 1-27 lowercase letters, digits or '-', starting with a letter or digit (got ${shown(name)})`);
    }
    const problems = activityCriteriaProblems(entry, path, NOTIFIER_SETTINGS);
    if (problems.length > 0) {
      throw new StackConfigError(key, problems.join("; "));
    }
    return { name, criteria: criteriaOf(entry as Record<string, unknown>), ...notifierSettings(entry as Record<string, unknown>, path, defaults, fail) };
  });
}

/** The entry's criteria: its fields that are criteria keys (which activityCriteriaProblems has checked). */
function criteriaOf(settings: Record<string, unknown>): ActivityCriteria {
  return Object.fromEntries(ACTIVITY_CRITERIA_KEYS.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
}

/** The entry's settings besides its criteria, defaults applied; `fail` throws naming `path` and the field. */
function notifierSettings(
  settings: Record<string, unknown>,
  path: string,
  defaults: { timeZone: string; language: Language },
  fail: (path: string, message: string) => never,
): Omit<UserActivityNotifierConfig, "name" | "criteria"> {
  const source = settings.source ?? "eventbridge";
  if (source !== "eventbridge" && source !== "logs") {
    fail(`${path}.source`, `must be "eventbridge" or "logs", got ${shown(source)}`);
  }
  const regions = settings.regions;
  if (regions !== undefined) {
    if (source !== "eventbridge") {
      fail(`${path}.regions`, `applies only to source "eventbridge", got ${shown(regions)} with source ${shown(source)}`);
    }
    if (!Array.isArray(regions) || regions.length === 0) {
      fail(`${path}.regions`, `must be a non-empty list of regions, got ${shown(regions)}`);
    }
    (regions as unknown[]).forEach((region, i) => {
      if (!isRegion(region)) fail(`${path}.regions[${i}]`, `must be an AWS region such as us-east-1, got ${shown(region)}`);
    });
  }
  const timeZone = settings.timeZone ?? defaults.timeZone;
  if (!isTimeZone(timeZone)) {
    fail(`${path}.timeZone`, `must be an IANA time zone such as Asia/Tokyo, got ${shown(timeZone)}`);
  }
  const language = settings.language ?? defaults.language;
  if (language !== "ja" && language !== "en") {
    fail(`${path}.language`, `must be "ja" or "en", got ${shown(language)}`);
  }
  const chatNotifications = settings.chatNotifications ?? false;
  if (typeof chatNotifications !== "boolean") {
    fail(`${path}.chatNotifications`, `must be true or false, got ${shown(chatNotifications)}`);
  }
  const deduplicate = settings.deduplicate ?? true;
  if (typeof deduplicate !== "boolean") {
    fail(`${path}.deduplicate`, `must be true or false, got ${shown(deduplicate)}`);
  }
  const grouping = settings.grouping;
  const [groupingProblem] = groupingProblems(grouping, `${path}.grouping`, deduplicate);
  if (groupingProblem !== undefined) {
    throw new StackConfigError(`${PROJECT}:userActivityNotifiers`, groupingProblem);
  }
  return {
    source,
    ...(regions === undefined ? {} : { regions: regions as string[] }),
    timeZone: timeZone as string,
    language,
    chatNotifications,
    deduplicate,
    ...(grouping === undefined ? {} : { grouping: grouping as false | Partial<BurstSettings> }),
  };
}

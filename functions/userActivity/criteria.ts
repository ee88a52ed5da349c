/**
 * Which CloudTrail records a UserActivityNotifier reports: who (IAM user names, principal ARNs or ARN prefixes, role
 * session names), what (named presets, event sources, event names), read-only events or not, and exclusions.
 *
 * The same criteria are used twice: turned into a coarse record pattern at deploy time (components/activityPatterns.ts,
 * for the EventBridge rule and the CloudWatch Logs filter pattern, which keep the volume down) and evaluated exactly by
 * {@link activityMatches} in the handler, which decides what is sent. The pattern never drops a record the exact match
 * accepts.
 */
import type { CloudTrailRecord, UserIdentity } from "../shared/cloudtrailEvents";
import { matchesRecordPattern, type RecordPattern } from "../shared/recordPattern";
import {
  type EventSelection,
  NETWORK_CHANGES_SELECTION,
  PERSON_EVENT_TYPES,
  SECURITY_CONTROLS,
  type SecurityControlPresetName,
} from "../shared/securityControls";
import { isObject } from "../shared/values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** A named selection of events (see {@link EventSelection}: sources, names, event types, read-only calls, fields). */
export interface ActivityPreset extends EventSelection {
  description: string;
}

/**
 * The presets of the Security Hub CloudWatch controls (functions/shared/securityControls.ts), each the very selection
 * of its control's metric filter, and `network-changes` for CloudWatch.10 to CloudWatch.14 together.
 */
const SECURITY_CONTROL_PRESETS = Object.fromEntries([
  ...SECURITY_CONTROLS.map((control): [string, ActivityPreset] => [control.preset.name, { description: `Security Hub ${control.id}: ${control.title}`, ...control.preset.selection }]),
  ["network-changes", { description: "Security Hub CloudWatch.10 to CloudWatch.14: security group, network ACL, gateway, route table and VPC changes (EC2)", ...NETWORK_CHANGES_SELECTION }],
]) as Record<SecurityControlPresetName | "network-changes", ActivityPreset>;

/** Presets a user picks by name. */
export const ACTIVITY_PRESETS = {
  "ssm-sessions": {
    description: "Session Manager sessions to instances: StartSession, ResumeSession, TerminateSession",
    eventSources: ["ssm.amazonaws.com"],
    eventNames: ["StartSession", "ResumeSession", "TerminateSession"],
    eventTypes: ["AwsApiCall"],
    readOnly: "never",
  },
  "console-sign-in": {
    description: "AWS Management Console sign-ins, successful and failed, the root user's included",
    eventSources: ["signin.amazonaws.com"],
    eventNames: ["ConsoleLogin"],
    eventTypes: ["AwsConsoleSignIn"],
    readOnly: "never",
  },
  "iam-changes": {
    description: "Every IAM call that changes something (users, roles, policies, groups, keys)",
    eventSources: ["iam.amazonaws.com"],
    eventTypes: ["AwsApiCall"],
    readOnly: "exclude",
  },
  "bucket-creation": {
    description: "S3 CreateBucket: who created which bucket, in which Region",
    eventSources: ["s3.amazonaws.com"],
    eventNames: ["CreateBucket"],
    eventTypes: ["AwsApiCall"],
    readOnly: "never",
  },
  ...SECURITY_CONTROL_PRESETS,
} as const satisfies Record<string, ActivityPreset>;

/** The name of a preset. */
export type ActivityPresetName = keyof typeof ACTIVITY_PRESETS;

/** Names of the presets. */
export const ACTIVITY_PRESET_NAMES = Object.keys(ACTIVITY_PRESETS) as ActivityPresetName[];

/**
 * Each preset's selection as JSON, which the handler reads: a Lambda archive then carries one string per preset
 * instead of every nested object written out by the closure serializer (about 19 KB for the presets).
 */
const PRESET_SELECTIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ACTIVITY_PRESETS).map(([name, preset]: [string, ActivityPreset]) => [name, JSON.stringify({ ...preset, description: undefined })]),
);

/**
 * Who and what. Within a list, any entry matches; the "who" lists together match any of their entries; "who" and
 * "what" must both match when both are given.
 */
export interface ActivitySelector {
  /**
   * IAM user names (`userIdentity.userName`), exact.
   * @default - no user-name condition
   */
  userNames?: string[];
  /**
   * Principal ARNs, exact or a prefix ending in `*`. A role ARN also matches every session of that role (its
   * `sessionIssuer`); an assumed-role ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) matches that session;
   * `arn:aws:iam::<account>:root` matches the root user.
   * See https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
   * @default - no ARN condition
   */
  principalArns?: string[];
  /**
   * Role session names, exact: the user name of IAM Identity Center sessions (often an email address) in any
   * permission set, the session name of any assumed role, or the name of a federated user.
   * @default - no session-name condition
   */
  sessionNames?: string[];
  /**
   * Event sources such as `ssm.amazonaws.com`.
   * @default - any source (of the presets, when presets are given)
   */
  eventSources?: string[];
  /**
   * Event names, exact or a prefix ending in `*` (`Describe*`).
   * @default - any event name of the sources
   */
  eventNames?: string[];
}

/** What a UserActivityNotifier reports: who and what, presets, the read-only filter and exclusions. */
export interface ActivityCriteria extends ActivitySelector {
  /**
   * Named selections of events, each an alternative next to `eventSources`/`eventNames`: `ssm-sessions`,
   * `console-sign-in`, `iam-changes`, `bucket-creation`, and one per Security Hub CloudWatch control (`root-activity`,
   * `unauthorized-calls`, `no-mfa-sign-in`, `trail-changes`, `key-deletion`, ... and `network-changes`), which select
   * what the control's metric filter counts (see {@link ACTIVITY_PRESETS} and docs/securityAlarms.md).
   * @default - none
   */
  presets?: ActivityPresetName[];
  /**
   * `exclude` keeps only calls CloudTrail marks `readOnly: false`, dropping Describe*, Get*, List* and other reads.
   * @default "include"
   */
  readOnlyEvents?: "include" | "exclude";
  /**
   * Calls to ignore: a call is ignored when it matches every list given in one of these selectors, for example
   * `{ principalArns: ["arn:aws:iam::111122223333:role/monitoring"], eventNames: ["Describe*"] }`.
   * @default - none
   */
  exclude?: ActivitySelector[];
}

/** One alternative of what the criteria select: the events of a preset, or the named sources and events. */
export interface WhatBranch {
  eventSources?: readonly string[];
  eventNames?: readonly string[];
  eventTypes: readonly string[];
  /** Further conditions on the record (a preset's `match`). */
  match?: RecordPattern;
  /** Keep only calls CloudTrail marks `readOnly: false`. */
  writeOnly: boolean;
  /** Read-only calls can match: an EventBridge rule must then receive read-only management events. */
  mayBeReadOnly: boolean;
}

/** True when `list` is given and holds at least one entry. */
export function hasAny(list: readonly unknown[] | undefined): list is readonly unknown[] {
  return list !== undefined && list.length > 0;
}

/** The alternatives of what the criteria select (every person-made call when they name none). */
export function whatBranches(criteria: ActivityCriteria): WhatBranch[] {
  const readOnlyExcluded = criteria.readOnlyEvents === "exclude";
  const branches: WhatBranch[] = (criteria.presets ?? []).map((name) => {
    const { eventSources, eventNames, eventTypes, readOnly, match } = JSON.parse(PRESET_SELECTIONS[name]) as EventSelection;
    return {
      ...(eventSources === undefined ? {} : { eventSources }),
      ...(eventNames === undefined ? {} : { eventNames }),
      eventTypes,
      ...(match === undefined ? {} : { match }),
      writeOnly: readOnly === "exclude" || readOnlyExcluded,
      mayBeReadOnly: readOnly === "include" && !readOnlyExcluded,
    };
  });
  if (hasAny(criteria.eventSources) || hasAny(criteria.eventNames)) {
    branches.push({
      ...(hasAny(criteria.eventSources) ? { eventSources: criteria.eventSources } : {}),
      ...(hasAny(criteria.eventNames) ? { eventNames: criteria.eventNames } : {}),
      eventTypes: PERSON_EVENT_TYPES,
      writeOnly: readOnlyExcluded,
      mayBeReadOnly: !readOnlyExcluded,
    });
  }
  if (branches.length === 0) {
    branches.push({ eventTypes: PERSON_EVENT_TYPES, writeOnly: readOnlyExcluded, mayBeReadOnly: !readOnlyExcluded });
  }
  return branches;
}

function nameMatches(value: unknown, names: readonly string[]): boolean {
  return typeof value === "string" && names.some((name) => (name.endsWith("*") ? value.startsWith(name.slice(0, -1)) : value === name));
}

/** The role session name (or federated user name) of an identity, when it has one. */
function sessionNameOf(identity: UserIdentity): string | undefined {
  if (identity.type !== "AssumedRole" && identity.type !== "FederatedUser") {
    return undefined;
  }
  const arn = typeof identity.arn === "string" ? identity.arn : "";
  const slash = arn.lastIndexOf("/");
  return slash < 0 ? undefined : arn.slice(slash + 1);
}

/** Whether the identity is one of the selector's principals; undefined when the selector names no principal. */
function matchesWho(identity: UserIdentity, selector: ActivitySelector): boolean | undefined {
  if (!hasAny(selector.userNames) && !hasAny(selector.principalArns) && !hasAny(selector.sessionNames)) {
    return undefined;
  }
  const issuerArn = identity.sessionContext?.sessionIssuer?.arn;
  const session = sessionNameOf(identity);
  return (
    (selector.userNames ?? []).includes(identity.userName as string) ||
    nameMatches(identity.arn, selector.principalArns ?? []) ||
    nameMatches(issuerArn, selector.principalArns ?? []) ||
    (session !== undefined && (selector.sessionNames ?? []).includes(session))
  );
}

function matchesWhat(record: CloudTrailRecord, selector: ActivitySelector): boolean | undefined {
  if (!hasAny(selector.eventSources) && !hasAny(selector.eventNames)) {
    return undefined;
  }
  return (
    (!hasAny(selector.eventSources) || selector.eventSources.includes(record.eventSource)) &&
    (!hasAny(selector.eventNames) || nameMatches(record.eventName, selector.eventNames))
  );
}

function matchesBranch(record: CloudTrailRecord, branch: WhatBranch): boolean {
  return (
    branch.eventTypes.includes(record.eventType as string) &&
    (!branch.writeOnly || record.readOnly === false) &&
    (branch.eventSources === undefined || branch.eventSources.includes(record.eventSource)) &&
    (branch.eventNames === undefined || nameMatches(record.eventName, branch.eventNames)) &&
    (branch.match === undefined || matchesRecordPattern(record, branch.match))
  );
}

/** Whether one exclusion selector covers the record: every list it gives must match. */
function excludedBy(record: CloudTrailRecord, selector: ActivitySelector): boolean {
  const who = matchesWho(record.userIdentity, selector);
  const what = matchesWhat(record, selector);
  return (who !== undefined || what !== undefined) && who !== false && what !== false;
}

/** True when `record` is one the criteria ask to be told about. Exact; the record patterns only approximate it. */
export function activityMatches(record: CloudTrailRecord, criteria: ActivityCriteria): boolean {
  return (
    (matchesWho(record.userIdentity, criteria) ?? true) &&
    whatBranches(criteria).some((branch) => matchesBranch(record, branch)) &&
    !(criteria.exclude ?? []).some((selector) => excludedBy(record, selector))
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation, shared by the component's validateArgs, the stack config and the handler's settings

const USER_NAME = /^[^\p{Cc}]{1,128}$/u;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[^\s*]+\*?$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EVENT_SOURCE = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/;
const EVENT_NAME = /^[A-Za-z0-9]+\*?$/;

const SELECTOR_LISTS: ReadonlyArray<{ key: keyof ActivitySelector; valid: RegExp; expectation: string }> = [
  { key: "userNames", valid: USER_NAME, expectation: "a user name (1-128 characters, no control characters)" },
  { key: "principalArns", valid: PRINCIPAL_ARN, expectation: "an IAM or STS principal ARN, optionally ending in * for a prefix (arn:aws:iam::111122223333:role/ops-*)" },
  { key: "sessionNames", valid: SESSION_NAME, expectation: "a role session name (2-64 letters, digits or +=,.@_-)" },
  { key: "eventSources", valid: EVENT_SOURCE, expectation: "an event source such as ssm.amazonaws.com" },
  { key: "eventNames", valid: EVENT_NAME, expectation: "an event name such as StartSession, or a prefix ending in * such as Describe*" },
];

function selectorProblems(value: Record<string, unknown>, path: string, allowed: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.push(`${path}.${key} is not a known setting (expected one of ${allowed.join(", ")})`);
    }
  }
  for (const { key, valid, expectation } of SELECTOR_LISTS) {
    const list = value[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push(`${path}.${key} must be a list, got ${JSON.stringify(list)}`);
      continue;
    }
    list.forEach((item: unknown, i) => {
      if (typeof item !== "string" || !valid.test(item)) {
        problems.push(`${path}.${key}[${i}] must be ${expectation}, got ${JSON.stringify(item)}`);
      }
    });
  }
  return problems;
}

const SELECTOR_KEYS = SELECTOR_LISTS.map((s) => s.key);

/** Settings of {@link ActivityCriteria}. */
export const ACTIVITY_CRITERIA_KEYS: readonly string[] = [...SELECTOR_KEYS, "presets", "readOnlyEvents", "exclude"];

/**
 * Problems of criteria given as plain data (from code or stack config), each naming the path and the value received.
 * `extraKeys` are other settings that may sit next to the criteria in the same object.
 */
export function activityCriteriaProblems(value: unknown, path: string, extraKeys: readonly string[] = []): string[] {
  if (!isObject(value)) {
    return [`${path} must be an object, got ${JSON.stringify(value)}`];
  }
  const problems = selectorProblems(value, path, [...ACTIVITY_CRITERIA_KEYS, ...extraKeys]);
  const presets = value.presets;
  if (presets !== undefined) {
    if (!Array.isArray(presets)) {
      problems.push(`${path}.presets must be a list, got ${JSON.stringify(presets)}`);
    } else {
      presets.forEach((preset: unknown, i) => {
        if (typeof preset !== "string" || !(ACTIVITY_PRESET_NAMES as string[]).includes(preset)) {
          problems.push(`${path}.presets[${i}] must be one of ${ACTIVITY_PRESET_NAMES.join(", ")}, got ${JSON.stringify(preset)}`);
        }
      });
    }
  }
  if (value.readOnlyEvents !== undefined && value.readOnlyEvents !== "include" && value.readOnlyEvents !== "exclude") {
    problems.push(`${path}.readOnlyEvents must be "include" or "exclude", got ${JSON.stringify(value.readOnlyEvents)}`);
  }
  const criteria = value as ActivityCriteria;
  const names = [...SELECTOR_KEYS, "presets"] as const;
  if (problems.length === 0 && !names.some((key) => hasAny(criteria[key]))) {
    problems.push(`${path} must name at least one of ${names.join(", ")}; a notifier for every call in the account would flood the topic`);
  }
  if (value.exclude !== undefined) {
    if (!Array.isArray(value.exclude)) {
      problems.push(`${path}.exclude must be a list of selectors, got ${JSON.stringify(value.exclude)}`);
    } else {
      value.exclude.forEach((selector: unknown, i) => {
        const at = `${path}.exclude[${i}]`;
        if (!isObject(selector)) {
          problems.push(`${at} must be an object, got ${JSON.stringify(selector)}`);
          return;
        }
        const own = selectorProblems(selector, at, SELECTOR_KEYS);
        problems.push(...own);
        if (own.length === 0 && !SELECTOR_KEYS.some((key) => hasAny((selector as ActivitySelector)[key]))) {
          problems.push(`${at} must name at least one of ${SELECTOR_KEYS.join(", ")}`);
        }
      });
    }
  }
  return problems;
}

/**
 * The deploy-time side of a UserActivityNotifier's criteria: their coarse form as record patterns, from which the
 * component writes the EventBridge event pattern and the CloudWatch Logs filter pattern (or a dispatcher route). These
 * only keep the volume down; the handler applies the criteria exactly (functions/userActivity/criteria.ts,
 * `activityMatches`), and the patterns never drop a record it accepts.
 */
import { type ActivityCriteria, hasAny, type WhatBranch, whatBranches } from "../functions/userActivity/criteria";
import type { FieldMatcher, RecordPattern } from "../functions/shared/recordPattern";

/** CloudTrail `eventType` values of calls people and services make, and the EventBridge detail type of each. */
export const DETAIL_TYPE_OF_EVENT_TYPE: Readonly<Record<string, string>> = {
  AwsApiCall: "AWS API Call via CloudTrail",
  AwsConsoleSignIn: "AWS Console Signin via CloudTrail",
  AwsConsoleAction: "AWS Console Action via CloudTrail",
  AwsServiceEvent: "AWS Service Event via CloudTrail",
};

/** What a source needs: patterns that keep at least every matching record, and which EventBridge rule state. */
export interface ActivityPrefilter {
  /** Record patterns (alternatives) that match at least every record `activityMatches` accepts. */
  patterns: RecordPattern[];
  /** EventBridge detail types of those records. */
  detailTypes: string[];
  /** True when read-only calls can match: the EventBridge rule then needs `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`. */
  includesReadOnly: boolean;
}

/** A name as a pattern field: exact, or a prefix for a name ending in `*`. */
function nameMatcher(name: string): FieldMatcher {
  return name.endsWith("*") ? { prefix: name.slice(0, -1) } : name;
}

/** The "who" part of the criteria as a pattern on `userIdentity`; undefined when they name no principal. */
function whoPattern(criteria: ActivityCriteria): RecordPattern | undefined {
  const branches: RecordPattern[] = [];
  if (hasAny(criteria.userNames)) {
    branches.push({ userName: [...criteria.userNames] });
  }
  if (hasAny(criteria.principalArns)) {
    branches.push({ arn: criteria.principalArns.map(nameMatcher) });
    branches.push({ sessionContext: { sessionIssuer: { arn: criteria.principalArns.map(nameMatcher) } } });
  }
  if (hasAny(criteria.sessionNames)) {
    // Session names end the ARN of assumed-role sessions and federated users (names cannot contain "/").
    branches.push({ type: ["AssumedRole", "FederatedUser"], arn: criteria.sessionNames.map((session): FieldMatcher => ({ suffix: `/${session}` })) });
  }
  if (branches.length === 0) {
    return undefined;
  }
  return branches.length === 1 ? branches[0] : { $or: branches };
}

/** One alternative of what the criteria select, as a pattern (a preset's further conditions included). */
function branchPattern(branch: WhatBranch): RecordPattern {
  return {
    ...branch.match,
    ...(branch.eventSources ? { eventSource: [...branch.eventSources] } : {}),
    ...(branch.eventNames ? { eventName: branch.eventNames.map(nameMatcher) } : {}),
    eventType: [...branch.eventTypes],
    ...(branch.writeOnly ? { readOnly: [false] } : {}),
  };
}

/**
 * Both patterns' conditions in one, where a pattern can say it: fields only one of them constrains are taken as they
 * are, nested objects are merged, and where both constrain the same field (or both hold `$or`) `a`'s condition is
 * kept. Dropping `b`'s condition there only lets more through, which a prefilter may.
 */
function mergePatterns(a: RecordPattern, b: RecordPattern): RecordPattern {
  const merged: RecordPattern = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const own = a[key];
    if (own === undefined) {
      merged[key] = value;
    } else if (key !== "$or" && !Array.isArray(own) && !Array.isArray(value) && value !== undefined) {
      merged[key] = mergePatterns(own, value);
    }
  }
  return merged;
}

/**
 * The coarse form of the criteria for EventBridge and CloudWatch Logs: who, what (event types included) and the
 * read-only filter; the exclusions only the handler applies.
 */
export function activityPrefilter(criteria: ActivityCriteria): ActivityPrefilter {
  const branches = whatBranches(criteria);
  const who = whoPattern(criteria);
  const what = branches.map(branchPattern);
  const whatPart: RecordPattern = what.length === 1 ? what[0] : { $or: what };
  // A preset may constrain userIdentity too (root-activity); the "who" and that condition must both hold.
  const pattern: RecordPattern = who === undefined ? whatPart : mergePatterns({ userIdentity: who }, whatPart);
  const eventTypes = [...new Set(branches.flatMap((b) => b.eventTypes))];
  return {
    patterns: [pattern],
    detailTypes: eventTypes.map((type) => DETAIL_TYPE_OF_EVENT_TYPE[type]),
    includesReadOnly: branches.some((b) => b.mayBeReadOnly),
  };
}

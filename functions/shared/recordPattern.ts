/**
 * One way to say which CloudTrail records a consumer wants, understood in three places:
 *
 * - EventBridge evaluates it: a {@link RecordPattern} is the `detail` part of an EventBridge event pattern (a subset of
 *   EventBridge's content filtering: exact values, `prefix`, `suffix`, `anything-but`, `exists`, `$or`).
 * - CloudWatch Logs evaluates its translation: {@link logsFilterPattern} turns patterns into a subscription filter
 *   pattern (`{ ($.eventName = "StartSession") || ... }`) that matches at least every record the patterns match.
 * - Handlers evaluate it: {@link matchesRecordPattern} implements the same subset, so a dispatcher can route records
 *   without asking AWS.
 *
 * Patterns are prefilters: they keep the volume down and may let more through than a consumer wants (the filter
 * pattern of CloudWatch Logs can express less than EventBridge). The consumer's handler decides exactly.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** One accepted value of a field, as in EventBridge content filtering. */
export type FieldMatcher =
  | string
  | number
  | boolean
  | null
  | { prefix: string }
  | { suffix: string }
  | { "anything-but": string | number | Array<string | number> | { prefix: string } }
  | { exists: boolean };

/**
 * A pattern over one CloudTrail record (the `detail` of an EventBridge event): every key must match. A key maps to the
 * list of accepted values of that field, or to a nested pattern for an object field. `$or` holds alternatives, at
 * least one of which must match.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 */
export interface RecordPattern {
  $or?: RecordPattern[];
  [field: string]: RecordPattern | FieldMatcher[] | RecordPattern[] | undefined;
}

/** CloudWatch Logs' limit on the length of a subscription or metric filter pattern. */
export const MAX_LOGS_FILTER_PATTERN_LENGTH = 1024;

/**
 * EventBridge's default quota on the length of a rule's event pattern, in characters. An account can have it raised
 * to 4,096 (PutRule's own limit) on request; components check against the default so that they deploy in any account.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
 */
export const MAX_EVENT_PATTERN_LENGTH = 2048;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMatcherObject(value: unknown): value is Record<string, unknown> {
  return isObject(value) && Object.keys(value).length === 1;
}

/** Problems of a pattern (empty when it is valid), each naming the path of the bad part, for example `$.eventName[0]`. */
export function recordPatternProblems(pattern: unknown, path = "$"): string[] {
  if (!isObject(pattern)) {
    return [`${path} must be an object, got ${JSON.stringify(pattern)}`];
  }
  const problems: string[] = [];
  const keys = Object.keys(pattern);
  if (keys.length === 0) {
    problems.push(`${path} must name at least one field`);
  }
  for (const key of keys) {
    const value = pattern[key];
    const at = `${path}.${key}`;
    if (key === "$or") {
      if (!Array.isArray(value) || value.length === 0) {
        problems.push(`${at} must be a non-empty list of patterns`);
        continue;
      }
      value.forEach((branch, i) => problems.push(...recordPatternProblems(branch, `${at}[${i}]`)));
    } else if (key === "") {
      problems.push(`${path} has an empty field name`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) {
        problems.push(`${at} must list at least one accepted value`);
      }
      value.forEach((matcher, i) => {
        const problem = matcherProblem(matcher);
        if (problem) {
          problems.push(`${at}[${i}] ${problem}`);
        }
      });
    } else if (isObject(value)) {
      problems.push(...recordPatternProblems(value, at));
    } else {
      problems.push(`${at} must be a list of accepted values or a nested pattern, got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

function matcherProblem(matcher: unknown): string | undefined {
  if (matcher === null || ["string", "number", "boolean"].includes(typeof matcher)) {
    return typeof matcher === "number" && !Number.isFinite(matcher) ? "must be a finite number" : undefined;
  }
  if (!isMatcherObject(matcher)) {
    return `must be a value or one of {prefix}, {suffix}, {anything-but}, {exists}, got ${JSON.stringify(matcher)}`;
  }
  const [[kind, operand]] = Object.entries(matcher);
  switch (kind) {
    case "prefix":
    case "suffix":
      return typeof operand === "string" && operand !== "" ? undefined : `${kind} must be a non-empty string, got ${JSON.stringify(operand)}`;
    case "exists":
      return typeof operand === "boolean" ? undefined : `exists must be true or false, got ${JSON.stringify(operand)}`;
    case "anything-but": {
      const ok =
        typeof operand === "string" ||
        (typeof operand === "number" && Number.isFinite(operand)) ||
        (Array.isArray(operand) && operand.length > 0 && operand.every((v) => typeof v === "string" || typeof v === "number")) ||
        (isMatcherObject(operand) && typeof operand.prefix === "string" && operand.prefix !== "");
      return ok ? undefined : `anything-but must be a value, a non-empty list of values or {prefix}, got ${JSON.stringify(operand)}`;
    }
    default:
      return `uses ${JSON.stringify(kind)}, which is not supported (prefix, suffix, anything-but, exists)`;
  }
}

function matchesScalar(value: unknown, matcher: FieldMatcher): boolean {
  if (matcher === null || typeof matcher !== "object") {
    return value === matcher;
  }
  if ("prefix" in matcher) {
    return typeof value === "string" && value.startsWith(matcher.prefix);
  }
  if ("suffix" in matcher) {
    return typeof value === "string" && value.endsWith(matcher.suffix);
  }
  if ("exists" in matcher) {
    // EventBridge's exists applies to leaf values; the caller handles a missing field.
    return matcher.exists && !isObject(value);
  }
  const excluded = matcher["anything-but"];
  if (isObject(excluded)) {
    return typeof value === "string" && !value.startsWith(excluded.prefix);
  }
  const list: Array<string | number> = Array.isArray(excluded) ? excluded : [excluded];
  return (typeof value === "string" || typeof value === "number") && !list.includes(value);
}

function matchesField(value: unknown, matchers: FieldMatcher[]): boolean {
  if (value === undefined) {
    return matchers.some((m) => isObject(m) && "exists" in m && m.exists === false);
  }
  // An array field matches when any of its elements matches (EventBridge's rule for arrays).
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  return values.some((v) => matchers.some((m) => matchesScalar(v, m)));
}

/**
 * True when `record` matches `pattern` by EventBridge's rules for the supported subset: every field of the pattern
 * must match; a missing field matches only `{ "exists": false }`; an array field matches when one of its elements
 * does; strings compare case-sensitively.
 */
export function matchesRecordPattern(record: unknown, pattern: RecordPattern): boolean {
  if (!isObject(record)) {
    return false;
  }
  return Object.entries(pattern).every(([key, expected]) => {
    if (expected === undefined) {
      return true;
    }
    if (key === "$or") {
      return (expected as RecordPattern[]).some((branch) => matchesRecordPattern(record, branch));
    }
    const value = record[key];
    if (Array.isArray(expected)) {
      return matchesField(value, expected as FieldMatcher[]);
    }
    if (Array.isArray(value)) {
      return (value as unknown[]).some((item) => matchesRecordPattern(item, expected));
    }
    return matchesRecordPattern(value, expected);
  });
}

/** True when `record` matches at least one of `patterns`. */
export function matchesAnyRecordPattern(record: unknown, patterns: readonly RecordPattern[]): boolean {
  return patterns.some((pattern) => matchesRecordPattern(record, pattern));
}

// ---------------------------------------------------------------------------------------------------------------------
// CloudWatch Logs filter patterns

/** A boolean expression of filter-pattern comparisons; `true` stands for "no constraint". */
type Expr = true | { atom: string } | { and: Expr[] } | { or: Expr[] };

/**
 * Fields of a CloudTrail record that always hold a single value (never a list), so that a filter pattern comparison
 * on them means what the record pattern means. Other paths (inside `requestParameters`, `resources`) may hold lists,
 * which a filter pattern cannot address without an index: they are left unconstrained, which only lets more through.
 */
const SCALAR_FIELDS: readonly string[] = [
  "eventVersion",
  "eventTime",
  "eventSource",
  "eventName",
  "awsRegion",
  "sourceIPAddress",
  "userAgent",
  "errorCode",
  "errorMessage",
  "requestID",
  "eventID",
  "readOnly",
  "eventType",
  "managementEvent",
  "recipientAccountId",
  "eventCategory",
  "sessionCredentialFromConsole",
  "requestParameters.bucketName",
  "requestParameters.key",
  "requestParameters.target",
];

function isScalarPath(path: string[]): boolean {
  const dotted = path.join(".");
  // userIdentity holds only strings and nested objects of strings.
  return SCALAR_FIELDS.includes(dotted) || (path[0] === "userIdentity" && path.length >= 2);
}

/**
 * Quotes a string for a filter pattern the way AWS's own CDK does: inside double quotes, with backslashes and double
 * quotes escaped by a backslash. A `*` stays a wildcard (it matches any text), so the comparison can only match more.
 */
export function quoteFilterString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function selector(path: string[]): string {
  return `$.${path.join(".")}`;
}

function matcherExpr(path: string[], matcher: FieldMatcher): Expr {
  const field = selector(path);
  if (matcher === null) {
    return { atom: `${field} IS NULL` };
  }
  if (typeof matcher === "boolean") {
    return { atom: `${field} IS ${matcher ? "TRUE" : "FALSE"}` };
  }
  if (typeof matcher === "number") {
    return { atom: `${field} = ${matcher}` };
  }
  if (typeof matcher === "string") {
    return { atom: `${field} = ${quoteFilterString(matcher)}` };
  }
  if ("prefix" in matcher) {
    return { atom: `${field} = ${quoteFilterString(`${matcher.prefix}*`)}` };
  }
  if ("suffix" in matcher) {
    return { atom: `${field} = ${quoteFilterString(`*${matcher.suffix}`)}` };
  }
  // anything-but and exists: how a filter pattern treats a missing field with != is not documented, so these are
  // left unconstrained rather than risk dropping a record the pattern accepts.
  return true;
}

function all(parts: Expr[]): Expr {
  const kept: Expr[] = parts.flatMap((p) => (p === true ? [] : "and" in p ? p.and : [p]));
  if (kept.length === 0) return true;
  return kept.length === 1 ? kept[0] : { and: kept };
}

function any(parts: Expr[]): Expr {
  if (parts.length === 0 || parts.some((p) => p === true)) return true;
  const flat = parts.flatMap((p) => (p !== true && "or" in p ? p.or : [p]));
  const unique = flat.filter((p, i) => flat.findIndex((q) => render(q) === render(p)) === i);
  return unique.length === 1 ? unique[0] : { or: unique };
}

function patternExpr(pattern: RecordPattern, path: string[]): Expr {
  const parts: Expr[] = [];
  for (const [key, expected] of Object.entries(pattern)) {
    if (expected === undefined) continue;
    if (key === "$or") {
      parts.push(any((expected as RecordPattern[]).map((branch) => patternExpr(branch, path))));
    } else if (Array.isArray(expected)) {
      const fieldPath = [...path, key];
      // Field names a selector cannot spell plainly, and fields that may hold lists, stay unconstrained.
      if (!fieldPath.every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) || !isScalarPath(fieldPath)) {
        parts.push(true);
        continue;
      }
      parts.push(any((expected as FieldMatcher[]).map((m) => matcherExpr(fieldPath, m))));
    } else {
      parts.push(patternExpr(expected, [...path, key]));
    }
  }
  return all(parts);
}

function render(expr: Expr, nested = false): string {
  if (expr === true) return "";
  if ("atom" in expr) return nested ? `(${expr.atom})` : expr.atom;
  const joined = "and" in expr ? expr.and.map((e) => render(e, true)).join(" && ") : expr.or.map((e) => render(e, true)).join(" || ");
  return nested ? `(${joined})` : joined;
}

function wrap(expr: Expr): string {
  return expr === true ? "" : `{ ${render(expr)} }`;
}

/** Replaces `target` by "no constraint" inside `expr`. */
function relax(expr: Expr, target: Expr): Expr {
  if (expr === target) return true;
  if (expr === true || "atom" in expr) return expr;
  return "and" in expr ? all(expr.and.map((e) => relax(e, target))) : any(expr.or.map((e) => relax(e, target)));
}

/** Operands of conjunctions: dropping one of them keeps the expression a superset. */
function conjuncts(expr: Expr): Expr[] {
  if (expr === true || "atom" in expr) return [];
  const own = "and" in expr ? expr.and : [];
  return [...own, ...("and" in expr ? expr.and : expr.or).flatMap(conjuncts)];
}

/**
 * A CloudWatch Logs filter pattern that matches every CloudTrail record matching at least one of `patterns` (and
 * possibly more). Strings are quoted and escaped; constraints a filter pattern cannot express safely are dropped; when
 * the result would be longer than `maxLength`, the longest conjunction operands are dropped until it fits. Returns ""
 * (every event) when nothing is left.
 */
export function logsFilterPattern(patterns: readonly RecordPattern[], maxLength = MAX_LOGS_FILTER_PATTERN_LENGTH): string {
  let expr = any(patterns.map((p) => patternExpr(p, [])));
  while (wrap(expr).length > maxLength) {
    const candidates = conjuncts(expr);
    if (candidates.length === 0) {
      return "";
    }
    const longest = candidates.reduce((a, b) => (render(b).length > render(a).length ? b : a));
    expr = relax(expr, longest);
  }
  return wrap(expr);
}

/** The EventBridge event pattern (a JSON string) for CloudTrail records of the given detail types matching `patterns`. */
export function eventBridgePattern(detailTypes: readonly string[], patterns: readonly RecordPattern[]): string {
  const detail = patterns.length === 1 ? patterns[0] : { $or: [...patterns] };
  return JSON.stringify({ "detail-type": [...detailTypes], detail });
}

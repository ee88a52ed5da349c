/**
 * An evaluator for the EventBridge event pattern features this project uses, following
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html : nested objects, arrays of literal
 * values (OR, exact and case-sensitive), `{ "prefix": ... }`, `{ "exists": ... }` and `$or`. A value matches an array
 * in the event when it matches one of its elements. Other operators are refused so that a test cannot pass by
 * ignoring them.
 */

function leafMatches(matcher: unknown, present: boolean, value: unknown): boolean {
  if (matcher === null || typeof matcher !== "object") {
    return present && (Array.isArray(value) ? value.includes(matcher) : value === matcher);
  }
  const [operator, ...rest] = Object.keys(matcher);
  if (rest.length > 0) {
    throw new Error(`one operator per matcher, got ${JSON.stringify(matcher)}`);
  }
  const operand = (matcher as Record<string, unknown>)[operator];
  switch (operator) {
    case "prefix": {
      const startsWith = (v: unknown) => typeof v === "string" && v.startsWith(String(operand));
      return present && (Array.isArray(value) ? value.some(startsWith) : startsWith(value));
    }
    case "exists":
      return operand === present;
    default:
      throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
  }
}

/** True when `event` matches `pattern` (a parsed event pattern). */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  const object = typeof event === "object" && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === "$or") {
      return (expected as Array<Record<string, unknown>>).some((alternative) => matchesEventPattern(alternative, event));
    }
    const present = field in object && object[field] !== undefined;
    if (Array.isArray(expected)) {
      return expected.some((matcher) => leafMatches(matcher, present, object[field]));
    }
    if (typeof expected === "object" && expected !== null) {
      return present && matchesEventPattern(expected as Record<string, unknown>, object[field]);
    }
    throw new Error(`pattern field ${field} must be an array or an object, got ${JSON.stringify(expected)}`);
  });
}

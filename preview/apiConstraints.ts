/**
 * Checks a resource's inputs against the constraints AWS's API model puts on the request members they become
 * (awsApiConstraints.json, reduced from botocore's service models by scripts/makeApiConstraints.ts): lengths,
 * patterns (matched against the whole value, as AWS does), enums and ranges. A value the offline engine does not
 * know (an unknown Output during preview, a secret) is skipped.
 */
import { shown } from "../functions/shared/values";
import table from "./awsApiConstraints.json";

/** One member's constraints, as the table stores them. */
export interface MemberConstraint {
  /** `<service> <InputShape>.<Member>...`, the request member the input becomes. */
  member: string;
  shape: string;
  type: string;
  min?: number;
  max?: number;
  /** The model's (Java) regular expression. */
  pattern?: string;
  /** The same pattern for JavaScript's `u` flag. */
  jsPattern?: string;
  enum?: Array<string | number>;
  /** "documentation" when the model lists the values in words rather than as an enum. */
  enumSource?: string;
  /** Values the provider takes and translates (e.g. a retention of 0 for "never expire"): not checked. */
  providerValues?: Array<string | number>;
}

/** Where the constraints come from: the botocore release and each service model's API version. */
export const API_MODEL_SOURCE: { botocore: string; models: Record<string, string> } = { botocore: table.botocore, models: table.models };

/** Resource type -> input path -> constraint. */
export const API_CONSTRAINTS = table.resources as Record<string, Record<string, MemberConstraint>>;

/** Resource type (or "*") -> input path -> why it is no API request member. */
export const NOT_API_MEMBERS = table.notApiMembers as Record<string, Record<string, string>>;

/** The value Pulumi's runtime uses for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const compiled = new Map<string, RegExp>();
function wholeMatch(jsPattern: string): RegExp {
  let regex = compiled.get(jsPattern);
  if (regex === undefined) {
    regex = new RegExp(`^(?:${jsPattern})$`, "u");
    compiled.set(jsPattern, regex);
  }
  return regex;
}

/** Each value at `path` (`a.b`, `a[]`, `a{key}`, `a{value}`) below `value`, with its concrete location. */
export function valuesAt(value: unknown, path: string): Array<{ location: string; value: unknown }> {
  let found: Array<{ location: string; value: unknown }> = [{ location: "", value }];
  for (const segment of path.split(".")) {
    const [, field = "", steps = ""] = /^([^[{]*)((?:\[\]|\{key\}|\{value\})*)$/.exec(segment) ?? [];
    found = found.flatMap(({ location, value: parent }) => {
      const child = isRecord(parent) ? parent[field] : undefined;
      return child === undefined ? [] : [{ location: location === "" ? field : `${location}.${field}`, value: child }];
    });
    for (const step of steps.match(/\[\]|\{key\}|\{value\}/g) ?? []) {
      found = found.flatMap(({ location, value: container }) => {
        if (step === "[]") {
          return Array.isArray(container) ? container.map((item: unknown, i) => ({ location: `${location}[${i}]`, value: item })) : [];
        }
        if (!isRecord(container)) {
          return [];
        }
        return Object.entries(container).map(([key, item]) => ({ location: `${location}${step === "{key}" ? " (key)" : `[${shown(key)}]`}`, value: step === "{key}" ? key : item }));
      });
    }
  }
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Why `value` breaks `constraint`; undefined when it does not (or cannot be checked offline). */
export function constraintProblem(value: unknown, constraint: MemberConstraint): string | undefined {
  if (value === undefined || value === null || value === UNKNOWN || constraint.providerValues?.includes(value as string | number) === true) {
    return undefined;
  }
  const where = `(${constraint.member}, shape ${constraint.shape})`;
  if (constraint.type === "list" || constraint.type === "map") {
    const size = Array.isArray(value) ? value.length : isRecord(value) ? Object.keys(value).length : undefined;
    if (size === undefined) return undefined;
    if (constraint.min !== undefined && size < constraint.min) return `has ${size} items; AWS requires at least ${constraint.min} ${where}`;
    if (constraint.max !== undefined && size > constraint.max) return `has ${size} items; AWS allows at most ${constraint.max} ${where}`;
    return undefined;
  }
  if (constraint.type === "string" && typeof value === "string") {
    const length = [...value].length;
    if (constraint.min !== undefined && length < constraint.min) return `is ${length} characters long; AWS requires at least ${constraint.min} ${where}`;
    if (constraint.max !== undefined && length > constraint.max) return `is ${length} characters long; AWS allows at most ${constraint.max} ${where}`;
    if (constraint.jsPattern !== undefined && !wholeMatch(constraint.jsPattern).test(value)) return `does not match AWS's pattern ${constraint.pattern ?? constraint.jsPattern} ${where}`;
  }
  const number = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" && ["integer", "long", "double", "float"].includes(constraint.type) ? Number(value) : undefined;
  if (number !== undefined && !Number.isNaN(number) && constraint.type !== "string") {
    if ((constraint.type === "integer" || constraint.type === "long") && !Number.isInteger(number)) return `is not a whole number ${where}`;
    if (constraint.min !== undefined && number < constraint.min) return `is below AWS's minimum ${constraint.min} ${where}`;
    if (constraint.max !== undefined && number > constraint.max) return `is above AWS's maximum ${constraint.max} ${where}`;
  }
  if (constraint.enum !== undefined && (typeof value === "string" || typeof value === "number")) {
    const comparable = typeof constraint.enum[0] === "number" ? Number(value) : String(value);
    if (!constraint.enum.includes(comparable)) {
      const listed = constraint.enum.length > 12 ? `${constraint.enum.slice(0, 12).join(", ")}, ... (${constraint.enum.length} values)` : constraint.enum.join(", ");
      return `is not one of AWS's values ${listed}${constraint.enumSource === "documentation" ? " (listed in the model's documentation)" : ""} ${where}`;
    }
  }
  return undefined;
}

/**
 * Every way `inputs` of a resource of `type` break AWS's API constraints, one message each:
 * `description "ダウンロード通知" does not match AWS's pattern [...] (iam CreateRoleRequest.Description, ...)`.
 */
export function apiConstraintProblems(type: string, inputs: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [path, constraint] of Object.entries(API_CONSTRAINTS[type] ?? {})) {
    for (const { location, value } of valuesAt(inputs, path)) {
      const problem = constraintProblem(value, constraint);
      if (problem !== undefined) {
        problems.push(`${location} ${shown(value, 200)} ${problem}`);
      }
    }
  }
  return problems;
}

/**
 * Checks an Amazon States Language definition before the in-repo interpreter runs it, and reads JSONPaths for it.
 *
 * Two kinds of problems are told apart:
 * - `invalid`: Step Functions itself would refuse the definition (CreateStateMachine fails with `InvalidDefinition`):
 *   a transition to a state that does not exist, an unreachable state, a field the state type does not have
 *   (`ResultSelector` on a Pass state), a JSONata state carrying JSONPath fields or the reverse, `States.ALL` not
 *   alone or not last in a Retry or Catch list;
 * - `unsimulated`: a valid construct the interpreter does not run (Wait and Parallel states, JSONata, intrinsic
 *   functions, ItemReader...): the interpreter refuses it instead of running something else.
 *
 * Field lists follow https://states-language.net/spec.html and the Step Functions developer guide
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html).
 */
import { isObject } from "../functions/shared/values";

type Json = unknown;
type StateDef = Record<string, unknown>;

/** What is wrong with a definition: what AWS would refuse, and what only this interpreter cannot run. */
export interface DefinitionProblems {
  invalid: string[];
  unsimulated: string[];
}

/** The Lambda integration the interpreter runs (the result is wrapped as `{ Payload }`). */
export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";

const STATE_TYPES = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"];
const COMMON_FIELDS = ["Type", "Comment", "QueryLanguage"];
const IO_FIELDS = ["InputPath", "OutputPath"];
const TRANSITION = ["Next", "End"];
/** The fields each state type has in JSONPath mode (fields of JSONata mode are checked separately). */
const JSONPATH_FIELDS: Record<string, string[]> = {
  Pass: [...TRANSITION, ...IO_FIELDS, "ResultPath", "Parameters", "Result", "Assign"],
  Task: [...TRANSITION, ...IO_FIELDS, "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"],
  Choice: [...IO_FIELDS, "Choices", "Default", "Assign"],
  Wait: [...TRANSITION, ...IO_FIELDS, "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"],
  Succeed: [...IO_FIELDS],
  Fail: ["Error", "Cause", "ErrorPath", "CausePath"],
  Parallel: [...TRANSITION, ...IO_FIELDS, "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches", "Assign"],
  Map: [
    ...TRANSITION,
    ...IO_FIELDS,
    "ResultPath",
    "ResultSelector",
    "Retry",
    "Catch",
    "ItemsPath",
    "ItemSelector",
    "Parameters",
    "ItemProcessor",
    "Iterator",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "Label",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "Assign",
  ],
};
/** Fields that exist only in JSONPath states; a JSONata state carrying one is refused by Step Functions. */
const JSONPATH_ONLY = ["InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"];
/** Fields that exist only in JSONata states. */
const JSONATA_ONLY = ["Arguments", "Output", "Items"];
/** Valid fields the interpreter does not run. */
const UNSIMULATED_FIELDS = ["Assign", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "ItemReader", "ItemBatcher", "ResultWriter", "Iterator"];
/** Map fields that only a Distributed Map has. */
const DISTRIBUTED_ONLY = ["Label", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "ItemReader", "ItemBatcher", "ResultWriter"];
/** Choice rule operators the interpreter evaluates, and the other valid ones. */
const SIMULATED_OPERATORS = ["BooleanEquals", "StringEquals", "NumericEquals", "IsPresent", "IsNull", "IsBoolean", "IsString", "IsNumeric"];
const OTHER_OPERATORS = [
  "BooleanEqualsPath",
  "StringEqualsPath",
  "StringLessThan",
  "StringLessThanPath",
  "StringGreaterThan",
  "StringGreaterThanPath",
  "StringLessThanEquals",
  "StringLessThanEqualsPath",
  "StringGreaterThanEquals",
  "StringGreaterThanEqualsPath",
  "StringMatches",
  "NumericEqualsPath",
  "NumericLessThan",
  "NumericLessThanPath",
  "NumericGreaterThan",
  "NumericGreaterThanPath",
  "NumericLessThanEquals",
  "NumericLessThanEqualsPath",
  "NumericGreaterThanEquals",
  "NumericGreaterThanEqualsPath",
  "TimestampEquals",
  "TimestampEqualsPath",
  "TimestampLessThan",
  "TimestampLessThanPath",
  "TimestampGreaterThan",
  "TimestampGreaterThanPath",
  "TimestampLessThanEquals",
  "TimestampLessThanEqualsPath",
  "TimestampGreaterThanEquals",
  "TimestampGreaterThanEqualsPath",
  "IsTimestamp",
];

/** A path the interpreter reads: `$` or `$$` followed by `.name` and `[index]` steps. */
const SIMPLE_PATH = /^\$\$?((\.[A-Za-z_][\w-]*)|(\[\d+\]))*$/;

/** Every problem of `definition` (a whole state machine, or a Map's ItemProcessor). */
export function definitionProblems(definition: unknown): DefinitionProblems {
  const problems: DefinitionProblems = { invalid: [], unsimulated: [] };
  if (!isObject(definition)) {
    problems.invalid.push("the definition is not a JSON object");
    return problems;
  }
  const language = definition.QueryLanguage ?? "JSONPath";
  if (language !== "JSONPath" && language !== "JSONata") {
    problems.invalid.push(`QueryLanguage must be JSONPath or JSONata, got ${JSON.stringify(language)}`);
  }
  checkMachine(definition, "", language as string, problems);
  return problems;
}

function checkMachine(machine: Record<string, unknown>, where: string, language: string, problems: DefinitionProblems): void {
  const states = machine.States;
  if (!isObject(states) || Object.keys(states).length === 0) {
    problems.invalid.push(`${where}States must be an object with at least one state`);
    return;
  }
  const names = new Set(Object.keys(states));
  const reached = new Set<string>();
  const target = (field: string, name: unknown) => {
    if (typeof name !== "string" || !names.has(name)) {
      problems.invalid.push(`${where}${field} names no state: ${JSON.stringify(name)}`);
    } else {
      reached.add(name);
    }
  };
  target("StartAt", machine.StartAt);
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) {
      problems.invalid.push(`${where}state ${name} is not an object`);
      continue;
    }
    checkState(state, `${where}state ${name}: `, language, problems, target);
  }
  for (const name of names) {
    if (!reached.has(name)) {
      problems.invalid.push(`${where}state ${name} is not reachable`);
    }
  }
  if (!Object.values(states).some((s) => isObject(s) && (s.End === true || s.Type === "Succeed" || s.Type === "Fail"))) {
    problems.invalid.push(`${where}no terminal state`);
  }
}

function checkState(state: StateDef, where: string, inherited: string, problems: DefinitionProblems, target: (field: string, name: unknown) => void): void {
  const type = state.Type as string;
  if (!STATE_TYPES.includes(type)) {
    problems.invalid.push(`${where}Type must be one of ${STATE_TYPES.join(", ")}, got ${JSON.stringify(state.Type)}`);
    return;
  }
  const language = (state.QueryLanguage as string | undefined) ?? inherited;
  if (language === "JSONata") {
    const jsonPathFields = Object.keys(state).filter((f) => JSONPATH_ONLY.includes(f));
    const variables = ((state.Choices ?? []) as unknown[]).some((rule) => isObject(rule) && "Variable" in rule);
    if (jsonPathFields.length > 0 || variables) {
      problems.invalid.push(`${where}a JSONata state cannot have the JSONPath field(s) ${[...jsonPathFields, ...(variables ? ["Choices[].Variable"] : [])].join(", ")}`);
    } else {
      problems.unsimulated.push(`${where}JSONata states are not simulated`);
    }
    return;
  }
  const allowed = [...COMMON_FIELDS, ...JSONPATH_FIELDS[type]];
  for (const field of Object.keys(state)) {
    if (JSONATA_ONLY.includes(field)) {
      problems.invalid.push(`${where}${field} is a JSONata field; this state uses JSONPath`);
    } else if (!allowed.includes(field)) {
      problems.invalid.push(`${where}a ${type} state has no field ${field}`);
    } else if (UNSIMULATED_FIELDS.includes(field)) {
      problems.unsimulated.push(`${where}${field} is not simulated`);
    }
  }
  checkTransition(state, where, target, problems);
  checkPaths(state, where, problems);
  checkErrorHandling(state, where, target, problems);
  switch (type) {
    case "Wait":
    case "Parallel":
      problems.unsimulated.push(`${where}${type} states are not simulated`);
      break;
    case "Task":
      checkTask(state, where, problems);
      break;
    case "Choice":
      checkChoice(state, where, target, problems);
      break;
    case "Map":
      checkMap(state, where, language, problems);
      break;
    default:
  }
}

function checkTransition(state: StateDef, where: string, target: (field: string, name: unknown) => void, problems: DefinitionProblems): void {
  if (["Choice", "Succeed", "Fail"].includes(state.Type as string)) {
    return;
  }
  if (state.End === true && "Next" in state) {
    problems.invalid.push(`${where}has both Next and End`);
  } else if (state.End !== true) {
    target(`${where}Next`, state.Next);
  }
}

function checkPaths(state: StateDef, where: string, problems: DefinitionProblems): void {
  for (const field of ["InputPath", "OutputPath", "ItemsPath", "ResultPath"]) {
    const value = state[field];
    if (value === undefined || (value === null && field !== "ItemsPath")) {
      continue;
    }
    checkPath(value, `${where}${field}`, problems, field === "ResultPath");
  }
  for (const field of ["Parameters", "ItemSelector", "ResultSelector"]) {
    if (field in state) {
      checkTemplate(state[field], `${where}${field}`, problems);
    }
  }
}

function checkPath(value: unknown, where: string, problems: DefinitionProblems, reference = false): void {
  if (typeof value !== "string" || !value.startsWith("$") || (reference && value.startsWith("$$"))) {
    problems.invalid.push(`${where} must be a ${reference ? "reference path" : "path"} starting with $, got ${JSON.stringify(value)}`);
  } else if (!SIMPLE_PATH.test(value)) {
    problems.unsimulated.push(`${where}: only $.name and [index] steps are simulated, got ${value}`);
  }
}

function checkTemplate(template: unknown, where: string, problems: DefinitionProblems): void {
  if (Array.isArray(template)) {
    template.forEach((item, i) => checkTemplate(item, `${where}[${i}]`, problems));
    return;
  }
  if (!isObject(template)) {
    return;
  }
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith(".$")) {
      checkTemplate(value, `${where}.${key}`, problems);
    } else if (typeof value !== "string") {
      problems.invalid.push(`${where}.${key} must be a path or an intrinsic function, got ${JSON.stringify(value)}`);
    } else if (value.startsWith("States.")) {
      problems.unsimulated.push(`${where}.${key}: intrinsic functions are not simulated`);
    } else {
      checkPath(value, `${where}.${key}`, problems);
    }
  }
}

function checkErrorHandling(state: StateDef, where: string, target: (field: string, name: unknown) => void, problems: DefinitionProblems): void {
  for (const field of ["Retry", "Catch"] as const) {
    const list = state[field];
    if (list === undefined) {
      continue;
    }
    if (!Array.isArray(list)) {
      problems.invalid.push(`${where}${field} must be an array`);
      continue;
    }
    list.forEach((entry: unknown, i) => {
      const errors = isObject(entry) ? entry.ErrorEquals : undefined;
      if (!Array.isArray(errors) || errors.length === 0 || !errors.every((e) => typeof e === "string")) {
        problems.invalid.push(`${where}${field}[${i}].ErrorEquals must be a non-empty list of error names`);
      } else if (errors.includes("States.ALL") && (errors.length > 1 || i !== list.length - 1)) {
        problems.invalid.push(`${where}${field}[${i}]: States.ALL must appear alone, in the last ${field === "Retry" ? "retrier" : "catcher"}`);
      }
      if (field === "Catch" && isObject(entry)) {
        target(`${where}Catch[${i}].Next`, entry.Next);
        if (entry.ResultPath !== undefined && entry.ResultPath !== null) {
          checkPath(entry.ResultPath, `${where}Catch[${i}].ResultPath`, problems, true);
        }
      }
    });
  }
}

function checkTask(state: StateDef, where: string, problems: DefinitionProblems): void {
  if (state.Resource !== LAMBDA_INVOKE) {
    problems.unsimulated.push(`${where}only ${LAMBDA_INVOKE} tasks are simulated, got ${JSON.stringify(state.Resource)}`);
  } else if (!isObject(state.Parameters) || !("FunctionName" in state.Parameters || "FunctionName.$" in state.Parameters)) {
    problems.invalid.push(`${where}${LAMBDA_INVOKE} needs Parameters.FunctionName`);
  }
}

function checkChoice(state: StateDef, where: string, target: (field: string, name: unknown) => void, problems: DefinitionProblems): void {
  const choices = state.Choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    problems.invalid.push(`${where}Choices must be a non-empty array`);
    return;
  }
  choices.forEach((rule: unknown, i) => {
    checkRule(rule, `${where}Choices[${i}]`, problems, true);
    target(`${where}Choices[${i}].Next`, isObject(rule) ? rule.Next : undefined);
  });
  if (state.Default !== undefined) {
    target(`${where}Default`, state.Default);
  }
}

function checkRule(rule: unknown, where: string, problems: DefinitionProblems, top: boolean): void {
  if (!isObject(rule)) {
    problems.invalid.push(`${where} must be an object`);
    return;
  }
  if (!top && "Next" in rule) {
    problems.invalid.push(`${where}: a nested rule has no Next`);
  }
  if (Array.isArray(rule.And) || Array.isArray(rule.Or)) {
    ((rule.And ?? rule.Or) as unknown[]).forEach((r, i) => checkRule(r, `${where}.${"And" in rule ? "And" : "Or"}[${i}]`, problems, false));
    return;
  }
  if ("Not" in rule) {
    checkRule(rule.Not, `${where}.Not`, problems, false);
    return;
  }
  const operators = Object.keys(rule).filter((k) => k !== "Variable" && k !== "Next" && k !== "Comment");
  if (operators.length !== 1) {
    problems.invalid.push(`${where} must have exactly one comparison operator, got ${operators.join(", ") || "none"}`);
  } else if (OTHER_OPERATORS.includes(operators[0])) {
    problems.unsimulated.push(`${where}: ${operators[0]} is not simulated`);
  } else if (!SIMULATED_OPERATORS.includes(operators[0])) {
    problems.invalid.push(`${where}: ${operators[0]} is not a comparison operator`);
  }
  checkPath(rule.Variable, `${where}.Variable`, problems);
}

function checkMap(state: StateDef, where: string, language: string, problems: DefinitionProblems): void {
  const processor = state.ItemProcessor ?? state.Iterator;
  if (!isObject(processor)) {
    problems.invalid.push(`${where}a Map state needs an ItemProcessor`);
    return;
  }
  if ("ItemSelector" in state && "Parameters" in state) {
    problems.invalid.push(`${where}ItemSelector and Parameters cannot both be set`);
  }
  const config = isObject(processor.ProcessorConfig) ? processor.ProcessorConfig : {};
  if (config.Mode !== "DISTRIBUTED") {
    const distributedFields = Object.keys(state).filter((f) => DISTRIBUTED_ONLY.includes(f));
    if (distributedFields.length > 0) {
      problems.invalid.push(`${where}${distributedFields.join(", ")} need ProcessorConfig.Mode DISTRIBUTED`);
    }
  }
  checkMachine(processor, `${where}ItemProcessor `, language, problems);
}

/** The steps of a path the definition check accepted: property names and array indexes. */
function pathSteps(path: string): Array<string | number> {
  const rest = path.startsWith("$$") ? path.slice(2) : path.slice(1);
  return [...rest.matchAll(/\.([A-Za-z_][\w-]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}

/** The value at `path` in the state input (or the context object for `$$`), or undefined when it does not exist. */
export function readOptionalPath(path: string, input: Json, context: Json): Json {
  let value: Json = path.startsWith("$$") ? context : input;
  for (const step of pathSteps(path)) {
    if (typeof step === "number" ? !Array.isArray(value) || step >= value.length : !isObject(value) || !(step in value)) {
      return undefined;
    }
    value = (value as Record<string | number, Json>)[step];
  }
  return value;
}

/** A copy of `input` with `result` written at the reference path `path` (`$.a.b`), creating missing objects. */
export function writePath(input: Record<string, Json>, path: string, result: Json): Record<string, Json> {
  const steps = pathSteps(path).map(String);
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, Json>;
  let target = copy;
  for (const step of steps.slice(0, -1)) {
    target[step] = isObject(target[step]) ? target[step] : {};
    target = target[step] as Record<string, Json>;
  }
  target[steps[steps.length - 1]] = result;
  return copy;
}

/**
 * Runs a state machine definition the way Step Functions does, for the subset of the Amazon States Language the
 * backfill uses and a little more: JSONPath `InputPath`, `Parameters`, `ResultSelector`, `ResultPath` and
 * `OutputPath` (`$`, `$$` and `.name`/`[index]` steps); Task states on `arn:aws:states:::lambda:invoke` (the result
 * wrapped as `{ ExecutedVersion, Payload, StatusCode }`); `Retry` (per-retrier `MaxAttempts`, no waiting) and
 * `Catch`; Choice rules (`BooleanEquals`, `StringEquals`, `NumericEquals`, `IsPresent`, `IsNull`, `IsBoolean`,
 * `IsString`, `IsNumeric`, `And`/`Or`/`Not`); Pass (`Result`), Succeed and Fail; inline Maps, and Distributed Maps
 * whose items run as separate child executions at most `MaxConcurrency` at a time, failing the Map beyond
 * `ToleratedFailurePercentage`.
 *
 * It is strict where Step Functions is (see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html):
 * - the definition is checked first ({@link definitionProblems}): what AWS would refuse fails with
 *   `InvalidDefinition`, what is valid but not simulated with `NotSimulated`, instead of running something else;
 * - a path that does not exist (in a Choice rule, Parameters, ItemsPath, ResultSelector, OutputPath...) fails with
 *   `States.Runtime`, which no retrier or catcher matches, not even `States.ALL` by name;
 * - `States.DataLimitExceeded` (state data over 256 KiB) is matched only by its own name, never by `States.ALL`;
 * - a Choice with no matching rule and no `Default` fails with `States.NoChoiceMatched`.
 *
 * What only this interpreter measures: the 256 KiB limit on state data, and each execution's history events counted
 * the way Step Functions records them (ExecutionStarted/Succeeded, Entered/Exited per state, Scheduled/Started/
 * Succeeded|Failed per task attempt), so tests can check what the definition costs per pair.
 */
import { isObject } from "../functions/shared/values";
import { definitionProblems, LAMBDA_INVOKE, readOptionalPath, writePath } from "./aslDefinition";

/** A Lambda invocation: the function's result, or a thrown error whose `name` is Lambda's errorType. */
export type InvokeLambda = (functionArn: string, payload: unknown) => Promise<unknown>;

/** One child execution of a Distributed Map. */
export interface ChildExecution {
  input: unknown;
  output?: unknown;
  error?: { Error: string; Cause: string };
  historyEvents: number;
  invocations: number;
}

export interface ExecutionResult {
  output: unknown;
  historyEvents: number;
  children: ChildExecution[];
}

type Json = unknown;
type StateDef = Record<string, unknown>;
type Counter = { events: number; invocations: number };
type Outcome = { output: Json; next?: string };

/** Step Functions' limit on the state data passed between states. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** An error as Step Functions reports it: an error name and a cause. */
export class StatesError extends Error {
  readonly error: string;
  override readonly cause: string;

  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.error = error;
    this.cause = cause;
  }
}

/** A definition the interpreter refuses: `InvalidDefinition` (AWS refuses it too) or `NotSimulated`. */
export class DefinitionError extends Error {
  constructor(
    override readonly name: "InvalidDefinition" | "NotSimulated",
    readonly problems: string[],
  ) {
    super(`${name}: ${problems.join("; ")}`);
  }
}

/**
 * Whether a retrier's or catcher's `ErrorEquals` matches `error` in a state of `stateType`: `States.Runtime` never
 * (it always fails the execution); `States.DataLimitExceeded` only by name; `States.ALL` anything else;
 * `States.TaskFailed` in a Task state anything but `States.Timeout`.
 */
export function errorMatches(errorEquals: readonly string[], error: string, stateType: string): boolean {
  if (error === "States.Runtime") {
    return false;
  }
  if (errorEquals.includes(error)) {
    return true;
  }
  if (error === "States.DataLimitExceeded") {
    return false;
  }
  return errorEquals.includes("States.ALL") || (stateType === "Task" && errorEquals.includes("States.TaskFailed") && error !== "States.Timeout");
}

function readPath(path: string, input: Json, context: Json): Json {
  const value = readOptionalPath(path, input, context);
  if (value === undefined) {
    throw new StatesError("States.Runtime", `Invalid path '${path}': it does not exist in the ${path.startsWith("$$") ? "context object" : "input"}`);
  }
  return value;
}

function resolveTemplate(template: Json, input: Json, context: Json): Json {
  if (Array.isArray(template)) {
    return template.map((item) => resolveTemplate(item, input, context));
  }
  if (isObject(template)) {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => (key.endsWith(".$") ? [key.slice(0, -2), readPath(value as string, input, context)] : [key, resolveTemplate(value, input, context)])),
    );
  }
  return template;
}

function selectPath(path: unknown, data: Json, context: Json): Json {
  return path === undefined ? data : path === null ? {} : readPath(path as string, data, context);
}

function writeResult(input: Json, resultPath: unknown, result: Json): Json {
  if (resultPath === undefined || resultPath === "$") {
    return result;
  }
  if (resultPath === null) {
    return input;
  }
  if (!isObject(input)) {
    throw new StatesError("States.ResultPathMatchFailure", `ResultPath ${JSON.stringify(resultPath)} cannot be applied to ${JSON.stringify(input)}`);
  }
  return writePath(input, resultPath as string, result);
}

function checkSize(data: Json, where: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? "null", "utf8");
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new StatesError("States.DataLimitExceeded", `${where}: ${bytes} bytes of state data exceed ${MAX_PAYLOAD_BYTES}`);
  }
}

function asStatesError(thrown: unknown): StatesError {
  if (thrown instanceof StatesError) {
    return thrown;
  }
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  // Lambda reports a function error as its errorType, with the error as JSON in the cause.
  return new StatesError(error.name, JSON.stringify({ errorType: error.name, errorMessage: error.message }));
}

function evaluateRule(rule: Record<string, unknown>, input: Json, context: Json): boolean {
  if (Array.isArray(rule.And)) {
    return (rule.And as Array<Record<string, unknown>>).every((r) => evaluateRule(r, input, context));
  }
  if (Array.isArray(rule.Or)) {
    return (rule.Or as Array<Record<string, unknown>>).some((r) => evaluateRule(r, input, context));
  }
  if (isObject(rule.Not)) {
    return !evaluateRule(rule.Not, input, context);
  }
  const path = rule.Variable as string;
  if ("IsPresent" in rule) {
    return (readOptionalPath(path, input, context) !== undefined) === rule.IsPresent;
  }
  // Every other operator needs the value: a missing one is a States.Runtime error, not a non-match.
  const value = readPath(path, input, context);
  if ("BooleanEquals" in rule) return value === rule.BooleanEquals;
  if ("StringEquals" in rule) return typeof value === "string" && value === rule.StringEquals;
  if ("NumericEquals" in rule) return typeof value === "number" && value === rule.NumericEquals;
  if ("IsNull" in rule) return (value === null) === rule.IsNull;
  if ("IsBoolean" in rule) return (typeof value === "boolean") === rule.IsBoolean;
  if ("IsString" in rule) return (typeof value === "string") === rule.IsString;
  if ("IsNumeric" in rule) return (typeof value === "number") === rule.IsNumeric;
  throw new DefinitionError("NotSimulated", [`Choice rule ${JSON.stringify(rule)}`]);
}

/** Refuses a definition AWS would refuse (`InvalidDefinition`) or that this interpreter cannot run (`NotSimulated`). */
export function assertRunnable(definition: unknown): void {
  const { invalid, unsimulated } = definitionProblems(definition);
  if (invalid.length > 0) {
    throw new DefinitionError("InvalidDefinition", invalid);
  }
  if (unsimulated.length > 0) {
    throw new DefinitionError("NotSimulated", unsimulated);
  }
}

export class StateMachineInterpreter {
  readonly children: ChildExecution[] = [];

  /** Checks `definition` first: throws a {@link DefinitionError} for one it would not run as AWS does. */
  constructor(
    private readonly definition: Record<string, unknown>,
    private readonly invokeLambda: InvokeLambda,
  ) {
    assertRunnable(definition);
  }

  /** Runs one execution with `input`; throws a StatesError when the execution fails. */
  async start(input: Json): Promise<ExecutionResult> {
    const counter = { events: 1, invocations: 0 };
    const output = await this.runStates(this.definition, input, { Execution: { Input: input } }, counter);
    checkSize(output, "execution output");
    counter.events += 1;
    return { output, historyEvents: counter.events, children: this.children };
  }

  private async runStates(machine: Record<string, unknown>, input: Json, context: Json, counter: Counter): Promise<Json> {
    const states = machine.States as Record<string, StateDef>;
    let name = machine.StartAt as string;
    let data = input;
    for (let steps = 0; steps < 100_000; steps++) {
      checkSize(data, name);
      // StateEntered now; StateExited only when the state completes (a failed state has no exit).
      counter.events += 1;
      const outcome = await this.runState(states[name], data, context, counter);
      counter.events += 1;
      if (outcome.next === undefined) {
        return outcome.output;
      }
      name = outcome.next;
      data = outcome.output;
    }
    throw new StatesError("States.Runtime", "too many transitions");
  }

  private async runState(state: StateDef, rawInput: Json, context: Json, counter: Counter): Promise<Outcome> {
    switch (state.Type) {
      case "Pass": {
        const input = this.effectiveInput(state, rawInput, context);
        return this.finish(state, rawInput, "Result" in state ? state.Result : input, context);
      }
      case "Succeed":
        return { output: selectPath(state.OutputPath, selectPath(state.InputPath, rawInput, context), context) };
      case "Fail":
        throw new StatesError((state.Error as string | undefined) ?? "", (state.Cause as string | undefined) ?? "");
      case "Choice": {
        const input = selectPath(state.InputPath, rawInput, context);
        const choice = (state.Choices as Array<Record<string, unknown>>).find((rule) => evaluateRule(rule, input, context));
        const next = (choice?.Next ?? state.Default) as string | undefined;
        if (next === undefined) {
          throw new StatesError("States.NoChoiceMatched", `no Choice rule matched ${JSON.stringify(input)} and there is no Default`);
        }
        return { output: selectPath(state.OutputPath, input, context), next };
      }
      case "Task":
        return this.handlingErrors(state, rawInput, context, () => this.runTask(state, rawInput, context, counter));
      case "Map":
        return this.handlingErrors(state, rawInput, context, () => this.runMap(state, rawInput, context, counter));
      default:
        throw new DefinitionError("NotSimulated", [`state type ${String(state.Type)}`]);
    }
  }

  /** The state's input after InputPath and Parameters. */
  private effectiveInput(state: StateDef, rawInput: Json, context: Json): Json {
    const input = selectPath(state.InputPath, rawInput, context);
    return state.Parameters === undefined || state.Type === "Map" ? input : resolveTemplate(state.Parameters, input, context);
  }

  /** Applies ResultSelector, ResultPath (onto the raw input) and OutputPath to a state's result. */
  private finish(state: StateDef, rawInput: Json, result: Json, context: Json): Outcome {
    const selected = state.ResultSelector === undefined ? result : resolveTemplate(state.ResultSelector, result, context);
    const output = selectPath(state.OutputPath, writeResult(rawInput, state.ResultPath, selected), context);
    return { output, next: state.End === true ? undefined : (state.Next as string) };
  }

  /** Runs `attempt` under the state's Retry and Catch. */
  private async handlingErrors(state: StateDef, rawInput: Json, context: Json, attempt: () => Promise<Json>): Promise<Outcome> {
    const attempts = new Map<number, number>();
    const type = state.Type as string;
    for (;;) {
      try {
        return this.finish(state, rawInput, await attempt(), context);
      } catch (thrown) {
        if (thrown instanceof DefinitionError) {
          throw thrown;
        }
        const error = asStatesError(thrown);
        const retriers = (state.Retry ?? []) as Array<Record<string, unknown>>;
        // The first retrier whose ErrorEquals matches decides; once its attempts are used up, the error goes to Catch.
        const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals as string[], error.error, type));
        if (index >= 0) {
          const used = attempts.get(index) ?? 0;
          if (used < ((retriers[index].MaxAttempts as number | undefined) ?? 3)) {
            attempts.set(index, used + 1);
            continue;
          }
        }
        const catcher = ((state.Catch ?? []) as Array<Record<string, unknown>>).find((c) => errorMatches(c.ErrorEquals as string[], error.error, type));
        if (catcher === undefined) {
          throw error;
        }
        return { output: writeResult(rawInput, catcher.ResultPath, { Error: error.error, Cause: error.cause }), next: catcher.Next as string };
      }
    }
  }

  private async runTask(state: StateDef, rawInput: Json, context: Json, counter: Counter): Promise<Json> {
    counter.events += 3;
    counter.invocations += 1;
    if (state.Resource !== LAMBDA_INVOKE) {
      throw new DefinitionError("NotSimulated", [`resource ${String(state.Resource)}`]);
    }
    const parameters = this.effectiveInput(state, rawInput, context) as { FunctionName: string; Payload: Json };
    checkSize(parameters, "task input");
    const payload = JSON.parse(JSON.stringify((await this.invokeLambda(parameters.FunctionName, parameters.Payload)) ?? null)) as Json;
    const result = { ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 };
    checkSize(result, "task result");
    return result;
  }

  private async runMap(state: StateDef, rawInput: Json, context: Json, counter: Counter): Promise<Json[]> {
    const input = selectPath(state.InputPath, rawInput, context);
    const selected = readPath((state.ItemsPath as string | undefined) ?? "$", input, context);
    if (!Array.isArray(selected)) {
      throw new StatesError("States.Runtime", `ItemsPath ${JSON.stringify(state.ItemsPath ?? "$")} does not point to an array`);
    }
    const items = selected as Json[];
    const processor = state.ItemProcessor as Record<string, unknown>;
    const distributed = isObject(processor.ProcessorConfig) && processor.ProcessorConfig.Mode === "DISTRIBUTED";
    const selector = state.ItemSelector ?? state.Parameters;
    const results: Json[] = new Array<Json>(items.length);
    let failed = 0;
    let nextIndex = 0;
    let stop: StatesError | undefined;
    const worker = async () => {
      while (nextIndex < items.length && stop === undefined) {
        const index = nextIndex++;
        const itemContext = { ...(context as object), Map: { Item: { Index: index, Value: items[index] } } };
        const itemInput = selector === undefined ? items[index] : resolveTemplate(selector, input, itemContext);
        if (!distributed) {
          // An inline iteration is part of this execution: its failure is the Map's.
          results[index] = await this.runStates(processor, itemInput, itemContext, counter).catch((error: unknown) => {
            stop ??= asStatesError(error);
          });
          continue;
        }
        const child = await this.runChild(processor, itemInput);
        results[index] = child.error ?? child.output;
        failed += child.error === undefined ? 0 : 1;
      }
    };
    const concurrency = (state.MaxConcurrency as number | undefined) || items.length || 1;
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    if (stop !== undefined) {
      throw stop;
    }
    const tolerated = (state.ToleratedFailurePercentage as number | undefined) ?? 0;
    if (items.length > 0 && (failed / items.length) * 100 > tolerated) {
      throw new StatesError("States.ExceedToleratedFailureThreshold", `${failed} of ${items.length} child executions failed; ${tolerated}% tolerated`);
    }
    return results;
  }

  /** One child execution of a Distributed Map, with its own history; a failure is recorded, not thrown. */
  private async runChild(processor: Record<string, unknown>, childInput: Json): Promise<ChildExecution> {
    const child: ChildExecution = { input: childInput, historyEvents: 0, invocations: 0 };
    this.children.push(child);
    const counter = { events: 1, invocations: 0 };
    try {
      child.output = await this.runStates(processor, childInput, { Execution: { Input: childInput } }, counter);
      checkSize(child.output, "child execution output");
    } catch (error) {
      if (error instanceof DefinitionError) {
        throw error;
      }
      const e = asStatesError(error);
      child.error = { Error: e.error, Cause: e.cause };
    }
    child.historyEvents = counter.events + 1;
    child.invocations = counter.invocations;
    return child;
  }
}

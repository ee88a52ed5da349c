/**
 * Runs a state machine definition the way Step Functions does, for the subset of the Amazon States Language the
 * backfill uses: JSONPath `Parameters` (`.$` keys, `$` and `$$.Map.Item.Value` paths), `OutputPath`, `ResultPath`,
 * Task states on `arn:aws:states:::lambda:invoke` (the result wrapped as `{ Payload }`), `Retry` (ErrorEquals with
 * `States.ALL`, `MaxAttempts`, no waiting), `Catch`, `Choice` on `BooleanEquals`, `Pass`, `Succeed`, and a Map whose
 * items run as separate child executions at most `MaxConcurrency` at a time.
 *
 * It also enforces the 256 KiB limit on state data and counts each execution's history events the way Step Functions
 * records them (ExecutionStarted/Succeeded, Entered/Exited per state, Scheduled/Started/Succeeded|Failed per task
 * attempt), so tests can check what the definition costs per pair.
 */

/** A Lambda invocation: the function's result, or a thrown error whose `name` is Lambda's errorType. */
export type InvokeLambda = (functionArn: string, payload: unknown) => Promise<unknown>;

/** One child execution of a Map. */
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

/** Step Functions' limit on the state data passed between states. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** An error as Step Functions reports it: an error name and a cause. */
class StatesError extends Error {
  readonly error: string;
  override readonly cause: string;

  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.error = error;
    this.cause = cause;
  }
}

function readPath(path: string, input: Json, context: Json): Json {
  const [root, rest] = path.startsWith("$$") ? [context, path.slice(2)] : [input, path.slice(1)];
  let value: Json = root;
  for (const part of rest.split(".").filter((p) => p !== "")) {
    if (typeof value !== "object" || value === null || !(part in value)) {
      throw new StatesError("States.Runtime", `path ${path} does not exist in the input`);
    }
    value = (value as Record<string, Json>)[part];
  }
  return value;
}

function resolveParameters(template: Json, input: Json, context: Json): Json {
  if (Array.isArray(template)) {
    return template.map((item) => resolveParameters(item, input, context));
  }
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) =>
        key.endsWith(".$") ? [key.slice(0, -2), readPath(value as string, input, context)] : [key, resolveParameters(value, input, context)],
      ),
    );
  }
  return template;
}

function writeResult(input: Json, resultPath: unknown, result: Json): Json {
  if (resultPath === undefined || resultPath === "$") {
    return result;
  }
  if (resultPath === null) {
    return input;
  }
  if (typeof resultPath !== "string" || !resultPath.startsWith("$.")) {
    throw new StatesError("States.Runtime", `ResultPath ${JSON.stringify(resultPath)} is not simulated`);
  }
  const parts = resultPath.slice(2).split(".");
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, Json>;
  let target = copy;
  for (const part of parts.slice(0, -1)) {
    target[part] = typeof target[part] === "object" && target[part] !== null ? target[part] : {};
    target = target[part] as Record<string, Json>;
  }
  target[parts[parts.length - 1]] = result;
  return copy;
}

function checkSize(data: Json, where: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? "null", "utf8");
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new StatesError("States.DataLimitExceeded", `${where}: ${bytes} bytes of state data exceed 262144`);
  }
}

function matches(errorEquals: unknown, name: string): boolean {
  const list = errorEquals as string[];
  return list.includes(name) || list.includes("States.ALL") || (list.includes("States.TaskFailed") && name !== "States.Timeout");
}

export class StateMachineInterpreter {
  readonly children: ChildExecution[] = [];

  constructor(
    private readonly definition: Record<string, unknown>,
    private readonly invokeLambda: InvokeLambda,
  ) {}

  /** Runs one execution with `input`; throws a StatesError when the execution fails. */
  async start(input: Json): Promise<ExecutionResult> {
    const counter = { events: 1, invocations: 0 };
    const output = await this.runStates(this.definition, input, {}, counter);
    counter.events += 1;
    return { output, historyEvents: counter.events, children: this.children };
  }

  private async runStates(machine: Record<string, unknown>, input: Json, context: Json, counter: { events: number; invocations: number }): Promise<Json> {
    const states = machine.States as Record<string, StateDef>;
    let name = machine.StartAt as string;
    let data = input;
    for (let steps = 0; steps < 100_000; steps++) {
      const state = states[name];
      if (state === undefined) {
        throw new StatesError("States.Runtime", `no state named ${name}`);
      }
      checkSize(data, name);
      counter.events += 2;
      const outcome = await this.runState(state, data, context, counter);
      if (outcome.next === undefined) {
        return outcome.output;
      }
      name = outcome.next;
      data = outcome.output;
    }
    throw new StatesError("States.Runtime", "too many transitions");
  }

  private async runState(state: StateDef, input: Json, context: Json, counter: { events: number; invocations: number }): Promise<{ output: Json; next?: string }> {
    const next = state.End === true ? undefined : (state.Next as string | undefined);
    const finish = (result: Json) => {
      const withResult = writeResult(input, state.ResultPath, result);
      const output = state.OutputPath === undefined ? withResult : readPath(state.OutputPath as string, withResult, context);
      return { output, next };
    };
    switch (state.Type) {
      case "Pass":
        return finish(state.Parameters === undefined ? input : resolveParameters(state.Parameters, input, context));
      case "Succeed":
        return { output: input };
      case "Choice": {
        for (const choice of state.Choices as Array<Record<string, unknown>>) {
          const value = readPathOrUndefined(choice.Variable as string, input, context);
          if ("BooleanEquals" in choice && value === choice.BooleanEquals) {
            return { output: input, next: choice.Next as string };
          }
        }
        return { output: input, next: state.Default as string };
      }
      case "Task":
        return this.runTask(state, input, context, counter, finish);
      case "Map":
        return finish(await this.runMap(state, input, context));
      default:
        throw new StatesError("States.Runtime", `state type ${String(state.Type)} is not simulated`);
    }
  }

  private async runTask(
    state: StateDef,
    input: Json,
    context: Json,
    counter: { events: number; invocations: number },
    finish: (result: Json) => { output: Json; next?: string },
  ): Promise<{ output: Json; next?: string }> {
    if (state.Resource !== "arn:aws:states:::lambda:invoke") {
      throw new StatesError("States.Runtime", `resource ${String(state.Resource)} is not simulated`);
    }
    const parameters = resolveParameters(state.Parameters, input, context) as { FunctionName: string; Payload: Json };
    checkSize(parameters.Payload, "Lambda payload");
    const attempts = new Map<number, number>();
    for (;;) {
      counter.events += 3;
      counter.invocations += 1;
      try {
        const payload = JSON.parse(JSON.stringify(await this.invokeLambda(parameters.FunctionName, parameters.Payload))) as Json;
        return finish({ ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 });
      } catch (thrown) {
        const error = thrown instanceof StatesError ? thrown.error : (thrown as Error).name;
        const cause = thrown instanceof StatesError ? thrown.cause : JSON.stringify({ errorType: (thrown as Error).name, errorMessage: (thrown as Error).message });
        const retriers = (state.Retry ?? []) as Array<Record<string, unknown>>;
        const index = retriers.findIndex((r) => matches(r.ErrorEquals, error));
        if (index >= 0) {
          const used = attempts.get(index) ?? 0;
          if (used < ((retriers[index].MaxAttempts as number | undefined) ?? 3)) {
            attempts.set(index, used + 1);
            continue;
          }
        }
        const catcher = ((state.Catch ?? []) as Array<Record<string, unknown>>).find((c) => matches(c.ErrorEquals, error));
        if (catcher === undefined) {
          throw new StatesError(error, cause);
        }
        return { output: writeResult(input, catcher.ResultPath, { Error: error, Cause: cause }), next: catcher.Next as string };
      }
    }
  }

  private async runMap(state: StateDef, input: Json, context: Json): Promise<Json[]> {
    const items = readPath(state.ItemsPath as string, input, context) as Json[];
    const processor = state.ItemProcessor as Record<string, unknown>;
    const concurrency = (state.MaxConcurrency as number | undefined) || items.length || 1;
    const results: Json[] = new Array<Json>(items.length);
    let nextIndex = 0;
    const worker = async () => {
      while (nextIndex < items.length) {
        const index = nextIndex++;
        const itemContext = { ...(context as object), Map: { Item: { Index: index, Value: items[index] } } };
        const childInput = state.ItemSelector === undefined ? items[index] : resolveParameters(state.ItemSelector, input, itemContext);
        const child: ChildExecution = { input: childInput, historyEvents: 0, invocations: 0 };
        this.children.push(child);
        const counter = { events: 1, invocations: 0 };
        try {
          child.output = await this.runStates(processor, childInput, { Execution: { Input: childInput } }, counter);
          results[index] = child.output;
        } catch (error) {
          const e = error as StatesError;
          child.error = { Error: e.error, Cause: e.cause };
          results[index] = child.error;
        }
        child.historyEvents = counter.events + 1;
        child.invocations = counter.invocations;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    return results;
  }
}

function readPathOrUndefined(path: string, input: Json, context: Json): Json {
  try {
    return readPath(path, input, context);
  } catch {
    return undefined;
  }
}

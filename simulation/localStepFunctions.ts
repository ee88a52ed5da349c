/**
 * Runs a state machine definition on `aws-local-stepfunctions`, an Amazon States Language interpreter nobody here
 * wrote, so that tests do not rest on the in-repo interpreter alone. Every Task state on
 * `arn:aws:states:::lambda:invoke` is answered in-process by `invokeLambda` through the package's Task overrides, with
 * the result wrapped as the Lambda integration returns it (`{ ExecutedVersion, Payload, StatusCode }`) and a thrown
 * error reported as Lambda reports a function error (Error = its name, Cause = `{ errorType, errorMessage }` as JSON).
 * Retries do not wait.
 *
 * The package (3.0.0) declares Node.js 22; on Node.js 20 it lacks only `Promise.withResolvers` (Node.js 22), which
 * this module polyfills when it is missing.
 *
 * What the package does not model (see the TrailBackfill definition tests): a Distributed Map runs as an inline Map
 * (a failed child fails the Map, `ToleratedFailurePercentage` is ignored, there are no child executions), and
 * `ItemReader`, `ItemBatcher` and `ResultWriter` are ignored; JSONata is ignored rather than refused; a Pass state's
 * falsy `Result` (`false`, `0`, `""`, `null`) is ignored; `IsPresent: false` never matches; there is no 256 KiB limit
 * on state data (`States.DataLimitExceeded`) and no history.
 */
import { ExecutionError, type RunOptions, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";

import { isObject } from "../functions/shared/values";
import { LAMBDA_INVOKE } from "./aslDefinition";
import { DefinitionError, type InvokeLambda, StatesError } from "./stateMachineInterpreter";

type TaskHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;
type PromiseWithResolvers = { withResolvers?: () => { promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (reason?: unknown) => void } };

/** `Promise.withResolvers` (Node.js 22, ES2024), which aws-local-stepfunctions uses for Task timeouts. */
export function installPromiseWithResolvers(): void {
  const promise = Promise as unknown as PromiseWithResolvers;
  if (promise.withResolvers !== undefined) {
    return;
  }
  promise.withResolvers = () => {
    let resolve!: (value: unknown) => void;
    let reject!: (reason?: unknown) => void;
    const created = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
}

installPromiseWithResolvers();

/** Every state of `machine` and of the machines nested in its Map and Parallel states, by name. */
function allStates(machine: Record<string, unknown>): Array<[string, Record<string, unknown>]> {
  const states = isObject(machine.States) ? (Object.entries(machine.States) as Array<[string, Record<string, unknown>]>) : [];
  return states.flatMap(([name, state]) => {
    const nested = [state.ItemProcessor, state.Iterator, ...(Array.isArray(state.Branches) ? (state.Branches as unknown[]) : [])].filter(isObject);
    return [[name, state] as [string, Record<string, unknown>], ...nested.flatMap(allStates)];
  });
}

/**
 * The Task overrides (each lambda:invoke state answered by `invokeLambda`, every invocation added to `inFlight`) and
 * retry waits of zero for `definition`.
 */
function overridesFor(definition: Record<string, unknown>, invokeLambda: InvokeLambda, inFlight: Set<Promise<unknown>>) {
  const taskResourceLocalHandlers: TaskHandlers = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of allStates(definition)) {
    if (state.Type === "Task") {
      if (state.Resource !== LAMBDA_INVOKE || name in taskResourceLocalHandlers) {
        throw new DefinitionError("NotSimulated", [`Task state ${name}: only uniquely named ${LAMBDA_INVOKE} tasks are answered in-process`]);
      }
      taskResourceLocalHandlers[name] = async (input) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
        const invocation = invokeLambda(FunctionName, Payload);
        const settled: Promise<unknown> = invocation.then(
          (): unknown => inFlight.delete(settled),
          (): unknown => inFlight.delete(settled),
        );
        inFlight.add(settled);
        try {
          const payload = JSON.parse(JSON.stringify((await invocation) ?? null)) as null;
          return { ExecutedVersion: "$LATEST", Payload: payload, StatusCode: 200 };
        } catch (thrown) {
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          throw Object.assign(new Error(JSON.stringify({ errorType: error.name, errorMessage: error.message })), { name: error.name });
        }
      };
    }
    if (Array.isArray(state.Retry)) {
      retryIntervalOverrides[name] = 0;
    }
  }
  return { taskResourceLocalHandlers, retryIntervalOverrides };
}

/**
 * Runs one execution of `definition` with `input` on aws-local-stepfunctions. Resolves with the output; rejects
 * with a {@link StatesError} (Error and Cause) when the execution fails, or a {@link DefinitionError} named
 * `InvalidDefinition` when the package's validator (asl-validator) refuses the definition. Settles only once every
 * invocation it started has: when a Map fails, the package abandons its other iterations with their invocations
 * still running (and each Task's timeout timer pending until they end).
 */
export async function runOnLocalStepFunctions(definition: Record<string, unknown>, input: unknown, invokeLambda: InvokeLambda): Promise<unknown> {
  let machine: StateMachine;
  try {
    // A copy: the package's validator writes the default QueryLanguage into every state.
    machine = new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition);
  } catch (error) {
    throw new DefinitionError("InvalidDefinition", [(error as Error).message]);
  }
  const inFlight = new Set<Promise<unknown>>();
  try {
    return await machine.run(input as never, { overrides: overridesFor(definition, invokeLambda, inFlight) }).result;
  } catch (error) {
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      throw new StatesError(error.cause.name, error.cause.message);
    }
    throw error;
  } finally {
    while (inFlight.size > 0) {
      await Promise.all(inFlight);
    }
  }
}

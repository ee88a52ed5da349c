/**
 * The in-repo state machine interpreter against aws-local-stepfunctions (an interpreter nobody here wrote) and
 * asl-validator, on probe definitions whose outcome in Step Functions is documented: each probe runs on both
 * interpreters, and the test fails where they disagree, or where either departs from what Step Functions does
 * (except the departures of aws-local-stepfunctions listed with the probe, which are asserted as they are, so a
 * release that fixes one is noticed).
 */
import aslValidator from "asl-validator";
import { expect } from "chai";

import { TrailBackfill } from "../../components/trailBackfill";
import { runOnLocalStepFunctions } from "../../simulation/localStepFunctions";
import { DefinitionError, MAX_PAYLOAD_BYTES, StateMachineInterpreter, StatesError } from "../../simulation/stateMachineInterpreter";

const FUNCTION = "arn:aws:lambda:ap-northeast-1:111111111111:function:probe";
const ERROR_GUIDE = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html";
const CHOICE_GUIDE = "https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html";
const IO_GUIDE = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html";
const JSONATA_GUIDE = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html";

/** What one execution came to: its output or error name, and how many Lambda invocations it made. */
type Outcome =
  | { status: "SUCCEEDED"; output: unknown; invocations: number }
  | { status: "FAILED"; error: string; invocations: number }
  | { status: "INVALID" }
  | { status: "NOT_SIMULATED" };

/** What the probe's function does on each call (the last reply repeats): return a value, echo its payload, or throw. */
type Reply = { returns: unknown } | { echo: true } | { throws: string };

interface Probe {
  name: string;
  /** Where Step Functions' behaviour is documented. */
  source: string;
  definition: Record<string, unknown>;
  input: unknown;
  replies?: Reply[];
  /** What Step Functions does. */
  aws: Outcome;
  /** What aws-local-stepfunctions 3.0.0 does instead, where it departs from Step Functions. */
  localDeparts?: Outcome;
  /** asl-validator 4 accepts a definition Step Functions refuses. */
  validatorMisses?: true;
  /** The in-repo interpreter refuses the definition as not simulated. */
  notSimulated?: true;
}

const lambdaTask = (fields: Record<string, unknown>) => ({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: FUNCTION, "Payload.$": "$" }, ...fields });
const machine = (states: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ StartAt: Object.keys(states)[0], States: states, ...extra });
const failed = (error: string, invocations = 0): Outcome => ({ status: "FAILED", error, invocations });
const succeeded = (output: unknown, invocations = 0): Outcome => ({ status: "SUCCEEDED", output, invocations });
const INVALID: Outcome = { status: "INVALID" };
const causeOf = (name: string) => JSON.stringify({ errorType: name, errorMessage: `probe failure ${name}` });
/** The pair part of the real TrailBackfill definition (Fetch, PairDone?, PairDone, PairFailed) as a state machine. */
const pairMachine = (() => {
  const definition = TrailBackfill.definition({ functionArn: FUNCTION, readerRoleArns: {}, maxConcurrency: 1 });
  const processor = (definition.States as Record<string, Record<string, unknown>>).BackfillPairs.ItemProcessor as Record<string, unknown>;
  return { StartAt: processor.StartAt, States: processor.States };
})();
const PAIR = { account: "222222222222", region: "us-east-1" };

const PROBES: Probe[] = [
  {
    name: "a Choice on a missing path fails with States.Runtime instead of taking Default",
    source: CHOICE_GUIDE,
    definition: machine({ C: { Type: "Choice", Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Done" }], Default: "Again" }, Done: { Type: "Succeed" }, Again: { Type: "Pass", End: true } }),
    input: {},
    aws: failed("States.Runtime"),
  },
  {
    name: "a retrier on States.ALL does not retry States.Runtime",
    source: ERROR_GUIDE,
    definition: machine({ T: lambdaTask({ ResultSelector: { "value.$": "$.Payload.missing" }, Retry: [{ ErrorEquals: ["States.ALL"], MaxAttempts: 2 }], End: true }) }),
    input: {},
    replies: [{ returns: { present: 1 } }],
    aws: failed("States.Runtime", 1),
  },
  {
    name: "a catcher on States.ALL does not catch States.Runtime",
    source: ERROR_GUIDE,
    definition: machine({ T: lambdaTask({ OutputPath: "$.Payload.missing", Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }], End: true }), Caught: { Type: "Pass", End: true } }),
    input: {},
    replies: [{ returns: { present: 1 } }],
    aws: failed("States.Runtime", 1),
  },
  {
    name: "a Choice with no matching rule and no Default fails with States.NoChoiceMatched",
    source: CHOICE_GUIDE,
    definition: machine({ C: { Type: "Choice", Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Done" }] }, Done: { Type: "Succeed" } }),
    input: { done: false },
    aws: failed("States.NoChoiceMatched"),
  },
  {
    name: "ResultSelector shapes a task's result before ResultPath",
    source: IO_GUIDE,
    definition: machine({ T: lambdaTask({ ResultSelector: { "value.$": "$.Payload.x", fixed: "k" }, ResultPath: "$.r", End: true }) }),
    input: { a: 1 },
    replies: [{ returns: { x: 7, y: 8 } }],
    aws: succeeded({ a: 1, r: { value: 7, fixed: "k" } }, 1),
  },
  {
    name: "a Pass state's Result is its result",
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html",
    definition: machine({ P: { Type: "Pass", Result: { x: 1 }, ResultPath: "$.r", End: true } }),
    input: { a: 1 },
    aws: succeeded({ a: 1, r: { x: 1 } }),
  },
  {
    name: "a JSONata state with a JSONPath field is refused",
    source: JSONATA_GUIDE,
    definition: machine({ P: { Type: "Pass", QueryLanguage: "JSONata", OutputPath: "$.y", End: true } }),
    input: { y: 1 },
    aws: INVALID,
  },
  {
    name: "TrailBackfill's pair steps: a fetch result without `done` fails the child with States.Runtime, past its catcher",
    source: CHOICE_GUIDE,
    definition: pairMachine,
    input: PAIR,
    replies: [{ returns: { ...PAIR, remaining: [] } }],
    aws: failed("States.Runtime", 1),
  },
  {
    name: "TrailBackfill's pair steps: `done: false` fetches again, `done: true` ends at PairDone",
    source: CHOICE_GUIDE,
    definition: pairMachine,
    input: PAIR,
    replies: [{ returns: { ...PAIR, done: false } }, { returns: { ...PAIR, status: "DONE", done: true } }],
    aws: succeeded({ ...PAIR, status: "DONE", done: true }, 2),
  },
  {
    name: "TrailBackfill's pair steps: a non-retryable error is not retried by the later States.ALL retrier, and is caught",
    source: ERROR_GUIDE,
    definition: pairMachine,
    input: PAIR,
    replies: [{ throws: "ReaderRoleAccessDeniedError" }],
    aws: succeeded({ ...PAIR, status: "FAILED", error: "ReaderRoleAccessDeniedError" }, 1),
  },
  {
    name: "TrailBackfill's pair steps: another error is retried 3 times by States.ALL, then caught",
    source: ERROR_GUIDE,
    definition: pairMachine,
    input: PAIR,
    replies: [{ throws: "Error" }],
    aws: succeeded({ ...PAIR, status: "FAILED", error: "Error" }, 4),
  },
  {
    name: "a retrier's attempts run out, then the catcher takes the error with its cause",
    source: ERROR_GUIDE,
    definition: machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ["Boom"], MaxAttempts: 1 }], Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.err", Next: "Caught" }], End: true }), Caught: { Type: "Pass", End: true } }),
    input: { a: 1 },
    replies: [{ throws: "Boom" }, { throws: "Boom" }, { returns: "late" }],
    aws: succeeded({ a: 1, err: { Error: "Boom", Cause: causeOf("Boom") } }, 2),
  },
  {
    name: "States.TaskFailed matches a task's error",
    source: ERROR_GUIDE,
    definition: machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ["States.TaskFailed"], MaxAttempts: 1 }], OutputPath: "$.Payload", End: true }) }),
    input: {},
    replies: [{ throws: "Boom" }, { returns: { ok: true } }],
    aws: succeeded({ ok: true }, 2),
  },
  {
    name: "InputPath, Parameters, ResultPath and OutputPath",
    source: IO_GUIDE,
    definition: machine({ T: lambdaTask({ InputPath: "$.in", ResultPath: "$.out", OutputPath: "$.out.Payload", End: true }) }),
    input: { in: { v: 1 }, other: 2 },
    replies: [{ echo: true }],
    aws: succeeded({ v: 1 }, 1),
  },
  {
    name: "Parameters on a missing path fail with States.Runtime",
    source: IO_GUIDE,
    definition: machine({ P: { Type: "Pass", Parameters: { "v.$": "$.nope" }, End: true } }),
    input: {},
    aws: failed("States.Runtime"),
  },
  {
    name: "IsPresent: false matches a missing path",
    source: CHOICE_GUIDE,
    definition: machine({
      C: { Type: "Choice", Choices: [{ Variable: "$.x", IsPresent: false, Next: "Absent" }], Default: "Present" },
      Absent: { Type: "Pass", Result: "absent", End: true },
      Present: { Type: "Pass", Result: "present", End: true },
    }),
    input: {},
    aws: succeeded("absent"),
    localDeparts: succeeded("present"),
  },
  {
    name: "a Pass state's Result false is its result",
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html",
    definition: machine({ P: { Type: "Pass", Result: false, End: true } }),
    input: { a: 1 },
    aws: succeeded(false),
    localDeparts: succeeded({ a: 1 }),
  },
  {
    name: "a Fail state fails the execution with its error",
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html",
    definition: machine({ F: { Type: "Fail", Error: "Probe.Stopped", Cause: "stopped on purpose" } }),
    input: {},
    aws: failed("Probe.Stopped"),
  },
  {
    name: "an inline Map fails with an iteration's error, which its catcher takes",
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html",
    definition: machine({
      M: { Type: "Map", ItemsPath: "$.items", ItemProcessor: machine({ T: lambdaTask({ End: true }) }), Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Done" }], Next: "Done" },
      Done: { Type: "Pass", End: true },
    }),
    input: { items: [1] },
    replies: [{ throws: "Boom" }],
    aws: succeeded({ items: [1], error: { Error: "Boom", Cause: causeOf("Boom") } }, 1),
  },
  {
    name: "an inline Map's States.Runtime is not caught by the Map's catcher",
    source: ERROR_GUIDE,
    definition: machine({
      M: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: machine({ C: { Type: "Choice", Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "S" }], Default: "S" }, S: { Type: "Succeed" } }),
        Catch: [{ ErrorEquals: ["States.ALL"], Next: "Done" }],
        End: true,
      },
      Done: { Type: "Pass", End: true },
    }),
    input: { items: [{}] },
    aws: failed("States.Runtime"),
  },
  {
    name: "a task result over 256 KiB fails with States.DataLimitExceeded, which States.ALL does not catch",
    source: ERROR_GUIDE,
    definition: machine({ T: lambdaTask({ ResultPath: null, Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }], End: true }), Caught: { Type: "Pass", End: true } }),
    input: { a: 1 },
    replies: [{ returns: "x".repeat(MAX_PAYLOAD_BYTES) }],
    aws: failed("States.DataLimitExceeded", 1),
    localDeparts: succeeded({ a: 1 }, 1),
  },
  {
    name: "ResultSelector on a Pass state is refused",
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-pass.html",
    definition: machine({ P: { Type: "Pass", ResultSelector: { a: 1 }, End: true } }),
    input: {},
    aws: INVALID,
  },
  {
    name: "States.ALL in a retrier before the last is refused",
    source: "https://states-language.net/spec.html#retrying-after-error",
    definition: machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ["States.ALL"] }, { ErrorEquals: ["Boom"] }], End: true }) }),
    input: {},
    replies: [{ returns: 1 }],
    aws: INVALID,
    validatorMisses: true,
    localDeparts: succeeded({ ExecutedVersion: "$LATEST", Payload: 1, StatusCode: 200 }, 1),
  },
  {
    name: "a transition to a state that does not exist is refused",
    source: "https://states-language.net/spec.html#transition",
    definition: machine({ P: { Type: "Pass", Next: "Nowhere" }, End: { Type: "Succeed" } }),
    input: {},
    aws: INVALID,
  },
  {
    name: "a JSONata state without JSONPath fields runs (JSONata is not simulated here)",
    source: JSONATA_GUIDE,
    definition: machine({ P: { Type: "Pass", Output: "{% $states.input.a %}", End: true } }, { QueryLanguage: "JSONata" }),
    input: { a: 5 },
    aws: succeeded(5),
    notSimulated: true,
    localDeparts: succeeded({ a: 5 }),
  },
];

/** The probe's function: replies in call order, counting calls. */
function probeLambda(replies: Reply[] = []) {
  const state = { invocations: 0 };
  const invoke = (_functionArn: string, payload: unknown): Promise<unknown> => {
    const reply = replies[Math.min(state.invocations, replies.length - 1)] ?? { returns: null };
    state.invocations += 1;
    if ("throws" in reply) {
      return Promise.reject(Object.assign(new Error(`probe failure ${reply.throws}`), { name: reply.throws }));
    }
    return Promise.resolve("echo" in reply ? payload : reply.returns);
  };
  return { state, invoke };
}

/** Runs `probe` with `run` and tells what came of it. */
async function outcomeOf(probe: Probe, run: (invoke: ReturnType<typeof probeLambda>["invoke"]) => Promise<unknown>): Promise<Outcome> {
  const { state, invoke } = probeLambda(probe.replies);
  try {
    const output = await run(invoke);
    return { status: "SUCCEEDED", output, invocations: state.invocations };
  } catch (error) {
    if (error instanceof DefinitionError) {
      return { status: error.name === "InvalidDefinition" ? "INVALID" : "NOT_SIMULATED" };
    }
    if (error instanceof StatesError) {
      return { status: "FAILED", error: error.error, invocations: state.invocations };
    }
    throw error;
  }
}

const inRepo = (probe: Probe) => outcomeOf(probe, async (invoke) => (await new StateMachineInterpreter(probe.definition, invoke).start(probe.input)).output);
const awsLocal = (probe: Probe) => outcomeOf(probe, (invoke) => runOnLocalStepFunctions(probe.definition, probe.input, invoke));

describe("state machine interpreters on probe definitions (in-repo vs aws-local-stepfunctions vs Step Functions' documentation)", () => {
  for (const probe of PROBES) {
    it(probe.name, async () => {
      // Act
      const [ours, theirs] = [await inRepo(probe), await awsLocal(probe)];
      const validation = aslValidator(structuredClone(probe.definition), { checkArn: true, checkPaths: true });

      // Assess: the two agree unless aws-local-stepfunctions is known to depart from Step Functions or ours does not
      // simulate the probe; each matches Step Functions (as documented at probe.source) or its listed departure.
      if (probe.localDeparts === undefined && probe.notSimulated === undefined) {
        expect(ours, "the in-repo interpreter and aws-local-stepfunctions disagree").to.deep.equal(theirs);
      }
      expect(ours, `in-repo interpreter vs Step Functions (${probe.source})`).to.deep.equal(probe.notSimulated ? { status: "NOT_SIMULATED" } : probe.aws);
      expect(theirs, "aws-local-stepfunctions").to.deep.equal(probe.localDeparts ?? probe.aws);
      expect(validation.isValid, `asl-validator: ${validation.errorsText("; ")}`).to.equal(probe.aws.status !== "INVALID" || probe.validatorMisses === true);
    });
  }

  it("the probes cover the eight cases of the review and each departure listed", () => {
    expect(PROBES.length).to.be.at.least(20);
    expect(new Set(PROBES.map((p) => p.name)).size).to.equal(PROBES.length);
    expect(PROBES.filter((p) => p.localDeparts !== undefined).map((p) => p.name)).to.have.length(5);
  });
});

describe("the in-repo interpreter's own measurements", () => {
  it("fails with States.DataLimitExceeded when a state's input exceeds 256 KiB", async () => {
    // Prepare
    const definition = machine({ P: { Type: "Pass", Next: "Q" }, Q: { Type: "Pass", End: true } });

    // Act
    const error = await new StateMachineInterpreter(definition, () => Promise.resolve(null)).start({ blob: "x".repeat(MAX_PAYLOAD_BYTES) }).then(
      () => undefined,
      (e: StatesError) => e,
    );

    // Assess
    expect(error?.error).to.equal("States.DataLimitExceeded");
  });

  it("runs each Distributed Map item as a child execution with its own history, and tolerates failed children as configured", async () => {
    // Prepare: the real definition; the second pair's fetch result lacks `done`.
    const definition = TrailBackfill.definition({ functionArn: FUNCTION, readerRoleArns: {}, maxConcurrency: 2 });
    const items = [{ ...PAIR, roleArn: "r" }, { account: "333333333333", region: "us-east-1", roleArn: "r" }];
    const interpreter = new StateMachineInterpreter(definition, (_arn, payload) => {
      const p = payload as { action: string; checkpoint: { account: string }; results: unknown[] };
      if (p.action === "plan") return Promise.resolve({ items, startTime: "s", endTime: "e", requested: {} });
      if (p.action === "summarize") return Promise.resolve(p.results);
      return Promise.resolve(p.checkpoint.account === PAIR.account ? { ...PAIR, status: "DONE", done: true } : { account: "333333333333" });
    });

    // Act
    const execution = await interpreter.start({});

    // Assess: 4 + 7 events per invocation for the pair that finished; the other fails past its catcher, in its Choice
    // state (entered, never exited).
    expect(execution.children.map((c) => ({ historyEvents: c.historyEvents, invocations: c.invocations, error: c.error?.Error }))).to.deep.equal([
      { historyEvents: 11, invocations: 1, error: undefined },
      { historyEvents: 8, invocations: 1, error: "States.Runtime" },
    ]);
    expect((execution.output as unknown[])[1]).to.deep.include({ Error: "States.Runtime" });
  });

  it("fails the Map with States.ExceedToleratedFailureThreshold when more children fail than tolerated", async () => {
    // Prepare
    const definition = machine({
      M: { Type: "Map", ItemsPath: "$.items", ToleratedFailurePercentage: 50, ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, ...machine({ F: { Type: "Fail", Error: "Probe.Stopped" } }) }, End: true },
    });

    // Act
    const error = await new StateMachineInterpreter(definition, () => Promise.resolve(null)).start({ items: [1, 2] }).then(
      () => undefined,
      (e: StatesError) => e,
    );

    // Assess
    expect(error?.error).to.equal("States.ExceedToleratedFailureThreshold");
  });

  it("names every problem of a definition it refuses, telling what AWS refuses from what it does not simulate", () => {
    // Prepare
    const invalid = machine({ T: lambdaTask({ Retry: [{ ErrorEquals: ["States.ALL", "Boom"] }], Output: "{% 1 %}", Next: "Gone" }), Lost: { Type: "Pass", End: true } });
    const unsimulated = machine({ W: { Type: "Wait", Seconds: 1, Next: "T" }, T: lambdaTask({ Parameters: { FunctionName: FUNCTION, "Payload.$": "States.Format('{}', $.a)" }, End: true }) });

    // Act
    const refuse = (definition: Record<string, unknown>) => {
      try {
        new StateMachineInterpreter(definition, () => Promise.resolve(null));
        return undefined;
      } catch (error) {
        return { name: (error as DefinitionError).name, problems: (error as DefinitionError).problems };
      }
    };

    // Assess
    expect(refuse(invalid)).to.deep.equal({
      name: "InvalidDefinition",
      problems: [
        "state T: Output is a JSONata field; this state uses JSONPath",
        'state T: Next names no state: "Gone"',
        "state T: Retry[0]: States.ALL must appear alone, in the last retrier",
        "state Lost is not reachable",
      ],
    });
    expect(refuse(unsimulated)).to.deep.equal({
      name: "NotSimulated",
      problems: ["state W: Wait states are not simulated", "state T: Parameters.Payload.$: intrinsic functions are not simulated"],
    });
  });
});

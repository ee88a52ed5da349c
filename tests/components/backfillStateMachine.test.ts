import type { GetObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";

import { BACKFILL_FUNCTION_TIMEOUT_SECONDS, BACKFILL_MAP_LABEL, backfillDefinition } from "../../components/backfillStateMachine";
import { TrailBackfill } from "../../components/trailBackfill";
import { type BackfillHandlerDependencies, handleBackfillEvent } from "../../functions/trailBackfill/handler";
import type { BackfillSummary } from "../../functions/trailBackfill/summary";
import { type InvokeLambda, StateMachineInterpreter, type StatesError } from "../../simulation/stateMachineInterpreter";

describe("backfillStateMachine", () => {
  const params = { functionArn: "arn:aws:lambda:ap-northeast-1:111111111111:function:bsm", readerRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/r" }, maxConcurrency: 3 };
  type State = Record<string, unknown>;
  const definition = backfillDefinition(params) as { States: Record<string, State> };

  it("hands the summary step the plan's ranges and the pairs' results", () => {
    expect(definition.States.Summarize.Parameters).to.deep.equal({
      FunctionName: params.functionArn,
      Payload: { action: "summarize", plan: { "requested.$": "$.requested", "startTime.$": "$.startTime", "endTime.$": "$.endTime" }, "results.$": "$.results" },
    });
    expect(definition.States.BackfillPairs).to.deep.include({ Label: BACKFILL_MAP_LABEL, ResultPath: "$.results", MaxConcurrency: 3 });
    expect(definition.States.BackfillPairs).to.not.have.property("ResultWriter");
  });

  it("exports the pairs' results to S3 with a ResultWriter when given where, so the state stays small", () => {
    const exported = backfillDefinition({ ...params, results: { bucket: "bsm-bucket", prefix: "org/TrailBackfillResults" } }) as { States: Record<string, State> };

    expect(exported.States.BackfillPairs.ResultWriter).to.deep.equal({ Resource: "arn:aws:states:::s3:putObject", Parameters: { Bucket: "bsm-bucket", Prefix: "org/TrailBackfillResults" } });
  });

  it("gives each child its account and region only; the fetch step carries the reader roles", () => {
    const map = definition.States.BackfillPairs;
    const fetch = ((map.ItemProcessor as State).States as Record<string, State>).Fetch;

    expect(map.ItemSelector).to.deep.equal({ "account.$": "$$.Map.Item.Value.account", "region.$": "$$.Map.Item.Value.region", "startTime.$": "$.startTime", "endTime.$": "$.endTime" });
    expect(fetch.Parameters).to.deep.equal({ FunctionName: params.functionArn, Payload: { action: "fetch", "checkpoint.$": "$", readerRoleArns: params.readerRoleArns } });
  });

  it("gives each fetch a minute more than the function may run, and is what TrailBackfill deploys", () => {
    const fetch = ((definition.States.BackfillPairs.ItemProcessor as State).States as Record<string, State>).Fetch;

    expect(fetch.TimeoutSeconds).to.equal(BACKFILL_FUNCTION_TIMEOUT_SECONDS + 60);
    expect(TrailBackfill.definition(params)).to.deep.equal(definition);
  });
});

describe("backfillStateMachine at organisation scale", () => {
  // 118 accounts x 17 Regions: 2,006 pairs, the work of each pair stubbed (two invocations: a checkpoint, then done).
  const accounts = Array.from({ length: 118 }, (_, i) => String(200000000000 + i));
  const regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1"];
  const readerRoleArns = Object.fromEntries(accounts.map((a) => [a, `arn:aws:iam::${a}:role/cloudtrail-alerts-backfill-reader`]));
  const functionArn = "arn:aws:lambda:ap-northeast-1:111111111111:function:org-backfill";
  const now = Date.parse("2024-06-01T00:00:00Z");
  const input = { accounts, regions, startTime: "2024-05-01T00:00:00Z", endTime: "2024-05-31T00:00:00Z" };

  /** The real plan and summarize steps; a stubbed fetch; S3 as a map the ResultWriter fills and the summary reads. */
  function world() {
    const objects = new Map<string, string>();
    const s3 = {
      send: (command: GetObjectCommand) => {
        const body = objects.get(`${command.input.Bucket}/${command.input.Key}`);
        return body === undefined ? Promise.reject(Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey" })) : Promise.resolve({ Body: { transformToString: () => Promise.resolve(body) } });
      },
    } as unknown as BackfillHandlerDependencies["s3"];
    const invoke: InvokeLambda = (_arn, payload) => {
      const event = payload as { action: string; checkpoint?: Record<string, unknown>; readerRoleArns?: Record<string, string> };
      if (event.action === "fetch") {
        const pair = event.checkpoint as { account: string; region: string; roleArn?: string; remaining?: unknown };
        expect(pair.roleArn ?? event.readerRoleArns?.[pair.account]).to.equal(readerRoleArns[pair.account]);
        return Promise.resolve(
          pair.remaining === undefined
            ? { ...pair, done: false, remaining: [["2024-05-30T00:00:00.000Z", "2024-05-31T00:00:00.000Z"]], stalled: 0, stats: {} }
            : { account: pair.account, region: pair.region, status: "DONE", done: true, invocations: 2, requests: 40, throttled: 0, events: 1900, files: 288, rejected: 0 },
        );
      }
      return handleBackfillEvent(payload, { bucket: "org-bucket" }, { cloudTrailFor: () => Promise.reject(new Error("not used")), s3, clock: { now: () => now, sleep: () => Promise.resolve() }, logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, remainingTimeInMillis: 900_000 });
    };
    const putResultObject = (bucket: string, key: string, body: string) => {
      objects.set(`${bucket}/${key}`, body);
      return Promise.resolve();
    };
    return { objects, invoke, putResultObject };
  }

  it("runs 2,006 pairs in one execution within Step Functions' 256 KiB of state data and 25,000 history events", async () => {
    // Prepare
    const definition = backfillDefinition({ functionArn, readerRoleArns, maxConcurrency: 1000, results: { bucket: "org-bucket", prefix: "TrailBackfillResults" } });
    const { objects, invoke, putResultObject } = world();

    // Act: the interpreter fails any state, task input or output over 256 KiB with States.DataLimitExceeded.
    const execution = await new StateMachineInterpreter(definition, invoke, { stateMachineArn: "arn:aws:states:ap-northeast-1:111111111111:stateMachine:org-backfill", putResultObject }).start(input);

    // Assess
    const summary = execution.output as BackfillSummary;
    expect(summary).to.deep.include({ pairs: 2006, doneCount: 2006, failedCount: 0 });
    expect(summary.totals).to.deep.equal({ events: 2006 * 1900, files: 2006 * 288, requests: 2006 * 40, throttled: 0 });
    expect(Buffer.byteLength(JSON.stringify(summary))).to.be.below(64 * 1024);
    expect(execution.historyEvents).to.be.below(25_000);
    expect(execution.children).to.have.length(2006);
    expect(Math.max(...execution.children.map((c) => c.historyEvents))).to.be.below(25_000);
    const manifestKey = summary.results?.manifestKey as string;
    expect([...objects.keys()].sort()).to.deep.equal([`org-bucket/${manifestKey}`, `org-bucket/${manifestKey.replace("manifest.json", "SUCCEEDED_0.json")}`].sort());
  });

  it("fails the same execution with States.DataLimitExceeded when the Map returns the results in the state", async () => {
    const definition = backfillDefinition({ functionArn, readerRoleArns, maxConcurrency: 1000 });
    const { invoke } = world();

    const failure = await new StateMachineInterpreter(definition, invoke).start(input).then(
      () => undefined,
      (error: StatesError) => error,
    );

    expect(failure?.error).to.equal("States.DataLimitExceeded");
  });
});

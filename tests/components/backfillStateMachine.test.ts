import { expect } from "chai";

import { BACKFILL_FUNCTION_TIMEOUT_SECONDS, BACKFILL_MAP_LABEL, backfillDefinition } from "../../components/backfillStateMachine";
import { TrailBackfill } from "../../components/trailBackfill";

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

import { expect } from "chai";

import { BACKFILL_FUNCTION_TIMEOUT_SECONDS, BACKFILL_MAP_LABEL, backfillDefinition } from "../../components/backfillStateMachine";
import { TrailBackfill } from "../../components/trailBackfill";

describe("backfillStateMachine", () => {
  const params = { functionArn: "arn:aws:lambda:ap-northeast-1:111111111111:function:bsm", readerRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/r" }, maxConcurrency: 3 };
  type State = Record<string, unknown>;
  const definition = backfillDefinition(params) as { States: Record<string, State> };

  it("hands the summary step the plan's ranges and the pairs' results, which replaced the items", () => {
    expect(definition.States.Summarize.Parameters).to.deep.equal({
      FunctionName: params.functionArn,
      Payload: { action: "summarize", plan: { "requested.$": "$.requested", "startTime.$": "$.startTime", "endTime.$": "$.endTime" }, "results.$": "$.items" },
    });
    expect(definition.States.BackfillPairs).to.deep.include({ Label: BACKFILL_MAP_LABEL, ResultPath: "$.items", MaxConcurrency: 3 });
  });

  it("gives each fetch a minute more than the function may run, and is what TrailBackfill deploys", () => {
    const fetch = ((definition.States.BackfillPairs.ItemProcessor as State).States as Record<string, State>).Fetch;

    expect(fetch.TimeoutSeconds).to.equal(BACKFILL_FUNCTION_TIMEOUT_SECONDS + 60);
    expect(TrailBackfill.definition(params)).to.deep.equal(definition);
  });
});

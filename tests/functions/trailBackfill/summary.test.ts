import { expect } from "chai";

import { summarizeBackfill } from "../../../functions/trailBackfill/summary";

describe("trailBackfill summary", () => {
  it("summarizes pairs done and failed with totals", () => {
    const summary = summarizeBackfill({ requested: { startTime: "a", endTime: "b" }, startTime: "s", endTime: "e", items: [] }, [
      { account: "111111111111", region: "us-east-1", status: "DONE", done: true, invocations: 2, requests: 30, throttled: 1, events: 1200, files: 40, rejected: 0 },
      { account: "222222222222", region: "us-east-1", status: "FAILED", error: "ReaderRoleAccessDeniedError" },
      { Error: "States.Runtime" },
    ]);

    expect(summary).to.deep.equal({
      requested: { startTime: "a", endTime: "b" },
      startTime: "s",
      endTime: "e",
      pairs: 3,
      totals: { events: 1200, files: 40, requests: 30, throttled: 1 },
      done: [{ account: "111111111111", region: "us-east-1", invocations: 2, requests: 30, throttled: 1, events: 1200, files: 40, rejected: 0 }],
      failed: [
        { account: "222222222222", region: "us-east-1", error: "ReaderRoleAccessDeniedError" },
        { account: "unknown", region: "unknown", error: "States.Runtime" },
      ],
    });
  });

  it("reads anything the Map returns: no plan, no list, and counters that are not numbers", () => {
    const summary = summarizeBackfill(undefined, [{ account: "111111111111", region: "us-east-1", status: "DONE", events: "many", files: 2 }, "junk"]);

    expect(summary).to.deep.equal({
      requested: { startTime: "", endTime: "" },
      startTime: "",
      endTime: "",
      pairs: 2,
      totals: { events: 0, files: 2, requests: 0, throttled: 0 },
      done: [{ account: "111111111111", region: "us-east-1", invocations: 0, requests: 0, throttled: 0, events: 0, files: 2, rejected: 0 }],
      failed: [{ account: "unknown", region: "unknown", error: "ChildExecutionFailed" }],
    });
    expect(summarizeBackfill({}, "not a list").pairs).to.equal(0);
  });
});

import { expect } from "chai";

import { assertIsError, embeddedMetricSink, namedError, reportRejectedInput } from "../../../functions/shared/runtime";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";

describe("runtime", () => {
  it("namedError makes a real Error with a name and fields", () => {
    const error = namedError("InvalidPayloadError", "bad", { reason: "not gzip" });
    expect(error).to.be.instanceOf(Error);
    expect(error).to.include({ name: "InvalidPayloadError", message: "bad", reason: "not gzip" });
    expect(error.stack).to.be.a("string");
  });

  it("assertIsError rethrows non-Error values instead of swallowing them", () => {
    expect(() => assertIsError("boom")).to.throw("non-Error value thrown: boom");
    expect(() => assertIsError(new Error("ok"))).not.to.throw();
  });

  it("writes one Embedded Metric Format document per count", () => {
    // Prepare
    const lines: string[] = [];
    const sink = embeddedMetricSink("notifier-fn", (line) => lines.push(line));

    // Act
    sink.count("RejectedInput", 2, { Reason: "NotGzip" });

    // Assess
    expect(lines).to.have.length(1);
    const document = JSON.parse(lines[0]) as Record<string, unknown> & { _aws: { Timestamp: number; CloudWatchMetrics: unknown[] } };
    expect(document._aws.CloudWatchMetrics).to.deep.equal([
      { Namespace: "CloudTrailAlerts", Dimensions: [["FunctionName", "Reason"]], Metrics: [{ Name: "RejectedInput", Unit: "Count" }] },
    ]);
    expect(document).to.include({ FunctionName: "notifier-fn", Reason: "NotGzip", RejectedInput: 2 });
    expect(lines[0].endsWith("\n")).to.equal(true);
  });

  it("reports rejected input: one WARN line per item with its reason, one count in RejectedInput", () => {
    // Prepare
    const logger = recordingLogger();
    const metrics = recordingMetrics();

    // Act
    reportRejectedInput([], logger, metrics);
    reportRejectedInput(
      [
        { source: "logs", reason: "awslogs.data is not gzip", id: "37" },
        { source: "eventbridge", reason: "detail is not a CloudTrail record" },
      ],
      logger,
      metrics,
    );

    // Assess
    expect(logger.lines).to.deep.equal([
      { level: "warn", message: "input rejected", fields: { source: "logs", reason: "awslogs.data is not gzip", id: "37" } },
      { level: "warn", message: "input rejected", fields: { source: "eventbridge", reason: "detail is not a CloudTrail record" } },
    ]);
    expect(metrics.counts).to.deep.equal([{ name: "RejectedInput", value: 2 }]);
  });
});

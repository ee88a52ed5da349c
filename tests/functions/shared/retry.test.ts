import { expect } from "chai";

import { backoffDelay, isRetryableError, isThrottlingError } from "../../../functions/shared/retry";
import { namedError } from "../../../functions/shared/runtime";

function awsError(name: string, status?: number, fault?: "client" | "server"): Error {
  return namedError(name, name, { $metadata: { httpStatusCode: status }, $fault: fault });
}

describe("retry policy", () => {
  it("retries throttling, server faults and transient network errors", () => {
    for (const error of [
      awsError("ThrottlingException", 400),
      awsError("ProvisionedThroughputExceededException", 400),
      awsError("Anything", 429),
      awsError("Anything", 503),
      awsError("Anything", undefined, "server"),
      awsError("TimeoutError"),
      namedError("Error", "socket hang up", { code: "ECONNRESET" }),
    ]) {
      expect(isRetryableError(error), error.name).to.equal(true);
    }
  });

  it("does not retry what trying again cannot fix", () => {
    for (const error of [awsError("AccessDeniedException", 400, "client"), awsError("ValidationException", 400), awsError("ConditionalCheckFailedException", 400), new TypeError("x")]) {
      expect(isRetryableError(error), error.name).to.equal(false);
    }
  });

  it("tells throttling from other faults", () => {
    expect(isThrottlingError(awsError("ThrottlingException", 400))).to.equal(true);
    expect(isThrottlingError(awsError("InternalFailure", 500))).to.equal(false);
  });

  it("backs off with equal jitter: within [d/2, d], d doubling from the base up to the cap", () => {
    expect(backoffDelay(1, 1000, 20_000, () => 0)).to.equal(500);
    expect(backoffDelay(1, 1000, 20_000, () => 1)).to.equal(1000);
    expect(backoffDelay(3, 1000, 20_000, () => 1)).to.equal(4000);
    expect(backoffDelay(10, 1000, 20_000, () => 0)).to.equal(10_000);
  });
});

import { expect } from "chai";

import { decodePairInput } from "../../../functions/trailBackfill/checkpoint";

const ACCOUNT = "222222222222";
const REGION = "us-east-1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/backfill-reader`;

describe("trailBackfill checkpoint", () => {
  describe("decodePairInput", () => {
    const pair = { account: ACCOUNT, region: REGION, roleArn: ROLE, startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-20T12:00:00.000Z" };

    it("starts a pair item with the whole range remaining", () => {
      expect(decodePairInput(pair)).to.deep.equal({
        ...pair,
        done: false,
        remaining: [["2024-05-20T10:00:00.000Z", "2024-05-20T12:00:00.000Z"]],
        stalled: 0,
        stats: { invocations: 0, requests: 0, throttled: 0, retried: 0, events: 0, files: 0, rejected: 0 },
      });
    });

    const bad: Array<[string, unknown, string]> = [
      ["a role in another account", { ...pair, roleArn: "arn:aws:iam::333333333333:role/r" }, `roleArn must be an IAM role ARN in account ${ACCOUNT}, got "arn:aws:iam::333333333333:role/r"`],
      ["an unaligned range", { ...pair, startTime: "2024-05-20T10:01:00.000Z" }, "startTime and endTime must be ISO times on 5-minute boundaries"],
      ["remaining outside the range", { ...pair, remaining: [["2024-05-20T09:00:00.000Z", "2024-05-20T10:00:00.000Z"]] }, "which is not a window-aligned part of"],
    ];
    for (const [title, input, message] of bad) {
      it(`refuses ${title}`, () => {
        expect(() => decodePairInput(input)).to.throw(message);
      });
    }
  });
  it("resumes a checkpoint with its remaining windows, stall count and counters, counting bad counters as 0", () => {
    // Prepare
    const pair = { account: ACCOUNT, region: REGION, roleArn: ROLE, startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-20T12:00:00.000Z" };
    const checkpoint = {
      ...pair,
      done: false,
      remaining: [["2024-05-20T10:00:00Z", "2024-05-20T10:30:00Z"]],
      stalled: 2,
      stats: { invocations: 3, requests: 120, throttled: -1, retried: 1.5, events: 5000, files: "7", extra: 9 },
    };

    // Act
    const decoded = decodePairInput(JSON.parse(JSON.stringify(checkpoint)));

    // Assess
    expect(decoded).to.deep.equal({
      ...pair,
      done: false,
      remaining: [["2024-05-20T10:00:00.000Z", "2024-05-20T10:30:00.000Z"]],
      stalled: 2,
      stats: { invocations: 3, requests: 120, throttled: 0, retried: 0, events: 5000, files: 0, rejected: 0 },
    });
  });

  const invalid: Array<[string, unknown, string]> = [
    ["a list", [], "invalid fetch input: expected a pair item or checkpoint object, got []"],
    ["a bad account", { account: "1", region: REGION, roleArn: ROLE }, 'invalid fetch input: account must be a 12-digit AWS account ID, got "1"'],
    ["a bad region", { account: ACCOUNT, region: "Tokyo", roleArn: ROLE }, 'invalid fetch input: region must be an AWS region, got "Tokyo"'],
    ["remaining that is not a list", { account: ACCOUNT, region: REGION, roleArn: ROLE, startTime: "2024-05-20T10:00:00Z", endTime: "2024-05-20T12:00:00Z", remaining: "all" }, 'invalid fetch input: remaining must be a list, got "all"'],
  ];
  for (const [title, input, message] of invalid) {
    it(`refuses ${title} with InvalidBackfillInputError`, () => {
      expect(() => decodePairInput(input))
        .to.throw(message)
        .with.property("name", "InvalidBackfillInputError");
    });
  }
});

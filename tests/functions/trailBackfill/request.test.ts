import { expect } from "chai";
import * as fc from "fast-check";

import { WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { backfillRequestProblems, parseIsoTime, planBackfill, widenedRange } from "../../../functions/trailBackfill/request";

const NOW = Date.parse("2024-06-01T00:00:00Z");

describe("trailBackfill plan", () => {
  const roles = { "111111111111": "arn:aws:iam::111111111111:role/r1", "222222222222": "arn:aws:iam::222222222222:role/r2" };
  const valid = { accounts: ["111111111111", "222222222222"], regions: ["us-east-1", "ap-northeast-1"], startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-20T11:58:30+00:00" };

  it("widens the range to whole 5-minute windows and lists one item per account-region pair", () => {
    const plan = planBackfill(valid, { now: NOW, readerRoleArns: roles });

    expect(plan).to.deep.equal({
      requested: { startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-20T11:58:30+00:00" },
      startTime: "2024-05-20T10:00:00.000Z",
      endTime: "2024-05-20T12:00:00.000Z",
      windowsPerPair: 24,
      items: [
        { account: "111111111111", region: "us-east-1", roleArn: roles["111111111111"] },
        { account: "111111111111", region: "ap-northeast-1", roleArn: roles["111111111111"] },
        { account: "222222222222", region: "us-east-1", roleArn: roles["222222222222"] },
        { account: "222222222222", region: "ap-northeast-1", roleArn: roles["222222222222"] },
      ],
    });
  });

  const cases: Array<[string, unknown, string]> = [
    ["a non-object", "go", 'input must be an object { accounts, regions, startTime, endTime }, got "go"'],
    ["no accounts", { ...valid, accounts: [] }, "accounts must be a non-empty list of 12-digit AWS account IDs, got []"],
    ["a short account ID", { ...valid, accounts: ["111111111111", "12345"] }, 'accounts[1] must be a 12-digit AWS account ID, got "12345"'],
    ["a duplicate account", { ...valid, accounts: ["111111111111", "111111111111"] }, 'accounts[1] "111111111111" is listed twice'],
    ["an account without a reader role", { ...valid, accounts: ["333333333333"] }, "accounts: 333333333333 has no reader role; deployed reader roles are in 111111111111, 222222222222"],
    ["a bad region", { ...valid, regions: ["tokyo"] }, 'regions[0] must be an AWS region such as us-east-1, got "tokyo"'],
    ["a time without zone", { ...valid, startTime: "2024-05-20T10:00:00" }, 'startTime must be an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z, got "2024-05-20T10:00:00"'],
    ["an impossible date", { ...valid, endTime: "2024-02-30T00:00:00Z" }, 'endTime must be an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z, got "2024-02-30T00:00:00Z"'],
    ["start after end", { ...valid, startTime: "2024-05-21T00:00:00Z" }, "startTime must be before endTime, got 2024-05-21T00:00:00Z and 2024-05-20T11:58:30+00:00"],
    ["a start beyond 90 days", { ...valid, startTime: "2024-03-01T00:00:00Z" }, "startTime must be within the last 90 days (LookupEvents holds no older events): not before 2024-03-03T00:00:00.000Z, got 2024-03-01T00:00:00Z"],
    ["an end in the future", { ...valid, endTime: "2024-06-02T00:00:00Z" }, "endTime must not be in the future (now is 2024-06-01T00:00:00.000Z), got 2024-06-02T00:00:00Z"],
    ["an unknown field", { ...valid, account: "1" }, "input has unknown fields account; expected accounts, regions, startTime, endTime"],
  ];
  for (const [title, input, message] of cases) {
    it(`refuses ${title}, naming the field and value`, () => {
      expect(backfillRequestProblems(input, NOW, Object.keys(roles))).to.deep.equal([message]);
      expect(() => planBackfill(input, { now: NOW, readerRoleArns: roles })).to.throw(`invalid backfill input: ${message}`);
    });
  }

  it("reports every problem at once", () => {
    expect(backfillRequestProblems({ accounts: ["1"], regions: [], startTime: "x", endTime: "y" }, NOW)).to.have.length(4);
  });

  it("accepts the request's times in any time zone, and refuses dates that do not exist", () => {
    expect(parseIsoTime("2024-05-20T19:02:00+09:00")).to.equal(Date.parse("2024-05-20T10:02:00Z"));
    expect(parseIsoTime("2024-05-20T10:02Z")).to.equal(Date.parse("2024-05-20T10:02:00Z"));
    expect(parseIsoTime("2024-02-29T23:30:00-01:00")).to.equal(Date.parse("2024-03-01T00:30:00Z"));
    expect(parseIsoTime("2023-02-29T00:00:00Z")).to.equal(undefined);
    expect(parseIsoTime("2024-05-20 10:02:00Z")).to.equal(undefined);
    expect(parseIsoTime(1716199320000)).to.equal(undefined);
  });

  it("widens any range to the whole 5-minute windows around it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), fc.integer({ min: 1, max: 10 ** 8 }), (offset, length) => {
        const start = Date.parse("2024-01-01T00:00:00Z") + offset;
        const [from, to] = widenedRange({ startTime: new Date(start).toISOString(), endTime: new Date(start + length).toISOString() });

        expect(from % WINDOW_MS).to.equal(0);
        expect(to % WINDOW_MS).to.equal(0);
        expect(from).to.be.at.most(start).and.above(start - WINDOW_MS);
        expect(to).to.be.at.least(start + length).and.below(start + length + WINDOW_MS);
      }),
    );
  });
});

import { expect } from "chai";

import { type DispatchRoute, fromEnvironment, type LogDispatchSettings, routesJson, toEnvironment } from "../../../functions/logDispatch/settings";
import { INVALID_ENVIRONMENT_ERROR } from "../../../functions/shared/environment";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:dispatch";
const routes: DispatchRoute[] = [
  { key: "activity-hogehoge", patterns: [{ userIdentity: { userName: ["hogehoge"] } }] },
  { key: "activity-ssm", patterns: [{ eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession"] }] },
  { key: "activity-root", patterns: [{ userIdentity: { type: ["Root"] } }] },
];

/** The error `body` throws (fails the test when it throws nothing). */
function thrown(body: () => unknown): Error & { variable?: string } {
  try {
    body();
  } catch (error) {
    return error as Error & { variable?: string };
  }
  throw new Error("expected an error, got none");
}

describe("logDispatch settings", () => {
  describe("toEnvironment", () => {
    const representative: Array<[string, LogDispatchSettings]> = [
      ["three consumers", { topicArn: TOPIC_ARN, routes }],
      ["no consumer yet", { topicArn: TOPIC_ARN, routes: [] }],
      [
        "patterns with prefixes, suffixes, $or and booleans",
        {
          topicArn: TOPIC_ARN,
          routes: [
            {
              key: "activity-ops",
              patterns: [
                { userIdentity: { $or: [{ arn: [{ prefix: "arn:aws:iam::111122223333:role/ops-" }] }, { type: ["AssumedRole"], arn: [{ suffix: "/alice@example.com" }] }] }, readOnly: [false] },
                { eventSource: ["s3.amazonaws.com"], eventName: ["GetObject"] },
              ],
            },
          ],
        },
      ],
    ];
    for (const [title, settings] of representative) {
      it(`round-trips through fromEnvironment: ${title}`, () => {
        expect(fromEnvironment(toEnvironment(settings))).to.deep.equal(settings);
      });
    }

    it("writes the topic and the routes as JSON", () => {
      expect(toEnvironment({ topicArn: TOPIC_ARN, routes })).to.deep.equal({ DISPATCH_TOPIC_ARN: TOPIC_ARN, DISPATCH_ROUTES: routesJson(routes) });
    });

    it("passes values known only on deployment through untouched: the topic, and the routes' JSON", () => {
      const topicArn = { later: "topic ARN" };
      const json = { later: "routes JSON" };

      expect(toEnvironment<object>({ topicArn, routes: json })).to.deep.equal({ DISPATCH_TOPIC_ARN: topicArn, DISPATCH_ROUTES: json });
    });
  });

  describe("fromEnvironment", () => {
    it("reads the topic and the routes", () => {
      expect(fromEnvironment({ DISPATCH_TOPIC_ARN: TOPIC_ARN, DISPATCH_ROUTES: JSON.stringify(routes) })).to.deep.equal({ topicArn: TOPIC_ARN, routes });
    });

    it("fails at cold start on routes with a bad pattern, naming the variable and the path", () => {
      expect(() => fromEnvironment({ DISPATCH_TOPIC_ARN: TOPIC_ARN, DISPATCH_ROUTES: '[{"key":"a","patterns":[{"eventName":[]}]}]' })).to.throw(
        "environment variable DISPATCH_ROUTES is invalid: [0].patterns[0].eventName must list at least one accepted value",
      );
    });
  });

  describe("each bad variable fails at cold start with InvalidEnvironmentError naming it", () => {
    const env = toEnvironment({ topicArn: TOPIC_ARN, routes });
    const cases: Array<[string, string, string | undefined]> = [
      ["DISPATCH_TOPIC_ARN", "missing", undefined],
      ["DISPATCH_ROUTES", "missing", undefined],
      ["DISPATCH_ROUTES", "not JSON", "[{"],
      ["DISPATCH_ROUTES", "not a list", '{"key":"a","patterns":[]}'],
      ["DISPATCH_ROUTES", "a route without a key", '[{"patterns":[]}]'],
      ["DISPATCH_ROUTES", "a bad pattern", '[{"key":"a","patterns":[{"eventName":"StartSession"}]}]'],
    ];
    for (const [variable, problem, value] of cases) {
      it(`${variable}: ${problem}`, () => {
        const bad: Record<string, string | undefined> = { ...env, [variable]: value };

        const error = thrown(() => fromEnvironment(bad));

        expect(error.name).to.equal(INVALID_ENVIRONMENT_ERROR);
        expect(error.variable).to.equal(variable);
        expect(error.message).to.match(new RegExp(`^environment variable ${variable} `));
      });
    }
  });
});

import { expect } from "chai";
import fc from "fast-check";

import { activityPrefilter } from "../../components/activityPatterns";
import { logsFilterPattern, matchesAnyRecordPattern } from "../../functions/shared/recordPattern";
import { ACTIVITY_PRESET_NAMES, type ActivityCriteria, activityMatches } from "../../functions/userActivity/criteria";
import { logsFilterMatches } from "../../simulation/logsFilterPattern";

describe("activityPatterns", () => {
  describe("activityPrefilter", () => {
    it("selects a user's person-made calls, read-only ones included", () => {
      expect(activityPrefilter({ userNames: ["hogehoge"] })).to.deep.equal({
        patterns: [{ userIdentity: { userName: ["hogehoge"] }, eventType: ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"] }],
        detailTypes: ["AWS API Call via CloudTrail", "AWS Console Signin via CloudTrail", "AWS Console Action via CloudTrail"],
        includesReadOnly: true,
      });
    });

    it("selects SSM session calls with the preset, which never need read-only events", () => {
      expect(activityPrefilter({ presets: ["ssm-sessions"] })).to.deep.equal({
        patterns: [{ eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession", "ResumeSession", "TerminateSession"], eventType: ["AwsApiCall"] }],
        detailTypes: ["AWS API Call via CloudTrail"],
        includesReadOnly: false,
      });
    });

    it("combines principals with $or and presets with $or, and keeps exclusions for the handler", () => {
      const prefilter = activityPrefilter({
        userNames: ["a"],
        principalArns: ["arn:aws:iam::123456789012:role/ops-*"],
        sessionNames: ["alice@example.com"],
        presets: ["console-sign-in", "iam-changes"],
        exclude: [{ eventNames: ["Get*"] }],
      });

      expect(prefilter).to.deep.equal({
        patterns: [
          {
            userIdentity: {
              $or: [
                { userName: ["a"] },
                { arn: [{ prefix: "arn:aws:iam::123456789012:role/ops-" }] },
                { sessionContext: { sessionIssuer: { arn: [{ prefix: "arn:aws:iam::123456789012:role/ops-" }] } } },
                { type: ["AssumedRole", "FederatedUser"], arn: [{ suffix: "/alice@example.com" }] },
              ],
            },
            $or: [
              { eventSource: ["signin.amazonaws.com"], eventName: ["ConsoleLogin"], eventType: ["AwsConsoleSignIn"] },
              { eventSource: ["iam.amazonaws.com"], eventType: ["AwsApiCall"], readOnly: [false] },
            ],
          },
        ],
        detailTypes: ["AWS Console Signin via CloudTrail", "AWS API Call via CloudTrail"],
        includesReadOnly: false,
      });
    });

    it("writes a Security Hub preset's field conditions into the pattern, and receives read-only calls when it includes them", () => {
      expect(activityPrefilter({ presets: ["unauthorized-calls"] })).to.deep.equal({
        patterns: [{ errorCode: [{ suffix: "UnauthorizedOperation" }, { prefix: "AccessDenied" }], eventType: ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"] }],
        detailTypes: ["AWS API Call via CloudTrail", "AWS Console Signin via CloudTrail", "AWS Console Action via CloudTrail"],
        includesReadOnly: true,
      });
      expect(activityPrefilter({ presets: ["unauthorized-calls"], readOnlyEvents: "exclude" })).to.deep.include({ includesReadOnly: false });
    });

    it("keeps both the principal and a preset's own userIdentity condition (root-activity of one account's root)", () => {
      expect(activityPrefilter({ principalArns: ["arn:aws:iam::123456789012:root"], presets: ["root-activity"] }).patterns).to.deep.equal([
        {
          userIdentity: {
            $or: [{ arn: ["arn:aws:iam::123456789012:root"] }, { sessionContext: { sessionIssuer: { arn: ["arn:aws:iam::123456789012:root"] } } }],
            type: ["Root"],
            invokedBy: [{ exists: false }],
          },
          eventType: ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"],
        },
      ]);
    });

    it("keeps the principal's condition where it and a preset constrain the same field (a wider prefilter, never a narrower one)", () => {
      const [pattern] = activityPrefilter({ sessionNames: ["alice@example.com"], presets: ["root-activity"] }).patterns;
      expect(pattern.userIdentity).to.deep.equal({ type: ["AssumedRole", "FederatedUser"], arn: [{ suffix: "/alice@example.com" }], invokedBy: [{ exists: false }] });
    });

    describe("never drops a record the criteria accept (property)", () => {
      const names = ["hogehoge", 'o"brien', "back\\slash", "star*user", "山田"];
      const roles = ["ci-deployer", "ops-admin", "AWSReservedSSO_ReadOnly_0123456789abcdef"];
      const sessions = ["alice@example.com", "deploy-1", "hogehoge"];
      const eventNames = ["StartSession", "ResumeSession", "TerminateSession", "CreateBucket", "ConsoleLogin", "DescribeInstances", "CreateUser", "PutRolePolicy", "GetObject"];
      const sources = ["ssm.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "signin.amazonaws.com", "ec2.amazonaws.com"];
      const identity = fc.oneof(
        fc.constantFrom(...names).map((n) => ({ type: "IAMUser", userName: n, arn: `arn:aws:iam::123456789012:user/${n}` })),
        fc.tuple(fc.constantFrom(...roles), fc.constantFrom(...sessions)).map(([role, session]) => ({
          type: "AssumedRole",
          arn: `arn:aws:sts::123456789012:assumed-role/${role}/${session}`,
          sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::123456789012:role/${role}`, userName: role } },
        })),
        fc.constant({ type: "Root", arn: "arn:aws:iam::123456789012:root" }),
        fc.constant({ type: "AWSService", invokedBy: "ssm.amazonaws.com" }),
      );
      // Reads are marked readOnly: true (or, in old records, not marked); changes false or not marked.
      const recordArb = fc
        .record({
          userIdentity: identity,
          eventSource: fc.constantFrom(...sources),
          eventName: fc.constantFrom(...eventNames),
          eventType: fc.constantFrom("AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction", "AwsServiceEvent"),
          marked: fc.boolean(),
          eventID: fc.constant("e-1"),
          eventTime: fc.constant("2024-01-01T00:00:00Z"),
          awsRegion: fc.constant("ap-northeast-1"),
        })
        .map(({ marked, ...rest }) => ({ ...rest, ...(marked ? { readOnly: /^(Describe|Get|List)/.test(rest.eventName) } : {}) }));
      const list = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.uniqueArray(arb, { minLength: 1, maxLength: 3 }), { nil: undefined });
      const arnEntry = fc.oneof(
        fc.constantFrom(...roles).map((r) => `arn:aws:iam::123456789012:role/${r}`),
        fc.constantFrom("arn:aws:iam::123456789012:role/ops-*", "arn:aws:sts::123456789012:assumed-role/*", "arn:aws:iam::123456789012:root"),
        fc.constantFrom(...names).map((n) => `arn:aws:iam::123456789012:user/${n}`),
      );
      const selector = {
        userNames: list(fc.constantFrom(...names)),
        principalArns: list(arnEntry),
        sessionNames: list(fc.constantFrom(...sessions)),
        eventSources: list(fc.constantFrom(...sources)),
        eventNames: list(fc.constantFrom(...eventNames, "Describe*", "Create*")),
      };
      const criteriaArb = fc.record(
        {
          ...selector,
          presets: list(fc.constantFrom(...(ACTIVITY_PRESET_NAMES))),
          readOnlyEvents: fc.option(fc.constantFrom("include" as const, "exclude" as const), { nil: undefined }),
          exclude: fc.option(fc.array(fc.record(selector, { requiredKeys: [] }), { maxLength: 2 }), { nil: undefined }),
        },
        { requiredKeys: [] },
      );
      const clean = (criteria: Record<string, unknown>) => JSON.parse(JSON.stringify(criteria)) as ActivityCriteria;

      it("in the EventBridge pattern and in the CloudWatch Logs filter pattern", () => {
        fc.assert(
          fc.property(recordArb, criteriaArb, (rec, rawCriteria) => {
            const criteria = clean(rawCriteria);
            const prefilter = activityPrefilter(criteria);
            if (activityMatches(rec, criteria)) {
              expect(matchesAnyRecordPattern(rec, prefilter.patterns), "event pattern").to.equal(true);
              const filter = logsFilterPattern(prefilter.patterns);
              expect(logsFilterMatches(filter, rec), filter).to.equal(true);
              expect(logsFilterMatches(logsFilterPattern(prefilter.patterns, 150), rec), "shortened filter").to.equal(true);
              if (rec.readOnly === true) {
                expect(prefilter.includesReadOnly, "rule state for read-only calls").to.equal(true);
              }
            }
          }),
          { numRuns: 2000 },
        );
      });

      it("and, without exclusions (which only the handler applies), they agree exactly", () => {
        fc.assert(
          fc.property(recordArb, criteriaArb, (rec, rawCriteria) => {
            const criteria = clean({ ...rawCriteria, exclude: undefined });
            const prefilter = activityPrefilter(criteria);
            expect(matchesAnyRecordPattern(rec, prefilter.patterns)).to.equal(activityMatches(rec, criteria));
          }),
          { numRuns: 1000 },
        );
      });
    });
  });
});

import { expect } from "chai";
import fc from "fast-check";

import {
  ACTIVITY_PRESET_NAMES,
  type ActivityCriteria,
  activityCriteriaProblems,
  activityMatches,
  activityPrefilter,
} from "../../../functions/userActivity/criteria";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { logsFilterPattern, matchesAnyRecordPattern } from "../../../functions/shared/recordPattern";
import { fixture, record } from "../../../simulation/fixtures";
import { logsFilterMatches } from "../../../simulation/logsFilterPattern";

const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;

describe("activityCriteria", () => {
  describe("activityMatches", () => {
    const cases: Array<[string, CloudTrailRecord, ActivityCriteria, boolean]> = [
      ["a user's call by user name", ssm, { userNames: ["hogehoge"] }, true],
      ["another user's call", ssm, { userNames: ["someone-else"] }, false],
      ["the SSM preset on StartSession", ssm, { presets: ["ssm-sessions"] }, true],
      ["the SSM preset on another SSM call", record("sso-put-parameter-japanese.json"), { presets: ["ssm-sessions"] }, false],
      ["user and preset together", ssm, { userNames: ["hogehoge"], presets: ["ssm-sessions"] }, true],
      ["user and a preset the call is not in", ssm, { userNames: ["hogehoge"], presets: ["iam-changes"] }, false],
      ["a role ARN on its session", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"] }, true],
      ["an assumed-role session ARN", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:sts::123456789012:assumed-role/ci-deployer/deploy-2024-05-14"] }, true],
      ["an ARN prefix", record("sso-create-user-access-denied.json"), { principalArns: ["arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_*"] }, true],
      ["an Identity Center user by session name", record("sso-create-user-access-denied.json"), { sessionNames: ["alice@example.com"] }, true],
      ["a session name on an IAM user whose name ends the same", ssm, { sessionNames: ["hogehoge"] }, false],
      ["console sign-in preset on a root failure", record("root-console-login-failure.json"), { presets: ["console-sign-in"] }, true],
      ["console sign-in preset on a hidden-name failure", record("iam-user-console-login-hidden-name.json"), { presets: ["console-sign-in"] }, true],
      ["IAM changes on PutRolePolicy", record("assumed-role-put-role-policy.json"), { presets: ["iam-changes"] }, true],
      ["IAM changes on a failed CreateUser", record("sso-create-user-access-denied.json"), { presets: ["iam-changes"] }, true],
      ["bucket creation on CreateBucket", record("create-bucket.json"), { presets: ["bucket-creation"] }, true],
      ["an event name prefix", record("create-bucket.json"), { eventNames: ["Create*"] }, true],
      ["an event source and a name of another source", record("create-bucket.json"), { eventSources: ["iam.amazonaws.com"], eventNames: ["CreateBucket"] }, false],
      ["read-only calls when included", record("federated-user-list-buckets.json"), { eventSources: ["s3.amazonaws.com"] }, true],
      ["read-only calls when excluded", record("federated-user-list-buckets.json"), { eventSources: ["s3.amazonaws.com"], readOnlyEvents: "exclude" }, false],
      ["calls CloudTrail did not mark when read-only calls are excluded", { ...record("create-bucket.json"), readOnly: undefined }, { eventSources: ["s3.amazonaws.com"], readOnlyEvents: "exclude" }, false],
      ["read-only IAM calls for IAM changes", { ...record("assumed-role-put-role-policy.json"), eventName: "GetRole", readOnly: true }, { presets: ["iam-changes"] }, false],
      ["an excluded Describe* of a monitoring role", { ...record("assumed-role-put-role-policy.json"), eventName: "DescribeInstances", eventSource: "ec2.amazonaws.com" }, { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], eventNames: ["Describe*"] }] }, false],
      ["a call of that role the exclusion does not cover", record("assumed-role-put-role-policy.json"), { principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], exclude: [{ principalArns: ["arn:aws:iam::123456789012:role/ci-deployer"], eventNames: ["Describe*"] }] }, true],
      ["AWS service events for a person's criteria", record("unknown-identity-center-sign-in-japanese.json"), { eventSources: ["signin.amazonaws.com"] }, false],
    ];
    for (const [title, rec, criteria, expected] of cases) {
      it(`${expected ? "accepts" : "refuses"} ${title}`, () => {
        expect(activityMatches(rec, criteria)).to.equal(expected);
      });
    }
  });

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

  describe("activityCriteriaProblems", () => {
    const cases: Array<[string, unknown, string[]]> = [
      ["a valid preset", { presets: ["ssm-sessions"] }, []],
      ["nothing to watch", {}, ["c must name at least one of userNames, principalArns, sessionNames, eventSources, eventNames, presets; a notifier for every call in the account would flood the topic"]],
      ["an unknown preset", { presets: ["ssh"] }, ['c.presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, got "ssh"']],
      ["a control character in a user name", { userNames: ["a\nb"] }, ['c.userNames[0] must be a user name (1-128 characters, no control characters), got "a\\nb"']],
      ["a principal ARN with an inner wildcard", { principalArns: ["arn:aws:iam::123456789012:role/*-admin"] }, ['c.principalArns[0] must be an IAM or STS principal ARN, optionally ending in * for a prefix (arn:aws:iam::111122223333:role/ops-*), got "arn:aws:iam::123456789012:role/*-admin"']],
      ["a lower-case event source", { eventSources: ["SSM"] }, ['c.eventSources[0] must be an event source such as ssm.amazonaws.com, got "SSM"']],
      ["an event name with a space", { eventNames: ["Start Session"] }, ['c.eventNames[0] must be an event name such as StartSession, or a prefix ending in * such as Describe*, got "Start Session"']],
      ["a bad read-only setting", { userNames: ["a"], readOnlyEvents: "no" }, ['c.readOnlyEvents must be "include" or "exclude", got "no"']],
      ["an unknown setting", { userName: "a" }, ["c.userName is not a known setting (expected one of userNames, principalArns, sessionNames, eventSources, eventNames, presets, readOnlyEvents, exclude)"]],
      ["an empty exclusion", { userNames: ["a"], exclude: [{}] }, ["c.exclude[0] must name at least one of userNames, principalArns, sessionNames, eventSources, eventNames"]],
      ["a preset inside an exclusion", { userNames: ["a"], exclude: [{ presets: ["iam-changes"] }] }, ["c.exclude[0].presets is not a known setting (expected one of userNames, principalArns, sessionNames, eventSources, eventNames)"]],
      ["a list given as a string", { userNames: "a" }, ['c.userNames must be a list, got "a"']],
    ];
    for (const [title, value, problems] of cases) {
      it(`${problems.length === 0 ? "accepts" : "reports"} ${title}`, () => {
        expect(activityCriteriaProblems(value, "c")).to.deep.equal(problems);
      });
    }

    it("accepts a user name with a quote in it", () => {
      expect(activityCriteriaProblems({ userNames: ['o"brien'] }, "c")).to.deep.equal([]);
    });
  });
});

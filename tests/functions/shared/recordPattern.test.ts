import { expect } from "chai";
import fc from "fast-check";

import {
  eventBridgePattern,
  type FieldMatcher,
  logsFilterPattern,
  matchesRecordPattern,
  quoteFilterString,
  type RecordPattern,
  recordPatternProblems,
} from "../../../functions/shared/recordPattern";
import { record } from "../../../simulation/fixtures";
import { logsFilterMatches } from "../../../simulation/logsFilterPattern";

describe("recordPattern", () => {
  describe("matchesRecordPattern (EventBridge content filtering rules)", () => {
    const ssm = record("sso-put-parameter-japanese.json");
    const cases: Array<[string, RecordPattern, boolean]> = [
      ["an exact value", { eventName: ["PutParameter"] }, true],
      ["exact values compare case-sensitively", { eventName: ["putparameter"] }, false],
      ["any of several values", { eventName: ["GetParameter", "PutParameter"] }, true],
      ["a nested field", { userIdentity: { type: ["AssumedRole"] } }, true],
      ["every field of the pattern", { eventName: ["PutParameter"], awsRegion: ["us-east-1"] }, false],
      ["a prefix", { userIdentity: { arn: [{ prefix: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_" }] } }, true],
      ["a suffix", { userIdentity: { arn: [{ suffix: "/taro.yamada@example.co.jp" }] } }, true],
      ["a suffix that does not match", { userIdentity: { arn: [{ suffix: "/alice@example.com" }] } }, false],
      ["anything-but a value", { eventName: [{ "anything-but": "GetParameter" }] }, true],
      ["anything-but a list holding the value", { eventName: [{ "anything-but": ["GetParameter", "PutParameter"] }] }, false],
      ["anything-but a prefix", { eventName: [{ "anything-but": { prefix: "Put" } }] }, false],
      ["exists on a present field", { errorCode: [{ exists: false }] }, true],
      ["exists on a missing field", { errorCode: [{ exists: true }] }, false],
      ["a missing field against a value", { errorCode: ["AccessDenied"] }, false],
      ["anything-but on a missing field", { errorCode: [{ "anything-but": "AccessDenied" }] }, false],
      ["a boolean", { readOnly: [false] }, true],
      ["null", { responseElements: [null] }, false],
      ["Japanese text", { requestParameters: { name: ["/app/本番/データベース接続"] } }, true],
      ["$or with one matching branch", { $or: [{ eventName: ["Nope"] }, { awsRegion: ["ap-northeast-1"] }] }, true],
      ["$or with no matching branch", { $or: [{ eventName: ["Nope"] }, { awsRegion: ["us-east-1"] }] }, false],
      ["$or nested in a field", { userIdentity: { $or: [{ userName: ["x"] }, { type: ["AssumedRole"] }] } }, true],
    ];
    for (const [title, pattern, expected] of cases) {
      it(`${expected ? "matches" : "does not match"} ${title}`, () => {
        expect(matchesRecordPattern(ssm, pattern)).to.equal(expected);
      });
    }

    it("matches an array field when one element matches, also for objects in arrays", () => {
      const getObject = record("s3-get-object.json");

      expect(matchesRecordPattern(getObject, { resources: { type: ["AWS::S3::Bucket"] } })).to.equal(true);
      expect(matchesRecordPattern(getObject, { resources: { type: ["AWS::S3::AccessPoint"] } })).to.equal(false);
      expect(matchesRecordPattern({ tags: ["a", "b"] }, { tags: ["b"] })).to.equal(true);
    });
  });

  describe("recordPatternProblems", () => {
    it("accepts every supported matcher", () => {
      const pattern: RecordPattern = {
        eventName: ["A", { prefix: "B" }, { suffix: "C" }, { "anything-but": ["D", 1] }, { "anything-but": { prefix: "E" } }],
        readOnly: [true, null, 3],
        errorCode: [{ exists: false }],
        $or: [{ a: ["b"] }, { c: { d: ["e"] } }],
      };
      expect(recordPatternProblems(pattern)).to.deep.equal([]);
    });

    it("names the path and the value of each problem", () => {
      expect(
        recordPatternProblems({ eventName: [], userIdentity: { arn: [{ wildcard: "x*" }] }, readOnly: "yes", $or: [] }),
      ).to.deep.equal([
        "$.eventName must list at least one accepted value",
        '$.userIdentity.arn[0] uses "wildcard", which is not supported (prefix, suffix, anything-but, exists)',
        '$.readOnly must be a list of accepted values or a nested pattern, got "yes"',
        "$.$or must be a non-empty list of patterns",
      ]);
    });
  });

  describe("logsFilterPattern", () => {
    it("writes the pattern of one subscription filter per notifier (docs/sourceArticles.md) for one user", () => {
      expect(logsFilterPattern([{ userIdentity: { userName: ["x"] } }])).to.equal('{ $.userIdentity.userName = "x" }');
    });

    it("joins alternatives with || and fields with &&, parenthesized", () => {
      const pattern = logsFilterPattern([{ eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession", "ResumeSession"] }, { eventName: [{ prefix: "Describe" }] }]);

      expect(pattern).to.equal(
        '{ (($.eventSource = "ssm.amazonaws.com") && (($.eventName = "StartSession") || ($.eventName = "ResumeSession"))) || ($.eventName = "Describe*") }',
      );
    });

    it("quotes and escapes a user name with a quote and a backslash in it", () => {
      expect(logsFilterPattern([{ userIdentity: { userName: ['o"brien\\x'] } }])).to.equal('{ $.userIdentity.userName = "o\\"brien\\\\x" }');
    });

    it("writes suffixes, booleans, numbers and null", () => {
      expect(logsFilterPattern([{ userIdentity: { arn: [{ suffix: "/alice" }] }, readOnly: [false], errorCode: [null] }])).to.equal(
        '{ ($.userIdentity.arn = "*/alice") && ($.readOnly IS FALSE) && ($.errorCode IS NULL) }',
      );
    });

    it("leaves out what a filter pattern cannot say safely: anything-but, exists, fields that may hold lists", () => {
      const pattern = logsFilterPattern([
        { eventName: ["GetObject"], errorCode: [{ "anything-but": "AccessDenied" }], resources: { ARN: ["arn:aws:s3:::b"] }, requestParameters: { policyDocument: ["x"] } },
      ]);

      expect(pattern).to.equal('{ $.eventName = "GetObject" }');
    });

    it("matches every event when nothing can be said", () => {
      expect(logsFilterPattern([{ errorCode: [{ exists: true }] }])).to.equal("");
      expect(logsFilterPattern([])).to.equal("");
    });

    it("drops the longest conjunction operands until the pattern fits", () => {
      const many = Array.from({ length: 60 }, (_, i) => `user-number-${i}`);
      const pattern = logsFilterPattern([{ userIdentity: { userName: many }, eventName: ["StartSession"] }]);

      expect(pattern).to.equal('{ $.eventName = "StartSession" }');
    });

    it("keeps every generated pattern within 1,024 characters and parseable", () => {
      const matcher: fc.Arbitrary<FieldMatcher> = fc.oneof(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.record({ prefix: fc.string({ minLength: 1, maxLength: 30 }) }),
        fc.record({ suffix: fc.string({ minLength: 1, maxLength: 30 }) }),
      );
      fc.assert(
        fc.property(fc.array(fc.record({ eventName: fc.array(matcher, { minLength: 1, maxLength: 40 }) }), { minLength: 1, maxLength: 5 }), (patterns) => {
          const pattern = logsFilterPattern(patterns);
          expect(pattern.length).to.be.at.most(1024);
          logsFilterMatches(pattern, {});
        }),
        { numRuns: 200 },
      );
    });

    describe("never drops a record the patterns match (checked against a filter pattern evaluator)", () => {
      // Strings built from characters that need escaping or act as wildcards, so that quoting mistakes show.
      const text = fc.string({ unit: fc.constantFrom("a", "b", '"', "\\", "*", "/", "本", " "), minLength: 1, maxLength: 5 });
      const value: fc.Arbitrary<unknown> = fc.oneof(text, fc.boolean(), fc.constant(null), fc.integer({ min: -3, max: 3 }));
      const matcher: fc.Arbitrary<FieldMatcher> = fc.oneof(
        text,
        fc.boolean(),
        fc.constant(null),
        fc.integer({ min: -3, max: 3 }),
        fc.record({ prefix: text }),
        fc.record({ suffix: text }),
        fc.record({ "anything-but": text }),
        fc.record({ exists: fc.boolean() }),
      );
      const recordArb = fc.record(
        { eventName: value, userIdentity: fc.record({ userName: value, arn: value }, { requiredKeys: [] }) },
        { requiredKeys: [] },
      );
      /** Matchers derived from the value a record holds (so that many match), or unrelated ones. */
      const matcherFor = (held: unknown): fc.Arbitrary<FieldMatcher> => {
        if (typeof held !== "string" || held === "") return matcher;
        return fc.oneof(
          fc.constant(held),
          fc.nat({ max: held.length - 1 }).map((n): FieldMatcher => ({ prefix: held.slice(0, n + 1) })),
          fc.nat({ max: held.length - 1 }).map((n): FieldMatcher => ({ suffix: held.slice(n) })),
          matcher,
        );
      };
      const patternFor = (event: { eventName?: unknown; userIdentity?: { userName?: unknown; arn?: unknown } }): fc.Arbitrary<RecordPattern> =>
        fc.record(
          {
            eventName: fc.array(matcherFor(event.eventName), { minLength: 1, maxLength: 3 }),
            userIdentity: fc.record(
              {
                userName: fc.array(matcherFor(event.userIdentity?.userName), { minLength: 1, maxLength: 3 }),
                arn: fc.array(matcherFor(event.userIdentity?.arn), { minLength: 1, maxLength: 3 }),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        );
      const case_ = recordArb.chain((event) => fc.tuple(fc.constant(event), fc.array(patternFor(event), { minLength: 1, maxLength: 4 })));

      for (const maxLength of [1024, 120]) {
        it(`with patterns of at most ${maxLength} characters`, () => {
          fc.assert(
            fc.property(case_, ([event, patterns]) => {
              const kept = patterns.filter((p) => Object.keys(p).length > 0 && Object.values(p).every((v) => !(typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)));
              fc.pre(kept.length > 0);
              const pattern = logsFilterPattern(kept, maxLength);
              if (kept.some((p) => matchesRecordPattern(event, p))) {
                expect(logsFilterMatches(pattern, event), `${pattern} on ${JSON.stringify(event)}`).to.equal(true);
              }
            }),
            { numRuns: 1000 },
          );
        });
      }
    });
  });

  describe("quoteFilterString", () => {
    it("escapes backslashes before quotes", () => {
      expect(quoteFilterString('a\\"b')).to.equal('"a\\\\\\"b"');
    });
  });

  describe("eventBridgePattern", () => {
    it("puts the record pattern under detail, and alternatives under $or", () => {
      expect(JSON.parse(eventBridgePattern(["AWS API Call via CloudTrail"], [{ eventName: ["A"] }]))).to.deep.equal({
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: { eventName: ["A"] },
      });
      expect(JSON.parse(eventBridgePattern(["X"], [{ eventName: ["A"] }, { eventName: ["B"] }]))).to.deep.equal({
        "detail-type": ["X"],
        detail: { $or: [{ eventName: ["A"] }, { eventName: ["B"] }] },
      });
    });
  });
});

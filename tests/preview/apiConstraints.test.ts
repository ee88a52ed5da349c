/**
 * AWS's API constraints on resource inputs (preview/apiConstraints.ts and the table scripts/makeApiConstraints.ts
 * reduces from botocore's models): what they refuse, that the dev stack keeps to them, and that the table covers
 * every input the dev stack sets.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import { API_CONSTRAINTS, API_MODEL_SOURCE, apiConstraintProblems, constraintProblem, NOT_API_MEMBERS, valuesAt } from "../../preview/apiConstraints";
import { MockCloud } from "../../preview/mockCloud";
import { buildTable, javaToJsPattern } from "../../scripts/makeApiConstraints";
import table from "../../preview/awsApiConstraints.json";
import { devStack } from "../support/devStack";

const ROLE_DESCRIPTION_PROBLEM =
  `description "ダウンロード通知" does not match AWS's pattern [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]* ` +
  "(iam CreateRoleRequest.Description, shape roleDescriptionType)";

describe("AWS API constraints on resource inputs", () => {
  describe("checks", () => {
    it("refuses a role description outside IAM's Latin-1 pattern, naming the property, value and pattern", () => {
      expect(apiConstraintProblems("aws:iam/role:Role", { description: "ダウンロード通知", assumeRolePolicy: "{}" })).to.deep.equal([ROLE_DESCRIPTION_PROBLEM]);
      expect(apiConstraintProblems("aws:iam/role:Role", { description: "Überwachung, café\ttab", assumeRolePolicy: "{}" })).to.deep.equal([]);
    });

    it("is what the mock engine refuses a registration with, naming the resource", () => {
      const cloud = new MockCloud({ region: "ap-northeast-1", accountId: "111111111111" });
      const register = (type: string, name: string, inputs: Record<string, unknown>) => () => cloud.newResource({ type, name, inputs, custom: true });

      expect(register("aws:iam/role:Role", "notifier-role", { description: "ダウンロード通知" })).to.throw(`aws:iam/role:Role "notifier-role" would be refused by AWS: ${ROLE_DESCRIPTION_PROBLEM}`);
      // Auto-names count: Pulumi appends 8 characters to the resource name, and IAM role names stop at 64.
      expect(register("aws:iam/role:Role", "r".repeat(57), {})).to.throw(/name "r{57}-[0-9a-f]{7}" is 65 characters long; AWS allows at most 64 \(iam CreateRoleRequest\.RoleName/);
      expect(register("aws:iam/role:Role", "r".repeat(56), {})).not.to.throw();
      expect(register("aws:s3/bucket:Bucket", "Logs", {})).not.to.throw();
    });

    it("checks lengths, patterns, enums (also those the model lists in words), ranges, list sizes and map keys", () => {
      const problems = (type: string, inputs: Record<string, unknown>) => apiConstraintProblems(type, inputs).map((p) => p.replace(/ \([a-z]+ [^)]*\)$/, ""));

      expect(problems("aws:lambda/function:Function", { timeout: 0, memorySize: 64, runtime: "nodejs22.x", environment: { variables: { "1BAD": "x", GOOD: "y" } } })).to.deep.equal([
        "timeout 0 is below AWS's minimum 1",
        "memorySize 64 is below AWS's minimum 128",
        'environment.variables (key) "1BAD" does not match AWS\'s pattern [a-zA-Z]([a-zA-Z0-9_])+',
      ]);
      expect(problems("aws:lambda/function:Function", { runtime: "nodejs99.x", architectures: ["arm64", "x86_64"] })[0]).to.match(/^runtime "nodejs99.x" is not one of AWS's values nodejs, .*, \.\.\. \(\d+ values\)$/);
      expect(problems("aws:lambda/function:Function", { architectures: ["arm64", "x86_64"] })).to.deep.equal(['architectures ["arm64","x86_64"] has 2 items; AWS allows at most 1']);
      expect(problems("aws:cloudwatch/logGroup:LogGroup", { name: "/aws/lambda/ダウンロード", retentionInDays: 2 })).to.deep.equal([
        'name "/aws/lambda/ダウンロード" does not match AWS\'s pattern [\\.\\-_/#A-Za-z0-9]+',
        "retentionInDays 2 is not one of AWS's values 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ... (22 values) (listed in the model's documentation)",
      ]);
      expect(problems("aws:cloudwatch/metricAlarm:MetricAlarm", { alarmDescription: "x".repeat(1025), alarmActions: ["a", "b", "c", "d", "e", "f"], dimensions: { "": "v" } })).to.deep.equal([
        `alarmDescription "${"x".repeat(196)}... is 1025 characters long; AWS allows at most 1024`,
        'alarmActions ["a","b","c","d","e","f"] has 6 items; AWS allows at most 5',
        'dimensions (key) "" is 0 characters long; AWS requires at least 1',
      ]);
      expect(problems("aws:cloudwatch/eventTarget:EventTarget", { retryPolicy: { maximumRetryAttempts: 186, maximumEventAgeInSeconds: 59 } })).to.deep.equal([
        "retryPolicy.maximumRetryAttempts 186 is above AWS's maximum 185",
        "retryPolicy.maximumEventAgeInSeconds 59 is below AWS's minimum 60",
      ]);
      expect(problems("aws:cloudtrail/trail:Trail", { advancedEventSelectors: [{ name: "ok", fieldSelectors: [{ field: "eventCategory", equals: ["Data", ""] }] }] })).to.deep.equal([
        'advancedEventSelectors[0].fieldSelectors[0].equals[1] "" is 0 characters long; AWS requires at least 1',
      ]);
    });

    it("accepts the values the provider translates instead of sending them (a retention of 0, unreserved concurrency -1)", () => {
      expect(apiConstraintProblems("aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 0 })).to.deep.equal([]);
      expect(apiConstraintProblems("aws:lambda/function:Function", { reservedConcurrentExecutions: -1 })).to.deep.equal([]);
      expect(apiConstraintProblems("aws:lambda/function:Function", { reservedConcurrentExecutions: -2 })).to.have.length(1);
      expect(apiConstraintProblems("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Disabled" } })).to.deep.equal([]);
    });

    it("matches patterns against the whole value and counts characters, not UTF-16 units", () => {
      const roleName = API_CONSTRAINTS["aws:iam/role:Role"].name;
      expect(constraintProblem("ok-name", roleName)).to.equal(undefined);
      expect(constraintProblem("ok name", roleName)).to.match(/^does not match AWS's pattern \[\\w\+=,\.@-\]\+/);
      const selectorName = API_CONSTRAINTS["aws:cloudtrail/trail:Trail"]["advancedEventSelectors[].name"];
      expect(constraintProblem("😀".repeat(1000), selectorName)).to.equal(undefined);
      expect(constraintProblem("line\nbreak", selectorName)).to.match(/^does not match AWS's pattern \.\*/);
    });

    it("skips what is unknown offline: unresolved Outputs, absent and null values", () => {
      const description = API_CONSTRAINTS["aws:iam/role:Role"].description;
      for (const unknown of [undefined, null, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]) {
        expect(constraintProblem(unknown, description)).to.equal(undefined);
      }
      expect(apiConstraintProblems("aws:example/unknown:Type", { name: "ダウンロード" })).to.deep.equal([]);
    });

    it("finds values by path through objects, lists and maps", () => {
      const inputs = { a: { b: [{ c: 1 }, { c: 2 }] }, m: { k1: "v1", k2: "v2" } };
      expect(valuesAt(inputs, "a.b[].c")).to.deep.equal([
        { location: "a.b[0].c", value: 1 },
        { location: "a.b[1].c", value: 2 },
      ]);
      expect(valuesAt(inputs, "m{key}").map((v) => v.value)).to.deep.equal(["k1", "k2"]);
      expect(valuesAt(inputs, "m{value}")).to.deep.equal([
        { location: 'm["k1"]', value: "v1" },
        { location: 'm["k2"]', value: "v2" },
      ]);
      expect(valuesAt(inputs, "missing.path[]")).to.deep.equal([]);
    });
  });

  describe("Java patterns translated for JavaScript", () => {
    it("keeps \\uXXXX escapes and Unicode categories, and spells out Java's ASCII \\s, POSIX classes and '.'", () => {
      expect(javaToJsPattern("[\\u0009\\u000A\\u0020-\\u00FF]+")).to.equal("[\\u0009\\u000A\\u0020-\\u00FF]+");
      expect(javaToJsPattern("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")).to.equal("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
      expect(javaToJsPattern("[^\\s]+")).to.equal("[^ \\t\\n\\x0B\\f\\r]+");
      expect(javaToJsPattern("\\S+")).to.equal("[^ \\t\\n\\x0B\\f\\r]+");
      expect(javaToJsPattern("\\p{Alnum}[\\p{Punct}]")).to.equal("[a-zA-Z0-9][!-\\/:-@\\[-`{-~]");
      expect(javaToJsPattern("a.b")).to.equal("a[^\\n\\r\\u0085\\u2028\\u2029]b");
      expect(javaToJsPattern("[\\.\\-_]\\_\\@")).to.equal("[\\.\\-_]_@");
      expect(javaToJsPattern("[]a]")).to.equal("[\\]a]");
      expect(new RegExp(`^(?:${javaToJsPattern("[\\p{Punct}]+")})$`, "u").test("!@#{}~")).to.equal(true);
    });

    it("refuses what it cannot translate faithfully", () => {
      for (const [pattern, construct] of [
        ["a++", "a possessive quantifier"],
        ["[a-z]*+", "a possessive quantifier"],
        ["(?i)abc", "an inline flag, atomic group or named group"],
        ["(?>a)", "an inline flag, atomic group or named group"],
        ["[a-z&&[^q]]", "a nested class or class intersection"],
        ["\\Aabc\\z", "\\A"],
        ["\\p{InGreek}", "\\p{InGreek}"],
      ]) {
        expect(() => javaToJsPattern(pattern), pattern).to.throw(`cannot translate ${construct} in the Java pattern ${JSON.stringify(pattern)}`);
      }
    });
  });

  describe("the table", function () {
    // The dev stack is evaluated once per run, by the first test that asks for it.
    this.timeout(180_000);

    it("records where its constraints come from", () => {
      expect(API_MODEL_SOURCE.botocore).to.match(/^\d+\.\d+\.\d+$/);
      expect(Object.keys(API_MODEL_SOURCE.models)).to.include.members(["iam", "lambda", "logs", "sns", "sqs", "dynamodb", "events", "cloudwatch", "s3", "stepfunctions", "kms", "cloudtrail"]);
    });

    it("covers every AWS resource type the dev stack creates and every input it sets on them", async () => {
      const { resources } = await devStack();
      const uncovered: string[] = [];
      for (const resource of resources.filter((r) => r.type.startsWith("aws:"))) {
        const paths = [...Object.keys(API_CONSTRAINTS[resource.type] ?? {}), ...Object.keys(NOT_API_MEMBERS[resource.type] ?? {}), ...Object.keys(NOT_API_MEMBERS["*"])];
        for (const input of Object.keys(resource.inputs)) {
          if (!paths.some((p) => p === input || p.startsWith(`${input}.`) || p.startsWith(`${input}[`) || p.startsWith(`${input}{`))) {
            uncovered.push(`${resource.type} ${input}`);
          }
        }
        if (API_CONSTRAINTS[resource.type] === undefined) {
          uncovered.push(resource.type);
        }
      }
      expect([...new Set(uncovered)]).to.deep.equal([]);
    });

    it("is kept by the dev stack: no resource breaks a constraint (names as the engine gives them included)", async () => {
      const { resources } = await devStack();
      const problems = resources
        .filter((r) => r.custom && r.type.startsWith("aws:"))
        .flatMap((r) => apiConstraintProblems(r.type, { ...r.inputs, name: r.state.name, bucket: r.state.bucket }).map((p) => `${r.type} ${r.name}: ${p}`));

      expect(problems).to.deep.equal([]);
    });

    it("is what scripts/makeApiConstraints.ts builds from the botocore release it names (when that release is installed)", function () {
      let directory: string;
      try {
        directory = execFileSync("python3", ["-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      } catch {
        this.skip();
      }
      const rebuilt = buildTable(directory, API_MODEL_SOURCE.botocore);
      const installed = /__version__ = '([^']+)'/.exec(fs.readFileSync(path.join(directory, "__init__.py"), "utf8"))?.[1];
      if (installed !== API_MODEL_SOURCE.botocore) {
        this.skip();
      }
      expect(JSON.parse(JSON.stringify(rebuilt))).to.deep.equal(table);
    });
  });
});

/**
 * `npm run verify -- --plan FILE` judges the roles of a plan of either shape: it passes on the dev stack's plan from
 * `npm start -- --json` and from `pulumi preview --json` (the derived fixture tests/fixtures/pulumi-preview/), and it
 * fails, naming the role, the action and the resource, on the dev plan with the download role granted
 * (a) another bucket's objects or another table, (b) logs:FilterLogEvents in DynamoDB mode, (c) sns:* on *; it also
 * fails when a need is not granted, and reports a policy the plan does not know yet instead of passing it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { downloadThresholdCalls } from "../../functions/downloadThreshold/calls";
import { UNKNOWN_SENTINEL } from "../../simulation/plan";
import { verifyPlan } from "../../scripts/verify";
import { PREVIEW_PLAN_FIXTURE } from "../../scripts/makePreviewPlanFixture";
import { devStack } from "../support/devStack";
import { PROJECT_DIRECTORY } from "../support/engine";
import { editPolicy, npmStartJson, previewJson, withStatements } from "./support/plans";

const DOWNLOAD_POLICY = "download-alerts-handler-policy";
const DOWNLOAD_ROLE = "download-alerts-handler-role";

describe("npm run verify -- --plan", function () {
  this.timeout(300_000);
  let directory: string;
  let npmStart: unknown[];
  let fixture: Record<string, unknown>;
  let counter = 0;

  before(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "verify-plan-"));
    npmStart = await npmStartJson((await devStack()).resources);
    fixture = JSON.parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, PREVIEW_PLAN_FIXTURE), "utf8")) as Record<string, unknown>;
  });

  after(() => fs.rmSync(directory, { recursive: true, force: true }));

  /** Writes `plan` to a file and judges it as `npm run verify -- --plan FILE` does. */
  async function verify(plan: unknown): Promise<{ code: number; output: string }> {
    counter += 1;
    const file = path.join(directory, `plan-${counter}.json`);
    fs.writeFileSync(file, JSON.stringify(plan));
    return verifyPlan(file);
  }

  it("passes on the dev plan as `npm start -- --json` prints it, judging every role", async () => {
    const roles = (npmStart as Array<{ type: string }>).filter((resource) => resource.type === "aws:iam/role:Role").length;
    const { code, output } = await verify(npmStart);

    expect(roles).to.be.greaterThan(10);
    expect(code, output).to.equal(0);
    expect(output).to.match(new RegExp(String.raw`^Least privilege of the ${roles} roles of .* \(npm start --json; home account 111111111111, Region ap-northeast-1\): \d+ \(action, resource\) pairs evaluated, (\d+) allowed, \1 needed$`, "m"));
    expect(output.trimEnd().split("\n").pop()).to.equal("PASS: every role allows exactly what it needs");
  });

  it("passes on the dev plan as `pulumi preview --json` prints it (the derived fixture), run as the command", () => {
    const run = spawnSync(process.execPath, [path.join(PROJECT_DIRECTORY, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", "scripts/verify.ts", "--plan", PREVIEW_PLAN_FIXTURE], {
      cwd: PROJECT_DIRECTORY,
      encoding: "utf8",
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });

    expect(run.status, `${run.stdout}${run.stderr}`).to.equal(0);
    expect(run.stdout).to.match(/\(pulumi preview --json; home account 111111111111, Region ap-northeast-1\): \d+ \(action, resource\) pairs evaluated, (\d+) allowed, \1 needed$/m);
    expect(run.stdout).to.contain("| download-alerts-handler-role       | Lambda function download-alerts-handler (downloadThreshold, counter: dynamodb)");
    expect(run.stdout.trimEnd().split("\n").pop()).to.equal("PASS: every role allows exactly what it needs");
  });

  it("the fixture is the dev stack's plan in pulumi preview's shape (else: npx ts-node --transpile-only scripts/makePreviewPlanFixture.ts)", async () => {
    expect(previewJson((await devStack()).resources)).to.deep.equal(fixture);
  });

  describe("fails, naming the role, the action and the resource, when the download role gains", () => {
    it("(a) s3:GetObject on another bucket's objects", async () => {
      const { code, output } = await verify(withStatements(npmStart, DOWNLOAD_POLICY, [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::other-bucket/*" }]));

      expect(code).to.equal(1);
      expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may s3:GetObject on arn:aws:s3:::other-bucket/x (the plan's arn:aws:s3:::other-bucket/*), which nothing it is used by needs`);
      expect(output.match(/^FAIL /gm)).to.have.length(1);
    });

    it("(a) dynamodb:DeleteTable on another table", async () => {
      const other = "arn:aws:dynamodb:ap-northeast-1:111111111111:table/other-table";
      const { code, output } = await verify(withStatements(npmStart, DOWNLOAD_POLICY, [{ Effect: "Allow", Action: "dynamodb:DeleteTable", Resource: other }]));

      expect(code).to.equal(1);
      expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may dynamodb:DeleteTable on ${other}, which nothing it is used by needs`);
      expect(output.match(/^FAIL /gm)).to.have.length(1);
    });

    it("(b) logs:FilterLogEvents on the trail's log group, which only the logs counter needs (it counts in DynamoDB)", async () => {
      const logGroup = "arn:aws:logs:ap-northeast-1:111111111111:log-group:/aws/cloudtrail/cloudtrail-alerts-dev-trail";
      const { code, output } = await verify(withStatements(npmStart, DOWNLOAD_POLICY, [{ Effect: "Allow", Action: "logs:FilterLogEvents", Resource: [logGroup, `${logGroup}:*`] }]));

      expect(code).to.equal(1);
      expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may logs:FilterLogEvents on ${logGroup}, which nothing it is used by needs`);
      expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may logs:FilterLogEvents on ${logGroup}:x (the plan's ${logGroup}:*), which nothing it is used by needs`);
      expect(output).to.match(/\| download-alerts-handler-role +\| .* \| NO: 3 beyond, 0 short +\|/);
    });

    it("(c) sns:* on *, in either shape of plan", async () => {
      const grant = [{ Effect: "Allow", Action: "sns:*", Resource: "*" }];
      for (const plan of [withStatements(npmStart, DOWNLOAD_POLICY, grant), withStatements(fixture, DOWNLOAD_POLICY, grant)]) {
        const { code, output } = await verify(plan);

        expect(code).to.equal(1);
        expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may sns:DeleteTopic on arn:aws:sns:ap-northeast-1:111111111111:alerts-0319346, which nothing it is used by needs`);
        expect(output).to.contain(`FAIL ${DOWNLOAD_ROLE} may sns:Publish on arn:aws:sns:eu-west-3:999999999999:foreign-topicname, which nothing it is used by needs`);
        expect(output).to.match(/^FAIL: \d+ finding\(s\)$/m);
        expect(output.match(/^FAIL \S+/gm)!.every((line) => line === `FAIL ${DOWNLOAD_ROLE}`)).to.equal(true);
      }
    });
  });

  it("fails when a role lacks what its code needs: the download role without dynamodb:UpdateItem", async () => {
    const plan = editPolicy(npmStart, DOWNLOAD_POLICY, (document) => ({ ...document, Statement: (document.Statement as Array<{ Sid?: string }>).filter((s) => s.Sid !== "CountDownloads") }));

    const { code, output } = await verify(plan);

    expect(code).to.equal(1);
    expect(output).to.match(
      /^FAIL download-alerts-handler-role may not dynamodb:UpdateItem on arn:aws:dynamodb:ap-northeast-1:111111111111:table\/download-alerts-counts-\w+, which Lambda function download-alerts-handler \(downloadThreshold, counter: dynamodb\) needs$/m,
    );
  });

  it("fails when a needs declaration is broken: the DynamoDB mode declared without UpdateItem", async () => {
    const calls = downloadThresholdCalls.calls.bind(downloadThresholdCalls);
    downloadThresholdCalls.calls = (settings, where) => calls(settings, where).filter((c) => c.command !== "UpdateItemCommand");
    try {
      const { code, output } = await verify(npmStart);

      expect(code).to.equal(1);
      expect(output).to.match(/^FAIL download-alerts-handler-role may dynamodb:UpdateItem on arn:aws:dynamodb:ap-northeast-1:111111111111:table\/download-alerts-counts-\w+, which nothing it is used by needs$/m);
    } finally {
      downloadThresholdCalls.calls = calls;
    }
  });

  it("reports a policy whose value the plan does not know yet (pulumi preview's unknown) instead of passing it", async () => {
    const plan = editPolicy(fixture, DOWNLOAD_POLICY, () => UNKNOWN_SENTINEL);

    const { code, output } = await verify(plan);

    expect(code).to.equal(1);
    expect(output).to.contain(`UNKNOWN ${DOWNLOAD_ROLE}: role policy ${DOWNLOAD_POLICY} is unknown in the plan (an output not resolved yet)`);
    expect(output).to.match(/\| download-alerts-handler-role +\| .* \| UNKNOWN +\|/);
  });

  it("reports a function whose environment the plan does not know yet: its mode, so its needs, are unknown", async () => {
    const plan = JSON.parse(JSON.stringify(npmStart)) as Array<{ name: string; type: string; inputs: { environment: { variables: Record<string, unknown> } } }>;
    delete plan.find((r) => r.type === "aws:lambda/function:Function" && r.name === "download-alerts-handler")!.inputs.environment.variables.COUNTER;
    plan.find((r) => r.type === "aws:lambda/function:Function" && r.name === "download-alerts-handler")!.inputs.environment.variables.COUNTS_TABLE_NAME = UNKNOWN_SENTINEL;

    const { code, output } = await verify(plan);

    expect(code).to.equal(1);
    expect(output).to.contain(`UNKNOWN ${DOWNLOAD_ROLE}: the environment of function download-alerts-handler is unknown in the plan (COUNTS_TABLE_NAME), so its mode is unknown`);
  });

  it("refuses a file that is no plan, with exit code 2", async () => {
    const { code, output } = await verify({ resources: [] });

    expect(code).to.equal(2);
    expect(output).to.match(/^error: .*plan-\d+\.json: the plan is neither the output of `npm start -- --json` \(an array of resources\) nor of `pulumi preview --json` \(an object with steps\)\n$/);
  });
});

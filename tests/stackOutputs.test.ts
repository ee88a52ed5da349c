/**
 * The stack's outputs (index.ts) name only what the stack creates: a stack that adopts its trail and has no backfill
 * exports neither trail nor backfill outputs, and Pulumi has no undefined output to warn about.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import { PROJECT_DIRECTORY } from "./support/engine";

describe("stack outputs (index.ts)", function () {
  this.timeout(120_000);

  it("exports only what a stack without trail and backfill creates, without undefined-output warnings", async () => {
    // Prepare
    const file = path.join(PROJECT_DIRECTORY, "Pulumi.ci-outputs.yaml");
    fs.writeFileSync(file, "config:\n  aws:region: ap-northeast-1\n  cloudtrail-alerts:existingTrailLogGroupName: /aws/cloudtrail/org-trail\n");

    // Act
    let run: { code: number; stdout: string; stderr: string };
    try {
      run = await new Promise((resolve) => {
        execFile(
          process.execPath,
          ["-r", "ts-node/register/transpile-only", "preview/main.ts", "--stack", "ci-outputs"],
          { cwd: PROJECT_DIRECTORY, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }, maxBuffer: 64 * 1024 * 1024 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    } finally {
      fs.rmSync(file, { force: true });
    }

    // Assess
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).not.to.include("Undefined value");
    const outputs = run.stdout.slice(run.stdout.indexOf("\nOutputs:\n") + "\nOutputs:\n".length).trimEnd().split("\n");
    expect(outputs.map((line) => line.trim().split(":")[0])).to.deep.equal(["alertTopicArn", "trailLogGroupName"]);
    expect(run.stdout).not.to.include("undefined");
  });
});

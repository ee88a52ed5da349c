/**
 * The program under Pulumi's real Node.js language runtime (`@pulumi/pulumi/cmd/run`, what `pulumi preview` starts),
 * against a fake engine on loopback: a config error must reach the CLI as one line, as a `RunError` does, not as
 * "failed with an unhandled exception" with a stack trace.
 */
import { spawn } from "child_process";
import * as path from "path";

import { expect } from "chai";

import { PROJECT_DIRECTORY } from "./support/engine";
import { type FakeEngine, startFakeEngine } from "./support/fakeEngine";

/** Runs index.ts as the language host would for `pulumi preview`, with `config` as the stack's config. */
async function runProgram(engine: FakeEngine, config: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [path.join(PROJECT_DIRECTORY, "node_modules", "@pulumi", "pulumi", "cmd", "run", "index.js"), `--monitor=${engine.address}`, `--engine=${engine.address}`, "--project=cloudtrail-alerts", "--stack=dev", "--dry-run", "index.ts"],
    {
      cwd: PROJECT_DIRECTORY,
      env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_NODEJS_TYPESCRIPT: "true", PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stderr };
}

describe("a config error under Pulumi's language runtime", function () {
  this.timeout(120_000);
  let engine: FakeEngine;

  before(async () => {
    engine = await startFakeEngine("cloudtrail-alerts", "dev");
  });

  after(async () => {
    await engine.stop();
  });

  it("prints as one error line naming the key and the value, without a stack trace", async () => {
    // Prepare
    const config = { "aws:region": "ap-northeast-1", "aws:allowedAccountId": "123456789012" };

    // Act
    const { code } = await runProgram(engine, config);

    // Assess
    const errors = engine.logs.filter((l) => l.severity === "ERROR");
    expect(errors.map((e) => e.message)).to.deep.equal(["aws:allowedAccountId is not a config key of the AWS provider (@pulumi/aws), which would ignore it; did you mean aws:allowedAccountIds?"]);
    // The runtime's exit code for "the program failed after logging a message the user can act on".
    expect(code).to.equal(32);
    expect(engine.registered.filter((r) => r.type !== "pulumi:pulumi:Stack")).to.deep.equal([]);
  });
});

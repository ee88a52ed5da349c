/**
 * `npm run demo` prints exactly the emails the README shows, and nothing else: the README block between
 * `<!-- demo:start ... -->` and `<!-- demo:end -->` is the demo's output. `UPDATE_README=1 npx mocha
 * tests/scripts/demo.test.ts` rewrites the block from the demo's output.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import { PROJECT_DIRECTORY } from "../support/engine";

const README = path.join(PROJECT_DIRECTORY, "README.md");
const BLOCK = /(<!-- demo:start[^\n]*-->\n```text\n)([\s\S]*?)(```\n<!-- demo:end -->)/;

/** Runs the demo as `npm run demo` does, with the environment a user has (no variable silencing the AWS SDK). */
function demo(): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return new Promise((resolve) => {
    execFile(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/demo.ts"], { cwd: PROJECT_DIRECTORY, env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run demo and the README", function () {
  this.timeout(60_000);

  it("prints exactly the emails of the README's demo block, with nothing on stderr", async () => {
    // Act
    const run = await demo();

    // Assess
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal("");
    const emails = `${run.stdout.trimEnd()}\n`;
    const readme = fs.readFileSync(README, "utf8");
    const block = BLOCK.exec(readme);
    expect(block, "README.md has no <!-- demo:start --> ... <!-- demo:end --> block").not.to.equal(null);
    if (process.env.UPDATE_README === "1") {
      fs.writeFileSync(README, readme.replace(BLOCK, (_, start: string, _old: string, end: string) => `${start}${emails}${end}`));
      return;
    }
    expect(block?.[2]).to.equal(emails);
    expect(emails).to.match(/^===== ja =====\nSubject: .*\n[\s\S]*\n===== en =====\nSubject: /);
  });
});

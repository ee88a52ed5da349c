/**
 * The commands' one exit path: output written to a pipe is complete when the process ends, and failures print one
 * line. `npm start -- --json` piped into another program parses every time.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { errorLine } from "../../preview/exit";
import { PROJECT_DIRECTORY } from "../support/engine";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with stdout and stderr piped. The reader waits `readAfterMs` before reading, so the pipe fills up
 * (64 KiB) and a process that exits without flushing loses the rest.
 */
function run(command: string, args: string[], readAfterMs = 300): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  // npm's settings of the run that started the tests (`npm run --silent verify` sets npm_config_loglevel) are not the user's.
  for (const variable of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "npm_config_json", "npm_config_loglevel"]) {
    delete env[variable];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_DIRECTORY, env, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk)).resume(), readAfterMs);
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") }));
  });
}

/** Runs `tasks` at most `limit` at a time, keeping their order. */
async function limited<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** A script run with ts-node that uses runMain the way every command does. */
function withRunMain(body: string): Promise<Run> {
  const exit = JSON.stringify(path.join(PROJECT_DIRECTORY, "preview", "exit.ts"));
  return run(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", `require(${exit}).runMain(${body});`]);
}

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

describe("one exit path for every command (preview/exit.ts)", function () {
  this.timeout(60_000);

  it("flushes a large write to a pipe that is not read yet, then exits with main's code", async () => {
    // An open handle (as SDK sockets and fake servers leave) must not keep the process alive either.
    const runs = await Promise.all([1, 2].map(() => withRunMain("async () => { setInterval(() => undefined, 1000); process.stdout.write('x'.repeat(3_000_000)); return 3; }")));

    for (const result of runs) {
      expect(result.code).to.equal(3);
      expect(result.stdout.length).to.equal(3_000_000);
    }
  });

  it("prints one line for a failed main, an unhandled rejection and an uncaught exception, and exits 1", async () => {
    const [rejected, unhandled, uncaught] = await Promise.all([
      withRunMain("async () => { throw new Error('the first line\\nand a second'); }"),
      withRunMain("async () => { void Promise.reject(new Error('nobody waited')); await new Promise((r) => setTimeout(r, 1000)); return 0; }"),
      withRunMain("() => { setTimeout(() => { throw new TypeError('thrown later'); }, 10); return new Promise(() => undefined); }"),
    ]);

    expect([rejected, unhandled, uncaught].map((r) => [r.code, r.stderr])).to.deep.equal([
      [1, "error: the first line\n"],
      [1, "error: nobody waited\n"],
      [1, "error: thrown later\n"],
    ]);
    expect(errorLine("not an error")).to.equal("error: not an error");
  });
});

describe("npm start --json piped into another program", function () {
  // Ten evaluations of the dev stack, three at a time: about a minute on two idle cores.
  this.timeout(600_000);

  it("parses every one of 10 runs, through npm --silent, npm's own --json, --out and the ts-node command", async () => {
    const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "preview-out-")), "preview.json");
    const commands: Array<[string, string[]]> = [
      ...Array.from({ length: 6 }, (): [string, string[]] => [NPM, ["start", "--silent", "--", "--json"]]),
      [process.execPath, ["-r", "ts-node/register/transpile-only", "preview/main.ts", "--json"]],
      [process.execPath, ["-r", "ts-node/register/transpile-only", "preview/main.ts", "--json", "--stack", "my-org/cloudtrail-alerts/dev"]],
      // Without --silent npm prints its banner on stdout; --out keeps the document apart.
      [NPM, ["start", "--", "--stack", "my-org/dev", "--json", "--out", outFile]],
      // npm's own --json moves its banner to stderr and selects JSON.
      [NPM, ["start", "--json"]],
    ];
    const OUT = 8;

    const runs = await limited(
      commands.map(([command, args]) => () => run(command, args)),
      3,
    );

    const documents = runs.map((result, i) => {
      expect(result.code, `${commands[i].flat().join(" ")}: ${result.stderr}`).to.equal(0);
      return i === OUT ? fs.readFileSync(outFile, "utf8") : result.stdout;
    });
    expect(Buffer.byteLength(documents[0])).to.be.greaterThan(65_536);
    // Registration order varies with how fast each function's code is serialized: compare by URN.
    const parsed = documents.map((text) => (JSON.parse(text) as Array<{ urn: string }>).sort((a, b) => a.urn.localeCompare(b.urn)));
    expect(parsed[0].length).to.be.greaterThan(100);
    for (const document of parsed) {
      expect(document).to.deep.equal(parsed[0]);
    }
    expect(runs[OUT].stdout).to.match(/^\n> cloudtrail-alerts@.* start\n> ts-node --transpile-only preview\/main.ts --stack my-org\/dev --json --out /);
  });
});

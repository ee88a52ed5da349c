/**
 * `npm run archive-sizes`: builds every Lambda archive of the dev stack, plus the foundation's test callback (the
 * relay used by the artifact test), exactly as a deployment would, and prints their sizes and contents.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { AlertTopic, SecureCallbackFunction } from "../components";
import { installOfflineEngine } from "../preview/evaluate";
import { runMain } from "../preview/exit";
import { materializeArchive } from "../preview/lambdaArchive";
import { relayCallbackFactory } from "../simulation/relayCallback";

async function main(): Promise<void> {
  const projectDirectory = path.resolve(__dirname, "..");
  const { cloud } = await installOfflineEngine(projectDirectory, "dev", false);
  await pulumi.runtime.runInPulumiStack(() => {
    const program = require(path.join(projectDirectory, "index.ts")) as Record<string, unknown>;
    const alertTopic = new AlertTopic("archive-sizes-topic", {});
    new SecureCallbackFunction("foundation-test-callback", {
      description: "the artifact test's relay callback",
      callbackFactory: relayCallbackFactory,
      statements: [],
      alertTopic,
      publishesAlerts: true,
    });
    return Promise.resolve(program);
  });
  await pulumi.runtime.disconnect();

  const rows: string[][] = [["function", "unzipped bytes", "zipped bytes", "files"]];
  for (const fn of cloud.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
    const archive = await materializeArchive(fn.inputs.code);
    const packages = [...new Set(archive.files.map((f) => f.path.split("/").slice(0, f.path.startsWith("node_modules/@") ? 3 : 2).join("/")))];
    rows.push([fn.name, String(archive.unzippedBytes), String(archive.zippedBytes), packages.join(", ")]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) {
    process.stdout.write(`${row.map((cell, column) => (column === 1 || column === 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ")}\n`);
  }
}

runMain(main);

/**
 * `npm start [-- --stack NAME] [-- --json] [-- --out FILE]`: evaluates a stack offline (no Pulumi CLI, no AWS
 * credentials, no network) and prints what `pulumi up` would create: a tree of resources with a count per type, or a
 * JSON array of `{ urn, type, name, parent, inputs }`. A bad config exits non-zero with one line naming the key and
 * the value. Resources placed in another account or region than the stack's say so in the tree.
 *
 * `--stack` takes the name as Pulumi writes it (`dev`, `my-org/dev`, `my-org/cloudtrail-alerts/dev`). `--out FILE`
 * writes the output to FILE instead of stdout (npm prints its banner on stdout unless run with `--silent`); npm's own
 * `--json` flag (`npm start --json`, which moves that banner to stderr) selects JSON too.
 */
import { parseArgs } from "util";

import * as pulumi from "@pulumi/pulumi";

import * as fs from "fs";

import { evaluateStack, Evaluation } from "./evaluate";
import { runMain } from "./exit";
import { RecordedResource } from "./mockCloud";
import { findProjectDirectory, stackNameProblem } from "./stackFiles";

function usage(): string {
  return "usage: npm start -- [--stack NAME] [--json] [--out FILE]";
}

/** Makes recorded inputs printable: assets and archives become short descriptions of what they hold. */
export async function printable(value: unknown): Promise<unknown> {
  if (value instanceof pulumi.asset.AssetArchive) {
    const entries = Object.entries(await value.assets);
    const described = await Promise.all(entries.map(async ([key, asset]): Promise<[string, unknown]> => [key, await printable(asset)]));
    return { archive: Object.fromEntries(described) };
  }
  if (value instanceof pulumi.asset.StringAsset) {
    return `${Buffer.byteLength(await value.text)} bytes of code`;
  }
  if (value instanceof pulumi.asset.FileAsset || value instanceof pulumi.asset.FileArchive) {
    return `copied from ${await value.path}`;
  }
  if (Array.isArray(value)) {
    return Promise.all((value as unknown[]).map(printable));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await printable(item)])));
  }
  return value;
}

/** The tree (type, name, nested by parent) and the count per type. */
export function renderTree(evaluation: Evaluation): string {
  const { resources } = evaluation;
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const resource of resources) {
    const list = children.get(resource.parent) ?? [];
    list.push(resource);
    children.set(resource.parent, list);
  }
  const lines = [
    `Offline preview of stack "${evaluation.stack}" (project ${evaluation.project}, account ${evaluation.accountId}, region ${evaluation.region}).`,
    "Nothing was sent to AWS; IDs and ARNs below are simulated.",
    "",
  ];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const resource of children.get(parent) ?? []) {
      // Resources another provider places in another account or region say where they go.
      const where = resource.placement;
      const elsewhere =
        where !== undefined && (where.account !== evaluation.accountId || where.region !== evaluation.region) ? `  (account ${where.account}, ${where.region})` : "";
      lines.push(`${"    ".repeat(depth)}+ ${resource.type}  ${resource.name}${elsewhere}`);
      walk(resource.urn, depth + 1);
    }
  };
  walk(undefined, 0);

  const counts = new Map<string, number>();
  for (const resource of resources) {
    counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  }
  lines.push("", `Resources: ${resources.length} to create`);
  for (const [type, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${String(count).padStart(4)}  ${type}`);
  }
  lines.push("", "Outputs:");
  for (const [key, value] of Object.entries(evaluation.outputs)) {
    lines.push(`  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  let options: { stack: string; json: boolean; out?: string };
  try {
    const { values } = parseArgs({
      options: { stack: { type: "string", default: "dev" }, json: { type: "boolean", default: false }, out: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    // `npm start --json` is npm's own flag: npm passes it on as npm_config_json (and prints its banner on stderr).
    options = { stack: values.stack ?? "dev", json: (values.json ?? false) || process.env.npm_config_json === "true", out: values.out };
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${usage()}\n`);
    return 2;
  }
  const problem = stackNameProblem(options.stack);
  if (problem !== undefined) {
    process.stderr.write(`error: ${problem}\n`);
    return 2;
  }

  const evaluation = await evaluateStack(findProjectDirectory(process.cwd()), options.stack);
  let text: string;
  if (options.json) {
    const records = await Promise.all(
      evaluation.resources.map(async (r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: await printable(r.inputs) })),
    );
    text = `${JSON.stringify(records, null, 2)}\n`;
  } else {
    text = `${renderTree(evaluation)}\n`;
  }
  if (options.out === undefined) {
    process.stdout.write(text);
  } else {
    fs.writeFileSync(options.out, text);
  }
  return 0;
}

if (require.main === module) {
  runMain(main);
}

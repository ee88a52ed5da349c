/**
 * Run as a process of its own (Pulumi's runtime holds one program per process, and the tests' process already holds
 * the dev stack): the component package as a Pulumi program in another language would meet it. Builds the package's
 * schema with Pulumi's own analyzer through `ComponentProvider`, as `componentProviderHost` does, then constructs
 * CloudTrailAlerts through the provider's `construct` from the dev stack's config (the arguments as an SDK sends them:
 * plain values) on the offline engine, and prints `{ schema, outputs, resources }` as JSON on stdout.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";

import { componentPackage } from "../../components/componentPackage";
import { installOfflineEngine } from "../../preview/evaluate";
import { printable } from "../../preview/main";
import { loadStackFiles } from "../../preview/stackFiles";
import { configArgs } from "../../stackConfig";

const PROJECT_DIRECTORY = path.resolve(__dirname, "..", "..");

/** The resolved value of each Output among `state`'s values. */
async function resolved(state: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(state).map(
      async ([key, value]): Promise<[string, unknown]> => [key, pulumi.Output.isInstance(value) ? await new Promise((resolve) => value.apply(resolve)) : value],
    ),
  );
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

async function main(): Promise<void> {
  const provider = new ComponentProvider(componentPackage(PROJECT_DIRECTORY));
  const schema = JSON.parse(await provider.getSchema()) as unknown;

  const { cloud } = await installOfflineEngine(PROJECT_DIRECTORY, "dev", false);
  const raw = loadStackFiles(PROJECT_DIRECTORY, "dev").config;
  let outputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    const { state } = await provider.construct("cloudtrail-alerts", "cloudtrail-alerts:index:CloudTrailAlerts", configArgs((key) => raw[key]), {});
    outputs = await resolved(state);
    return undefined;
  });
  await pulumi.runtime.disconnect();
  const resources = await Promise.all(cloud.resources.map(async (r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: await printable(r.inputs) })));
  process.stdout.write(JSON.stringify({ schema, outputs, resources }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

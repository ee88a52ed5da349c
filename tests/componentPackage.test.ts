/**
 * The component package (PulumiPlugin.yaml, provider.ts, components/componentPackage.ts) as Pulumi uses it for a
 * program in another language: the schema Pulumi's analyzer derives (committed as docs/schema.json), and
 * CloudTrailAlerts constructed through the provider from the dev stack's config, which must build what index.ts builds.
 * The provider runs in a process of its own (tests/support/componentPackageRun.ts): this one holds the dev stack.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import { parse } from "yaml";

import { PACKAGE_COMPONENTS } from "../components/componentPackage";
import { printable } from "../preview/main";
import { schemaText, SCHEMA_FILE } from "../scripts/componentSchema";
import { CONFIG_KEYS } from "../stackConfig";
import { devStack } from "./support/devStack";
import { PROJECT_DIRECTORY } from "./support/engine";

interface Schema {
  name: string;
  resources: Record<string, { isComponent: boolean; inputProperties: Record<string, { plain?: boolean }>; properties: Record<string, unknown> }>;
  types: Record<string, unknown>;
}

interface Printed {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  inputs: unknown;
}

interface Run {
  schema: Schema;
  outputs: Record<string, unknown>;
  resources: Printed[];
}

/** Runs tests/support/componentPackageRun.ts in a process of its own and parses what it prints. */
function runComponentPackage(): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(__dirname, "support", "componentPackageRun.ts")],
      { cwd: PROJECT_DIRECTORY, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
      (error, stdout, stderr) => (error ? reject(new Error(`the component package run failed: ${stderr}`)) : resolve(JSON.parse(stdout) as Run)),
    );
  });
}

const byUrn = (a: Printed, b: Printed) => a.urn.localeCompare(b.urn);

describe("component package", function () {
  this.timeout(300_000);
  let run: Run;

  before(async () => {
    run = await runComponentPackage();
  });

  it("is a Node.js plugin whose entry, package.json's main, is the provider", () => {
    const plugin = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "PulumiPlugin.yaml"), "utf8")) as { runtime: string };
    // Pulumi's Node.js language host runs the plugin directory as a module: Node resolves it through `main`.
    const entry = require.resolve(PROJECT_DIRECTORY);

    expect(plugin.runtime).to.equal("nodejs");
    expect(path.relative(PROJECT_DIRECTORY, entry)).to.equal(path.join("bin", "provider.js"));
    expect(fs.readFileSync(entry, "utf8")).to.include("componentProviderHost");
  });

  it("serves CloudTrailAlerts, BucketCreationAlarm and TrailReaderRole, each a component of the package's index module", () => {
    expect(run.schema.name).to.equal("cloudtrail-alerts");
    expect(Object.keys(run.schema.resources).sort()).to.deep.equal([
      "cloudtrail-alerts:index:BucketCreationAlarm",
      "cloudtrail-alerts:index:CloudTrailAlerts",
      "cloudtrail-alerts:index:TrailReaderRole",
    ]);
    expect(PACKAGE_COMPONENTS.map((c) => c.name).sort()).to.deep.equal(["BucketCreationAlarm", "CloudTrailAlerts", "TrailReaderRole"]);
    expect(Object.values(run.schema.resources).every((r) => r.isComponent)).to.equal(true);
  });

  it("takes as CloudTrailAlerts' inputs exactly the cloudtrail-alerts: keys of Pulumi.yaml, as plain values", () => {
    const project = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.yaml"), "utf8")) as { config: Record<string, unknown> };
    const inputs = run.schema.resources["cloudtrail-alerts:index:CloudTrailAlerts"].inputProperties;

    expect(Object.keys(inputs)).to.deep.equal(Object.keys(project.config));
    expect([...CONFIG_KEYS]).to.deep.equal(Object.keys(project.config));
    // Plain: which resources are created depends on them, so they must be known when the program runs.
    expect(Object.entries(inputs).filter(([, input]) => input.plain !== true)).to.deep.equal([]);
    expect(Object.keys(run.schema.resources["cloudtrail-alerts:index:CloudTrailAlerts"].properties)).to.deep.equal([
      "alertTopicArn",
      "trailLogGroupName",
      "trailArn",
      "trailBucketName",
      "backfillStateMachineArn",
      "backfillBucketName",
      "backfillReaderRoleArns",
    ]);
  });

  it("matches the committed docs/schema.json (run `npm run schema` after changing a served component's arguments)", () => {
    const committed = fs.readFileSync(path.join(PROJECT_DIRECTORY, SCHEMA_FILE), "utf8");

    expect(committed === schemaText(run.schema), `${SCHEMA_FILE} differs from what Pulumi's analyzer derives now; run npm run schema`).to.equal(true);
  });

  it("constructs from the dev stack's config the resources index.ts creates, with the same inputs", async () => {
    const { resources } = await devStack();
    const program = await Promise.all(resources.map(async (r): Promise<Printed> => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: await printable(r.inputs) })));

    expect(run.resources.length).to.equal(program.length);
    expect([...run.resources].sort(byUrn)).to.deep.equal([...program].sort(byUrn));
  });

  it("returns the stack's outputs as the component's outputs", async () => {
    const { outputs } = await devStack();

    expect(run.outputs).to.deep.equal(Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)));
  });
});

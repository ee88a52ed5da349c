/**
 * The package as `npm pack` makes it, and a consumer program that installs it next to its own @pulumi/pulumi and
 * @pulumi/aws, without a registry: the tarball is unpacked as npm would install it, the consumer's @pulumi/pulumi and
 * @pulumi/aws are copies of this project's (hard links, so cheap), and every other package a symbolic link to this
 * project's node_modules. The consumer type-checks under `moduleResolution` node (node10, Pulumi's templates) and
 * node16, then runs under Pulumi's mocks in a process of its own.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const PROJECT_DIRECTORY = path.resolve(__dirname, "..", "..");

/** The packed package: the tarball, its files, and where it is unpacked. */
export interface PackedPackage {
  tarball: string;
  /** Paths inside the package, as `npm pack` lists them. */
  files: string[];
  /** The unpacked package (the tarball's `package/`). */
  directory: string;
}

/** What a command printed, and its exit code. */
export interface CommandResult {
  code: number;
  /** stdout and stderr. */
  output: string;
  stdout: string;
}

/** What the consumer program reported. */
export interface ConsumerRun {
  /** `tsc` over the consumer under each module resolution. */
  typeChecks: Record<"node10" | "node16", CommandResult>;
  /** The compiled consumer under mocks. */
  run: CommandResult;
  /** The consumer's report (when it ran). */
  report?: {
    /** Every resource registered, in order. */
    registered: Array<{ type: string; name: string }>;
    /** The @pulumi/pulumi entry modules loaded in the process. */
    pulumiCopies: string[];
    /** The stack outputs the program exported. */
    outputs: Record<string, unknown>;
    /** Types of the `cloudtrail-alerts/functions` exports the consumer uses. */
    functions: Record<string, string>;
  };
  /** The consumer's directory. */
  directory: string;
}

function command(file: string, args: string[], cwd: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}`, stdout }),
    );
  });
}

let packing: Promise<PackedPackage> | undefined;

/**
 * `npm pack` of the project (scripts skipped: `npm test` builds bin/ first; run `npm run build` before this test
 * alone), unpacked. Made once per test run.
 */
export function packedPackage(): Promise<PackedPackage> {
  packing ??= (async () => {
    const destination = fs.mkdtempSync(path.join(os.tmpdir(), "cloudtrail-alerts-pack-"));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const pack = await command(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], PROJECT_DIRECTORY);
    if (pack.code !== 0) {
      throw new Error(`npm pack failed: ${pack.output}`);
    }
    const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = path.join(destination, result.filename);
    const untar = await command("tar", ["-xzf", tarball, "-C", destination], destination);
    if (untar.code !== 0) {
      throw new Error(`unpacking ${tarball} failed: ${untar.output}`);
    }
    return { tarball, files: result.files.map((f) => f.path), directory: path.join(destination, "package") };
  })();
  return packing;
}

/** Removes what {@link packedPackage} and {@link runConsumer} wrote to the temporary directory. */
export async function removePackedPackage(): Promise<void> {
  const [packed, consumer] = await Promise.all([packing?.catch(() => undefined), consuming?.catch(() => undefined)]);
  for (const directory of [packed && path.dirname(packed.directory), consumer?.directory]) {
    if (directory !== undefined) {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  }
  packing = consuming = undefined;
}

/** Copies a directory tree as hard links (a copy where the file system cannot link). */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
    if (entry.isDirectory()) {
      linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(source), target);
    } else {
      try {
        fs.linkSync(source, target);
      } catch {
        fs.copyFileSync(source, target);
      }
    }
  }
}

/** The consumer's node_modules: the unpacked package, its own @pulumi/pulumi and @pulumi/aws, links for the rest. */
function installConsumer(consumer: string, packed: PackedPackage): void {
  const ours = path.join(PROJECT_DIRECTORY, "node_modules");
  const theirs = path.join(consumer, "node_modules");
  fs.mkdirSync(path.join(theirs, "@pulumi"), { recursive: true });
  fs.cpSync(packed.directory, path.join(theirs, "cloudtrail-alerts"), { recursive: true });
  for (const name of ["pulumi", "aws"]) {
    linkTree(path.join(ours, "@pulumi", name), path.join(theirs, "@pulumi", name));
  }
  for (const entry of fs.readdirSync(ours)) {
    if (entry !== "@pulumi" && entry !== "cloudtrail-alerts" && !entry.startsWith(".")) {
      fs.symlinkSync(path.join(ours, entry), path.join(theirs, entry), "dir");
    }
  }
}

/** The consumer program: a Pulumi program that uses the package, and reports what it created under mocks. */
const CONSUMER_PROGRAM = `import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { CloudTrailAlerts, type CloudTrailAlertsArgs } from "cloudtrail-alerts";
import { decodeCloudTrailPayload, publishAlert } from "cloudtrail-alerts/functions";

interface Input {
  config: Record<string, string>;
  args: CloudTrailAlertsArgs;
}

const registered: Array<{ type: string; name: string }> = [];
const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";

const mocks: pulumi.runtime.Mocks = {
  newResource(resource) {
    registered.push({ type: resource.type, name: resource.name });
    const inputs = resource.inputs as Record<string, unknown>;
    const name = typeof inputs.name === "string" ? inputs.name : resource.name + "-0000000";
    return { id: name, state: { ...inputs, name, bucket: name, arn: "arn:aws:mock:" + REGION + ":" + ACCOUNT + ":" + name } };
  },
  call() {
    return { id: ACCOUNT, accountId: ACCOUNT, arn: "arn:aws:sts::" + ACCOUNT + ":assumed-role/consumer/test", region: REGION, name: REGION, partition: "aws", dnsSuffix: "amazonaws.com" };
  },
};

async function main(): Promise<void> {
  const input = JSON.parse(require("fs").readFileSync(path.join(__dirname, "..", "input.json"), "utf8")) as Input;
  pulumi.runtime.setAllConfig(input.config);
  await pulumi.runtime.setMocks(mocks, "consumer", "dev", false);
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    const alerts = new CloudTrailAlerts("cloudtrail-alerts", input.args);
    return { alertTopicArn: alerts.alertTopicArn, trailLogGroupName: alerts.trailLogGroupName };
  });
  await pulumi.runtime.disconnect();
  const pulumiCopies = Object.keys(require.cache).filter((file) => file.endsWith(path.join("@pulumi", "pulumi", "index.js")));
  const functions = { decodeCloudTrailPayload: typeof decodeCloudTrailPayload, publishAlert: typeof publishAlert };
  process.stdout.write(JSON.stringify({ registered, pulumiCopies, outputs, functions }));
}

main().catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? error.stack : error));
  process.exit(1);
});
`;

/** A tsconfig for the consumer: a Pulumi template's settings, with `moduleResolution` set. */
function tsconfig(resolution: "node10" | "node16"): string {
  const module = resolution === "node10" ? "commonjs" : "node16";
  return JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        target: "ES2022",
        module,
        moduleResolution: resolution,
        types: ["node"],
        skipLibCheck: true,
        outDir: `out-${resolution}`,
        // Only the node16 build runs; the node10 one is checked.
        noEmit: resolution === "node10",
      },
      files: ["index.ts"],
    },
    null,
    2,
  );
}

let consuming: Promise<ConsumerRun> | undefined;

/**
 * Installs the packed package into a new consumer, type-checks the consumer under both resolutions and runs it with
 * `args` as CloudTrailAlerts' arguments and `config` as the stack's config. Made once per test run.
 */
export function runConsumer(config: Record<string, string>, args: unknown): Promise<ConsumerRun> {
  consuming ??= (async () => {
    const packed = await packedPackage();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "cloudtrail-alerts-consumer-"));
    installConsumer(directory, packed);
    fs.writeFileSync(path.join(directory, "package.json"), JSON.stringify({ name: "consumer", private: true, main: "out-node16/index.js" }, null, 2));
    fs.writeFileSync(path.join(directory, "index.ts"), CONSUMER_PROGRAM);
    fs.writeFileSync(path.join(directory, "input.json"), JSON.stringify({ config, args }));
    const tsc = path.join(PROJECT_DIRECTORY, "node_modules", "typescript", "bin", "tsc");
    const typeChecks: ConsumerRun["typeChecks"] = { node10: { code: -1, output: "", stdout: "" }, node16: { code: -1, output: "", stdout: "" } };
    await Promise.all(
      (["node10", "node16"] as const).map(async (resolution) => {
        fs.writeFileSync(path.join(directory, `tsconfig.${resolution}.json`), tsconfig(resolution));
        typeChecks[resolution] = await command(process.execPath, [tsc, "-p", `tsconfig.${resolution}.json`], directory);
      }),
    );
    const run = typeChecks.node16.code === 0 ? await command(process.execPath, [path.join("out-node16", "index.js")], directory) : { code: -1, output: "not run: the node16 build failed", stdout: "" };
    const report = run.code === 0 ? (JSON.parse(run.stdout) as ConsumerRun["report"]) : undefined;
    return { typeChecks, run, directory, ...(report === undefined ? {} : { report }) };
  })();
  return consuming;
}

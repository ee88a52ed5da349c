/**
 * Loads what a deployment would upload for a CallbackFunction: the `code` archive recorded by the offline engine is
 * written out as Lambda's task directory (`__index.js` plus the packages it carries), zipped to measure it, and its
 * handler is `require`d from there. The only modules it can reach besides its own files are Node's and AWS SDK v3,
 * which the Lambda Node.js runtime provides.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { zipSync } from "fflate";


/** An archive written out as a Lambda task directory. */
export interface MaterializedArchive {
  /** The directory Lambda would unpack the archive into (its `/var/task`). */
  taskDirectory: string;
  /** Archive paths and sizes, sorted by path. */
  files: Array<{ path: string; bytes: number }>;
  /** Sum of the files' sizes. */
  unzippedBytes: number;
  /** Size of the archive zipped with deflate, as uploaded. */
  zippedBytes: number;
  /** SHA-256 of the serialized `__index.js`: equal for functions that ship the same code. */
  codeDigest: string;
  /** Loads `__index.js` and returns its exported `handler`. */
  loadHandler<E = unknown, R = unknown>(): (event: E, context?: unknown) => Promise<R>;
}

async function addAsset(archivePath: string, asset: unknown, taskDirectory: string): Promise<void> {
  const target = path.join(taskDirectory, archivePath);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (asset instanceof pulumi.asset.StringAsset) {
    fs.writeFileSync(target, await asset.text);
  } else if (asset instanceof pulumi.asset.FileAsset) {
    fs.copyFileSync(path.resolve(PROJECT_DIRECTORY, await asset.path), target);
  } else if (asset instanceof pulumi.asset.FileArchive) {
    fs.cpSync(path.resolve(PROJECT_DIRECTORY, await asset.path), target, { recursive: true, dereference: true });
  } else {
    throw new Error(`archive entry ${archivePath} is of an unsupported kind`);
  }
}

function listFiles(root: string, dir = root): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(root, full) : [path.relative(root, full)];
  });
}

/** The project's root directory, against which Pulumi records archive paths. */
const PROJECT_DIRECTORY = path.resolve(__dirname, "..");

/**
 * Writes `archive` (the `code` input of an `aws:lambda/function:Function`) to a fresh temporary directory laid out
 * like Lambda's: `<tmp>/task` holds the archive, `<tmp>/node_modules/@aws-sdk` stands for the runtime's SDK.
 */
export async function materializeArchive(archive: unknown): Promise<MaterializedArchive> {
  if (!(archive instanceof pulumi.asset.AssetArchive)) {
    throw new Error("the function's code input is not an AssetArchive");
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-archive-"));
  const taskDirectory = path.join(root, "task");
  fs.mkdirSync(taskDirectory);
  for (const [archivePath, asset] of Object.entries(await archive.assets)) {
    await addAsset(archivePath, asset, taskDirectory);
  }
  fs.mkdirSync(path.join(root, "node_modules"));
  fs.symlinkSync(path.join(PROJECT_DIRECTORY, "node_modules", "@aws-sdk"), path.join(root, "node_modules", "@aws-sdk"), "dir");

  const names = listFiles(taskDirectory).sort();
  const files = names.map((name) => ({ path: name, bytes: fs.statSync(path.join(taskDirectory, name)).size }));
  const codeDigest = createHash("sha256").update(fs.readFileSync(path.join(taskDirectory, "__index.js"))).digest("hex");
  const zipped = zipSync(Object.fromEntries(names.map((name) => [name, fs.readFileSync(path.join(taskDirectory, name))])), { level: 6 });
  return {
    taskDirectory,
    files,
    unzippedBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    zippedBytes: zipped.length,
    codeDigest,
    loadHandler<E, R>() {
      const loaded = require(path.join(taskDirectory, "__index.js")) as { handler: (event: E, context?: unknown) => Promise<R> };
      return (event: E, context?: unknown) => loaded.handler(event, context);
    },
  };
}

/** Sets environment variables for the duration of `body`, restoring the previous values afterwards. */
export async function withEnvironment<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(variables).map((key) => [key, process.env[key]]));
  Object.assign(process.env, variables);
  try {
    return await body();
  } finally {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) {
        delete process.env[key];
      } else {
        process.env[key] = value;
      }
    }
  }
}

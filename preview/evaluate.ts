/**
 * Evaluates a stack of this project on the offline mock engine: loads its config, installs {@link MockCloud},
 * runs the program inside a Pulumi stack and waits until every resource is registered.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { MockCloud, RecordedResource } from "./mockCloud";
import { loadStackFiles } from "./stackFiles";

/** The outcome of evaluating a stack offline. */
export interface Evaluation {
  project: string;
  stack: string;
  region: string;
  accountId: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  cloud: MockCloud;
}

/** The account ID the offline engine simulates when the stack does not restrict `aws:allowedAccountIds`. */
export const OFFLINE_ACCOUNT_ID = "123456789012";

/**
 * Installs the mock engine configured from the stack files, without running the program. `stackName` may be
 * qualified as Pulumi writes it (`org/stack`, `org/project/stack`).
 */
export async function installOfflineEngine(
  directory: string,
  stackName: string,
  dryRun: boolean,
): Promise<{ cloud: MockCloud; project: string; stack: string; main: string; region: string; accountId: string }> {
  const files = loadStackFiles(directory, stackName);
  const region = files.config["aws:region"] ?? "us-east-1";
  const allowed = files.config["aws:allowedAccountIds"];
  const accountId = allowed ? ((JSON.parse(allowed) as string[])[0] ?? OFFLINE_ACCOUNT_ID) : OFFLINE_ACCOUNT_ID;
  pulumi.runtime.setAllConfig(files.config, files.secretKeys);
  const cloud = new MockCloud({ region, accountId });
  await cloud.install(files.project, files.stack, dryRun);
  return { cloud, project: files.project, stack: files.stack, main: files.main, region, accountId };
}

/**
 * Runs the program of the project in `directory` for `stack` offline. Only one evaluation can run per process
 * (Pulumi's runtime is process-wide).
 */
export async function evaluateStack(directory: string, stackName: string, dryRun = true): Promise<Evaluation> {
  const { cloud, project, stack, main, region, accountId } = await installOfflineEngine(directory, stackName, dryRun);
  const program = path.resolve(directory, main);
  // The real engine fails the update on a refused registration: report every refusal, on one line, before any
  // error the program ran into because of one.
  const refused = () => (cloud.refusals.length > 0 ? new Error(cloud.refusals.map((refusal) => refusal.message).join("; ")) : undefined);
  let outputs: Record<string, unknown>;
  try {
    outputs = (await pulumi.runtime.runInPulumiStack(() => Promise.resolve(require(program) as Record<string, unknown>))) ?? {};
    await pulumi.runtime.disconnect();
  } catch (error) {
    throw refused() ?? error;
  }
  const refusal = refused();
  if (refusal !== undefined) {
    throw refusal;
  }
  return { project, stack, region, accountId, resources: cloud.resources, outputs, cloud };
}

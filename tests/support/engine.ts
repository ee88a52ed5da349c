/**
 * The mocha root hook: installs the offline engine (Pulumi's mock engine with AWS-shaped results) once, configured
 * from the dev stack (Pulumi.yaml + Pulumi.dev.yaml), like `npm start`. Tests create components with names unique
 * in the run and inspect what they registered.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { installOfflineEngine } from "../../preview/evaluate";
import { MockCloud, RecordedResource } from "../../preview/mockCloud";
import { valueOf } from "./outputs";
import { writeVerifyReport } from "../../simulation/verifyReport";

export const PROJECT_DIRECTORY = path.resolve(__dirname, "..", "..");

let engine: { cloud: MockCloud; accountId: string; region: string } | undefined;

/**
 * A resource whose inputs cannot be prepared (for example a callback that cannot be serialized) surfaces as an
 * unhandled rejection and leaves its registration pending forever. Record those, so that waiting for registrations
 * fails with the real error instead of timing out.
 */
const registrationFailures: unknown[] = [];
process.on("unhandledRejection", (reason) => registrationFailures.push(reason));

export const mochaHooks = {
  afterAll(): void {
    writeVerifyReport();
  },
  async beforeAll(): Promise<void> {
    if (engine === undefined) {
      // Credentials and endpoints of real accounts must never be used by a test.
      for (const variable of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        delete process.env[variable];
      }
      engine = await installOfflineEngine(PROJECT_DIRECTORY, "dev", false);
    }
  },
};

/** The engine every test shares. */
export function offlineEngine(): { cloud: MockCloud; accountId: string; region: string } {
  if (engine === undefined) {
    throw new Error("the offline engine is installed by the root hook in tests/support/engine.ts");
  }
  return engine;
}

/** Waits for every registration, then returns what `component` created below it. */
export async function resourcesOf(component: pulumi.Resource): Promise<RecordedResource[]> {
  const urn = await valueOf(component.urn);
  await settle();
  return offlineEngine().cloud.descendantsOf(urn);
}

/** Waits until outstanding registrations have been answered; fails if one of them failed. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  let timer: NodeJS.Timeout | undefined;
  const failure = new Promise<never>((_, reject) => {
    const check = () => {
      // The offline engine's refusals (duplicate URNs, inputs AWS would refuse) fail the test that caused them.
      if (registrationFailures.length > 0 || (engine?.cloud.refusals.length ?? 0) > 0) {
        const reason: unknown = registrationFailures[0] ?? engine?.cloud.refusals[0];
        reject(new Error(`a resource registration failed, so the engine cannot settle: ${reason instanceof Error ? reason.message : String(reason)}`));
      } else {
        timer = setTimeout(check, 20);
      }
    };
    check();
  });
  try {
    // waitForRPCs is exported by the runtime but missing from its type declarations.
    await Promise.race([(pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs(), failure]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one resource of `type` named `name` among `resources`. */
export function single(resources: RecordedResource[], type: string, name?: string): RecordedResource {
  const matches = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${matches.map((r) => r.name).join(", ")}`);
  }
  return matches[0];
}

/** Parses a JSON policy input (`policy`, `assumeRolePolicy`, ...) of a recorded resource. */
export function policyOf(resource: RecordedResource, input = "policy"): { Version: string; Statement: Array<Record<string, unknown>> } {
  const text = resource.inputs[input];
  if (typeof text !== "string") {
    throw new Error(`${resource.name} has no ${input} string input`);
  }
  return JSON.parse(text) as { Version: string; Statement: Array<Record<string, unknown>> };
}

/**
 * The dev stack (index.ts with Pulumi.dev.yaml) evaluated once on the shared offline engine, for the tests that check
 * the whole stack. Pulumi's runtime runs one program per process, so every such test shares this evaluation.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { RecordedResource } from "../../preview/mockCloud";
import { offlineEngine, PROJECT_DIRECTORY, settle } from "./engine";

export interface DevStack {
  /** The stack resource and everything below it (components and custom resources, providers included). */
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

let evaluation: Promise<DevStack> | undefined;

export function devStack(): Promise<DevStack> {
  evaluation ??= (async () => {
    const outputs = (await pulumi.runtime.runInPulumiStack(() => Promise.resolve(require(path.join(PROJECT_DIRECTORY, "index.ts")) as Record<string, unknown>))) ?? {};
    await settle();
    const { cloud } = offlineEngine();
    const stack = cloud.resources.find((r) => r.type === "pulumi:pulumi:Stack");
    if (!stack) {
      throw new Error("the dev stack registered no stack resource");
    }
    return { resources: [stack, ...cloud.descendantsOf(stack.urn)], outputs };
  })();
  return evaluation;
}

/**
 * Plans of the dev stack for the least-privilege proofs, in the two shapes `npm run verify -- --plan` reads, and the
 * mutations the proofs make to them.
 */
import { printable } from "../../../preview/main";
import type { RecordedResource } from "../../../preview/mockCloud";
import { loadStackFiles } from "../../../preview/stackFiles";
import { parsePlan, type Plan, previewPlanOf } from "../../../simulation/plan";
import { PROJECT_DIRECTORY } from "../../support/engine";

/** What `npm start -- --json` prints for `resources` (preview/main.ts). */
export async function npmStartJson(resources: RecordedResource[]): Promise<unknown[]> {
  const records = await Promise.all(resources.map(async (r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, inputs: await printable(r.inputs) })));
  return JSON.parse(JSON.stringify(records)) as unknown[];
}

/** `resources` in the shape of `pulumi preview --json` for a deployed, unchanged stack (the fixture's). */
export function previewJson(resources: RecordedResource[]): Record<string, unknown> {
  const files = loadStackFiles(PROJECT_DIRECTORY, "dev");
  return previewPlanOf(resources, files.config, files.secretKeys);
}

/** The plan read back from its JSON, as `npm run verify -- --plan` reads a file. */
export function planOf(json: unknown): Plan {
  return parsePlan(JSON.stringify(json));
}

/** A copy of a plan of either shape in which the role policy named `policyName` also has `statements`. */
export function withStatements(json: unknown, policyName: string, statements: Array<Record<string, unknown>>): unknown {
  return editPolicy(json, policyName, (document) => ({ ...document, Statement: [...(document.Statement as unknown[]), ...statements] }));
}

/** A copy of a plan of either shape in which the role policy named `policyName` is `edit` of what it was. */
export function editPolicy(json: unknown, policyName: string, edit: (document: Record<string, unknown>) => unknown): unknown {
  const copy = JSON.parse(JSON.stringify(json)) as unknown;
  const resources = Array.isArray(copy) ? (copy as Array<{ name?: string; urn: string; inputs: Record<string, unknown> }>) : (copy as { steps: Array<{ newState: { urn: string; inputs: Record<string, unknown> } }> }).steps.map((s) => s.newState);
  const policy = resources.find((r) => r.urn.endsWith(`::${policyName}`) && r.urn.includes("aws:iam/rolePolicy:RolePolicy"));
  if (policy === undefined) {
    throw new Error(`the plan has no role policy ${policyName}`);
  }
  const edited = edit(JSON.parse(String(policy.inputs.policy)) as Record<string, unknown>);
  policy.inputs.policy = typeof edited === "string" ? edited : JSON.stringify(edited);
  return copy;
}

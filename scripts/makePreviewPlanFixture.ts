/**
 * Writes tests/fixtures/pulumi-preview/dev-plan.json: the dev stack's plan in the shape `pulumi preview --json` prints
 * for a deployed, unchanged stack (see `previewPlanOf` in simulation/plan.ts), derived from the offline evaluation of
 * index.ts with Pulumi.dev.yaml. Run it when the dev stack's roles, policies or functions change:
 * `npx ts-node --transpile-only scripts/makePreviewPlanFixture.ts`. A test says when it is out of date.
 */
import * as fs from "fs";
import * as path from "path";

import { evaluateStack } from "../preview/evaluate";
import { loadStackFiles } from "../preview/stackFiles";
import { previewPlanOf } from "../simulation/plan";

/** Where the fixture is, from the project directory. */
export const PREVIEW_PLAN_FIXTURE = path.join("tests", "fixtures", "pulumi-preview", "dev-plan.json");

async function main(): Promise<void> {
  const directory = path.resolve(__dirname, "..");
  const files = loadStackFiles(directory, "dev");
  const evaluation = await evaluateStack(directory, "dev", false);
  const plan = previewPlanOf(evaluation.resources, files.config, files.secretKeys);
  fs.mkdirSync(path.dirname(path.join(directory, PREVIEW_PLAN_FIXTURE)), { recursive: true });
  fs.writeFileSync(path.join(directory, PREVIEW_PLAN_FIXTURE), `${JSON.stringify(plan, null, 2)}\n`);
  process.stdout.write(`wrote ${PREVIEW_PLAN_FIXTURE}: ${(plan.steps as unknown[]).length} resources\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * `npm run schema`: writes docs/schema.json, the component package's schema as Pulumi's analyzer derives it from the
 * TypeScript types (what `pulumi package add` generates other languages' SDKs from). tests/componentPackage.test.ts
 * fails when the committed file differs from what the analyzer derives now.
 */
import * as fs from "fs";
import * as path from "path";

import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";

import { componentPackage } from "../components/componentPackage";

/** Where the committed schema lives, relative to the project directory. */
export const SCHEMA_FILE = path.join("docs", "schema.json");

/** The schema as committed: indented JSON with a final newline. */
export function schemaText(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

async function main(): Promise<void> {
  const projectDirectory = path.resolve(__dirname, "..");
  const schema = JSON.parse(await new ComponentProvider(componentPackage(projectDirectory)).getSchema()) as unknown;
  fs.writeFileSync(path.join(projectDirectory, SCHEMA_FILE), schemaText(schema));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

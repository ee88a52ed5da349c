/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does for config: project defaults apply to keys
 * the stack does not set, project keys the project does not declare are refused, typed keys are type-checked, and
 * every value is handed to the program as the string the CLI would pass.
 */
import * as fs from "fs";
import * as path from "path";

import { parse } from "yaml";

import { StackConfigError } from "../stackConfig";

/** The project and one stack's effective config. */
export interface StackFiles {
  project: string;
  /** Program entry, relative to the project directory. */
  main: string;
  directory: string;
  /** Full key (`namespace:name`) to the string value Pulumi passes to the program. */
  config: Record<string, string>;
  /** Keys whose values are encrypted secrets in the stack file; offline they hold a placeholder. */
  secretKeys: string[];
}

/** What a secret config value reads as offline, where it cannot be decrypted. */
export const OFFLINE_SECRET_PLACEHOLDER = "offline-preview-secret";

interface Declaration {
  type?: "string" | "integer" | "boolean" | "array";
  items?: { type: string };
  default?: unknown;
  description?: string;
}

/** Finds the directory holding Pulumi.yaml, from `start` upwards. */
export function findProjectDirectory(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no Pulumi.yaml found from ${start} upwards`);
    }
  }
}

/** Loads the project file and the stack file of `stack` and merges them into the config the program sees. */
export function loadStackFiles(directory: string, stack: string): StackFiles {
  const projectFile = path.join(directory, "Pulumi.yaml");
  const project = parse(fs.readFileSync(projectFile, "utf8")) as {
    name: string;
    main?: string;
    config?: Record<string, Declaration | string | number | boolean>;
  };
  const stackFile = path.join(directory, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    throw new StackConfigError("stack", `stack ${JSON.stringify(stack)} has no config file; expected ${stackFile}`);
  }
  const stackValues = ((parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {});

  const declarations = new Map<string, Declaration>();
  for (const [key, declaration] of Object.entries(project.config ?? {})) {
    const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
    declarations.set(fullKey, typeof declaration === "object" ? declaration : { default: declaration });
  }

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, stored] of Object.entries(stackValues)) {
    const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
    // `pulumi config set --secret` stores { secure: <ciphertext> }; only the stack's secrets provider can decrypt it.
    const secret = typeof stored === "object" && stored !== null && "secure" in stored;
    if (secret) {
      secretKeys.push(fullKey);
    }
    const value = secret ? OFFLINE_SECRET_PLACEHOLDER : stored;
    const declaration = declarations.get(fullKey);
    if (fullKey.startsWith(`${project.name}:`) && declaration === undefined) {
      throw new StackConfigError(fullKey, `${fullKey} is set in ${path.basename(stackFile)} but not declared in Pulumi.yaml, got ${JSON.stringify(value)}`);
    }
    if (declaration?.type !== undefined) {
      checkType(fullKey, value, declaration);
    }
    config[fullKey] = asConfigString(value);
  }
  for (const [fullKey, declaration] of declarations) {
    if (!(fullKey in config)) {
      if (declaration.default === undefined) {
        throw new StackConfigError(fullKey, `${fullKey} is required by Pulumi.yaml and not set in ${path.basename(stackFile)}`);
      }
      config[fullKey] = asConfigString(declaration.default);
    }
  }
  return { project: project.name, main: project.main ?? "index.ts", directory, config, secretKeys };
}

function checkType(key: string, value: unknown, declaration: Declaration): void {
  const ok =
    declaration.type === "string"
      ? typeof value === "string"
      : declaration.type === "integer"
        ? Number.isInteger(value)
        : declaration.type === "boolean"
          ? typeof value === "boolean"
          : Array.isArray(value) && value.every((item) => declaration.items?.type !== "string" || typeof item === "string");
  if (!ok) {
    const expected = declaration.type === "array" ? `array<${declaration.items?.type ?? "unknown"}>` : declaration.type;
    throw new StackConfigError(key, `${key} must be of type ${expected}, got ${JSON.stringify(value)}`);
  }
}

/** Pulumi hands config to programs as strings: scalars as text, lists and objects as JSON. */
function asConfigString(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

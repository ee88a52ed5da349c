/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does for config: project defaults apply to keys
 * the stack does not set, project keys the project does not declare are refused, typed keys are type-checked, and
 * every value is handed to the program as the string the CLI would pass.
 */
import * as fs from "fs";
import * as path from "path";

import { parse, YAMLParseError } from "yaml";

import { StackConfigError } from "../stackConfig";

/** The project and one stack's effective config. */
export interface StackFiles {
  project: string;
  /** The stack's own name (`dev` for `my-org/dev`), as `pulumi.getStack()` returns it. */
  stack: string;
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

/** A stack name as Pulumi writes it: `stack`, `org/stack` or `org/project/stack`. */
export interface StackName {
  organization?: string;
  project?: string;
  /** The stack's own name: its config file is `Pulumi.<stack>.yaml`. */
  stack: string;
}

const NAME_PART = /^[A-Za-z0-9_.-]+$/;

/** Why `text` is not a stack name Pulumi accepts; undefined when it is one. */
export function stackNameProblem(text: string): string | undefined {
  const parts = text.split("/");
  if (parts.length > 3 || !parts.every((part) => NAME_PART.test(part))) {
    return `--stack must be a stack name such as dev, my-org/dev or my-org/cloudtrail-alerts/dev (letters, digits, '-', '_', '.'), got ${JSON.stringify(text)}`;
  }
  return undefined;
}

/** Splits `stack`, `org/stack` or `org/project/stack`; throws when {@link stackNameProblem} finds one. */
export function parseStackName(text: string): StackName {
  const problem = stackNameProblem(text);
  if (problem !== undefined) {
    throw new StackConfigError("stack", problem);
  }
  const parts = text.split("/");
  const stack = parts[parts.length - 1];
  return parts.length === 3 ? { organization: parts[0], project: parts[1], stack } : parts.length === 2 ? { organization: parts[0], stack } : { stack };
}

/** The stacks that have a config file in `directory` (`Pulumi.<stack>.yaml`), sorted. */
export function stackNames(directory: string): string[] {
  return fs
    .readdirSync(directory)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/**
 * Parses a YAML file; a syntax error names the file, line and column and shows the offending line, on one line:
 * `Pulumi.dev.yaml:6:1: Sequence item without - indicator; line 6 reads "- b@example.com"`.
 */
export function parseYamlFile(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  try {
    return parse(text) as unknown;
  } catch (error) {
    if (!(error instanceof YAMLParseError)) {
      throw error;
    }
    const { line, col } = error.linePos?.[0] ?? { line: 1, col: 1 };
    const reason = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, "").split("\n")[0];
    const source = text.split(/\r?\n/)[line - 1] ?? "";
    throw new StackConfigError("yaml", `${path.basename(file)}:${line}:${col}: ${reason}; line ${line} reads ${JSON.stringify(source)}`);
  }
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

/**
 * Loads the project file and the stack file of `stackName` (`stack`, `org/stack` or `org/project/stack`, as Pulumi
 * writes it: each reads `Pulumi.<stack>.yaml`) and merges them into the config the program sees.
 */
export function loadStackFiles(directory: string, stackName: string): StackFiles {
  const projectFile = path.join(directory, "Pulumi.yaml");
  const project = parseYamlFile(projectFile) as {
    name: string;
    main?: string;
    config?: Record<string, Declaration | string | number | boolean>;
  };
  const { project: named, stack } = parseStackName(stackName);
  if (named !== undefined && named !== project.name) {
    throw new StackConfigError("stack", `stack ${JSON.stringify(stackName)} belongs to project ${named}, but Pulumi.yaml is project ${project.name}`);
  }
  const stackFile = path.join(directory, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    throw new StackConfigError("stack", `stack ${JSON.stringify(stack)} has no config file; expected ${stackFile}`);
  }
  const stackValues = (parseYamlFile(stackFile) as { config?: Record<string, unknown> } | null)?.config ?? {};

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
  return { project: project.name, stack, main: project.main ?? "index.ts", directory, config, secretKeys };
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

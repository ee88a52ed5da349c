/**
 * The layout rules of docs/architecture.md, read from the source files with the TypeScript compiler:
 * - what each room may import (relative paths resolved; `import`, `export ... from`, `import()` and `require()`,
 *   type-only imports and `import("...")` types included);
 * - no file in functions/ or components/ over 450 lines, no function there over 80 lines (function declarations,
 *   methods, constructors and accessors, arrow functions and function expressions, counted from their first line to
 *   their last, comments before them excluded);
 * - no Set or Map in the module scope of functions/: Pulumi's closure serializer ships a captured one as an empty
 *   object, so the deployed code throws `TypeError: Method Set.prototype.has called on incompatible receiver` where
 *   the tested module works (https://github.com/pulumi/pulumi/issues/1314). Create them inside a function, or use an
 *   array.
 * Each failure names the file, and the import, the function or the variable.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import * as ts from "typescript";

import { PROJECT_DIRECTORY } from "./support/engine";

const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 80;

/** Rooms whose size is limited. */
const SIZED_ROOMS = ["functions", "components"];

/**
 * Places a room must not import, by room. A place is a top-level folder (`tests`), a top-level module with or
 * without its folder (`stackConfig` is `stackConfig.ts` and `stackConfig/`; `index` is the stack program `index.ts`),
 * or a package name prefix (`@pulumi/`).
 */
const FORBIDDEN_IMPORTS: Record<string, string[]> = {
  functions: ["@pulumi/", "components", "preview", "scripts", "simulation", "tests", "stackConfig", "index"],
  components: ["index", "stackConfig", "preview", "scripts", "simulation", "tests"],
  scripts: ["tests"],
  preview: ["tests"],
  simulation: ["tests"],
};

/**
 * Size violations allowed anyway: none since the rooms were split (the last two were the constructors of
 * DownloadThresholdAlert and SecureCallbackFunction). An entry is a violation's key as the test reports it (`file` for
 * a file's length, `file: function` for a function's). The list only shrinks: a violation not listed fails, and so
 * does an entry that no longer violates.
 */
const KNOWN_SIZE_VIOLATIONS: readonly string[] = [];

/**
 * Module-scope collections in functions/ allowed anyway: none. (Two were shipped before this test: the deployed backfill
 * threw a TypeError on a request timeout instead of retrying, and the logs counter on its first throttled call.)
 */
const KNOWN_SERIALIZATION_HAZARDS: readonly string[] = [];

interface Violation {
  /** What the allow-list names: the file, or `file: function`. */
  key: string;
  message: string;
}

/** Project-relative paths (forward slashes) of the TypeScript files under `room`. */
function sourceFiles(room: string): string[] {
  const directory = path.join(PROJECT_DIRECTORY, room);
  if (!fs.existsSync(directory)) {
    return [];
  }
  return (fs.readdirSync(directory, { recursive: true }) as string[])
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
    .map((file) => `${room}/${file.split(path.sep).join("/")}`)
    .sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(path.join(PROJECT_DIRECTORY, file), "utf8"), ts.ScriptTarget.Latest, true);
}

/** Every module specifier `source` imports: import and export declarations, import-equals, `import()` (types too) and `require()`. */
function importedSpecifiers(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      if (isRequire || node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        found.push(node.arguments[0].text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The place a specifier of `file` points at, as named in {@link FORBIDDEN_IMPORTS}, or the package name. */
function placeOf(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) {
    return specifier;
  }
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  if (target.startsWith("..")) {
    return target;
  }
  return target.split("/")[0].replace(/\.(ts|js)$/, "");
}

/** True when `place` (a project place or a package) is `forbidden` (a place, or a package prefix ending in `/`). */
function isForbidden(place: string, forbidden: string): boolean {
  return forbidden.endsWith("/") ? place.startsWith(forbidden) : place === forbidden;
}

/**
 * The one exception: CloudTrailAlerts, the whole stack as a component, checks its arguments with the stack config's
 * own readers, so that a stack file and the same arguments meet one set of rules and messages.
 */
const ALLOWED_IMPORTS: readonly string[] = ["components/cloudTrailAlerts.ts: import ../stackConfig"];

function importViolations(): Violation[] {
  return Object.entries(FORBIDDEN_IMPORTS).flatMap(([room, forbidden]) =>
    sourceFiles(room).flatMap((file) =>
      importedSpecifiers(parse(file))
        .filter((specifier) => !ALLOWED_IMPORTS.includes(`${file}: import ${specifier}`))
        .filter((specifier) => forbidden.some((place) => isForbidden(placeOf(file, specifier), place)))
        .map((specifier) => ({ key: `${file}: import ${specifier}`, message: `${file} imports "${specifier}": ${room}/ imports nothing from ${forbidden.join(", ")}` })),
    ),
  );
}

/** Lines of a file as `wc -l` counts them. */
function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ConstructorDeclaration | ts.AccessorDeclaration | ts.ArrowFunction | ts.FunctionExpression;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isAccessor(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

/**
 * A readable name that stays the same when lines move: the declared name, `Class.method`, the variable or property it
 * is assigned to, or for an anonymous function its role in the nearest named one (`outer > returned function`,
 * `outer > callback of items.map`).
 */
function functionName(node: FunctionLike, source: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) ? `${node.parent.name?.text ?? "(class)"}.` : "";
  if (ts.isConstructorDeclaration(node)) {
    return `${owner}constructor`;
  }
  if (node.name !== undefined && !ts.isArrowFunction(node)) {
    return `${owner}${node.name.getText(source)}`;
  }
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.initializer === node) {
    return `${owner}${parent.name.getText(source)}`;
  }
  let outer: ts.Node = parent;
  while (!ts.isSourceFile(outer) && !isFunctionLike(outer)) {
    outer = outer.parent;
  }
  const prefix = isFunctionLike(outer) ? `${functionName(outer, source)} > ` : "";
  if (ts.isReturnStatement(parent) || (ts.isArrowFunction(parent) && parent.body === node)) {
    return `${prefix}returned function`;
  }
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) {
    return `${prefix}callback of ${parent.expression.getText(source)}`;
  }
  const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  return `${prefix}anonymous function at line ${line}`;
}

function sizeViolations(): Violation[] {
  return SIZED_ROOMS.flatMap((room) =>
    sourceFiles(room).flatMap((file) => {
      const source = parse(file);
      const found: Violation[] = [];
      const lines = lineCount(source.text);
      if (lines > MAX_FILE_LINES) {
        found.push({ key: file, message: `${file} has ${lines} lines (at most ${MAX_FILE_LINES})` });
      }
      const visit = (node: ts.Node): void => {
        if (isFunctionLike(node) && node.body !== undefined) {
          const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
          const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (last - first + 1 > MAX_FUNCTION_LINES) {
            const name = functionName(node, source);
            found.push({ key: `${file}: ${name}`, message: `${file}: ${name} (line ${first + 1}) has ${last - first + 1} lines (at most ${MAX_FUNCTION_LINES})` });
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      return found;
    }),
  );
}

const COLLECTIONS = new Set(["Set", "Map", "WeakSet", "WeakMap"]);

function serializationHazards(): Violation[] {
  return sourceFiles("functions").flatMap((file) =>
    parse(file).statements.filter(ts.isVariableStatement).flatMap((statement) =>
      statement.declarationList.declarations.flatMap((declaration) => {
        const initializer = declaration.initializer;
        if (initializer === undefined || !ts.isNewExpression(initializer) || !ts.isIdentifier(initializer.expression) || !COLLECTIONS.has(initializer.expression.text)) {
          return [];
        }
        const kind = initializer.expression.text;
        const name = declaration.name.getText();
        return [{ key: `${file}: ${kind} ${name}`, message: `${file}: ${name} is a ${kind} in module scope, which the closure serializer ships as an empty object` }];
      }),
    ),
  );
}

/** Fails on violations not in `known`, and on entries of `known` that no longer violate. */
function expectOnlyKnown(violations: Violation[], known: readonly string[], listName: string): void {
  const keys = new Set(violations.map((v) => v.key));
  expect({
    violations: violations.filter((v) => !known.includes(v.key)).map((v) => v.message),
    [`fixedRemoveFrom${listName}`]: known.filter((key) => !keys.has(key)),
  }).to.deep.equal({ violations: [], [`fixedRemoveFrom${listName}`]: [] });
}

describe("architecture", () => {
  it("each room imports only what docs/architecture.md allows", () => {
    expect(importViolations().map((v) => v.message)).to.deep.equal([]);
  });

  it(`no file in ${SIZED_ROOMS.join("/ or ")}/ has more than ${MAX_FILE_LINES} lines, and no function there more than ${MAX_FUNCTION_LINES}`, () => {
    expectOnlyKnown(sizeViolations(), KNOWN_SIZE_VIOLATIONS, "KNOWN_SIZE_VIOLATIONS");
  });

  it("functions/ keeps no Set or Map in module scope, where the closure serializer would break it", () => {
    expectOnlyKnown(serializationHazards(), KNOWN_SERIALIZATION_HAZARDS, "KNOWN_SERIALIZATION_HAZARDS");
  });
});

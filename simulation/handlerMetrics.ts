/**
 * The metrics the handlers write, read from their sources with the TypeScript compiler: every call of a metric sink's
 * `count(name, value, dimensions?)` under `functions/` (`metrics.count`, `metrics?.count`, `deps.metrics?.count`, ...),
 * with its name (a string literal, or a string constant exported by a file of `functions/`) and the names of its extra
 * dimensions (an object literal's keys, literal or constant). `embeddedMetricSink` adds `FunctionName` to every one.
 * The operations dashboard's cross-check compares its metrics with these.
 */
import * as fs from "fs";
import * as path from "path";

import * as ts from "typescript";

/** One metric a handler writes. */
export interface HandlerMetric {
  name: string;
  /** Dimension names besides `FunctionName`, sorted. */
  dimensions: string[];
  /** Where it is written (project-relative path and line). */
  at: string;
}

/** The TypeScript files under `functions/` of `projectDirectory`, parsed. */
function functionSources(projectDirectory: string): Array<{ file: string; source: ts.SourceFile }> {
  const directory = path.join(projectDirectory, "functions");
  return (fs.readdirSync(directory, { recursive: true }) as string[])
    .filter((file) => file.endsWith(".ts"))
    .sort()
    .map((file) => {
      const relative = path.posix.join("functions", file.split(path.sep).join("/"));
      return { file: relative, source: ts.createSourceFile(relative, fs.readFileSync(path.join(directory, file), "utf8"), ts.ScriptTarget.Latest, true) };
    });
}

/** Every `export const NAME = "text"` of the sources (the metric and dimension names handlers share as constants). */
function stringConstants(sources: Array<{ source: ts.SourceFile }>): Map<string, string> {
  const constants = new Map<string, string>();
  for (const { source } of sources) {
    for (const statement of source.statements) {
      if (ts.isVariableStatement(statement) && statement.declarationList.flags & ts.NodeFlags.Const) {
        for (const declaration of statement.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name) && declaration.initializer !== undefined && ts.isStringLiteral(declaration.initializer)) {
            constants.set(declaration.name.text, declaration.initializer.text);
          }
        }
      }
    }
  }
  return constants;
}

/** The string a name expression stands for: a literal, or a known constant; undefined otherwise. */
function stringOf(node: ts.Node, constants: Map<string, string>): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
    return node.text;
  }
  if (ts.isIdentifier(node)) {
    return constants.get(node.text);
  }
  return undefined;
}

/** The names of an object literal's properties (identifiers, literals or `[CONSTANT]`); throws on anything else. */
function keysOf(node: ts.Expression, constants: Map<string, string>, at: string): string[] {
  if (!ts.isObjectLiteralExpression(node)) {
    throw new Error(`${at}: the dimensions of a metric must be an object literal, to be read here`);
  }
  return node.properties.map((property) => {
    const name = property.name;
    const key = name === undefined ? undefined : ts.isComputedPropertyName(name) ? stringOf(name.expression, constants) : ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
    if (key === undefined) {
      throw new Error(`${at}: a dimension name must be an identifier, a literal or a [CONSTANT]`);
    }
    return key;
  });
}

/** True for the callee of a metric sink's count: `<...>metrics.count` or `<...>metrics?.count`. */
function isMetricCount(call: ts.CallExpression): boolean {
  const callee = call.expression;
  return ts.isPropertyAccessExpression(callee) && callee.name.text === "count" && /(^|\.)metrics$/.test(callee.expression.getText().replace(/\?/g, ""));
}

/** The metrics written under `functions/` of `projectDirectory`. Throws on a call whose name it cannot read. */
export function handlerMetrics(projectDirectory: string): HandlerMetric[] {
  const sources = functionSources(projectDirectory);
  const constants = stringConstants(sources);
  const found: HandlerMetric[] = [];
  for (const { file, source } of sources) {
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && isMetricCount(node) && node.arguments.length >= 2) {
        const at = `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        const name = stringOf(node.arguments[0], constants);
        if (name === undefined) {
          throw new Error(`${at}: the metric name must be a string literal or a string constant, to be read here`);
        }
        const dimensions = node.arguments.length > 2 ? keysOf(node.arguments[2], constants, at).sort() : [];
        found.push({ name, dimensions, at });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/**
 * The AWS metrics the operations dashboard may show, as AWS documents them: namespace -> metric -> its dimension.
 * - AWS/Lambda: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 * - AWS/SQS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 * - AWS/SNS: https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html
 * - AWS/States: https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
 */
export const AWS_PUBLISHED_METRICS: Record<string, Record<string, string>> = {
  "AWS/Lambda": { Errors: "FunctionName", Throttles: "FunctionName", Invocations: "FunctionName" },
  "AWS/SQS": { ApproximateNumberOfMessagesVisible: "QueueName" },
  "AWS/SNS": { NumberOfMessagesPublished: "TopicName", NumberOfNotificationsFailed: "TopicName" },
  "AWS/States": { ExecutionsFailed: "StateMachineArn", ExecutionsSucceeded: "StateMachineArn" },
};

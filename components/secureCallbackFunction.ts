import * as fs from "fs";
import * as path from "path";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { ALERT_TOPIC_ARN_VARIABLE } from "../functions/shared/environment";
import { METRIC_NAMESPACE, REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC } from "../functions/shared/runtime";
import { AlertTopic } from "./alertTopic";
import { policyDocument, PolicyStatement, serviceTrustPolicy } from "./policy";
import { argProblems, isLogRetention, isNonEmptyString, wholeNumberIn } from "./validation";

/** Node.js runtimes that bundle AWS SDK v3, which the archives rely on instead of carrying it. */
export const SUPPORTED_RUNTIMES = ["nodejs22.x", "nodejs24.x"] as const;
export type SupportedRuntime = (typeof SUPPORTED_RUNTIMES)[number];

/** Longest `rejectedInputAlarm.consequence`: the alarm description (at most 1,024 characters) holds it with names. */
const MAX_CONSEQUENCE_LENGTH = 200;

/** What IAM accepts in a role description (its API model's roleDescriptionType); the description becomes the role's. */
const ROLE_DESCRIPTION = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;

/** Environment variables Lambda sets itself; a function may not define them. */
const RESERVED_ENVIRONMENT = /^(AWS_|LAMBDA_|_HANDLER$|_X_AMZN_TRACE_ID$|TZ$)/;

export interface SecureCallbackFunctionArgs<E, R> {
  /**
   * Runs once per cold start and returns the handler. Keep it a thin shell: capture a factory imported from
   * `functions/`, build SDK clients, read settings from environment variables. Pulumi serializes this closure
   * into the deployment archive; it must not capture secrets or call `Output.get()`.
   */
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  /** What the function does; shown in the console and in its alarm descriptions. */
  description: string;
  /**
   * Exactly the IAM statements the handler's code needs. Writing to its own log group and to its dead-letter queue
   * are added here, and publishing to the alert topic when `publishesAlerts` is set.
   */
  statements: pulumi.Input<pulumi.Input<PolicyStatement>[]>;
  /** Topic for the function's alarms (errors, dead letters, rejected input) and its alerts, with `publishesAlerts`. */
  alertTopic: AlertTopic;
  /**
   * Grants `sns:Publish` on the alert topic (and its key), registers the role in the topic policy and sets
   * `ALERT_TOPIC_ARN`.
   * @default false
   */
  publishesAlerts?: boolean;
  /** Environment variables: everything the handler reads at run time. @default - none besides ALERT_TOPIC_ARN */
  environment?: Record<string, pulumi.Input<string>>;
  /** @default "nodejs22.x" */
  runtime?: SupportedRuntime;
  /** @default 256 */
  memorySizeInMb?: number;
  /** @default 60 */
  timeoutInSeconds?: number;
  /** Days the function's own log group keeps its logs. @default 30 */
  logRetentionInDays?: number;
  /**
   * Retries of a failed asynchronous invocation (0-2); events that still fail go to the dead-letter queue.
   * See https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
   * @default 2
   */
  maximumRetryAttempts?: number;
  /** Oldest age (60-21600 s) at which an asynchronous event is still processed. @default 21600 */
  maximumEventAgeInSeconds?: number;
  /**
   * npm packages the handler `require`s that the runtime does not provide (for example `croner`). Only these go into
   * the archive; every other dependency of the program is left out, and so is AWS SDK v3, which the runtime bundles.
   * @default - none
   */
  bundledPackages?: string[];
  /**
   * Alarms, to the alert topic, on the first input the handler rejects within 5 minutes: its `RejectedInput` metric
   * (Embedded Metric Format, namespace `CloudTrailAlerts`), counted for payloads or records it could not decode, which
   * are logged with their reason as "input rejected" and never retried. Set it for handlers that emit the metric
   * (`reportRejectedInput` in `functions/runtime.ts`). `consequence` ends the alarm description's first sentence
   * and says what rejected input costs, for example `"the downloads in it were not counted"`.
   * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   * @default - no alarm on rejected input
   */
  rejectedInputAlarm?: { consequence: string };
}

/**
 * `aws.lambda.CallbackFunction` with this project's defaults: its own least-privilege role (never the broad default
 * role), an explicit runtime on arm64, JSON logs in its own log group with retention, retries of asynchronous
 * invocations with failures kept in an encrypted dead-letter queue, alarms on errors and on dead letters, and
 * optionally on rejected input.
 */
export class SecureCallbackFunction<E = unknown, R = unknown> extends pulumi.ComponentResource {
  readonly function: aws.lambda.CallbackFunction<E, R>;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly errorsAlarm: aws.cloudwatch.MetricAlarm;
  readonly deadLettersAlarm: aws.cloudwatch.MetricAlarm;
  /** The alarm on rejected input; undefined without `rejectedInputAlarm`. */
  readonly rejectedInputAlarm?: aws.cloudwatch.MetricAlarm;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: SecureCallbackFunctionArgs<E, R>, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:lambda:SecureCallbackFunction", name, {}, opts);
    SecureCallbackFunction.validateArgs(name, args);
    const {
      callbackFactory,
      description,
      statements,
      alertTopic,
      publishesAlerts = false,
      environment = {},
      runtime = "nodejs22.x",
      memorySizeInMb = 256,
      timeoutInSeconds = 60,
      logRetentionInDays = 30,
      maximumRetryAttempts = 2,
      maximumEventAgeInSeconds = 21600,
      bundledPackages = [],
      rejectedInputAlarm,
    } = args;
    const child = { parent: this };

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: logRetentionInDays }, child);
    // Encrypted with SQS-managed keys, which needs no KMS permission from the function; 14 days is SQS's maximum.
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dead-letters`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 },
      child,
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      { description: `Execution role of ${name}: ${description}`.slice(0, 1000), assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com") },
      child,
    );
    const ownStatements: pulumi.Input<PolicyStatement>[] = [
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: pulumi.interpolate`${this.logGroup.arn}:log-stream:*`,
      },
      { Sid: "KeepFailedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: this.deadLetterQueue.arn },
    ];
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: pulumi
          .all([ownStatements, publishesAlerts ? alertTopic.publishStatements() : [], statements])
          .apply(([own, publish, code]) => policyDocument([...own, ...publish, ...code])),
      },
      child,
    );
    if (publishesAlerts) {
      alertTopic.allowPublisher(this.role.arn);
    }

    this.function = new aws.lambda.CallbackFunction<E, R>(
      name,
      {
        description,
        callbackFactory,
        role: this.role,
        runtime,
        architectures: ["arm64"],
        memorySize: memorySizeInMb,
        timeout: timeoutInSeconds,
        // Names the code the function runs, for operators and for the least-privilege proof (npm run verify).
        ...(callbackFactory.name ? { tags: { "cloudtrail-alerts:callback": callbackFactory.name } } : {}),
        environment: {
          variables: { ...environment, ...(publishesAlerts ? { [ALERT_TOPIC_ARN_VARIABLE]: alertTopic.topicArn } : {}) },
        },
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        codePathOptions: archiveContents(bundledPackages),
      },
      // Its first invocation must find the role's permissions in place.
      { parent: this, dependsOn: [rolePolicy] },
    );
    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.roleArn = this.role.arn;

    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        maximumRetryAttempts,
        maximumEventAgeInSeconds,
        destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      },
      child,
    );

    const alarm = (key: string, args: AlarmOnFirstArgs) => alarmOnFirst(`${name}-${key}`, args, [alertTopic.topicArn], child);
    this.errorsAlarm = alarm("errors", {
      alarmDescription: pulumi.interpolate`Lambda function ${this.function.name} (${description}) failed. Its logs are in log group ${this.logGroup.name}; events that still fail after ${maximumRetryAttempts} retries are kept in SQS queue ${this.deadLetterQueue.name} for 14 days.`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: this.function.name },
      statistic: "Sum",
      period: 60,
    });
    this.deadLettersAlarm = alarm("dead-letters", {
      alarmDescription: pulumi.interpolate`Events that Lambda function ${this.function.name} (${description}) could not process are waiting in SQS queue ${this.deadLetterQueue.name}: alerts may have been missed. Inspect and redrive them within 14 days.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: this.deadLetterQueue.name },
      statistic: "Maximum",
      period: 300,
    });
    if (rejectedInputAlarm !== undefined) {
      this.rejectedInputAlarm = alarm("rejected-input", {
        alarmDescription: pulumi.interpolate`Lambda function ${this.function.name} (${description}) received input it could not decode: ${rejectedInputAlarm.consequence}. It logs each reason in log group ${this.logGroup.name} (message "${REJECTED_INPUT_MESSAGE}").`,
        namespace: METRIC_NAMESPACE,
        metricName: REJECTED_INPUT_METRIC,
        dimensions: { FunctionName: this.function.name },
        statistic: "Sum",
        period: 300,
      });
    }

    this.registerOutputs({
      function: this.function,
      role: this.role,
      logGroup: this.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      errorsAlarm: this.errorsAlarm,
      deadLettersAlarm: this.deadLettersAlarm,
      rejectedInputAlarm: this.rejectedInputAlarm,
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
    });
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs<E, R>(name: string, args: SecureCallbackFunctionArgs<E, R>): void {
    const checker = argProblems(`SecureCallbackFunction "${name}"`);
    checker
      .check("description", args.description, (v: string) => isNonEmptyString(v) && v.length <= 256, "a non-empty description of at most 256 characters (Lambda's limit)")
      .check("description", args.description, (v: string) => typeof v !== "string" || ROLE_DESCRIPTION.test(v), "Latin-1 text (tab, line breaks, U+0020-U+007E, U+00A1-U+00FF): it also describes the function's IAM role, and IAM refuses other characters")
      .check("runtime", args.runtime, (v: string) => (SUPPORTED_RUNTIMES as readonly string[]).includes(v), `one of ${SUPPORTED_RUNTIMES.join(", ")}`)
      .check("memorySizeInMb", args.memorySizeInMb, wholeNumberIn(128, 10240), "a whole number from 128 to 10240")
      .check("timeoutInSeconds", args.timeoutInSeconds, wholeNumberIn(1, 900), "a whole number from 1 to 900")
      .check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods")
      .check("maximumRetryAttempts", args.maximumRetryAttempts, wholeNumberIn(0, 2), "0, 1 or 2")
      .check("maximumEventAgeInSeconds", args.maximumEventAgeInSeconds, wholeNumberIn(60, 21600), "a whole number from 60 to 21600")
      .check("rejectedInputAlarm.consequence", args.rejectedInputAlarm?.consequence, (v: string) => isNonEmptyString(v) && v.length <= MAX_CONSEQUENCE_LENGTH, `a non-empty phrase of at most ${MAX_CONSEQUENCE_LENGTH} characters`);
    for (const variable of Object.keys(args.environment ?? {})) {
      checker.check(`environment key`, variable, (v: string) => /^[A-Za-z][A-Za-z0-9_]*$/.test(v) && !RESERVED_ENVIRONMENT.test(v), "a variable name that Lambda does not reserve");
    }
    if (args.rejectedInputAlarm !== undefined && args.rejectedInputAlarm.consequence === undefined) {
      checker.fail('rejectedInputAlarm.consequence is required: what rejected input costs, e.g. "the downloads in it were not counted"');
    }
    if (args.publishesAlerts && args.environment?.ALERT_TOPIC_ARN !== undefined) {
      checker.fail("environment.ALERT_TOPIC_ARN is set by publishesAlerts; do not set it yourself");
    }
    checker.throwIfAny();
  }
}

/** What an alarm of {@link alarmOnFirst} watches and says; `region` places it outside the provider's Region. */
export type AlarmOnFirstArgs = Pick<aws.cloudwatch.MetricAlarmArgs, "alarmDescription" | "namespace" | "metricName" | "dimensions" | "statistic" | "period" | "region">;

/**
 * The project's alarm: it fires on the first occurrence in its period and notifies `alarmActions` (the alert topic);
 * no data means all is well.
 */
export function alarmOnFirst(name: string, alarm: AlarmOnFirstArgs, alarmActions: pulumi.Input<string>[], opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    { ...alarm, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching", alarmActions },
    opts,
  );
}

/**
 * What goes into a function archive besides the serialized handler: only `bundledPackages`. Pulumi would otherwise
 * copy every `dependencies` entry of the program's package.json, AWS SDK v3 included, which the Node.js runtime
 * already provides. A package without dependencies of its own that is installed at the program's `node_modules/`
 * ships as just its package.json, licence and the file `require()` loads (croner: 36 KB instead of its whole 263 KB
 * directory of ESM, UMD and type-declaration copies); any other package ships whole, with what it depends on.
 */
export function archiveContents(bundledPackages: string[], startDirectory = process.cwd()): pulumi.runtime.CodePathOptions {
  const programDependencies = Object.keys(readProgramPackageJson(startDirectory).dependencies ?? {});
  const extraIncludePackages: string[] = [];
  const extraIncludePaths: string[] = [];
  for (const name of bundledPackages) {
    const files = requiredFilesOf(name, startDirectory);
    if (files === undefined) {
      extraIncludePackages.push(name);
    } else {
      extraIncludePaths.push(...files);
    }
  }
  return {
    extraIncludePackages,
    extraIncludePaths,
    extraExcludePackages: programDependencies.filter((dependency) => !extraIncludePackages.includes(dependency)),
  };
}

/**
 * The files of a dependency-free package that Node.js needs to `require()` it, relative to the program directory
 * (the paths the archive uses); `undefined` when the package has dependencies or is not in the program's own
 * `node_modules/` (hoisted to a workspace root), so that it ships whole. `node_modules/<name>` may be a link (pnpm,
 * linked installs): `require.resolve` answers with real paths, so the entry is located inside the link's target.
 */
function requiredFilesOf(name: string, startDirectory: string): string[] | undefined {
  const programDirectory = path.resolve(startDirectory);
  let entry: string;
  try {
    entry = require.resolve(name, { paths: [programDirectory] });
  } catch (error) {
    throw new Error(`bundledPackages: ${JSON.stringify(name)} cannot be required from ${programDirectory}; add it to the program's dependencies (${error instanceof Error ? error.message : String(error)})`);
  }
  const packageDirectory = path.join(programDirectory, "node_modules", name);
  const manifestPath = path.join(packageDirectory, "package.json");
  if (!fs.existsSync(manifestPath)) {
    return undefined;
  }
  const realPackageDirectory = fs.realpathSync(packageDirectory);
  if (!entry.startsWith(realPackageDirectory + path.sep)) {
    return undefined;
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { dependencies?: Record<string, string> };
  if (Object.keys(manifest.dependencies ?? {}).length > 0) {
    return undefined;
  }
  const licence = fs.readdirSync(packageDirectory).filter((file) => /^licen[cs]e(\.|$)/i.test(file));
  return ["package.json", ...licence, path.relative(realPackageDirectory, entry)].map((file) => path.posix.join("node_modules", name, ...file.split(path.sep)));
}

/** The package.json Pulumi's archive builder reads: the first one found from the working directory upwards. */
function readProgramPackageJson(startDirectory: string): { dependencies?: Record<string, string> } {
  for (let dir = path.resolve(startDirectory); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "package.json");
    if (fs.existsSync(candidate)) {
      return JSON.parse(fs.readFileSync(candidate, "utf8")) as { dependencies?: Record<string, string> };
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no package.json found from ${startDirectory} upwards; Pulumi programs need one`);
    }
  }
}

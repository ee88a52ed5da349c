import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { trailBackfillCallbackFactory } from "../functions/trailBackfill/handler";
import { logFilesFolder, normalizeKeyPrefix } from "../functions/trailBackfill/logFiles";
import { backfillResultsPrefix } from "../functions/trailBackfill/mapResults";
import { DEFAULT_CONCURRENT_REQUESTS, DEFAULT_REQUESTS_PER_SECOND, toEnvironment } from "../functions/trailBackfill/settings";
import { adoptionProblems, adoptOrCreate, type Adoption } from "./adoptable";
import { type BackfillFunctionStatementParams, backfillFunctionStatements, type BackfillKeyLayout, keyLayoutProblems } from "./backfillKeys";
import { AlertTopic } from "./alertTopic";
import { awsEnvironment } from "./awsEnvironment";
import {
  BACKFILL_FUNCTION_TIMEOUT_SECONDS,
  BACKFILL_MAP_LABEL,
  type BackfillDefinitionParams,
  backfillDefinition,
  type BackfillStateMachineStatementParams,
  backfillStateMachineStatements,
} from "./backfillStateMachine";
import { Contributions } from "./contributions";
import { createLockedBucket } from "./lockedBucket";
import { policyDocument, PolicyStatement } from "./policy";
import { alarmOnFirst, SecureCallbackFunction } from "./secureCallbackFunction";
import { argProblems, isAccountId, isLogRetention, wholeNumberIn } from "./validation";

export { BACKFILL_KEY_LAYOUTS, type BackfillKeyLayout } from "./backfillKeys";
export { BACKFILL_FUNCTION_TIMEOUT_SECONDS, BACKFILL_MAP_LABEL, type BackfillDefinitionParams } from "./backfillStateMachine";

/** Arguments shared by the create and adopt forms. */
interface TrailBackfillCommonArgs {
  /** Topic for the function's alarms and for executions that fail or end with failed pairs. */
  alertTopic: AlertTopic;
  /**
   * Key prefix before `AWSLogs/` (the trail's `S3KeyPrefix` when filling a trail bucket), without leading or trailing
   * slashes. See https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
   * @default - none: files go to `AWSLogs/...`
   */
  prefix?: string;
  /**
   * Key layout: `account` (`AWSLogs/{account}/...`, an account trail's) or `organization`
   * (`AWSLogs/{organizationId}/{account}/...`, an organization trail's, so readers of that trail's bucket find the files
   * beside its own). The function may put objects under that folder only. See the page of `prefix`.
   * @default "account"
   */
  keyLayout?: BackfillKeyLayout;
  /** Organization ID (`o-...`) in the keys: required by the `organization` layout, refused by the `account` one. */
  organizationId?: string;
  /**
   * Account-region pairs backfilled at once (the Distributed Map's `MaxConcurrency`, at most 10,000). Each pair has
   * its own LookupEvents quota, so this only bounds Lambda concurrency and cost. See
   * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
   * @default 40
   */
  maxConcurrency?: number;
  /**
   * LookupEvents requests per second per pair. AWS allows 2 per account and region, shared with every other caller
   * there; lower it to leave room for other tools. See
   * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
   * @default 2
   */
  requestsPerSecond?: number;
  /**
   * Requests of one pair in flight at once, each paging its own sub-range under the pair's shared rate limit. A
   * sequential page chain reaches at most 1 / latency requests per second; 4 keep 2 requests/s busy up to 2 s per call.
   * @default 4
   */
  concurrentRequestsPerPair?: number;
  /**
   * External ID the function presents when assuming reader roles; give the same value to `TrailReaderRole`.
   * It is not a secret (it travels in the function's environment).
   * @default - none
   */
  readerExternalId?: pulumi.Input<string>;
  /**
   * Name of the state machine. The role's policy refers to the state machine (and its Map Run's executions) by ARN
   * before it exists, so the name is fixed rather than generated.
   * @default - `${project}-${stack}-${name}`
   */
  stateMachineName?: string;
  /**
   * Days the function's own log group keeps its logs. See
   * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
   * @default 30
   */
  functionLogRetentionInDays?: number;
  /**
   * Memory of the function; its CPU share (for gzip) grows with it. A pair holds about 21 MB in the benchmark. See
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   * @default 512 (the function mostly waits on LookupEvents; Lambda bills memory for all of that time)
   */
  memorySizeInMb?: number;
}

/** Creates the destination bucket. */
export interface TrailBackfillCreateArgs extends TrailBackfillCommonArgs {
  existingBucketName?: never;
  existingBucketOwner?: never;
  existingBucketKmsKeyArn?: never;
  /**
   * KMS key ARN for the bucket's default encryption (SSE-KMS); the function is allowed `kms:GenerateDataKey` on it
   * through S3 only.
   * @default - SSE-S3 (AES-256)
   */
  bucketKmsKeyArn?: pulumi.Input<string>;
}

/** Writes into an existing bucket, for example the trail bucket whose gap is being filled. Nothing is created for it. */
export interface TrailBackfillAdoptArgs extends TrailBackfillCommonArgs {
  /** Name of the existing bucket. Its policy must let the function's role put objects when it is in another account. */
  existingBucketName: pulumi.Input<string>;
  /**
   * Account that owns the bucket: every write sends it as `x-amz-expected-bucket-owner`, so S3 refuses the write if
   * the bucket ever belongs to someone else. See https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
   * @default - the stack's account
   */
  existingBucketOwner?: pulumi.Input<string>;
  /**
   * ARN of the customer managed key the bucket encrypts with, so that the function may use it (through S3 only).
   * @default - none: right for SSE-S3 and the AWS managed key
   */
  existingBucketKmsKeyArn?: pulumi.Input<string>;
  bucketKmsKeyArn?: never;
}

/** Create the destination bucket, or adopt one by name: never both. */
export type TrailBackfillArgs = TrailBackfillCreateArgs | TrailBackfillAdoptArgs;

/** TrailBackfill's create-or-adopt arguments (of its destination bucket). */
const TRAIL_BACKFILL_ADOPTION: Adoption<"existingBucketName"> = {
  existing: "existingBucketName",
  resource: "bucket",
  createOnly: ["bucketKmsKeyArn"],
  adoptOnly: ["existingBucketOwner", "existingBucketKmsKeyArn"],
  hint: "use existingBucketKmsKeyArn",
};

/**
 * The destination bucket adopted or created (`bucket` only when created), the account every write expects to own it,
 * and the customer managed key it encrypts with.
 */
type BackfillBucket = { bucket?: aws.s3.Bucket; bucketKeyArn?: pulumi.Input<string> } & Record<"bucketName" | "bucketArn" | "bucketOwner", pulumi.Output<string>>;

/**
 * Re-fetches up to 90 days of CloudTrail management events of many accounts and regions into S3, as native CloudTrail
 * log files (one per account, region and 5 minutes of event time, named so that a rerun overwrites instead of
 * duplicating).
 *
 * A Step Functions state machine validates the input and lists the account-region pairs, a Distributed Map runs one
 * child execution per pair, and each child invokes the function repeatedly, every invocation stopping well before
 * Lambda's 15 minutes with a checkpoint the next one resumes from. The function assumes each account's
 * {@link TrailReaderRole} (register them with {@link TrailBackfill.addReaderRole}) and pages `LookupEvents` at the
 * pair's quota. Failed pairs do not stop the others. The Map exports the pairs' results to the bucket under
 * `[prefix/]TrailBackfillResults/` (a ResultWriter), so one execution takes up to 4,772 pairs; the execution output
 * counts pairs done and failed, with totals, and lists up to 100 of each.
 */
export class TrailBackfill extends pulumi.ComponentResource {
  /** Name of the bucket the log files go to (created or adopted). */
  readonly bucketName: pulumi.Output<string>;
  /** The key prefix before `AWSLogs/`, normalized (empty for none). */
  readonly keyPrefix: string;
  /** Where every log file goes: `[prefix/]AWSLogs/`, or `[prefix/]AWSLogs/{o-id}/` in the organization layout. */
  readonly logFilesFolder: string;
  /** The created bucket; undefined when a bucket was adopted. */
  readonly bucket?: aws.s3.Bucket;
  readonly function: SecureCallbackFunction;
  /** ARN of the function's role: what every reader role must trust. */
  readonly functionRoleArn: pulumi.Output<string>;
  readonly stateMachine: aws.sfn.StateMachine;
  readonly stateMachineArn: pulumi.Output<string>;
  readonly stateMachineRole: aws.iam.Role;
  /** Account ID -> reader role ARN, of every role registered with {@link addReaderRole}. */
  readonly readerRoleArns: pulumi.Output<Record<string, string>>;

  private readonly readers: Contributions<{ accountId: string; roleArn: string }>;
  private destination!: { bucketArn: pulumi.Output<string>; bucketKeyArn?: pulumi.Input<string> };
  private readonly readerAccounts = new Set<string>();

  constructor(name: string, args: TrailBackfillArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:TrailBackfill", name, {}, opts);
    TrailBackfill.validateArgs(name, args);
    const {
      alertTopic,
      maxConcurrency = 40,
      requestsPerSecond = DEFAULT_REQUESTS_PER_SECOND,
      concurrentRequestsPerPair = DEFAULT_CONCURRENT_REQUESTS,
      readerExternalId,
      functionLogRetentionInDays = 30,
      memorySizeInMb = 512,
    } = args;
    const stateMachineName = args.stateMachineName ?? `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    this.keyPrefix = normalizeKeyPrefix(args.prefix);
    const organizationId = args.keyLayout === "organization" ? args.organizationId : undefined;
    this.logFilesFolder = logFilesFolder(this.keyPrefix, organizationId);
    const env = awsEnvironment(this);

    this.readers = new Contributions(`TrailBackfill "${name}" reader roles`);
    this.readerRoleArns = this.readers.all.apply((readers) => Object.fromEntries(readers.map((r) => [r.accountId, r.roleArn])));

    const destination: BackfillBucket = adoptOrCreate(args, TRAIL_BACKFILL_ADOPTION, {
      adopt: (adopted) => {
        const bucketName = pulumi.output(adopted.existingBucketName);
        // Bucket ARNs hold neither region nor account; an adopted bucket may be in another account, where no data
        // source of this stack's provider could look it up.
        const arn = pulumi.interpolate`arn:${env.partition}:s3:::${bucketName}`;
        return { bucketName, bucketArn: arn, bucketOwner: pulumi.output(adopted.existingBucketOwner ?? env.accountId), bucketKeyArn: adopted.existingBucketKmsKeyArn };
      },
      create: (created) => {
        const { bucket } = createLockedBucket(name, this, created.bucketKmsKeyArn === undefined ? {} : { kmsKeyArn: created.bucketKmsKeyArn });
        return { bucket, bucketName: bucket.bucket, bucketArn: bucket.arn, bucketOwner: env.accountId, bucketKeyArn: created.bucketKmsKeyArn };
      },
    });
    this.bucket = destination.bucket;
    this.bucketName = destination.bucketName;
    const { bucketArn, bucketOwner, bucketKeyArn } = destination;

    const statements = pulumi.all([this.readerRoleArns, bucketArn, bucketKeyArn]).apply(([readers, arn, keyArn]) =>
      TrailBackfill.functionStatements({ readerRoleArns: Object.values(readers), bucketArn: arn, keyPrefix: this.keyPrefix, organizationId, bucketKmsKeyArn: keyArn }),
    );
    this.destination = { bucketArn, bucketKeyArn };
    this.warnWithoutReaders(name);

    this.function = this.createFunction(name, {
      alertTopic,
      statements,
      environment: toEnvironment<pulumi.Input<string>>({
        bucket: this.bucketName,
        prefix: this.keyPrefix,
        organizationId,
        bucketOwner,
        externalId: readerExternalId,
        requestsPerSecond,
        concurrentRequests: concurrentRequestsPerPair,
      }),
      memorySizeInMb,
      logRetentionInDays: functionLogRetentionInDays,
    });
    this.functionRoleArn = this.function.roleArn;
    const { role, machine } = this.createStateMachine(name, stateMachineName, maxConcurrency, env);
    this.stateMachineRole = role;
    this.stateMachine = machine;
    this.stateMachineArn = this.stateMachine.arn;
    this.createAlarms(name, stateMachineName, alertTopic);

    this.registerOutputs({
      bucketName: this.bucketName,
      keyPrefix: this.keyPrefix,
      logFilesFolder: this.logFilesFolder,
      bucket: this.bucket,
      function: this.function,
      functionRoleArn: this.functionRoleArn,
      stateMachine: this.stateMachine,
      stateMachineArn: this.stateMachineArn,
      stateMachineRole: this.stateMachineRole,
      readerRoleArns: this.readerRoleArns,
    });
  }

  /** Warns, once the reader roles are known, when there are none: the backfill could read no account. */
  private warnWithoutReaders(name: string): void {
    this.readerRoleArns.apply((readers) => {
      if (Object.keys(readers).length === 0) {
        void pulumi.log.warn(`TrailBackfill "${name}" has no reader roles: it cannot read any account. Register each account's TrailReaderRole with addReaderRole().`, this);
      }
    });
  }

  /** The function, with its own role allowed `statements` and its settings in `environment`. */
  private createFunction(
    name: string,
    p: { alertTopic: AlertTopic; statements: pulumi.Input<PolicyStatement[]>; environment: Record<string, pulumi.Input<string>>; memorySizeInMb: number; logRetentionInDays: number },
  ): SecureCallbackFunction {
    return new SecureCallbackFunction(
      `${name}-function`,
      {
        description: "Re-fetches CloudTrail events with LookupEvents for one account-region pair and writes native CloudTrail log files to S3",
        callbackFactory: trailBackfillCallbackFactory,
        // Only the state machine invokes it, synchronously, and retries it by its definition: no async config, no
        // dead-letter queue and no alarm on one, which could never fire.
        invocation: "synchronous",
        statements: p.statements,
        alertTopic: p.alertTopic,
        environment: p.environment,
        timeoutInSeconds: BACKFILL_FUNCTION_TIMEOUT_SECONDS,
        memorySizeInMb: p.memorySizeInMb,
        logRetentionInDays: p.logRetentionInDays,
      },
      { parent: this },
    );
  }

  /** The state machine and its role, which may invoke the function and run the Map's child executions. */
  private createStateMachine(name: string, stateMachineName: string, maxConcurrency: number, env: ReturnType<typeof awsEnvironment>): { role: aws.iam.Role; machine: aws.sfn.StateMachine } {
    const child = { parent: this };
    // The state machine's ARN is needed by its role's trust and policy before it exists (it waits for both), so it is
    // composed from its fixed name, as the trail's ARN is in AuditTrail.
    const stateMachineArn = pulumi.interpolate`arn:${env.partition}:states:${env.region}:${env.accountId}:stateMachine:${stateMachineName}`;
    const mapRunExecutions = pulumi.interpolate`arn:${env.partition}:states:${env.region}:${env.accountId}:execution:${stateMachineName}/${BACKFILL_MAP_LABEL}:*`;
    // A Distributed Map's children run as `stateMachine:<name>/<label>:<map run id>` (the StateMachineArn of the
    // executions a ResultWriter exports, and what DescribeStateMachineForExecution calls "the state machine associated
    // with the Map Run"): an exact-ARN aws:SourceArn would refuse Step Functions the role for them. AWS's own example
    // allows `stateMachine:*` (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html,
    // "Prevent cross-service confused deputy issue"); this allows only this state machine and its Map Run's children.
    const mapRunStateMachines = pulumi.interpolate`${stateMachineArn}/${BACKFILL_MAP_LABEL}:*`;
    const resultsPrefix = backfillResultsPrefix(this.keyPrefix);
    const role = new aws.iam.Role(
      `${name}-state-machine-role`,
      {
        description: `Execution role of the ${stateMachineName} backfill state machine`,
        assumeRolePolicy: policyDocument([
          {
            Effect: "Allow",
            Principal: { Service: "states.amazonaws.com" },
            Action: "sts:AssumeRole",
            // Only this state machine may use the role (confused-deputy protection).
            Condition: { StringEquals: { "aws:SourceAccount": env.accountId }, ArnLike: { "aws:SourceArn": [stateMachineArn, mapRunStateMachines] } },
          },
        ]),
      },
      child,
    );
    const stateMachinePolicy = new aws.iam.RolePolicy(
      `${name}-state-machine-policy`,
      {
        role: role.id,
        policy: policyDocument(
          TrailBackfill.stateMachineStatements({
            functionArn: this.function.functionArn,
            stateMachineArn,
            mapRunExecutions,
            resultsArn: pulumi.interpolate`${this.destination.bucketArn}/${resultsPrefix}/*`,
            ...(this.destination.bucketKeyArn === undefined ? {} : { bucketKmsKeyArn: this.destination.bucketKeyArn }),
          }),
        ),
      },
      child,
    );

    const machine = new aws.sfn.StateMachine(
      name,
      {
        name: stateMachineName,
        type: "STANDARD",
        roleArn: role.arn,
        definition: pulumi
          .all([this.function.functionArn, this.readerRoleArns, this.bucketName])
          .apply(([functionArn, readerRoleArns, bucket]) =>
            JSON.stringify(TrailBackfill.definition({ functionArn, readerRoleArns, maxConcurrency, results: { bucket, prefix: resultsPrefix } }), null, 2),
          ),
      },
      // Its first execution must find the role's permissions in place.
      { parent: this, dependsOn: [stateMachinePolicy] },
    );
    return { role, machine };
  }

  /** Alarms to the alert topic: failed executions, and executions that end with failed pairs. */
  private createAlarms(name: string, stateMachineName: string, alertTopic: AlertTopic): void {
    const child = { parent: this };
    alarmOnFirst(
      `${name}-executions-failed`,
      {
        alarmDescription: pulumi.interpolate`A backfill execution of state machine ${stateMachineName} failed (bad input, or a step that kept failing). Its history in the Step Functions console shows the error.`,
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: this.stateMachine.arn },
        statistic: "Sum",
        period: 300,
      },
      [alertTopic.topicArn],
      child,
    );
    alarmOnFirst(
      `${name}-failed-pairs`,
      {
        alarmDescription: pulumi.interpolate`A backfill of state machine ${stateMachineName} finished with account-region pairs that could not be backfilled. The execution output lists them under "failed"; the function's log group ${this.function.logGroup.name} has the details.`,
        namespace: "CloudTrailAlerts",
        metricName: "BackfillFailedPairs",
        dimensions: { FunctionName: this.function.functionName },
        statistic: "Maximum",
        period: 300,
      },
      [alertTopic.topicArn],
      child,
    );
  }

  /**
   * Registers one account's reader role: the function may assume it, and the account may be backfilled. Call it while
   * constructing resources, once per account.
   */
  addReaderRole(accountId: string, roleArn: pulumi.Input<string>): void {
    if (!isAccountId(accountId)) {
      throw new Error(`TrailBackfill.addReaderRole: accountId must be a 12-digit AWS account ID, got ${JSON.stringify(accountId)}`);
    }
    if (this.readerAccounts.has(accountId)) {
      throw new Error(`TrailBackfill.addReaderRole: account ${accountId} already has a reader role`);
    }
    this.readerAccounts.add(accountId);
    this.readers.add(pulumi.output(roleArn).apply((arn) => ({ accountId, roleArn: arn })));
  }

  /** The function's statements; see {@link backfillFunctionStatements}. */
  static functionStatements(p: BackfillFunctionStatementParams): PolicyStatement[] {
    return backfillFunctionStatements(p);
  }

  /** The state machine's statements; see {@link backfillStateMachineStatements}. */
  static stateMachineStatements(p: BackfillStateMachineStatementParams): PolicyStatement[] {
    return backfillStateMachineStatements(p);
  }

  /** The state machine definition (Amazon States Language); see {@link backfillDefinition}. */
  static definition(p: BackfillDefinitionParams): Record<string, unknown> {
    return backfillDefinition(p);
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: TrailBackfillArgs): void {
    const checker = argProblems(`TrailBackfill "${name}"`);
    adoptionProblems(args, TRAIL_BACKFILL_ADOPTION).forEach((problem) => checker.fail(problem));
    if (args.existingBucketName !== undefined) {
      checker
        .check("existingBucketName", args.existingBucketName, (v: string) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v), "an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')")
        .check("existingBucketOwner", args.existingBucketOwner, isAccountId, "a 12-digit AWS account ID");
    }
    try {
      normalizeKeyPrefix(args.prefix);
    } catch (error) {
      checker.fail((error as Error).message);
    }
    keyLayoutProblems(args).forEach((problem) => checker.fail(problem));
    checker
      .check("maxConcurrency", args.maxConcurrency, wholeNumberIn(1, 10000), "a whole number from 1 to 10000")
      .check("requestsPerSecond", args.requestsPerSecond, (v: number) => typeof v === "number" && v > 0 && v <= 2, "more than 0 and at most 2 (LookupEvents allows 2 requests per second per account and region)")
      .check("concurrentRequestsPerPair", args.concurrentRequestsPerPair, wholeNumberIn(1, 16), "a whole number from 1 to 16")
      .check("readerExternalId", args.readerExternalId, (v: string) => /^[\w+=,.@:/-]{2,1224}$/.test(v), "2-1224 letters, digits and +=,.@:/-_")
      .check("stateMachineName", args.stateMachineName, (v: string) => /^[A-Za-z0-9_-]{1,80}$/.test(v), "1-80 letters, digits, '-' and '_'")
      .check("functionLogRetentionInDays", args.functionLogRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods")
      .check("memorySizeInMb", args.memorySizeInMb, wholeNumberIn(256, 10240), "a whole number from 256 to 10240")
      .throwIfAny();
  }
}

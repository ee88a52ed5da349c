/**
 * TrailBackfill's state machine, in Amazon States Language: plan the pairs, a Distributed Map with one child execution
 * per pair that invokes the function until the pair is done, and a summary.
 */
import type * as pulumi from "@pulumi/pulumi";

import { NON_RETRYABLE_ERRORS } from "../functions/trailBackfill/handler";
import type { PolicyStatement } from "./policy";

/** The Distributed Map's label: it names the Map Run and appears in its child executions' ARNs. */
export const BACKFILL_MAP_LABEL = "Pairs";
/** Seconds one invocation of the function may run (Lambda's maximum). */
export const BACKFILL_FUNCTION_TIMEOUT_SECONDS = 900;

/** What the state machine definition is built from. */
export interface BackfillDefinitionParams {
  functionArn: string;
  /** Account ID -> reader role ARN, passed to the plan step. */
  readerRoleArns: Record<string, string>;
  maxConcurrency: number;
  /**
   * Where the Map exports its children's results (ResultWriter): a bucket in the state machine's account and Region.
   * @default - none: the Map returns the results in the state, which fits only around 1,500 pairs
   */
  results?: { bucket: string; prefix: string };
}

/** What the state machine role's statements are built from (values may be Pulumi inputs). */
export interface BackfillStateMachineStatementParams {
  functionArn: pulumi.Input<string>;
  stateMachineArn: pulumi.Input<string>;
  mapRunExecutions: pulumi.Input<string>;
  /** `<bucket ARN>/<results prefix>/*`: where the ResultWriter exports. */
  resultsArn: pulumi.Input<string>;
  bucketKmsKeyArn?: pulumi.Input<string>;
}

/**
 * The state machine's statements: invoke its function, start its own Map Run's children and manage them, and export
 * the children's results under the results prefix (what a ResultWriter needs:
 * https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html#iam-policy-eg-dist-map-resultwriter).
 */
export function backfillStateMachineStatements(p: BackfillStateMachineStatementParams): PolicyStatement[] {
  return [
    { Sid: "InvokeBackfillFunction", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: p.functionArn },
    // A Distributed Map starts each child execution on the state machine itself.
    { Sid: "StartPairExecutions", Effect: "Allow", Action: "states:StartExecution", Resource: p.stateMachineArn },
    {
      Sid: "ManageOwnMapRuns",
      Effect: "Allow",
      Action: ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"],
      Resource: p.mapRunExecutions,
    },
    {
      Sid: "ExportMapResults",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
      Resource: p.resultsArn,
    },
    ...(p.bucketKmsKeyArn === undefined
      ? []
      : [
          {
            Sid: "EncryptMapResults",
            Effect: "Allow" as const,
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: p.bucketKmsKeyArn,
            Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } },
          },
        ]),
  ];
}

const INVOKE = "arn:aws:states:::lambda:invoke";
/** Lambda's own transient errors, retried in every Task state. */
const LAMBDA_SERVICE_RETRY = {
  ErrorEquals: ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

/**
 * The states of one pair's child execution: invoke `fetch` with the checkpoint until the pair is done, retrying what
 * a retry can fix, and record the pair as failed otherwise.
 */
function pairStates(functionArn: string, readerRoleArns: Record<string, string>): Record<string, unknown> {
  return {
    Fetch: {
      Type: "Task",
      Comment: "Backfills the pair until shortly before Lambda's deadline; returns a checkpoint or the pair's totals",
      Resource: INVOKE,
      // The reader roles travel here rather than in every item, so that the plan stays small.
      Parameters: { FunctionName: functionArn, Payload: { action: "fetch", "checkpoint.$": "$", readerRoleArns } },
      OutputPath: "$.Payload",
      TimeoutSeconds: BACKFILL_FUNCTION_TIMEOUT_SECONDS + 60,
      Retry: [
        { ErrorEquals: [...NON_RETRYABLE_ERRORS], MaxAttempts: 0 },
        LAMBDA_SERVICE_RETRY,
        { ErrorEquals: ["States.ALL"], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 3, MaxDelaySeconds: 300, JitterStrategy: "FULL" },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "PairFailed" }],
      Next: "PairDone?",
    },
    "PairDone?": {
      Type: "Choice",
      Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "PairDone" }],
      Default: "Fetch",
    },
    PairDone: { Type: "Succeed" },
    PairFailed: {
      Type: "Pass",
      Parameters: { "account.$": "$.account", "region.$": "$.region", status: "FAILED", "error.$": "$.failure.Error" },
      End: true,
    },
  };
}

/**
 * The state machine definition (Amazon States Language). History per pair: each invocation adds 7 events (Task
 * entered, scheduled, started, succeeded, exited; Choice entered, exited) to the pair's own child execution, whose
 * limit is 25,000; an invocation reads up to ~1,560 pages (13 minutes at 2 requests/s), so a child stays below the
 * limit for any pair with fewer than ~250 million events in range (see docs/trailBackfill.md).
 */
export function backfillDefinition(p: BackfillDefinitionParams): Record<string, unknown> {
  return {
    Comment: "cloudtrail-alerts TrailBackfill: re-fetches CloudTrail events with LookupEvents for each account-region pair into native log files in S3",
    StartAt: "Plan",
    States: {
      Plan: {
        Type: "Task",
        Comment: "Validates { accounts, regions, startTime, endTime } and lists the account-region pairs",
        Resource: INVOKE,
        Parameters: { FunctionName: p.functionArn, Payload: { action: "plan", "input.$": "$", readerRoleArns: p.readerRoleArns } },
        OutputPath: "$.Payload",
        Retry: [LAMBDA_SERVICE_RETRY],
        Next: "BackfillPairs",
      },
      BackfillPairs: {
        Type: "Map",
        Label: BACKFILL_MAP_LABEL,
        ItemsPath: "$.items",
        ItemSelector: {
          "account.$": "$$.Map.Item.Value.account",
          "region.$": "$$.Map.Item.Value.region",
          "startTime.$": "$.startTime",
          "endTime.$": "$.endTime",
        },
        MaxConcurrency: p.maxConcurrency,
        // Children catch their own failures; should one fail anyway, the other pairs still run.
        ToleratedFailurePercentage: 100,
        // One child execution per pair, each with its own 25,000-event history.
        ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, StartAt: "Fetch", States: pairStates(p.functionArn, p.readerRoleArns) },
        // The pairs' results go to S3, and the Map returns only where (Step Functions passes at most 256 KiB between
        // states: around 1,500 pairs' results would not fit).
        ...(p.results === undefined ? {} : { ResultWriter: { Resource: "arn:aws:states:::s3:putObject", Parameters: { Bucket: p.results.bucket, Prefix: p.results.prefix } } }),
        ResultPath: "$.results",
        Next: "Summarize",
      },
      Summarize: {
        Type: "Task",
        Comment: "Reads the pairs' results from S3 and lists the pairs done and failed, with totals",
        Resource: INVOKE,
        Parameters: {
          FunctionName: p.functionArn,
          Payload: { action: "summarize", plan: { "requested.$": "$.requested", "startTime.$": "$.startTime", "endTime.$": "$.endTime" }, "results.$": "$.results" },
        },
        OutputPath: "$.Payload",
        Retry: [LAMBDA_SERVICE_RETRY],
        End: true,
      },
    },
  };
}

/**
 * TrailBackfill's state machine, in Amazon States Language: plan the pairs, a Distributed Map with one child execution
 * per pair that invokes the function until the pair is done, and a summary.
 */
import { NON_RETRYABLE_ERRORS } from "../functions/trailBackfill/handler";

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
function pairStates(functionArn: string): Record<string, unknown> {
  return {
    Fetch: {
      Type: "Task",
      Comment: "Backfills the pair until shortly before Lambda's deadline; returns a checkpoint or the pair's totals",
      Resource: INVOKE,
      Parameters: { FunctionName: functionArn, Payload: { action: "fetch", "checkpoint.$": "$" } },
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
          "roleArn.$": "$$.Map.Item.Value.roleArn",
          "startTime.$": "$.startTime",
          "endTime.$": "$.endTime",
        },
        MaxConcurrency: p.maxConcurrency,
        // Children catch their own failures; should one fail anyway, the other pairs still run.
        ToleratedFailurePercentage: 100,
        // One child execution per pair, each with its own 25,000-event history.
        ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, StartAt: "Fetch", States: pairStates(p.functionArn) },
        // The pairs' results replace the items: the state stays small (Step Functions allows 256 KiB).
        ResultPath: "$.items",
        Next: "Summarize",
      },
      Summarize: {
        Type: "Task",
        Comment: "Lists the pairs done and failed, with totals",
        Resource: INVOKE,
        Parameters: {
          FunctionName: p.functionArn,
          Payload: { action: "summarize", plan: { "requested.$": "$.requested", "startTime.$": "$.startTime", "endTime.$": "$.endTime" }, "results.$": "$.items" },
        },
        OutputPath: "$.Payload",
        Retry: [LAMBDA_SERVICE_RETRY],
        End: true,
      },
    },
  };
}

/**
 * The AWS calls the download threshold handler makes, per counter: what `npm run verify` lets its role do, and what a
 * test checks against the calls its archive sends. Change it with the code: the counter's DynamoDB or CloudWatch Logs
 * calls live in one entry each of {@link COUNTER_CALLS}.
 */
import { type AwsCall, awsCall, type HandlerCalls, type Placement, regionalArn } from "../shared/awsCalls";
import { type DownloadThresholdSettings, fromEnvironment } from "./settings";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

type Counter = DownloadThresholdSettings["counter"];

/** The counter's calls, per kind of counter. */
const COUNTER_CALLS: { [K in Counter["kind"]]: (counter: Extract<Counter, { kind: K }>, where: Placement) => AwsCall[] } = {
  // dynamoDbCounter.ts: conditional updates of a download's event item (claim, settle) and of the object's counter
  // item (count); reads of event items to release the entries retired execution environments left on a counter item.
  dynamodb: (counter, where) => {
    const table = regionalArn(where, "dynamodb", `table/${counter.tableName}`);
    return [awsCall("DynamoDBClient", "UpdateItemCommand", "dynamodb:UpdateItem", [table]), awsCall("DynamoDBClient", "GetItemCommand", "dynamodb:GetItem", [table])];
  },
  // logsCounter.ts: re-counts the downloads in the trail's log group. IAM names a log group with and without `:*`.
  logs: (counter, where) => {
    const logGroup = regionalArn(where, "logs", `log-group:${counter.logGroupName}`);
    return [awsCall("CloudWatchLogsClient", "FilterLogEventsCommand", "logs:FilterLogEvents", [logGroup, `${logGroup}:*`])];
  },
};

/** What the download threshold handler calls with `settings`: its counter's calls, and publishing alerts. */
export const downloadThresholdCalls: HandlerCalls<DownloadThresholdSettings> = {
  room: "downloadThreshold",
  factory: "downloadThresholdCallbackFactory",
  fromEnvironment,
  mode: (settings) => `counter: ${settings.counter.kind}`,
  calls: (settings, where) => [
    ...(settings.counter.kind === "dynamodb" ? COUNTER_CALLS.dynamodb(settings.counter, where) : COUNTER_CALLS.logs(settings.counter, where)),
    awsCall("SNSClient", "PublishCommand", "sns:Publish", [settings.topicArn]),
  ],
};

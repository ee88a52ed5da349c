/**
 * The AWS calls the user activity handler makes, per mode (with or without its sent journal): what `npm run verify`
 * lets its role do, and what a test checks against the calls its archive sends.
 */
import { awsCall, type HandlerCalls, regionalArn } from "../shared/awsCalls";
import { fromEnvironment, type UserActivitySettings } from "./settings";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What the user activity handler calls with `settings`: publishing notifications, and its sent journal if it has one. */
export const userActivityCalls: HandlerCalls<UserActivitySettings> = {
  room: "userActivity",
  factory: "userActivityCallbackFactory",
  fromEnvironment,
  mode: (settings) => `sent journal: ${settings.sentTableName === undefined ? "off" : "on"}, burst grouping: ${settings.burst === undefined ? "off" : "on"}`,
  calls: (settings, where) => {
    // sentJournal.ts: a consistent read of the event's entry before notifying, and a conditional write after.
    const journal = settings.sentTableName === undefined ? [] : [regionalArn(where, "dynamodb", `table/${settings.sentTableName}`)];
    // bursts.ts (in the journal's table): consistent reads of a key's, an hour's and the index's items, and one
    // conditional update of each per change, by events and by the scheduled sweep.
    const grouping = settings.burst === undefined ? [] : [awsCall("DynamoDBClient", "UpdateItemCommand", "dynamodb:UpdateItem", journal)];
    return [
      ...(journal.length === 0 ? [] : [awsCall("DynamoDBClient", "GetItemCommand", "dynamodb:GetItem", journal), awsCall("DynamoDBClient", "PutItemCommand", "dynamodb:PutItem", journal)]),
      ...grouping,
      // chatNotification.ts: one message per notification, plain or in the chat format.
      awsCall("SNSClient", "PublishCommand", "sns:Publish", [settings.topicArn]),
    ];
  },
};

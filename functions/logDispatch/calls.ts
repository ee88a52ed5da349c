/**
 * The AWS calls the log dispatcher makes: what `npm run verify` lets its role do, and what a test checks against the
 * calls its archive sends. It has one mode.
 */
import { awsCall, type HandlerCalls } from "../shared/awsCalls";
import { fromEnvironment, type LogDispatchSettings } from "./settings";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What the dispatcher calls: publishing each consumer's records to the dispatch topic. */
export const logDispatchCalls: HandlerCalls<LogDispatchSettings> = {
  room: "logDispatch",
  factory: "logDispatchCallbackFactory",
  fromEnvironment,
  mode: () => "dispatch",
  calls: (settings) => [awsCall("SNSClient", "PublishCommand", "sns:Publish", [settings.topicArn])],
};

/**
 * The AWS calls the backfill function makes: what `npm run verify` lets its role (and the reader roles it assumes)
 * do, and what a test checks against the calls its archive sends. It has one mode.
 */
import { awsCall, type HandlerCalls, ROLES_TRUSTING_THE_FUNCTION, s3Arn } from "../shared/awsCalls";
import { logFilesFolder } from "./logFiles";
import { backfillResultsPrefix } from "./mapResults";
import { fromEnvironment, type TrailBackfillSettings } from "./settings";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What the backfill function calls: it assumes the pair's reader role, looks events up with it, writes log files. */
export const trailBackfillCalls: HandlerCalls<TrailBackfillSettings> = {
  room: "trailBackfill",
  factory: "trailBackfillCallbackFactory",
  fromEnvironment,
  mode: () => "backfill",
  calls: (settings, where) => [
    // credentials.ts: the reader role of the pair's account, named by the state machine's input.
    awsCall("STSClient", "AssumeRoleCommand", "sts:AssumeRole", [ROLES_TRUSTING_THE_FUNCTION]),
    // lookupPage.ts: with the reader role's credentials; LookupEvents takes no resource.
    { ...awsCall("CloudTrailClient", "LookupEventsCommand", "cloudtrail:LookupEvents", ["*"]), credentials: "assumed-role" },
    // logFiles.ts: native log files under [<prefix>/]AWSLogs/, or [<prefix>/]AWSLogs/<o-id>/ in the organization layout.
    awsCall("S3Client", "PutObjectCommand", "s3:PutObject", [s3Arn(where, `${settings.bucket}/${logFilesFolder(settings.prefix, settings.organizationId)}*`)]),
    // mapResults.ts: the summary step reads what the Map's ResultWriter exported under the results prefix.
    awsCall("S3Client", "GetObjectCommand", "s3:GetObject", [s3Arn(where, `${settings.bucket}/${backfillResultsPrefix(settings.prefix)}/*`)]),
  ],
};

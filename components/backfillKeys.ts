/**
 * Where TrailBackfill's function may write, by key layout: an account trail's (`[prefix/]AWSLogs/{account}/...`) or
 * an organization trail's (`[prefix/]AWSLogs/{o-id}/{account}/...`), and the function's statements that follow it.
 * See "Finding your CloudTrail log files": https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
 */
import { ORGANIZATION_ID } from "../functions/trailBackfill/awsFacts";
import { logFilesFolder, ORGANIZATION_ID_EXPECTATION } from "../functions/trailBackfill/logFiles";
import { backfillResultsPrefix } from "../functions/trailBackfill/mapResults";
import type { PolicyStatement } from "./policy";

/** The key layouts of CloudTrail log files: an account trail's and an organization trail's. */
export const BACKFILL_KEY_LAYOUTS = ["account", "organization"] as const;
/** One of {@link BACKFILL_KEY_LAYOUTS}. */
export type BackfillKeyLayout = (typeof BACKFILL_KEY_LAYOUTS)[number];

/**
 * Why `keyLayout` and `organizationId` do not go together: the organization layout needs the ID (its keys hold it);
 * the account layout has no use for one, so an ID given with it is refused rather than silently ignored.
 */
export function keyLayoutProblems({ keyLayout, organizationId }: { keyLayout?: unknown; organizationId?: unknown }): string[] {
  if (keyLayout !== undefined && !(BACKFILL_KEY_LAYOUTS as readonly unknown[]).includes(keyLayout)) {
    return [`keyLayout must be "account" or "organization", got ${JSON.stringify(keyLayout)}`];
  }
  if (keyLayout === "organization") {
    return typeof organizationId === "string" && ORGANIZATION_ID.test(organizationId)
      ? []
      : [`keyLayout "organization" needs organizationId, ${ORGANIZATION_ID_EXPECTATION} (the organization trail's keys hold it), got ${JSON.stringify(organizationId)}`];
  }
  return organizationId === undefined ? [] : [`organizationId ${JSON.stringify(organizationId)} is used only by keyLayout "organization" (the account layout's keys hold no organization ID)`];
}

/** What the backfill function's statements are built from. */
export interface BackfillFunctionStatementParams {
  readerRoleArns: string[];
  bucketArn: string;
  keyPrefix: string;
  /** The organization layout's ID. @default - none: the account layout */
  organizationId?: string;
  bucketKmsKeyArn?: string;
}

/**
 * The function's statements: assume the reader roles, put objects under the layout's folder only (`[prefix/]AWSLogs/`,
 * or `[prefix/]AWSLogs/{o-id}/` with `organizationId`), read the Map's results, use the bucket's key through S3.
 */
export function backfillFunctionStatements(p: BackfillFunctionStatementParams): PolicyStatement[] {
  return [
    ...(p.readerRoleArns.length === 0 ? [] : [{ Sid: "AssumeReaderRoles", Effect: "Allow" as const, Action: "sts:AssumeRole", Resource: [...p.readerRoleArns].sort() }]),
    { Sid: "WriteLogFiles", Effect: "Allow", Action: "s3:PutObject", Resource: `${p.bucketArn}/${logFilesFolder(p.keyPrefix, p.organizationId)}*` },
    // The summary step reads what the Map exported.
    { Sid: "ReadMapResults", Effect: "Allow", Action: "s3:GetObject", Resource: `${p.bucketArn}/${backfillResultsPrefix(p.keyPrefix)}/*` },
    ...(p.bucketKmsKeyArn === undefined
      ? []
      : [
          {
            Sid: "EncryptLogFiles",
            Effect: "Allow" as const,
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: p.bucketKmsKeyArn,
            // Only for S3 writing on the function's behalf, not for direct use of the key.
            Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } },
          },
        ]),
  ];
}

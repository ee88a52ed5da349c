/**
 * S3 GetObject events for download-threshold tests and benchmarks, built from the sample CloudTrail record
 * (`tests/fixtures/cloudtrail/s3-get-object.json`), in both shapes the handler receives.
 */
import * as fs from "fs";
import * as path from "path";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import { subscriptionPayload } from "./fixtures";

const SAMPLE = fs.readFileSync(path.join(__dirname, "..", "tests", "fixtures", "cloudtrail", "s3-get-object.json"), "utf8");

/** The sample record: an IAM Identity Center session downloading `2025/売上報告 Q1.pdf` from `confidential-reports`. */
export function sampleGetObject(): CloudTrailRecord {
  return JSON.parse(SAMPLE) as CloudTrailRecord;
}

export interface DownloadOverrides {
  eventID: string;
  eventTime: string;
  bucket?: string;
  key?: string;
  eventName?: string;
  eventSource?: string;
  errorCode?: string;
  sourceIPAddress?: string;
}

/** A GetObject record like the sample, for another event ID, time and (optionally) object. */
export function getObjectRecord(overrides: DownloadOverrides): CloudTrailRecord {
  const record = sampleGetObject();
  const bucket = overrides.bucket ?? String(record.requestParameters?.bucketName);
  const key = overrides.key ?? String(record.requestParameters?.key);
  record.eventID = overrides.eventID;
  record.eventTime = overrides.eventTime;
  record.requestParameters = { ...record.requestParameters, bucketName: bucket, key, Host: `${bucket}.s3.ap-northeast-1.amazonaws.com` };
  record.resources = [
    { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${key}` },
    { accountId: "123456789012", type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
  ];
  if (overrides.eventName !== undefined) {
    record.eventName = overrides.eventName;
  }
  if (overrides.eventSource !== undefined) {
    record.eventSource = overrides.eventSource;
  }
  if (overrides.errorCode !== undefined) {
    record.errorCode = overrides.errorCode;
    record.errorMessage = "Access Denied";
  }
  if (overrides.sourceIPAddress !== undefined) {
    record.sourceIPAddress = overrides.sourceIPAddress;
  }
  return record;
}

/** The record as EventBridge delivers it (`AWS API Call via CloudTrail`). */
export function asEventBridgeEvent(record: CloudTrailRecord): Record<string, unknown> {
  return {
    version: "0",
    id: `eb-${record.eventID}`,
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.s3",
    account: "123456789012",
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

/** A CloudWatch Logs subscription payload (base64 of gzip of JSON) carrying `messages` as log events. */
export function asSubscriptionEvent(messages: string[], messageType = "DATA_MESSAGE"): { awslogs: { data: string } } {
  return subscriptionPayload(messages, messageType);
}

/** Records as a CloudWatch Logs subscription payload. */
export function recordsAsSubscriptionEvent(records: CloudTrailRecord[]): { awslogs: { data: string } } {
  return asSubscriptionEvent(records.map((record) => JSON.stringify(record)));
}

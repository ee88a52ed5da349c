/**
 * Test inputs: JSON fixtures from tests/fixtures/<source>/, and CloudWatch Logs subscription payloads built the way
 * CloudWatch Logs builds them (gzip of the JSON, base64), for batches no fixture holds.
 */
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";

const FIXTURES = path.join(__dirname, "..", "tests", "fixtures");

/** Parses tests/fixtures/`name`. */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;
}

/** A CloudTrail record fixture from tests/fixtures/cloudtrail/. */
export function record(name: string): CloudTrailRecord {
  return fixture<CloudTrailRecord>(`cloudtrail/${name}`);
}

/** Names of every CloudTrail record fixture. */
export function recordFixtureNames(): string[] {
  return fs.readdirSync(path.join(FIXTURES, "cloudtrail")).filter((name) => name.endsWith(".json")).sort();
}

/** The EventBridge event CloudTrail delivers for `detail`. */
export function eventBridgeEvent(detail: CloudTrailRecord, detailType = "AWS API Call via CloudTrail"): Record<string, unknown> {
  return {
    version: "0",
    id: `eb-${detail.eventID}`,
    "detail-type": detailType,
    source: `aws.${detail.eventSource.split(".")[0]}`,
    account: "123456789012",
    time: detail.eventTime,
    region: detail.awsRegion,
    resources: [],
    detail,
  };
}

/** A subscription payload whose log events carry `messages` (strings are sent as they are, objects as JSON). */
export function subscriptionPayload(messages: Array<string | object>, messageType = "DATA_MESSAGE"): { awslogs: { data: string } } {
  const document = {
    messageType,
    owner: "123456789012",
    logGroup: "/aws/cloudtrail/test-trail",
    logStream: "123456789012_CloudTrail_ap-northeast-1",
    subscriptionFilters: ["test-filter"],
    logEvents: messages.map((message, i) => ({
      id: `3715117853906347955720012345678901234567890123456${String(i).padStart(4, "0")}`,
      timestamp: 1682416030000 + i,
      message: typeof message === "string" ? message : JSON.stringify(message),
    })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(document), "utf8")).toString("base64") } };
}

/**
 * Decodes what a handler receives (a CloudWatch Logs subscription batch or an EventBridge event) into validated
 * CloudTrail records, at the edge. Nothing here throws on bad input: every payload or record that cannot be used is
 * returned with its reason, so the handler can log and count it and still process the good records of the batch.
 */
import { gunzipSync } from "zlib";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/**
 * The identity that made a CloudTrail-recorded call. `type` is missing in AWS service events (whose identity is
 * `{ accountId, invokedBy }`), see
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html.
 */
export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; principalId?: string; arn?: string; accountId?: string; userName?: string };
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
    sourceIdentity?: string;
  };
  onBehalfOf?: { userId?: string; identityStoreArn?: string };
  [field: string]: unknown;
}

/** One CloudTrail event record, as in log files, CloudWatch Logs and EventBridge's `detail`. */
export interface CloudTrailRecord {
  eventVersion?: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress?: string;
  userAgent?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  eventType?: string;
  managementEvent?: boolean;
  recipientAccountId?: string;
  eventCategory?: string;
  [field: string]: unknown;
}

/** Where a payload came from. */
export type PayloadSource = "logs" | "eventbridge" | "unknown";

/** A payload or record that could not be used, and why. */
export interface RejectedInput {
  source: PayloadSource;
  reason: string;
  /** CloudWatch Logs event ID or EventBridge event ID, when known. */
  id?: string;
}

/** What one invocation's payload holds. */
export interface DecodedPayload {
  source: PayloadSource;
  /** True for a CloudWatch Logs `CONTROL_MESSAGE` (a health check with nothing to process). */
  control: boolean;
  records: CloudTrailRecord[];
  rejected: RejectedInput[];
}

/** EventBridge detail types that carry a CloudTrail record. */
export const CLOUDTRAIL_DETAIL_TYPES: readonly string[] = [
  "AWS API Call via CloudTrail",
  "AWS Console Signin via CloudTrail",
  "AWS Console Action via CloudTrail",
  "AWS Service Event via CloudTrail",
];

// CloudTrail writes eventTime as UTC with second precision (e.g. 2023-04-25T09:47:10Z).
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// A UTF-16 surrogate without its other half: JSON can write one (`"\ud800"`) but it is not Unicode text.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `text` is a real calendar time written as CloudTrail writes it (not 2025-02-30, not 24:00:00). */
function isCalendarTime(text: string): boolean {
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

/** The path of the first string (value or field name) in `value` that holds a lone surrogate, if any. */
function loneSurrogatePath(value: unknown, path: string): string | undefined {
  if (typeof value === "string") {
    return LONE_SURROGATE.test(value) ? path : undefined;
  }
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const itemPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    if (LONE_SURROGATE.test(key)) {
      return itemPath;
    }
    const found = loneSurrogatePath(item, itemPath);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** What kind of JSON value `value` is, for a reason: `null`, `an array`, `string`, ... */
function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

/**
 * Checks that `value` is a usable CloudTrail record; returns the reason when it is not.
 * Needed: an event ID, name, source and Region, the event time as CloudTrail writes it, and a `userIdentity` object
 * (whose `type` may be missing, as in AWS service events). Optional fields (`userName`, `sourceIPAddress`,
 * `requestParameters`, ...) may be missing or null. A CloudTrail Insights event is not a record of a call and is named
 * as such. Text must be Unicode: a lone surrogate could never be published (SNS's API carries UTF-8 only), so a record
 * holding one would fail every retry.
 */
export function cloudTrailRecordProblem(value: unknown): string | undefined {
  if (!isObject(value)) {
    return `record is ${kindOf(value)}, not an object`;
  }
  if (value.eventCategory === "Insight" || value.insightDetails !== undefined) {
    return "record is a CloudTrail Insights event (unusual API activity), not a record of a call";
  }
  for (const field of ["eventID", "eventName", "eventSource", "awsRegion"] as const) {
    if (typeof value[field] !== "string" || value[field] === "") {
      return `record has no ${field}`;
    }
  }
  if (value.eventTime === undefined) {
    return "record has no eventTime";
  }
  if (typeof value.eventTime !== "string" || !EVENT_TIME.test(value.eventTime) || !isCalendarTime(value.eventTime)) {
    return `eventTime ${JSON.stringify(value.eventTime)} is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z`;
  }
  if (!isObject(value.userIdentity)) {
    return value.userIdentity === undefined ? "record has no userIdentity" : `userIdentity is ${kindOf(value.userIdentity)}, not an object`;
  }
  for (const field of ["requestParameters", "responseElements", "additionalEventData"] as const) {
    if (value[field] !== undefined && value[field] !== null && !isObject(value[field])) {
      return `${field} is neither an object nor null`;
    }
  }
  if (value.resources !== undefined && !Array.isArray(value.resources)) {
    return "resources is not a list";
  }
  const broken = loneSurrogatePath(value, "$");
  if (broken !== undefined) {
    return `${broken} holds a lone UTF-16 surrogate, which is not Unicode text`;
  }
  return undefined;
}

/** The decoded `awslogs.data` of a CloudWatch Logs subscription delivery. */
export interface SubscriptionMessage {
  messageType: "DATA_MESSAGE" | "CONTROL_MESSAGE";
  owner?: string;
  logGroup?: string;
  logStream?: string;
  subscriptionFilters?: string[];
  /** Log events as delivered; each should be `{ id, timestamp, message }`. */
  logEvents: unknown[];
}

/**
 * Opens `awslogs.data` (base64 of gzip of JSON, decoded as UTF-8) into the subscription message, or says why it
 * cannot. The log events are not checked here.
 */
export function readSubscriptionData(data: unknown): { message: SubscriptionMessage } | { reason: string } {
  if (typeof data !== "string" || data.length % 4 !== 0 || !BASE64.test(data)) {
    return { reason: "awslogs.data is not base64" };
  }
  let text: string;
  try {
    // fatal: corrupt UTF-8 is rejected rather than turned into replacement characters.
    text = new TextDecoder("utf-8", { fatal: true }).decode(gunzipSync(Buffer.from(data, "base64")));
  } catch (error) {
    return { reason: `awslogs.data is not gzip of UTF-8 text: ${(error as Error).message}` };
  }
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { reason: `awslogs.data does not hold JSON: ${(error as Error).message}` };
  }
  if (!isObject(message)) {
    return { reason: "awslogs.data does not hold a JSON object" };
  }
  if (message.messageType === "CONTROL_MESSAGE") {
    return { message: { ...message, messageType: "CONTROL_MESSAGE", logEvents: [] } };
  }
  if (message.messageType !== "DATA_MESSAGE") {
    return { reason: `messageType ${JSON.stringify(message.messageType)} is neither DATA_MESSAGE nor CONTROL_MESSAGE` };
  }
  if (!Array.isArray(message.logEvents)) {
    return { reason: "logEvents is not a list" };
  }
  return { message: { ...message, messageType: "DATA_MESSAGE", logEvents: message.logEvents as unknown[] } };
}

function decodeSubscription(data: unknown): DecodedPayload {
  const payload: DecodedPayload = { source: "logs", control: false, records: [], rejected: [] };
  const reject = (reason: string, id?: string) => payload.rejected.push({ source: "logs", reason, ...(id === undefined ? {} : { id }) });
  const opened = readSubscriptionData(data);
  if ("reason" in opened) {
    reject(opened.reason);
    return payload;
  }
  if (opened.message.messageType === "CONTROL_MESSAGE") {
    payload.control = true;
    return payload;
  }
  for (const logEvent of opened.message.logEvents) {
    const id = isObject(logEvent) && typeof logEvent.id === "string" ? logEvent.id : undefined;
    if (!isObject(logEvent) || typeof logEvent.message !== "string") {
      reject("log event has no message", id);
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(logEvent.message);
    } catch (error) {
      reject(`log event message is not JSON: ${(error as Error).message}`, id);
      continue;
    }
    const problem = cloudTrailRecordProblem(record);
    if (problem === undefined) {
      payload.records.push(record as CloudTrailRecord);
    } else {
      reject(problem, id);
    }
  }
  return payload;
}

/**
 * Decodes SNS deliveries whose messages are CloudWatch Logs subscription payloads, as a LogSubscriptionDispatcher
 * forwards them: each message is `{"awslogs":{"data":...}}`.
 */
function decodeSnsDeliveries(deliveries: unknown[]): DecodedPayload {
  const payload: DecodedPayload = { source: "logs", control: false, records: [], rejected: [] };
  for (const delivery of deliveries) {
    const sns = isObject(delivery) && isObject(delivery.Sns) ? delivery.Sns : undefined;
    const id = typeof sns?.MessageId === "string" ? sns.MessageId : undefined;
    let inner: unknown;
    try {
      inner = typeof sns?.Message === "string" ? JSON.parse(sns.Message) : undefined;
    } catch {
      inner = undefined;
    }
    if (!isObject(inner) || !isObject(inner.awslogs)) {
      payload.rejected.push({ source: "logs", reason: "SNS message is not a forwarded CloudWatch Logs subscription payload", ...(id ? { id } : {}) });
      continue;
    }
    const decoded = decodeSubscription(inner.awslogs.data);
    payload.records.push(...decoded.records);
    payload.rejected.push(...decoded.rejected);
  }
  return payload;
}

function decodeEventBridge(event: Record<string, unknown>): DecodedPayload {
  const id = typeof event.id === "string" ? event.id : undefined;
  const payload: DecodedPayload = { source: "eventbridge", control: false, records: [], rejected: [] };
  const detailType = event["detail-type"];
  if (typeof detailType !== "string" || !CLOUDTRAIL_DETAIL_TYPES.includes(detailType)) {
    payload.rejected.push({ source: "eventbridge", reason: `detail-type ${JSON.stringify(detailType)} does not carry a CloudTrail record`, ...(id ? { id } : {}) });
    return payload;
  }
  const problem = cloudTrailRecordProblem(event.detail);
  if (problem === undefined) {
    payload.records.push(event.detail as CloudTrailRecord);
  } else {
    payload.rejected.push({ source: "eventbridge", reason: problem, ...(id ? { id } : {}) });
  }
  return payload;
}

/**
 * Decodes one invocation payload: a CloudWatch Logs subscription batch (`{"awslogs":{"data":...}}`, base64 of gzip
 * of JSON, decoded as UTF-8), an EventBridge event whose `detail` is a CloudTrail record, or an SNS delivery of
 * subscription batches forwarded by a LogSubscriptionDispatcher.
 */
export function decodeCloudTrailPayload(event: unknown): DecodedPayload {
  if (isObject(event) && isObject(event.awslogs)) {
    return decodeSubscription(event.awslogs.data);
  }
  if (isObject(event) && "detail-type" in event) {
    return decodeEventBridge(event);
  }
  if (isObject(event) && Array.isArray(event.Records) && event.Records.length > 0 && event.Records.every((r) => isObject(r) && r.EventSource === "aws:sns")) {
    return decodeSnsDeliveries(event.Records);
  }
  return {
    source: "unknown",
    control: false,
    records: [],
    rejected: [{ source: "unknown", reason: "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event" }],
  };
}

/** A link to the event in the CloudTrail console of the region it was recorded in. */
export function cloudTrailConsoleLink(record: Pick<CloudTrailRecord, "awsRegion" | "eventID">): string {
  const region = encodeURIComponent(record.awsRegion);
  return `https://${region}.console.aws.amazon.com/cloudtrailv2/home?region=${region}#/events/${encodeURIComponent(record.eventID)}`;
}

/**
 * The console link of a record that may lack fields: undefined unless it has an event ID and a Region (Unicode text,
 * not blank), so that a record without them gets no link rather than one to `events/undefined`.
 */
export function consoleLinkOf(record: { awsRegion?: unknown; eventID?: unknown }): string | undefined {
  const usable = (value: unknown): value is string => typeof value === "string" && value.trim() !== "" && !LONE_SURROGATE.test(value);
  const { awsRegion, eventID } = record;
  return usable(awsRegion) && usable(eventID) ? cloudTrailConsoleLink({ awsRegion, eventID }) : undefined;
}

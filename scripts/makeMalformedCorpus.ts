/**
 * Writes the malformed-input corpus, tests/fixtures/malformed/*.json: one file per case with the payload exactly as a
 * handler receives it (binary payloads as the base64 strings Lambda delivers) and, for each handler that could receive
 * it, what that handler must do: the event IDs it fully processes, the reason it reports for each bad payload or
 * record, and whether the invocation succeeds or fails on purpose. The settings the handlers run with are in
 * simulation/malformedCorpus.ts. Run it again after changing a case and review the diff:
 *
 *   npx ts-node --transpile-only scripts/makeMalformedCorpus.ts
 */
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import { getObjectRecord } from "../simulation/downloadEvents";
import { fixture } from "../simulation/fixtures";
import {
  ACTIVITY_ROUTE,
  type BackfillExpectation,
  CORPUS_READER_ROLES,
  type DispatcherExpectation,
  DOWNLOAD_ROUTE,
  MALFORMED_DIRECTORY,
  type MalformedCase,
  type RecordHandlerExpectation,
} from "../simulation/malformedCorpus";

const EVENT_TIME = "2025-03-03T01:02:03Z";
const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;

/** A GetObject of `bucket`/`key` (by an Identity Center session: no userName, so the notifier never wants it). */
function download(eventID: string, key: string, bucket = "confidential-reports"): CloudTrailRecord {
  return getObjectRecord({ eventID, eventTime: EVENT_TIME, bucket, key });
}

/** The SSM StartSession sample by IAM user `userName`. */
function activity(eventID: string, userName = "hogehoge"): CloudTrailRecord {
  return { ...ssm, eventID, userIdentity: { ...ssm.userIdentity, userName, arn: `arn:aws:iam::123456789012:user/${userName}` } };
}

function without(record: CloudTrailRecord, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => key !== field));
}

/** What each handler reports for one bad log event or record. */
type Reasons = string | { download?: string; userActivity?: string; dispatcher?: string };

/** One log event of a batch: good for some handlers (`for`), or bad with its reasons. */
interface Item {
  /** A record (sent as JSON), a string message, or a raw log event object when `raw` is set. */
  message?: unknown;
  raw?: unknown;
  for?: Array<"download" | "activity">;
  /** The consumers the dispatcher forwards it to, when not those it is good for. */
  routes?: Array<"download" | "activity">;
  reject?: Reasons;
}

const good = (record: CloudTrailRecord, ...handlers: Array<"download" | "activity">): Item => ({ message: record, for: handlers });
const bad = (message: unknown, reject: Reasons): Item => ({ message, reject });

function gzipBase64(text: string | Buffer): string {
  return gzipSync(typeof text === "string" ? Buffer.from(text, "utf8") : text).toString("base64");
}

function envelope(logEvents: unknown, messageType = "DATA_MESSAGE"): Record<string, unknown> {
  return {
    messageType,
    owner: "123456789012",
    logGroup: "/aws/cloudtrail/corpus-trail",
    logStream: "123456789012_CloudTrail_ap-northeast-1",
    subscriptionFilters: ["corpus-filter"],
    logEvents,
  };
}

function logEvent(message: unknown, i: number): Record<string, unknown> {
  return { id: `37151178539063479557200123456789012345678901234567${String(i).padStart(4, "0")}`, timestamp: 1740963723000 + i, message: typeof message === "string" ? message : JSON.stringify(message) };
}

function reasonFor(reject: Reasons, handler: "download" | "userActivity" | "dispatcher"): string | undefined {
  return typeof reject === "string" ? reject : reject[handler];
}

/** Expectations of a batch for the download handler, the notifier and the dispatcher, from its items. */
function batchExpectations(items: Item[]): MalformedCase["expected"] {
  const ids = (handler: "download" | "activity") => [...new Set(items.filter((i) => i.for?.includes(handler)).map((i) => (i.message as CloudTrailRecord).eventID))];
  const rejected = (handler: "download" | "userActivity" | "dispatcher") =>
    items.flatMap((i) => (i.reject === undefined ? [] : [reasonFor(i.reject, handler)])).filter((r): r is string => r !== undefined);
  const record = (handler: "download" | "userActivity"): RecordHandlerExpectation => ({
    processed: ids(handler === "download" ? "download" : "activity"),
    rejected: rejected(handler),
    invocation: "succeeded",
  });
  // The dispatcher forwards log events: a record delivered twice is forwarded twice (its consumers deduplicate).
  const forwardedTo = (handler: "download" | "activity") => items.filter((i) => (i.routes ?? i.for)?.includes(handler)).map((i) => (i.message as CloudTrailRecord).eventID);
  const forwarded: Record<string, string[]> = {};
  for (const [route, handler] of [[DOWNLOAD_ROUTE, "download"], [ACTIVITY_ROUTE, "activity"]] as const) {
    if (forwardedTo(handler).length > 0) {
      forwarded[route] = forwardedTo(handler);
    }
  }
  const dispatcher: DispatcherExpectation = { forwarded, rejected: rejected("dispatcher"), invocation: "succeeded" };
  return { download: record("download"), userActivity: record("userActivity"), dispatcher };
}

/** A CloudWatch Logs subscription batch of `items`. */
function batch(description: string, items: Item[]): Omit<MalformedCase, "name"> {
  const logEvents = items.map((item, i) => (item.raw !== undefined ? item.raw : logEvent(item.message, i)));
  return { description, payload: { awslogs: { data: gzipBase64(JSON.stringify(envelope(logEvents))) } }, expected: batchExpectations(items) };
}

/** A subscription payload that cannot be opened: every handler rejects it whole with `reason`. */
function undecodable(description: string, payload: unknown, reason: Reasons): Omit<MalformedCase, "name"> {
  const record = (handler: "download" | "userActivity"): RecordHandlerExpectation => ({ processed: [], rejected: [reasonFor(reason, handler) ?? ""], invocation: "succeeded" });
  return {
    description,
    payload,
    expected: { download: record("download"), userActivity: record("userActivity"), dispatcher: { forwarded: {}, rejected: [reasonFor(reason, "dispatcher") ?? ""], invocation: "succeeded" } },
  };
}

/** An EventBridge event (only the download handler and the notifier receive these). */
function eventBridge(description: string, detail: unknown, p: { detailType?: string; for?: Array<"download" | "activity">; reject?: string }): Omit<MalformedCase, "name"> {
  const payload = {
    version: "0",
    id: "6f2b1c1e-2d3a-4b5c-8d9e-0a1b2c3d4e5f",
    "detail-type": p.detailType ?? "AWS API Call via CloudTrail",
    source: "aws.ssm",
    account: "123456789012",
    time: EVENT_TIME,
    region: "ap-northeast-1",
    resources: [],
    ...(detail === undefined ? {} : { detail }),
  };
  const id = (detail as { eventID?: string } | undefined)?.eventID ?? "";
  const record = (handler: "download" | "activity"): RecordHandlerExpectation => ({
    processed: p.for?.includes(handler) ? [id] : [],
    rejected: p.reject === undefined ? [] : [p.reject],
    invocation: "succeeded",
  });
  return { description, payload, expected: { download: record("download"), userActivity: record("activity") } };
}

/** An SNS delivery of a message the dispatcher would publish (only its consumers receive these). */
function snsDelivery(description: string, message: string, reason: string): Omit<MalformedCase, "name"> {
  const payload = { Records: [{ EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: "arn:aws:sns:ap-northeast-1:123456789012:dispatch:sub", Sns: { Type: "Notification", MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e", TopicArn: "arn:aws:sns:ap-northeast-1:123456789012:dispatch", Message: message } }] };
  const record: RecordHandlerExpectation = { processed: [], rejected: [reason], invocation: "succeeded" };
  return { description, payload, expected: { download: record, userActivity: record } };
}

const VALID_RANGE = { startTime: "2024-05-20T10:00:00Z", endTime: "2024-05-20T12:00:00Z" };

/** A backfill execution input the plan step must refuse, naming exactly `problems`. */
function backfillPlan(description: string, input: unknown, problems: string[]): Omit<MalformedCase, "name"> {
  const backfill: BackfillExpectation = { error: "InvalidBackfillInputError", rejected: problems, invocation: "failed on purpose" };
  return { description, payload: { action: "plan", input }, expected: { backfill } };
}

/** A fetch payload (a pair item or checkpoint) the fetch step must refuse. */
function backfillFetch(description: string, checkpoint: unknown, problem: string): Omit<MalformedCase, "name"> {
  const backfill: BackfillExpectation = { error: "InvalidBackfillInputError", rejected: [problem], invocation: "failed on purpose" };
  return { description, payload: { action: "fetch", checkpoint }, expected: { backfill } };
}

const NOT_JSON = "log event message is not JSON: ";
const NO_IDENTITY = "record has no userIdentity";
const TIME = (value: unknown) => `eventTime ${JSON.stringify(value)} is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z`;
const truncatedGzip = gzipSync(Buffer.from(JSON.stringify(envelope([logEvent(activity("cut-1"), 0)])), "utf8"));
const pair = { account: "111111111111", region: "us-east-1", roleArn: CORPUS_READER_ROLES["111111111111"], startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-20T12:00:00.000Z" };

const cases: Record<string, Omit<MalformedCase, "name">> = {
  // --- payloads that cannot be opened -------------------------------------------------------------------------------
  "payload-not-base64": undecodable("awslogs.data is not base64 at all", { awslogs: { data: "this is *not* base64!" } }, "awslogs.data is not base64"),
  "payload-base64-not-gzip": undecodable("awslogs.data is base64 of plain text, not gzip", { awslogs: { data: Buffer.from('{"messageType":"DATA_MESSAGE"}').toString("base64") } }, "awslogs.data is not gzip of UTF-8 text: "),
  "payload-gzip-truncated": undecodable("awslogs.data is a gzip stream cut in half", { awslogs: { data: truncatedGzip.subarray(0, Math.floor(truncatedGzip.length / 2)).toString("base64") } }, "awslogs.data is not gzip of UTF-8 text: "),
  "payload-gzip-of-non-json": undecodable("awslogs.data is gzip of text that is not JSON", { awslogs: { data: gzipBase64("CWL CONTROL MESSAGE: not json at all") } }, "awslogs.data does not hold JSON: "),
  "payload-gzip-of-truncated-json": undecodable("awslogs.data is gzip of a subscription message cut in the middle", { awslogs: { data: gzipBase64(JSON.stringify(envelope([logEvent(activity("cut-2"), 0)])).slice(0, 150)) } }, "awslogs.data does not hold JSON: "),
  "payload-gzip-of-invalid-utf8": undecodable("awslogs.data is gzip of bytes that are not UTF-8 (Latin-1 text)", { awslogs: { data: gzipBase64(Buffer.from('{"messageType":"DATA_MESSAGE","logEvents":[],"owner":"caf\xe9"}', "latin1")) } }, "awslogs.data is not gzip of UTF-8 text: "),
  "payload-gzip-of-json-null": undecodable("awslogs.data is gzip of the JSON value null", { awslogs: { data: gzipBase64("null") } }, "awslogs.data does not hold a JSON object"),
  "payload-empty-data": undecodable("awslogs.data is an empty string", { awslogs: { data: "" } }, "awslogs.data is not gzip of UTF-8 text: "),
  "payload-data-missing": undecodable("awslogs has no data", { awslogs: {} }, "awslogs.data is not base64"),
  "payload-unknown-message-type": undecodable("a subscription message of an unknown messageType", { awslogs: { data: gzipBase64(JSON.stringify(envelope([], "HEALTH_CHECK"))) } }, 'messageType "HEALTH_CHECK" is neither DATA_MESSAGE nor CONTROL_MESSAGE'),
  "payload-log-events-not-a-list": undecodable("a DATA_MESSAGE whose logEvents is an object", { awslogs: { data: gzipBase64(JSON.stringify(envelope({ 0: logEvent(activity("x"), 0) }))) } }, "logEvents is not a list"),
  "payload-null": undecodable("the invocation payload is null", null, { download: "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event", userActivity: "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event", dispatcher: "awslogs.data is not base64" }),
  "payload-array": undecodable("the invocation payload is a list of records", [activity("arr-1")], { download: "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event", userActivity: "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event", dispatcher: "awslogs.data is not base64" }),

  // --- subscription messages with nothing or nothing usable ---------------------------------------------------------
  "control-message": {
    description: "a CloudWatch Logs CONTROL_MESSAGE (health check): skipped, nothing rejected",
    payload: { awslogs: { data: gzipBase64(JSON.stringify(envelope([{ id: "", timestamp: 1740963723000, message: "CWL CONTROL MESSAGE: Checking health of destination Lambda function." }], "CONTROL_MESSAGE"))) } },
    expected: {
      download: { processed: [], rejected: [], invocation: "succeeded", control: true },
      userActivity: { processed: [], rejected: [], invocation: "succeeded", control: true },
      dispatcher: { forwarded: {}, rejected: [], invocation: "succeeded" },
    },
  },
  "empty-log-events": batch("a DATA_MESSAGE with no log events: nothing to do, nothing rejected", []),

  // --- log events and records, each with good records of every handler in the same batch ---------------------------
  "log-event-without-message": batch("a log event without a message between good records", [
    good(download("lem-get", "2025/a.pdf"), "download"),
    { raw: { id: "no-message", timestamp: 1740963723000 }, reject: { download: "log event has no message", userActivity: "log event has no message", dispatcher: "log event is not {id, timestamp, message}" } },
    good(activity("lem-act"), "activity"),
  ]),
  "log-event-message-not-a-string": batch("a log event whose message is a JSON object instead of a string", [
    good(activity("lens-act"), "activity"),
    { raw: { id: "object-message", timestamp: 1740963723000, message: { eventID: "x" } }, reject: { download: "log event has no message", userActivity: "log event has no message", dispatcher: "log event is not {id, timestamp, message}" } },
    good(download("lens-get", "2025/b.pdf"), "download"),
  ]),
  "log-event-truncated-json": batch("a record cut in the middle of its JSON", [
    good(download("ltj-get", "2025/c.pdf"), "download"),
    bad(JSON.stringify(activity("ltj-bad")).slice(0, 200), NOT_JSON),
    good(activity("ltj-act"), "activity"),
  ]),
  "log-event-json-not-object": batch("records that are JSON but not objects: null, a number, a list", [
    bad("null", "record is null, not an object"),
    good(activity("ljn-act"), "activity"),
    bad("1740963723", "record is number, not an object"),
    good(download("ljn-get", "2025/d.pdf"), "download"),
    bad(JSON.stringify([activity("ljn-in-list")]), "record is an array, not an object"),
  ]),
  "record-missing-user-identity": batch("a CloudTrail record without userIdentity", [
    good(download("rmu-get", "2025/e.pdf"), "download"),
    bad(without(activity("rmu-bad"), "userIdentity"), NO_IDENTITY),
    good(activity("rmu-act"), "activity"),
  ]),
  "record-user-identity-without-type": batch("a userIdentity without type (used: AWS service events have none) and one that is a string (rejected)", [
    good({ ...activity("rut-typeless"), userIdentity: { userName: "hogehoge" } }, "activity"),
    bad({ ...activity("rut-bad-2"), userIdentity: "hogehoge" }, "userIdentity is string, not an object"),
    good(activity("rut-act"), "activity"),
    good(download("rut-get", "2025/f.pdf"), "download"),
  ]),
  "record-missing-event-id": batch("records without eventID or with an empty eventName", [
    bad(without(download("rme-bad-1", "2025/g.pdf"), "eventID"), "record has no eventID"),
    bad({ ...activity("rme-bad-2"), eventName: "" }, "record has no eventName"),
    good(download("rme-get", "2025/g.pdf"), "download"),
    good(activity("rme-act"), "activity"),
  ]),
  "event-time-other-formats": batch("eventTime written as a local date, as epoch seconds, with an offset, without seconds", [
    bad({ ...activity("etf-1"), eventTime: "2025/03/03 01:02:03" }, TIME("2025/03/03 01:02:03")),
    bad({ ...activity("etf-2"), eventTime: 1740963723 }, TIME(1740963723)),
    bad({ ...download("etf-3", "2025/h.pdf"), eventTime: "2025-03-03T10:02:03+09:00" }, TIME("2025-03-03T10:02:03+09:00")),
    bad({ ...activity("etf-4"), eventTime: "2025-03-03T01:02Z" }, TIME("2025-03-03T01:02Z")),
    good(activity("etf-act"), "activity"),
    good(download("etf-get", "2025/h.pdf"), "download"),
  ]),
  "event-time-impossible-dates": batch("eventTime on dates that do not exist (30 February, hour 24, month 13)", [
    bad({ ...download("eti-1", "2025/i.pdf"), eventTime: "2025-02-30T10:00:00Z" }, TIME("2025-02-30T10:00:00Z")),
    bad({ ...activity("eti-2"), eventTime: "2025-03-03T24:00:00Z" }, TIME("2025-03-03T24:00:00Z")),
    bad({ ...activity("eti-3"), eventTime: "2025-13-01T00:00:00Z" }, TIME("2025-13-01T00:00:00Z")),
    good(download("eti-get", "2025/i.pdf"), "download"),
    good(activity("eti-act"), "activity"),
  ]),
  "event-time-year-9999": batch("a valid eventTime in year 9999: the notifier reports it; the download counter has no reset window for it and rejects it instead of failing forever", [
    { message: { ...activity("ety-act"), eventTime: "9999-12-31T23:59:59Z" }, for: ["activity"] },
    { message: { ...download("ety-bad", "2025/j.pdf"), eventTime: "9999-12-31T23:59:59Z" }, for: [], routes: ["download"], reject: { download: 'reset schedule "0 1 * * 1" in Asia/Tokyo has no counting window around 9999-12-31T23:59:59.000Z' } },
    good(download("ety-get", "2025/j.pdf"), "download"),
  ]),
  "request-parameters-null": batch("requestParameters: null, normal for many management events; a GetObject without bucket and key is not a download", [
    good({ ...activity("rpn-act"), requestParameters: null }, "activity"),
    { message: { ...download("rpn-bad", "2025/k.pdf"), requestParameters: null }, reject: { download: "the S3 GetObject record has no requestParameters.bucketName and requestParameters.key" } },
    good(download("rpn-get", "2025/k.pdf"), "download"),
  ]),
  "request-parameters-not-object": batch("requestParameters as a string, responseElements as a list, resources as an object", [
    bad({ ...download("rpo-1", "2025/l.pdf"), requestParameters: "bucketName=confidential-reports" }, "requestParameters is neither an object nor null"),
    bad({ ...activity("rpo-2"), responseElements: ["x"] }, "responseElements is neither an object nor null"),
    bad({ ...activity("rpo-3"), resources: { ARN: "x" } }, "resources is not a list"),
    good(download("rpo-get", "2025/l.pdf"), "download"),
    good(activity("rpo-act"), "activity"),
  ]),
  "record-lone-surrogate": batch("a key and a user name holding a lone UTF-16 surrogate (valid JSON escape, not Unicode): no SNS message can carry it", [
    bad(download("rls-1", "2025/\ud800.pdf"), "$.requestParameters.key holds a lone UTF-16 surrogate, which is not Unicode text"),
    bad(activity("rls-2", "hoge\udc00"), "$.userIdentity.arn holds a lone UTF-16 surrogate, which is not Unicode text"),
    good(download("rls-get", "2025/😀.pdf"), "download"),
    good(activity("rls-act", "🦊 fox"), "activity"),
  ]),
  "duplicate-records-in-batch": batch("the same record twice in one batch (at-least-once delivery): processed once", [
    good(download("dup-get", "2025/m.pdf"), "download"),
    good(activity("dup-act"), "activity"),
    good(download("dup-get", "2025/m.pdf"), "download"),
    good(activity("dup-act"), "activity"),
  ]),
  "mixed-batch": batch("one batch mixing good records of every consumer with bad records of every kind", [
    good(download("mix-get-1", "2025/売上報告 Q1.pdf"), "download"),
    bad("{ not json", NOT_JSON),
    good(activity("mix-act-1"), "activity"),
    bad(without(download("mix-bad-1", "2025/n.pdf"), "userIdentity"), NO_IDENTITY),
    bad({ ...activity("mix-bad-2"), eventTime: "yesterday" }, TIME("yesterday")),
    { message: download("mix-other", "public/readme.txt", "other-bucket"), for: [] },
    good(activity("mix-act-2", "山田太郎"), "activity"),
    { raw: 42, reject: { download: "log event has no message", userActivity: "log event has no message", dispatcher: "log event is not {id, timestamp, message}" } },
    good(download("mix-get-2", "2025/n.pdf"), "download"),
  ]),

  // --- keys and user names with every UTF-8 oddity: good input, compared exactly as S3 and CloudTrail write them ----
  "keys-japanese": batch("Japanese keys and user names", [
    good(download("kja-get", "報告/2025年 第1四半期/売上.pdf"), "download"),
    good(activity("kja-act", "山田太郎"), "activity"),
    { message: activity("kja-other", "山田 太郎"), for: [] },
  ]),
  "keys-emoji-astral": batch("emoji outside the Basic Multilingual Plane in keys and user names (surrogate pairs, kept whole)", [
    good(download("kem-get", "reports/📈 growth 🚀/𠮷野家.pdf"), "download"),
    good(activity("kem-act", "🦊 fox"), "activity"),
    { message: activity("kem-other", "🦊fox"), for: [] },
  ]),
  "keys-combining-characters": batch("a key written with a combining accent (e + U+0301), watched exactly in that form", [
    good(download("kcc-get", "e\u0301clair.pdf", "exact-keys"), "download"),
    { message: download("kcc-nfc", "\u00e9clair.pdf", "exact-keys"), for: [] },
  ]),
  "keys-nfc-vs-nfd": batch("the same text in NFC and NFD: only the form that is watched (NFC) matches, for keys and user names", [
    good(download("knf-nfc", "café.pdf".normalize("NFC"), "exact-keys"), "download"),
    { message: download("knf-nfd", "café.pdf".normalize("NFD"), "exact-keys"), for: [] },
    good(activity("knf-act-nfc", "José".normalize("NFC")), "activity"),
    { message: activity("knf-act-nfd", "José".normalize("NFD")), for: [] },
  ]),
  "keys-plus-and-space": batch("'+' is literal in keys (not a space), and a space is not '+'", [
    good(download("kps-plus", "a+b.pdf", "exact-keys"), "download"),
    { message: download("kps-space", "a b.pdf", "exact-keys"), for: [] },
  ]),
  "keys-percent-20": batch("'%20' in a key is three literal characters, not an encoded space", [
    good(download("kpc-literal", "a%20b.pdf", "exact-keys"), "download"),
    { message: download("kpc-space", "a b.pdf", "exact-keys"), for: [] },
  ]),
  "keys-spaces": batch("leading, trailing, repeated and non-breaking spaces in keys", [
    good(download("ksp-1", "  two  leading and trailing  .pdf"), "download"),
    good(download("ksp-2", "non\u00a0breaking\u3000ideographic.pdf"), "download"),
  ]),
  "keys-quotes-and-backslashes": batch('keys and a user name with double and single quotes and backslashes', [
    good(download("kqb-1", 'he said "hi" and \'bye\'.pdf'), "download"),
    good(download("kqb-2", "dir\\sub\\file.pdf"), "download"),
    good(activity("kqb-act", `o'brien "q" \\ back`), "activity"),
  ]),
  "keys-asterisk": batch("'*' in a watched key is literal: reports/q*.pdf does not match reports/q1.pdf", [
    good(download("kas-literal", "reports/q*.pdf", "exact-keys"), "download"),
    { message: download("kas-wild", "reports/q1.pdf", "exact-keys"), for: [] },
  ]),
  "keys-zero-width": batch("zero-width characters make a different key and user name: invoice\\u200B.pdf is not invoice.pdf, admin\\u200B is not admin", [
    good(download("kzw-exact", "invoice.pdf", "exact-keys"), "download"),
    { message: download("kzw-hidden", "invoice\u200b.pdf", "exact-keys"), for: [] },
    good(download("kzw-prefix", "invoice\u200b\u200d\ufeff.pdf"), "download"),
    good(activity("kzw-act", "admin"), "activity"),
    { message: activity("kzw-act-hidden", "admin\u200b"), for: [] },
  ]),
  "keys-rtl-marks": batch("right-to-left marks and overrides in keys (shown escaped in alerts so that invoice\\u202Efdp.exe cannot pass for invoiceexe.pdf)", [
    good(download("krt-1", "invoice\u202efdp.exe"), "download"),
    good(download("krt-2", "\u200f\u05d3\u05d5\u05d7 \u0634\u0647\u0631\u064a.pdf"), "download"),
  ]),
  "keys-control-characters": batch("a key with a line break, a tab and NUL (valid S3 keys): processed, and the alert shows them escaped on one line", [
    good(download("kcl-1", "report.pdf\nWho: root (root user)"), "download"),
    good(download("kcl-2", "tab\there\u0000nul.pdf"), "download"),
  ]),

  // --- EventBridge events -----------------------------------------------------------------------------------------
  "eventbridge-wrong-detail-type": eventBridge("an EventBridge event of another detail-type", { instance: "i-0123456789abcdef0", state: "running" }, { detailType: "EC2 Instance State-change Notification", reject: 'detail-type "EC2 Instance State-change Notification" does not carry a CloudTrail record' }),
  "eventbridge-detail-missing": eventBridge("an EventBridge event of a CloudTrail detail-type without detail", undefined, { reject: "record is undefined, not an object" }),
  "eventbridge-detail-string": eventBridge("an EventBridge event whose detail is a JSON string, not an object", JSON.stringify(activity("ebs-1")), { reject: "record is string, not an object" }),
  "eventbridge-missing-user-identity": eventBridge("an EventBridge CloudTrail event whose record has no userIdentity", without(activity("ebu-1"), "userIdentity"), { reject: NO_IDENTITY }),
  "eventbridge-event-time-format": eventBridge("an EventBridge CloudTrail event with eventTime in local time", { ...download("ebt-1", "2025/o.pdf"), eventTime: "2025-03-03 10:02:03" }, { reject: TIME("2025-03-03 10:02:03") }),
  "eventbridge-good-unicode": eventBridge("a good EventBridge GetObject of a key with emoji and combining marks", download("ebg-1", "写真/🎉 pa\u0301rty.jpg"), { for: ["download"] }),

  // --- SNS deliveries from a LogSubscriptionDispatcher ----------------------------------------------------------------
  "sns-message-not-json": snsDelivery("an SNS delivery whose message is not JSON", "hello from somewhere else", "SNS message is not a forwarded CloudWatch Logs subscription payload"),
  "sns-message-not-gzip": snsDelivery("an SNS delivery of a forwarded payload whose data is not gzip", JSON.stringify({ awslogs: { data: Buffer.from("not gzip").toString("base64") } }), "awslogs.data is not gzip of UTF-8 text: "),

  // --- a record of about 1 MB (built by the test) --------------------------------------------------------------------
  "megabyte-records": {
    description: "a GetObject and an SSM session of about 1 MB each (incompressible request data) with a small good record: all delivered; the notification and the alert are cut to SNS's limit, the dispatcher forwards a cut copy",
    build: { kind: "megabyteBatch", bytes: 1024 * 1024, download: "mb-get", activity: "mb-act" },
    expected: {
      download: { processed: ["mb-get", "mb-small"], rejected: [], invocation: "succeeded" },
      userActivity: { processed: ["mb-act"], rejected: [], invocation: "succeeded" },
      dispatcher: { forwarded: { [DOWNLOAD_ROUTE]: ["mb-get", "mb-small"], [ACTIVITY_ROUTE]: ["mb-act"] }, rejected: [], invocation: "succeeded" },
    },
  },

  // --- backfill execution inputs and fetch payloads ------------------------------------------------------------------
  "backfill-reversed-range": backfillPlan("a backfill whose startTime is after its endTime", { accounts: ["111111111111"], regions: ["us-east-1"], startTime: "2024-05-20T12:00:00Z", endTime: "2024-05-20T10:00:00Z" }, [
    "startTime must be before endTime, got 2024-05-20T12:00:00Z and 2024-05-20T10:00:00Z",
  ]),
  "backfill-empty-range": backfillPlan("a backfill whose startTime equals its endTime", { accounts: ["111111111111"], regions: ["us-east-1"], startTime: "2024-05-20T10:00:00Z", endTime: "2024-05-20T10:00:00+00:00" }, [
    "startTime must be before endTime, got 2024-05-20T10:00:00Z and 2024-05-20T10:00:00+00:00",
  ]),
  "backfill-future-range": backfillPlan("a backfill of a range in the future", { accounts: ["111111111111"], regions: ["us-east-1"], startTime: "2024-06-02T00:00:00Z", endTime: "2024-06-03T00:00:00Z" }, [
    "endTime must not be in the future (now is 2024-06-01T00:00:00.000Z), got 2024-06-03T00:00:00Z",
  ]),
  "backfill-100-days-old": backfillPlan("a backfill starting 100 days ago (LookupEvents holds 90)", { accounts: ["111111111111"], regions: ["us-east-1"], startTime: "2024-02-22T00:00:00Z", endTime: "2024-05-20T00:00:00Z" }, [
    "startTime must be within the last 90 days (LookupEvents holds no older events): not before 2024-03-03T00:00:00.000Z, got 2024-02-22T00:00:00Z",
  ]),
  "backfill-time-formats": backfillPlan("times as epoch seconds and without a time zone", { accounts: ["111111111111"], regions: ["us-east-1"], startTime: 1716199200, endTime: "2024-05-20T12:00:00" }, [
    "startTime must be an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z, got 1716199200",
    'endTime must be an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z, got "2024-05-20T12:00:00"',
  ]),
  "backfill-unicode-lookalikes": backfillPlan("an account in full-width digits and a region with a zero-width space", { accounts: ["１１１１１１１１１１１１"], regions: ["us-east-1\u200b"], ...VALID_RANGE }, [
    'accounts[0] must be a 12-digit AWS account ID, got "１１１１１１１１１１１１"',
    'regions[0] must be an AWS region such as us-east-1, got "us-east-1\u200b"',
  ]),
  "backfill-mixed-accounts": backfillPlan("good accounts mixed with an unknown one and a duplicate: the request is refused whole, naming each problem", { accounts: ["111111111111", "333333333333", "222222222222", "111111111111"], regions: ["us-east-1"], ...VALID_RANGE }, [
    'accounts[3] "111111111111" is listed twice',
    "accounts: 333333333333 has no reader role; deployed reader roles are in 111111111111, 222222222222",
  ]),
  "backfill-not-an-object": backfillPlan("an execution input that is a list", [{ accounts: ["111111111111"] }], ['input must be an object { accounts, regions, startTime, endTime }, got [{"accounts":["111111111111"]}]']),
  "backfill-fetch-reversed-checkpoint": backfillFetch("a fetch payload whose range is reversed", { ...pair, startTime: pair.endTime, endTime: pair.startTime }, "invalid fetch input: startTime and endTime must be ISO times on 5-minute boundaries, startTime first"),
  "backfill-fetch-remaining-outside": backfillFetch("a checkpoint whose remaining windows lie outside its range", { ...pair, remaining: [["2024-05-21T10:00:00.000Z", "2024-05-21T10:05:00.000Z"]] }, "invalid fetch input: remaining holds"),
  "backfill-fetch-foreign-role": backfillFetch("a pair item whose role is in another account", { ...pair, roleArn: CORPUS_READER_ROLES["222222222222"] }, "invalid fetch input: roleArn must be an IAM role ARN in account 111111111111"),
};

fs.mkdirSync(MALFORMED_DIRECTORY, { recursive: true });
for (const file of fs.readdirSync(MALFORMED_DIRECTORY).filter((f) => f.endsWith(".json"))) {
  fs.rmSync(path.join(MALFORMED_DIRECTORY, file));
}
for (const [name, body] of Object.entries(cases)) {
  fs.writeFileSync(path.join(MALFORMED_DIRECTORY, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
}
process.stdout.write(`${Object.keys(cases).length} cases written to ${path.relative(process.cwd(), MALFORMED_DIRECTORY)}\n`);

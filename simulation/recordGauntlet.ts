/**
 * Runs CloudTrail records, however odd, through every handler that can receive them, and says what went wrong with
 * each: the formatter (`formatActivity` and the chat notification), the UserActivityNotifier (as an EventBridge event
 * and in a CloudWatch Logs subscription payload, alone and in one batch, without and with its sent journal and burst
 * grouping, whose summaries a scheduled sweep sends), the LogSubscriptionDispatcher, and the DownloadThresholdAlert (as
 * the record is, and re-labelled as a download of a watched object past its threshold, counted by the DynamoDB counter
 * and by the logs counter, so that its alert renders the record's identity, time and addresses). Alerts go to the
 * loopback SNS, the tables to dynalite, the logs counter's FilterLogEvents to the fake CloudWatch Logs.
 *
 * What must hold for every record: no handler throws; nothing it publishes or logs prints `undefined`, `NaN`,
 * `Invalid Date` or `[object Object]` (unless the record itself holds that text); a missing event ID means no console
 * link; a record is rejected (its reason logged, counted in RejectedInput) exactly when {@link rejectionExpected} says
 * a handler may not use it, and every other record is processed, alone or in a batch with unusable ones.
 */
import { gunzipSync } from "zlib";

import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";

import { activityPrefilter, DETAIL_TYPE_OF_EVENT_TYPE } from "../components/activityPatterns";
import { downloadRecordPattern } from "../components/downloadPatterns";
import { windowCalculator } from "../functions/downloadThreshold/countingWindow";
import { type DownloadThresholdResult, downloadThresholdHandler } from "../functions/downloadThreshold/handler";
import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import { CONSUMER_ATTRIBUTE, logDispatchHandler } from "../functions/logDispatch/handler";
import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import type { Language } from "../functions/shared/readableEvent";
import { REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC, systemClock } from "../functions/shared/runtime";
import { BURST_SWEEP_EVENT, dynamoDbBurstGate } from "../functions/userActivity/bursts";
import { ACTIVITY_PRESET_NAMES, type ActivityCriteria, activityMatches } from "../functions/userActivity/criteria";
import { CHAT_VALUE_MAX_CHARACTERS } from "../functions/userActivity/chatNotification";
import { activityChatNotification, formatActivity } from "../functions/userActivity/format";
import { summaryPublisher, type UserActivityResult, userActivityHandler } from "../functions/userActivity/handler";
import { dynamoDbSentJournal } from "../functions/userActivity/sentJournal";
import type { UserActivitySettings } from "../functions/userActivity/settings";
import { SteppedClock } from "./activityBursts";
import { FakeCloudWatchLogs } from "./fakeCloudWatchLogs";
import { FakeSns, type PublishedMessage } from "./fakeSns";
import { fixture, subscriptionPayload } from "./fixtures";
import { LocalDynamoDb } from "./localDynamoDb";
import { recordingLogger, recordingMetrics } from "./recorders";

/** Text that only a rendering bug prints. */
export const RENDERING_FAULTS: readonly string[] = ["undefined", "NaN", "Invalid Date", "[object Object]"];

/** One record under test, with where it came from. */
export interface GauntletRecord {
  index: number;
  from: string;
  record: unknown;
}

/** The records of tests/fixtures/awsdocs (CloudTrail records from AWS's documentation), numbered from 0. */
export function awsdocsRecords(): GauntletRecord[] {
  const corpus = fixture<{ records: Array<{ from: string; record: unknown }> }>("awsdocs/awsdocs-cloudtrail-records.json");
  return corpus.records.map(({ from, record }, index) => ({ index, from, record }));
}

/** The rendering faults `output` shows that none of the records it was made from holds. */
export function renderingFaults(output: string, ...records: unknown[]): string[] {
  const sources = records.map((record) => JSON.stringify(record) ?? "");
  return RENDERING_FAULTS.filter((fault) => output.includes(fault) && !sources.some((source) => source.includes(fault)));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CLOUDTRAIL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Why no handler can use `record`, as the CloudTrail record contents reference defines a record
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html), written
 * here apart from the handlers' decoder: not an Insights event; an event ID, name, source and Region, the event time as
 * CloudTrail writes it, a `userIdentity` object; request parameters, response elements and additional event data objects (or null),
 * `resources` a list; Unicode text only. Undefined when every handler must accept it: fields it does not need may be
 * missing or of any type.
 */
export function rejectionExpected(record: unknown): string | undefined {
  if (!isObject(record)) {
    return "not an object";
  }
  if (record.eventCategory === "Insight" || record.insightDetails !== undefined) {
    return "an Insights event, which records no call";
  }
  for (const field of ["eventID", "eventName", "eventSource", "awsRegion"]) {
    if (typeof record[field] !== "string" || record[field] === "") {
      return `no ${field}`;
    }
  }
  const time = record.eventTime;
  if (typeof time !== "string" || !CLOUDTRAIL_TIME.test(time) || Number.isNaN(Date.parse(time)) || new Date(Date.parse(time)).toISOString().slice(0, 19) !== time.slice(0, 19)) {
    return "no eventTime as CloudTrail writes it";
  }
  if (!isObject(record.userIdentity)) {
    return "no userIdentity object";
  }
  for (const field of ["requestParameters", "responseElements", "additionalEventData"]) {
    if (record[field] !== undefined && record[field] !== null && !isObject(record[field])) {
      return `${field} not an object`;
    }
  }
  if (record.resources !== undefined && !Array.isArray(record.resources)) {
    return "resources not a list";
  }
  return holdsLoneSurrogate(record) ? "a lone surrogate" : undefined;
}

/** True when a string anywhere in `value` (a value or a field name) holds half a surrogate pair. */
function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") {
    return LONE_SURROGATE.test(value);
  }
  return typeof value === "object" && value !== null && Object.entries(value).some(([key, item]) => LONE_SURROGATE.test(key) || holdsLoneSurrogate(item));
}

/** The watched bucket: every object in it counts. */
export const GAUNTLET_BUCKET = "gauntlet-watched";
const WATCHES: WatchedObject[] = [{ bucket: GAUNTLET_BUCKET, keyPrefix: "", threshold: 1 }];
const ALERT_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:gauntlet-alerts";
const DISPATCH_TOPIC = "arn:aws:sns:ap-northeast-1:111111111111:gauntlet-dispatch";
const EVENT_SOURCE = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/;

/**
 * Criteria that select every person-made call of the records' event sources, and every preset (those of the Security
 * Hub controls match on fields such as `userIdentity.type` and `errorCode`, so their patterns run on every record and
 * select the records they fit first), with exclusions that never match (so that the who-matching runs on every record).
 */
export function criteriaSelecting(records: readonly unknown[]): ActivityCriteria {
  const sources = [...new Set(records.map((r) => (isObject(r) ? r.eventSource : undefined)).filter((s): s is string => typeof s === "string" && EVENT_SOURCE.test(s)))];
  return {
    presets: [...ACTIVITY_PRESET_NAMES],
    ...(sources.length === 0 ? {} : { eventSources: sources }),
    exclude: [{ userNames: ["never-excluded"] }, { principalArns: ["arn:aws:iam::000000000000:role/never-*"] }, { sessionNames: ["never-session"], eventNames: ["Never*"] }],
  };
}

/** The EventBridge event CloudTrail would deliver for `record`, built without trusting any of its fields. */
export function asEventBridgeEvent(record: unknown, id: string): Record<string, unknown> {
  const r = isObject(record) ? record : {};
  const service = typeof r.eventSource === "string" ? r.eventSource.split(".")[0] : "unknown";
  return {
    version: "0",
    id,
    "detail-type": (typeof r.eventType === "string" ? DETAIL_TYPE_OF_EVENT_TYPE[r.eventType] : undefined) ?? "AWS API Call via CloudTrail",
    source: `aws.${service}`,
    account: "111111111111",
    time: typeof r.eventTime === "string" ? r.eventTime : "2025-03-03T01:02:03Z",
    region: typeof r.awsRegion === "string" ? r.awsRegion : "us-east-1",
    resources: [],
    detail: record,
  };
}

/** `record` re-labelled as a successful S3 GetObject of `key` in the watched bucket; everything else kept. */
export function asWatchedDownload(record: unknown, key: string): unknown {
  if (!isObject(record)) {
    return record;
  }
  const rest = Object.fromEntries(Object.entries(record).filter(([field]) => field !== "errorCode" && field !== "errorMessage"));
  const parameters = isObject(record.requestParameters) ? record.requestParameters : {};
  return { ...rest, eventSource: "s3.amazonaws.com", eventName: "GetObject", requestParameters: { ...parameters, bucketName: GAUNTLET_BUCKET, key } };
}

/** What one invocation left behind. */
interface Invocation {
  error?: Error;
  published: PublishedMessage[];
  logger: ReturnType<typeof recordingLogger>;
  metrics: ReturnType<typeof recordingMetrics>;
  result?: unknown;
}

/** Problems common to every handler: a throw, faults in what it published or logged, rejections not reported as one. */
function invocationProblems(run: Invocation, records: readonly unknown[], publishesText = true): string[] {
  const problems: string[] = [];
  if (run.error !== undefined) {
    const { failures } = run.error as Error & { failures?: unknown };
    problems.push(`threw ${run.error.name}: ${run.error.message}${failures === undefined ? "" : ` ${JSON.stringify(failures).slice(0, 500)}`}`);
  }
  for (const message of publishesText ? run.published : []) {
    for (const [part, text] of [["subject", message.subject ?? ""], ["message", message.message]] as const) {
      const faults = renderingFaults(text, ...records);
      if (faults.length > 0) {
        problems.push(`published ${part} prints ${faults.join(", ")}: ${JSON.stringify(text.slice(0, 300))}`);
      }
    }
  }
  for (const line of run.logger.lines) {
    const faults = renderingFaults(JSON.stringify(line), ...records);
    if (faults.length > 0) {
      problems.push(`log line prints ${faults.join(", ")}: ${JSON.stringify(line).slice(0, 300)}`);
    }
  }
  const reasons = run.logger.lines.filter((l) => l.level === "warn" && l.message === REJECTED_INPUT_MESSAGE).map((l) => l.fields.reason);
  const counted = run.metrics.counts.filter((m) => m.name === REJECTED_INPUT_METRIC).reduce((sum, m) => sum + m.value, 0);
  if (counted !== reasons.length || reasons.some((reason) => typeof reason !== "string" || reason === "")) {
    problems.push(`rejections not reported as such: ${counted} counted, reasons ${JSON.stringify(reasons)}`);
  }
  return problems;
}

/** The rejected-input reasons an invocation logged. */
function rejections(run: Invocation): string[] {
  return run.logger.lines.filter((l) => l.level === "warn" && l.message === REJECTED_INPUT_MESSAGE).map((l) => String(l.fields.reason));
}

/** Problems with the rejection of one record: rejected when it is usable, or used when it is not. */
function rejectionProblems(run: Invocation, record: unknown, extraReasons: (reason: string) => boolean = () => false): string[] {
  const expected = rejectionExpected(record);
  const reasons = rejections(run);
  if (expected === undefined && reasons.some((reason) => !extraReasons(reason))) {
    return [`a usable record was rejected: ${reasons.join("; ")}`];
  }
  if (expected !== undefined && reasons.length !== 1) {
    return [`a record with ${expected} was not rejected (${reasons.length} rejections)`];
  }
  return [];
}

/** The event ID the console link of a message points to, if it has one. */
export function linkedEventId(message: string): string | undefined {
  const id = /#\/events\/([^\s"]+)/.exec(message)?.[1];
  if (id === undefined) {
    return undefined;
  }
  // A link cut (with "…", or with a message too long for SNS) may end inside a character's escapes: drop them.
  const cut = id.endsWith("…");
  let escaped = cut ? id.slice(0, -1) : id;
  for (;;) {
    try {
      return `${decodeURIComponent(escaped)}${cut ? "…" : ""}`;
    } catch {
      const shorter = escaped.replace(/%[0-9A-Fa-f]{0,2}$/, "");
      if (shorter === escaped) {
        return id;
      }
      escaped = shorter;
    }
  }
}

/** The event a notification is about: the ID of its chat notification (see {@link chatId}). */
function notifiedEventId(message: PublishedMessage): string {
  const chat = JSON.parse((JSON.parse(message.message) as { https: string }).https) as { id?: string };
  return chat.id ?? "(no id)";
}

/**
 * An event ID as a chat notification carries it: whole, or (longer than CHAT_VALUE_MAX_CHARACTERS code points, which
 * no real event ID is) cut and marked with "…", as chatNotification.ts documents.
 */
export function chatId(eventID: string): string {
  const chars = Array.from(eventID);
  return chars.length <= CHAT_VALUE_MAX_CHARACTERS ? eventID : `${chars.slice(0, CHAT_VALUE_MAX_CHARACTERS - 1).join("")}…`;
}

/** The records of `items` by their event IDs as chat notifications and console links show them (first one wins). */
function recordsByEventId(items: readonly GauntletRecord[]): Map<string, GauntletRecord> {
  const byEventId = new Map<string, GauntletRecord>();
  for (const item of items) {
    const id = isObject(item.record) ? item.record.eventID : undefined;
    for (const shown of typeof id === "string" ? [id, chatId(id)] : []) {
      if (!byEventId.has(shown)) byEventId.set(shown, item);
    }
  }
  return byEventId;
}

/** `#index page` of the records `ids` name, or the IDs themselves when no record has them. */
function named(ids: readonly string[], byEventId: ReadonlyMap<string, GauntletRecord>): string {
  return ids.map((id) => byEventId.get(id)).map((item, i) => (item === undefined ? JSON.stringify(ids[i].slice(0, 80)) : `#${item.index} ${item.from}`)).join(", ");
}

/** True for a message cut to fit SNS (see fitSnsMessage): its last line before the note may end anywhere. */
function isCut(message: string): boolean {
  return message.includes("\n\n[cut: this message was ");
}

/** Problems of a rendered notification or alert text for `record`. */
function renderedProblems(record: unknown, parts: Array<[string, string]>): string[] {
  const problems: string[] = [];
  for (const [part, text] of parts) {
    const faults = renderingFaults(text, record);
    if (faults.length > 0) {
      problems.push(`${part} prints ${faults.join(", ")}: ${JSON.stringify(text.slice(0, 300))}`);
    }
  }
  const eventID = isObject(record) ? record.eventID : undefined;
  const linkedIn = parts.find(([, text]) => linkedEventId(text) !== undefined)?.[1];
  const linked = linkedIn === undefined ? undefined : linkedEventId(linkedIn);
  if (typeof eventID !== "string" || eventID === "") {
    if (linked !== undefined) {
      problems.push(`links to event ${JSON.stringify(linked)} though the record has no event ID`);
    }
  } else if (linked !== undefined && linked !== eventID && !(isCut(linkedIn ?? "") && eventID.startsWith(linked)) && !(linked.endsWith("…") && eventID.startsWith(linked.slice(0, -1)))) {
    problems.push(`links to event ${JSON.stringify(linked)}, not ${JSON.stringify(eventID)}`);
  }
  return problems;
}

/** The labels of a notification's lines, as format.ts writes them. */
const LINE_LABELS: Record<Language, string[]> = {
  ja: ["発生時刻", "リージョン", "イベント", "イベントネーム", "ユーザネーム", "接続元IPアドレス", "ユーザーエージェント", "対象リソース", "アカウント", "MFA 使用", "エラー", "CloudTrail"],
  en: ["Time", "Region", "Event source", "Event name", "Principal", "Source IP address", "User agent", "Target resource", "Account", "MFA used", "Error", "CloudTrail"],
};

/** The account a record's Account line must show when it has neither `recipientAccountId` nor an identity `accountId`. */
function accountFromArn(record: unknown): string | undefined {
  const identity = isObject(record) && isObject(record.userIdentity) ? record.userIdentity : undefined;
  const text = (value: unknown) => typeof value === "string" && value.trim() !== "";
  if (identity === undefined || !isObject(record) || text(record.recipientAccountId) || text(identity.accountId)) {
    return undefined;
  }
  const account = typeof identity.arn === "string" ? identity.arn.split(":")[4] : undefined;
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/** Problems of the email's head: after the summary and a blank line, each line is one labelled line. */
function layoutProblems(record: unknown, message: string, language: Language): string[] {
  const lines = message.split("\n");
  const problems: string[] = [];
  if (lines[1] !== "") {
    problems.push(`the summary takes more than one line: ${JSON.stringify(lines.slice(0, 2))}`);
  }
  const head = lines.slice(2, lines.indexOf("", 2) < 0 ? undefined : lines.indexOf("", 2));
  // A message too long for SNS is cut with a note after a blank line: its last line before the note may be cut anywhere.
  const cut = isCut(message);
  for (const line of cut ? head.slice(0, -1) : head) {
    if (!LINE_LABELS[language].some((label) => line.startsWith(`${label}: `))) {
      problems.push(`a value forged a line of its own: ${JSON.stringify(line.slice(0, 120))}`);
    }
  }
  const account = accountFromArn(record);
  const label = LINE_LABELS[language][8];
  if (account !== undefined && !cut && !lines.includes(`${label}: ${account}`)) {
    problems.push(`the account line does not show ${account}, the account of the identity's ARN: ${JSON.stringify(lines.find((l) => l.startsWith(label)))}`);
  }
  return problems;
}

/** The formatter, straight: the email and the chat notification of `record` in `language`. */
export function formattingProblems(record: unknown, language: Language, timeZone = "Asia/Tokyo"): string[] {
  try {
    const alert = formatActivity(record as CloudTrailRecord, { timeZone, language });
    const chat = activityChatNotification(record as CloudTrailRecord, { timeZone, language });
    const problems = renderedProblems(record, [
      ["subject", alert.subject],
      ["message", alert.message],
      ["chat notification", chat],
    ]);
    if (!/^[\x21-\x7e][\x20-\x7e]{0,98}$/.test(alert.subject)) {
      problems.push(`subject is not SNS's ASCII line: ${JSON.stringify(alert.subject)}`);
    }
    problems.push(...layoutProblems(record, alert.message, language));
    return problems;
  } catch (error) {
    const e = error as Error;
    return [`threw ${e.name}: ${e.message}`];
  }
}

/** A download handler with the logger and metrics it writes to. */
interface DownloadRun {
  handler: ReturnType<typeof downloadThresholdHandler>;
  logger: Invocation["logger"];
  metrics: Invocation["metrics"];
}

/** How a record reaches a handler. */
export type Delivery = "eventbridge" | "logs";

/** How the DownloadThresholdAlert is given a record: as it is, or made a watched download counted by one counter. */
export type DownloadMode = "as-is" | "dynamodb" | "logs";

const LANGUAGES: readonly Language[] = ["ja", "en"];

/** The reset schedule of the download counter: weekly, as deployed by default. */
const RESET = { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" };

/** The log group the logs counter re-counts in (the fake CloudWatch Logs). */
const TRAIL_LOG_GROUP = "gauntlet-trail";

/** Burst grouping's settings in the gauntlet: the default window, a cap that never holds anything back. */
const BURST = { windowSeconds: 300, maxMessagesPerHour: 10_000 };

/** Where the stepped clock of burst grouping starts: 2025-03-03T00:00:00Z. */
const BURST_START = Date.UTC(2025, 2, 3);


/** `record` with another event ID (a further call of the same principal, source and name). */
function withEventId(record: unknown, eventID: string): unknown {
  return isObject(record) ? { ...record, eventID } : record;
}

/** The event IDs of the console links in `text`. */
function linkedEventIds(text: string): string[] {
  return [...text.matchAll(/#\/events\/([^\s"?)]+)/g)].map((match) => linkedEventId(match[0]) ?? match[1]);
}

/**
 * The fakes the handlers run against and the handler runs, each returning the problems found (empty when the handler
 * dealt with its input as it must). One client per service for the whole gauntlet, as a warm Lambda keeps them.
 */
export class RecordGauntlet {
  /** Download handlers, one per language, delivery and mode (see {@link downloadHandler}). */
  private readonly downloadHandlers = new Map<string, Promise<DownloadRun>>();
  /** Windows whose shared object was downloaded once already (per table or log group), see {@link downloadProblems}. */
  private readonly primed = new Set<string>();
  /** How often each event ID was made a download, per counter, language and delivery. */
  private readonly eventIds = new Map<string, number>();
  private readonly snsClient: SNSClient;
  private readonly dynamodb: DynamoDBClient;
  private readonly logs: FakeCloudWatchLogs;
  private readonly logsClient: CloudWatchLogsClient;
  private readonly windowAt = windowCalculator(RESET);

  private constructor(
    private readonly sns: FakeSns,
    private readonly db: LocalDynamoDb,
  ) {
    this.snsClient = sns.client();
    this.dynamodb = db.client();
    // No quota: the logs counter's throttling is proved elsewhere; here every record is counted at once.
    this.logs = new FakeCloudWatchLogs({ logGroupName: TRAIL_LOG_GROUP, clock: systemClock, requestsPerSecond: 1e9 });
    this.logsClient = this.logs.client();
  }

  static async start(): Promise<RecordGauntlet> {
    const [sns, db] = await Promise.all([FakeSns.start([ALERT_TOPIC, DISPATCH_TOPIC]), LocalDynamoDb.start()]);
    return new RecordGauntlet(sns, db);
  }

  async stop(): Promise<void> {
    this.snsClient.destroy();
    this.dynamodb.destroy();
    this.logsClient.destroy();
    await Promise.all([this.sns.stop(), this.db.stop()]);
  }

  private async invoke(handler: (event: unknown) => Promise<unknown>, event: unknown, logger: Invocation["logger"], metrics: Invocation["metrics"]): Promise<Invocation> {
    this.sns.published.splice(0);
    const run: Invocation = { published: [], logger, metrics };
    try {
      run.result = await handler(event);
    } catch (error) {
      run.error = error instanceof Error ? error : new Error(`non-Error thrown: ${String(error)}`);
    }
    run.published = this.sns.published.splice(0);
    return run;
  }

  private notifier(criteria: ActivityCriteria, language: Language) {
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const handler = userActivityHandler({ topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language, criteria, chatNotifications: true }, { sns: this.snsClient, logger, metrics });
    return { handler, logger, metrics };
  }

  /**
   * The UserActivityNotifier (no journal, no grouping) on one record: rejected by name when unusable, otherwise one
   * notification when the criteria select it (checked with {@link activityMatches}), none when they do not.
   */
  async notifierProblems(item: GauntletRecord, language: Language, delivery: Delivery, criteria: ActivityCriteria): Promise<string[]> {
    const { handler, logger, metrics } = this.notifier(criteria, language);
    const event = delivery === "eventbridge" ? asEventBridgeEvent(item.record, `eb-${item.index}`) : subscriptionPayload([JSON.stringify(item.record)]);
    const run = await this.invoke(handler, event, logger, metrics);
    const problems = [...invocationProblems(run, [item.record]), ...rejectionProblems(run, item.record)];
    const result = run.result as UserActivityResult | undefined;
    if (result !== undefined && result.records + result.rejected !== 1) {
      problems.push(`one record in, ${result.records} decoded and ${result.rejected} rejected`);
    }
    const selected = rejectionExpected(item.record) === undefined && activityMatches(item.record as CloudTrailRecord, criteria);
    if (run.error === undefined && run.published.length !== (selected ? 1 : 0)) {
      problems.push(`${selected ? "a selected" : "an unselected"} record sent ${run.published.length} notifications`);
    }
    for (const message of run.published) {
      const document = JSON.parse(message.message) as { default: string; https: string };
      problems.push(...renderedProblems(item.record, [["email", document.default], ["chat notification", document.https]]));
    }
    return problems;
  }

  /**
   * The UserActivityNotifier (no journal, no grouping) on all `items` in one subscription payload: it notifies each
   * event the criteria select once, and rejects exactly the unusable records.
   */
  async notifierBatchProblems(items: readonly GauntletRecord[], language: Language, criteria: ActivityCriteria): Promise<string[]> {
    const { handler, logger, metrics } = this.notifier(criteria, language);
    const run = await this.invoke(handler, subscriptionPayload(items.map((i) => JSON.stringify(i.record))), logger, metrics);
    const problems = invocationProblems(run, items.map((i) => i.record));
    const notified = new Set(run.published.map(notifiedEventId));
    const expected = new Set(selectedEventIds(items, criteria).map(chatId));
    const missing = [...expected].filter((id) => !notified.has(id));
    const byEventId = recordsByEventId(items);
    if (missing.length > 0 || notified.size !== expected.size || run.published.length !== expected.size) {
      problems.push(`the batch sent ${run.published.length} notifications of ${notified.size} events, ${expected.size} selected; missing ${named(missing, byEventId)}`);
    }
    for (const message of run.published) {
      const document = JSON.parse(message.message) as { default: string; https: string };
      const item = byEventId.get(notifiedEventId(message));
      const found = renderedProblems(item?.record, [["email", document.default], ["chat notification", document.https]]);
      problems.push(...found.map((problem) => `${item === undefined ? "(no record named)" : `#${item.index} ${item.from}`}: ${problem}`));
    }
    const unusable = items.filter((i) => rejectionExpected(i.record) !== undefined);
    if (rejections(run).length !== unusable.length) {
      problems.push(`the batch rejected ${rejections(run).length} records, ${unusable.length} are unusable (${unusable.map((i) => `#${i.index} ${i.from}`).join(", ")}): ${rejections(run).join("; ")}`);
    }
    return problems;
  }

  /**
   * The UserActivityNotifier with its sent journal and burst grouping on dynalite, in three rounds on a stepped clock:
   * every record (EventBridge: one event each; logs: one payload), then each usable record again under another event
   * ID (`again-<index>`, counted into its key's open window), then, past the window, the scheduled sweep, whose
   * summaries are published in both languages. Every notification and summary is checked as above, each problem named by the records it shows; every selected event
   * ends up in a notification or in a summary's count, each once.
   */
  async groupedNotifierProblems(items: readonly GauntletRecord[], language: Language, delivery: Delivery, criteria: ActivityCriteria): Promise<string[]> {
    const tableName = await this.db.createSentJournalTable();
    const clock = new SteppedClock(BURST_START);
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const settings: UserActivitySettings = { topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language, criteria, chatNotifications: true, sentTableName: tableName, burst: BURST };
    const journal = dynamoDbSentJournal(this.dynamodb, tableName, undefined, () => clock.now());
    // Summaries are sent in both languages (whatever the notifier's), so that each run renders every summary twice.
    const publishers = LANGUAGES.map((l) => summaryPublisher({ ...settings, language: l }, this.snsClient));
    const bursts = dynamoDbBurstGate(this.dynamodb, tableName, BURST, async (summary) => {
      for (const publish of publishers) await publish(summary);
    }, clock);
    const handler = userActivityHandler(settings, { sns: this.snsClient, logger, metrics, journal, bursts });
    const again = items.filter((i) => rejectionExpected(i.record) === undefined).map((i) => ({ ...i, record: withEventId(i.record, `again-${i.index}`) }));
    const byEventId = recordsByEventId([...items, ...again]);
    const problems: string[] = [];
    const totals = { matched: 0, published: 0, counted: 0, heldBack: 0, alreadySent: 0, summaries: 0 };
    const summarised: Record<Language, number> = { ja: 0, en: 0 };
    const check = (run: Invocation, records: readonly GauntletRecord[]) => {
      const where = records.length === 1 ? `#${records[0].index} ${records[0].from}` : records.length === 0 ? "sweep" : `batch of ${records.length}`;
      // What it published is checked message by message below, each named by the records it shows.
      problems.push(...invocationProblems(run, records.map((r) => r.record), false).map((problem) => `${where}: ${problem}`));
      logger.lines.splice(0);
      metrics.counts.splice(0);
      const result = run.result as UserActivityResult | undefined;
      for (const key of ["matched", "published", "counted", "heldBack", "alreadySent", "summaries"] as const) totals[key] += result?.[key] ?? 0;
      for (const message of run.published) {
        const document = JSON.parse(message.message) as { default: string; https: string };
        const shown = [...new Set([notifiedEventId(message), ...linkedEventIds(document.default)].map((id) => byEventId.get(id)))].filter((i): i is GauntletRecord => i !== undefined);
        const names = shown.length === 0 ? "(no record named)" : shown.map((i) => `#${i.index} ${i.from}`).join(", ");
        const parts: Array<[string, string]> = [["subject", message.subject ?? ""], ["email", document.default], ["chat notification", document.https]];
        const isSummary = (JSON.parse(document.https) as { id?: string }).id === undefined;
        const found = isSummary ? summaryProblems(parts, shown) : renderedProblems(shown[0]?.record, parts);
        for (const l of isSummary ? LANGUAGES : []) summarised[l] += summaryCount(document.default, l) ?? 0;
        problems.push(...found.map((problem) => `${names}: ${isSummary ? "summary " : ""}${problem}`));
      }
    };
    for (const round of [items, again]) {
      if (delivery === "logs") {
        check(await this.invoke(handler, subscriptionPayload(round.map((i) => JSON.stringify(i.record))), logger, metrics), round);
      } else {
        for (const item of round) check(await this.invoke(handler, asEventBridgeEvent(item.record, `eb-${item.index}`), logger, metrics), [item]);
      }
      await clock.sleep(1000);
    }
    clock.set(BURST_START + (BURST.windowSeconds + 60) * 1000);
    check(await this.invoke(handler, { ...BURST_SWEEP_EVENT }, logger, metrics), []);
    const selected = new Set(selectedEventIds([...items, ...again], criteria));
    if (totals.matched - totals.alreadySent !== selected.size || totals.published + totals.counted + totals.heldBack !== selected.size) {
      problems.push(`${selected.size} selected events, ${JSON.stringify(totals)}`);
    }
    for (const l of LANGUAGES) {
      if (summarised[l] !== totals.counted + totals.heldBack || (selected.size > 0 && totals.counted === 0)) {
        problems.push(`${totals.counted + totals.heldBack} events counted or held back, the summaries in ${l} count ${summarised[l]}`);
      }
    }
    return problems;
  }

  /** The LogSubscriptionDispatcher on one record (or, with several, a batch): each usable record forwarded as it came. */
  async dispatcherProblems(items: readonly GauntletRecord[], criteria: ActivityCriteria): Promise<string[]> {
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const routes = [
      { key: "download", patterns: [downloadRecordPattern(WATCHES)] },
      { key: "activity", patterns: activityPrefilter(criteria).patterns },
    ];
    const handler = logDispatchHandler({ topicArn: DISPATCH_TOPIC, routes }, { sns: this.snsClient, logger, metrics });
    const run = await this.invoke(handler, subscriptionPayload(items.map((i) => JSON.stringify(i.record))), logger, metrics);
    // What it publishes is base64 of gzip (which may spell NaN by chance): the records it carries are checked instead.
    const problems = invocationProblems(run, items.map((i) => i.record), false);
    const unusable = items.filter((i) => rejectionExpected(i.record) !== undefined).length;
    if (rejections(run).length !== unusable) {
      problems.push(`rejected ${rejections(run).length} records, ${unusable} are unusable: ${rejections(run).join("; ")}`);
    }
    const sent = new Set(items.map((i) => JSON.stringify(i.record)));
    for (const message of run.published) {
      if (message.attributes?.[CONSUMER_ATTRIBUTE] === undefined) {
        problems.push("forwarded without a consumer attribute");
      }
      const data = (JSON.parse(message.message) as { awslogs: { data: string } }).awslogs.data;
      const { logEvents } = JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) as { logEvents: Array<{ message: string }> };
      for (const { message: forwarded } of logEvents) {
        // As it came, or (too large for one SNS message) with its longest values cut, saying so.
        if (!sent.has(forwarded) && !/cut \d+ characters to forward|bytes left out/.test(forwarded)) {
          problems.push(`forwarded a record it was not given: ${forwarded.slice(0, 200)}`);
        }
      }
    }
    return problems;
  }

  /**
   * The download handler of a language, delivery and mode, built once like a warm Lambda environment (the DynamoDB
   * counter remembers which entries it may release); its logger and metrics are emptied for each invocation.
   */
  private downloadHandler(language: Language, delivery: Delivery, mode: DownloadMode): Promise<DownloadRun> {
    const name = `gauntlet-${language}-${delivery}-${mode}`;
    if (!this.downloadHandlers.has(name)) {
      this.downloadHandlers.set(name, (async () => {
        const logger = recordingLogger();
        const metrics = recordingMetrics();
        const counter = mode === "logs" ? { kind: "logs" as const, logGroupName: TRAIL_LOG_GROUP } : { kind: "dynamodb" as const, tableName: await this.db.createCountsTable(name) };
        const handler = downloadThresholdHandler(
          { watches: WATCHES, reset: RESET, notify: "every", counter, topicArn: ALERT_TOPIC, language, timeZone: "Asia/Tokyo", timeBudgetMs: 10_000 },
          { sns: this.snsClient, dynamodb: this.dynamodb, logs: this.logsClient, logger, metrics },
        );
        return { handler, logger, metrics };
      })());
    }
    return this.downloadHandlers.get(name)!.then((run) => {
      run.logger.lines.splice(0);
      run.metrics.counts.splice(0);
      return run;
    });
  }

  /**
   * Makes `record` the second download of its window's object: each counting window has one object of the watched
   * bucket (`<language>/<delivery>/<window start>`), downloaded once at the window's start (through the handler with
   * the DynamoDB counter, into the trail's log group for the logs counter) before the first record of that window.
   * Returns the record as a download; unchanged when it is not an object, `window` undefined without a usable time.
   */
  private async primedDownload(item: GauntletRecord, language: Language, delivery: Delivery, mode: "dynamodb" | "logs"): Promise<unknown> {
    const time = isObject(item.record) && typeof item.record.eventTime === "string" ? Date.parse(item.record.eventTime) : NaN;
    let window: { start: Date } | undefined;
    try {
      window = Number.isNaN(time) ? undefined : this.windowAt(new Date(time));
    } catch {
      window = undefined;
    }
    // AWS's examples reuse event IDs: a second download with the same ID of the same object would be a redelivery.
    const eventID = isObject(item.record) ? JSON.stringify(item.record.eventID) : "";
    const reused = this.eventIds.get(`${mode}/${language}/${delivery}/${eventID}`) ?? 0;
    this.eventIds.set(`${mode}/${language}/${delivery}/${eventID}`, reused + 1);
    const key = `${language}/${delivery}/${window === undefined ? `record-${item.index}` : window.start.toISOString()}${reused === 0 ? "" : `-${reused}`}.pdf`;
    const record = asWatchedDownload(item.record, key);
    const primer = `${mode}/${key}`;
    if (window === undefined || this.primed.has(primer)) {
      return record;
    }
    this.primed.add(primer);
    // The first download: a plain one (the record itself may be unusable), first in the window and in event ID order.
    const first = {
      eventVersion: "1.10",
      userIdentity: { type: "IAMUser", principalId: "AIDAEXAMPLEPRIMER", arn: "arn:aws:iam::111111111111:user/primer", accountId: "111111111111", userName: "primer" },
      eventTime: window.start.toISOString().replace(/\.\d+Z$/, "Z"),
      eventSource: "s3.amazonaws.com",
      eventName: "GetObject",
      awsRegion: "ap-northeast-1",
      requestParameters: { bucketName: GAUNTLET_BUCKET, key },
      eventID: ` primer ${key}`,
      eventType: "AwsApiCall",
    };
    if (mode === "logs") {
      this.logs.add([{ timestamp: window.start.getTime(), message: JSON.stringify(first) }]);
    } else {
      const { handler } = await this.downloadHandler(language, delivery, mode);
      await handler(subscriptionPayload([JSON.stringify(first)]));
    }
    return record;
  }

  /**
   * The DownloadThresholdAlert on one record as it is (counted if it is a watched download, else ignored or rejected),
   * or made a download of a watched object past its threshold (see {@link primedDownload}) counted by the DynamoDB or
   * the logs counter, which must be alerted with the record's own identity, time and addresses.
   */
  async downloadProblems(item: GauntletRecord, language: Language, delivery: Delivery, mode: DownloadMode): Promise<string[]> {
    const record = mode === "as-is" ? item.record : await this.primedDownload(item, language, delivery, mode);
    const { handler, logger, metrics } = await this.downloadHandler(language, delivery, mode);
    const event = delivery === "eventbridge" ? asEventBridgeEvent(record, `eb-${item.index}`) : subscriptionPayload([JSON.stringify(record)]);
    const run = await this.invoke(handler, event, logger, metrics);
    // Reasons only the download handler has: a time the reset schedule has no window for (year 0 or 9999), and a
    // successful GetObject that names no object.
    const windowless = (reason: string) => reason.includes("has no counting window");
    const downloadOnly = (reason: string) => windowless(reason) || reason.startsWith("the S3 GetObject record has no requestParameters.bucketName");
    const problems = [...invocationProblems(run, [record]), ...rejectionProblems(run, record, downloadOnly)];
    const result = run.result as DownloadThresholdResult | undefined;
    if (result !== undefined && result.counted + result.notCounted + result.ignored + result.rejected !== 1) {
      problems.push(`one record in, accounted as ${JSON.stringify(result)}`);
    }
    for (const message of run.published) {
      problems.push(...renderedProblems(record, [["alert subject", message.subject ?? ""], ["alert", message.message]]));
    }
    const windowed = !rejections(run).some(windowless);
    if (mode !== "as-is" && rejectionExpected(record) === undefined && windowed && run.published.length !== 1) {
      problems.push(`a usable download past its threshold sent ${run.published.length} alerts`);
    }
    return problems;
  }
}

/** The distinct event IDs of the usable records among `items` that `criteria` select. */
export function selectedEventIds(items: readonly GauntletRecord[], criteria: ActivityCriteria): string[] {
  const usable = items.filter((i) => rejectionExpected(i.record) === undefined).map((i) => i.record as CloudTrailRecord);
  return [...new Set(usable.filter((record) => activityMatches(record, criteria)).map((record) => record.eventID))];
}

/** The count a summary's email states (`Counted: 37`, `件数: 37`). */
function summaryCount(email: string, language: Language): number | undefined {
  const match = new RegExp(`^${language === "ja" ? "件数" : "Counted"}: (\\d+)$`, "m").exec(email);
  return match === null ? undefined : Number(match[1]);
}

/** Problems of a burst summary of `shown` records: rendering faults, links to events it does not summarise. */
function summaryProblems(parts: Array<[string, string]>, shown: readonly GauntletRecord[]): string[] {
  const problems: string[] = [];
  for (const [part, text] of parts) {
    const faults = renderingFaults(text, ...shown.map((i) => i.record));
    if (faults.length > 0) {
      problems.push(`${part} prints ${faults.join(", ")}: ${JSON.stringify(text.slice(0, 300))}`);
    }
  }
  if (LANGUAGES.every((language) => summaryCount(parts[1][1], language) === undefined)) {
    problems.push(`states no count: ${JSON.stringify(parts[1][1].slice(0, 300))}`);
  }
  if (!/^[\x21-\x7e][\x20-\x7e]{0,98}$/.test(parts[0][1])) {
    problems.push(`subject is not SNS's ASCII line: ${JSON.stringify(parts[0][1])}`);
  }
  return problems;
}

/**
 * Runs CloudTrail records, however odd, through every handler that can receive them, and says what went wrong with
 * each: the formatter (`formatActivity` and the chat notification), the UserActivityNotifier (as an EventBridge event
 * and in a CloudWatch Logs subscription payload), the LogSubscriptionDispatcher, and the DownloadThresholdAlert (as the
 * record is, and re-labelled as a download of a watched object, so that its alert renders the record's identity, time
 * and addresses). Alerts go to the loopback SNS, the download counter to dynalite.
 *
 * What must hold for every record: no handler throws; nothing it publishes or logs prints `undefined`, `NaN`,
 * `Invalid Date` or `[object Object]` (unless the record itself holds that text); a missing event ID means no console
 * link; a record is rejected (its reason logged, counted in RejectedInput) exactly when {@link rejectionExpected} says
 * a handler may not use it, and every other record is processed, alone or in a batch with unusable ones.
 */
import { gunzipSync } from "zlib";

import { activityPrefilter, DETAIL_TYPE_OF_EVENT_TYPE } from "../components/activityPatterns";
import { downloadRecordPattern, downloadThresholdHandler, type WatchedObject } from "../functions/downloadThreshold";
import { CONSUMER_ATTRIBUTE, logDispatchHandler } from "../functions/logDispatch/handler";
import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import type { Language } from "../functions/shared/readableEvent";
import { REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC } from "../functions/shared/runtime";
import type { ActivityCriteria } from "../functions/userActivity/criteria";
import { activityChatNotification, formatActivity } from "../functions/userActivity/format";
import { userActivityHandler } from "../functions/userActivity/handler";
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
 * Criteria that select every person-made call of the records' event sources, with exclusions that never match (so
 * that the who-matching runs on every record).
 */
export function criteriaSelecting(records: readonly unknown[]): ActivityCriteria {
  const sources = [...new Set(records.map((r) => (isObject(r) ? r.eventSource : undefined)).filter((s): s is string => typeof s === "string" && EVENT_SOURCE.test(s)))];
  return {
    ...(sources.length === 0 ? { presets: ["console-sign-in"] } : { eventSources: sources }),
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

/** The event a notification is about: the ID of its chat notification (never cut, unlike a long email). */
function notifiedEventId(message: PublishedMessage): string {
  const chat = JSON.parse((JSON.parse(message.message) as { https: string }).https) as { id?: string };
  return chat.id ?? "(no id)";
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

/** How a record reaches a handler. */
export type Delivery = "eventbridge" | "logs";

/**
 * The fakes the handlers run against and the handler runs, each returning the problems found (empty when the handler
 * dealt with its input as it must).
 */
export class RecordGauntlet {
  /** Counter tables, one per language and delivery (object keys are distinct per record). */
  private readonly tables = new Map<string, Promise<string>>();

  private constructor(
    private readonly sns: FakeSns,
    private readonly db: LocalDynamoDb,
  ) {}

  static async start(): Promise<RecordGauntlet> {
    const [sns, db] = await Promise.all([FakeSns.start([ALERT_TOPIC, DISPATCH_TOPIC]), LocalDynamoDb.start()]);
    return new RecordGauntlet(sns, db);
  }

  async stop(): Promise<void> {
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
    const handler = userActivityHandler({ topicArn: ALERT_TOPIC, timeZone: "Asia/Tokyo", language, criteria, chatNotifications: true }, { sns: this.sns.client(), logger, metrics });
    return { handler, logger, metrics };
  }

  /** The UserActivityNotifier on one record; `notified` receives the event ID of each notification it published. */
  async notifierProblems(item: GauntletRecord, language: Language, delivery: Delivery, criteria: ActivityCriteria, notified?: (eventID: string) => void): Promise<string[]> {
    const { handler, logger, metrics } = this.notifier(criteria, language);
    const event = delivery === "eventbridge" ? asEventBridgeEvent(item.record, `eb-${item.index}`) : subscriptionPayload([JSON.stringify(item.record)]);
    const run = await this.invoke(handler, event, logger, metrics);
    const problems = [...invocationProblems(run, [item.record]), ...rejectionProblems(run, item.record)];
    const result = run.result as { records: number; rejected: number; published: number } | undefined;
    if (result !== undefined && result.records + result.rejected !== 1) {
      problems.push(`one record in, ${result.records} decoded and ${result.rejected} rejected`);
    }
    for (const message of run.published) {
      const document = JSON.parse(message.message) as { default: string; https: string };
      problems.push(...renderedProblems(item.record, [["email", document.default], ["chat notification", document.https]]));
      notified?.(notifiedEventId(message));
    }
    return problems;
  }

  /** The UserActivityNotifier on all `items` in one subscription payload: the same notifications as one by one. */
  async notifierBatchProblems(items: readonly GauntletRecord[], language: Language, criteria: ActivityCriteria, notifiedAlone: ReadonlySet<string>): Promise<string[]> {
    const { handler, logger, metrics } = this.notifier(criteria, language);
    const run = await this.invoke(handler, subscriptionPayload(items.map((i) => JSON.stringify(i.record))), logger, metrics);
    const problems = invocationProblems(run, items.map((i) => i.record));
    const notified = new Set(run.published.map(notifiedEventId));
    const missing = [...notifiedAlone].filter((id) => !notified.has(id));
    if (missing.length > 0 || notified.size !== notifiedAlone.size) {
      problems.push(`the batch notified ${notified.size} events, one by one ${notifiedAlone.size}; missing ${JSON.stringify(missing)}`);
    }
    const unusable = items.filter((i) => rejectionExpected(i.record) !== undefined).length;
    if (rejections(run).length !== unusable) {
      problems.push(`the batch rejected ${rejections(run).length} records, ${unusable} are unusable`);
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
    const handler = logDispatchHandler({ topicArn: DISPATCH_TOPIC, routes }, { sns: this.sns.client(), logger, metrics });
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

  private async downloadHandler(language: Language, delivery: Delivery) {
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const name = `gauntlet-${language}-${delivery}`;
    if (!this.tables.has(name)) {
      this.tables.set(name, this.db.createCountsTable(name));
    }
    const tableName = await this.tables.get(name)!;
    const handler = downloadThresholdHandler(
      { sns: this.sns.client(), dynamodb: this.db.client(), logger, metrics },
      { watches: WATCHES, reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter: { kind: "dynamodb", tableName }, topicArn: ALERT_TOPIC, language, timeZone: "Asia/Tokyo" },
    );
    return { handler, logger, metrics };
  }

  /**
   * The DownloadThresholdAlert on one record as it is (`asDownload` false: counted if it is a watched download, else
   * ignored or rejected), or re-labelled as the second download of a watched object within its window, which must be
   * alerted with the record's own identity, time and addresses.
   */
  async downloadProblems(item: GauntletRecord, language: Language, delivery: Delivery, asDownload: boolean): Promise<string[]> {
    const { handler, logger, metrics } = await this.downloadHandler(language, delivery);
    const key = `corpus/${item.index}.pdf`;
    const record = asDownload ? asWatchedDownload(item.record, key) : item.record;
    const wrap = (r: unknown, id: string) => (delivery === "eventbridge" ? asEventBridgeEvent(r, id) : subscriptionPayload([JSON.stringify(r)]));
    if (asDownload && isObject(record)) {
      // The first download of the object in the window; the record under test is the second, past the threshold of 1.
      const primer = await this.downloadHandler(language, delivery);
      await this.invoke(primer.handler, wrap({ ...record, eventID: `primer-${item.index}` }, `eb-primer-${item.index}`), primer.logger, primer.metrics);
    }
    const run = await this.invoke(handler, wrap(record, `eb-${item.index}`), logger, metrics);
    // Reasons only the download handler has: a time the reset schedule has no window for (year 0 or 9999), and a
    // successful GetObject that names no object.
    const windowless = (reason: string) => reason.includes("has no counting window");
    const downloadOnly = (reason: string) => windowless(reason) || reason.startsWith("the S3 GetObject record has no requestParameters.bucketName");
    const problems = [...invocationProblems(run, [record]), ...rejectionProblems(run, record, downloadOnly)];
    const result = run.result as { counted: number; notCounted: number; ignored: number; rejected: number; alerted: number } | undefined;
    if (result !== undefined && result.counted + result.notCounted + result.ignored + result.rejected !== 1) {
      problems.push(`one record in, accounted as ${JSON.stringify(result)}`);
    }
    for (const message of run.published) {
      problems.push(...renderedProblems(record, [["alert subject", message.subject ?? ""], ["alert", message.message]]));
    }
    const windowed = !rejections(run).some(windowless);
    if (asDownload && rejectionExpected(record) === undefined && windowed && run.published.length !== 1) {
      problems.push(`a usable download past its threshold sent ${run.published.length} alerts`);
    }
    return problems;
  }
}

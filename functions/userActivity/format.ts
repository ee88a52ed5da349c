/**
 * How a UserActivityNotifier writes one CloudTrail record: a few labelled lines in Japanese or English, the time in
 * the configured zone, who did it, on what, whether it failed, and a link to the event; as the email (an ASCII
 * subject and a body that fits SNS) and as the Amazon Q Developer chat notification.
 */
import { chatNotification } from "./chatNotification";
import { type CloudTrailRecord, consoleLinkOf } from "../shared/cloudtrailEvents";
import {
  callName,
  describePrincipal,
  describeTarget,
  failureOf,
  formatEventTime,
  identifyPrincipal,
  type Language,
  oneLine,
  principalName,
  redactHidden,
  textOf,
} from "../shared/readableEvent";
import { type Alert, fitSnsMessage, SNS_MESSAGE_MAX_BYTES, SNS_SUBJECT_MAX_LENGTH, snsSubject } from "../shared/snsAlert";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** How notifications are written. */
export interface FormatOptions {
  /** IANA time zone times are shown in, for example `Asia/Tokyo`. */
  timeZone: string;
  language: Language;
}

const LABELS = {
  ja: {
    time: "発生時刻",
    region: "リージョン",
    eventSource: "イベント",
    eventName: "イベントネーム",
    principal: "ユーザネーム",
    sourceIp: "接続元IPアドレス",
    userAgent: "ユーザーエージェント",
    target: "対象リソース",
    account: "アカウント",
    mfa: "MFA 使用",
    error: "エラー",
    link: "CloudTrail",
    request: "リクエストパラメータ",
  },
  en: {
    time: "Time",
    region: "Region",
    eventSource: "Event source",
    eventName: "Event name",
    principal: "Principal",
    sourceIp: "Source IP address",
    userAgent: "User agent",
    target: "Target resource",
    account: "Account",
    mfa: "MFA used",
    error: "Error",
    link: "CloudTrail",
    request: "Request parameters",
  },
} as const satisfies Record<Language, Record<string, string>>;

/** The readable pieces of one record, from which the email body and the chat notification are written. */
export interface ActivityParts {
  /** One sentence saying who did what where (and whether it failed). */
  summary: string;
  /** Labelled lines, in order. */
  lines: Array<{ label: string; value: string }>;
  /** The event in the CloudTrail console; undefined for a record without an event ID or Region. */
  link?: string;
  /** The request parameters as indented JSON, secrets removed; undefined when there are none. */
  details?: { label: string; json: string };
  /** The ASCII subject. */
  subject: string;
  /** The resource the call acted on, when the record names one. */
  target?: string;
}

/** A value as one line of a notification: the text on one line, or "-" when there is none (missing, empty, not text). */
function lineValueOrDash(value: unknown): string {
  return typeof value === "string" && oneLine(value) !== "" ? oneLine(value) : "-";
}

function summaryOf(record: CloudTrailRecord, who: string, failure: { code?: string } | undefined, language: Language): string {
  const action = callName(record, language);
  const code = failure?.code === undefined ? "" : ` (${failure.code})`;
  const region = textOf(record.awsRegion);
  if (record.eventName === "ConsoleLogin") {
    if (language === "ja") {
      return failure ? `${who} が AWS マネジメントコンソールへのサインインに失敗しました${code}。` : `${who} が AWS マネジメントコンソールにサインインしました。`;
    }
    return failure ? `${who} failed to sign in to the AWS Management Console${code}.` : `${who} signed in to the AWS Management Console.`;
  }
  if (language === "ja") {
    const where = region === undefined ? "" : ` ${region} で`;
    return failure ? `${who} が${where} ${action} を実行しようとしましたが、失敗しました${code}。` : `${who} が${where} ${action} を実行しました。`;
  }
  const where = region === undefined ? "" : ` in ${region}`;
  return failure ? `${who} tried to call ${action}${where}, and it failed${code}.` : `${who} called ${action}${where}.`;
}

/**
 * The ASCII subject: `[ap-northeast-1] ssm:StartSession by hogehoge`, `[us-east-1] FAILED signin:ConsoleLogin by root`.
 * At most 99 characters and one line; when too long, the caller's name is shortened first.
 */
export function activitySubject(record: CloudTrailRecord): string {
  const failure = failureOf(record);
  const region = textOf(record.awsRegion);
  const head = snsSubject(`${region === undefined ? "" : `[${region}] `}${failure ? "FAILED " : ""}${callName(record)}`);
  const who = principalName(record.userIdentity);
  const code = failure?.code === undefined ? "" : snsSubject(` (${failure.code})`);
  const full = snsSubject(`${head} by ${who}`);
  if (full.length + (code === "" ? 0 : code.length + 1) <= SNS_SUBJECT_MAX_LENGTH) {
    return code === "" ? full : `${full} ${code}`;
  }
  if (full.length <= SNS_SUBJECT_MAX_LENGTH) {
    return full;
  }
  const room = SNS_SUBJECT_MAX_LENGTH - head.length - " by ".length - "...".length;
  return room >= 4 ? `${head} by ${who.slice(0, room)}...` : snsSubject(head);
}

/** Splits a record into the readable parts both the email and the chat notification are written from. */
export function activityParts(record: CloudTrailRecord, options: FormatOptions): ActivityParts {
  const labels = LABELS[options.language];
  const who = oneLine(describePrincipal(record.userIdentity, options.language));
  const failure = failureOf(record);
  const target = describeTarget(record);
  const identity: { accountId?: unknown } = typeof record.userIdentity === "object" && record.userIdentity !== null ? record.userIdentity : {};
  // Without a recipient account or the identity's accountId, the account its ARN names.
  const account = textOf(record.recipientAccountId) ?? textOf(identity.accountId) ?? identifyPrincipal(record.userIdentity).accountId;
  const lines: ActivityParts["lines"] = [
    { label: labels.time, value: formatEventTime(record.eventTime, options.timeZone) ?? "-" },
    { label: labels.region, value: lineValueOrDash(record.awsRegion) },
    { label: labels.eventSource, value: lineValueOrDash(record.eventSource) },
    { label: labels.eventName, value: lineValueOrDash(record.eventName) },
    { label: labels.principal, value: who },
    { label: labels.sourceIp, value: lineValueOrDash(record.sourceIPAddress) },
    { label: labels.userAgent, value: lineValueOrDash(record.userAgent) },
    { label: labels.target, value: lineValueOrDash(target) },
    { label: labels.account, value: lineValueOrDash(account) },
  ];
  const mfa = (record.additionalEventData as { MFAUsed?: unknown } | null | undefined)?.MFAUsed;
  if (record.eventName === "ConsoleLogin" && typeof mfa === "string") {
    lines.push({ label: labels.mfa, value: lineValueOrDash(mfa) });
  }
  if (failure) {
    lines.push({ label: labels.error, value: oneLine([failure.code, failure.message].filter((p) => p !== undefined).join(": ")) || "-" });
  }
  const params = redactHidden(record.requestParameters ?? undefined);
  const details =
    typeof params === "object" && params !== null && Object.keys(params).length > 0
      ? { label: labels.request, json: JSON.stringify(params, null, 2) }
      : undefined;
  const link = consoleLinkOf(record);
  return {
    summary: oneLine(summaryOf(record, who, failure, options.language)),
    lines,
    ...(link === undefined ? {} : { link }),
    ...(details === undefined ? {} : { details }),
    subject: activitySubject(record),
    ...(target === undefined ? {} : { target: oneLine(target) }),
  };
}

const CUT_NOTE = {
  ja: (bytes: number) => `(長すぎるため以降を省略しました。元の長さは ${bytes} バイトです。全文は上のリンクから CloudTrail で確認できます。)`,
  en: (bytes: number) => `(cut: the rest is too long for a notification; it was ${bytes} bytes. See the full event in CloudTrail through the link above.)`,
};

/** Cuts `text` so that it takes at most `maxBytes` of UTF-8, between characters. */
function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) {
    return text;
  }
  let end = Math.max(0, maxBytes);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) {
    end -= 1;
  }
  return bytes.subarray(0, end).toString("utf8");
}

/** Renders the parts as the email body; the request parameters are cut, with a note, so the whole fits `maxBytes`. */
export function renderActivityMessage(parts: ActivityParts, language: Language, maxBytes = SNS_MESSAGE_MAX_BYTES): string {
  const labels = LABELS[language];
  const link = parts.link === undefined ? [] : [`${labels.link}: ${parts.link}`];
  const head = [parts.summary, "", ...parts.lines.map(({ label, value }) => `${label}: ${value}`), ...link].join("\n");
  if (parts.details === undefined) {
    return fitSnsMessage(head, maxBytes);
  }
  const intro = `${head}\n\n${parts.details.label}:\n`;
  const full = `${intro}${parts.details.json}`;
  const fullBytes = Buffer.byteLength(full, "utf8");
  if (fullBytes <= maxBytes) {
    return full;
  }
  const note = `\n${CUT_NOTE[language](Buffer.byteLength(parts.details.json, "utf8"))}`;
  const room = maxBytes - Buffer.byteLength(intro, "utf8") - Buffer.byteLength(note, "utf8");
  // The labelled lines and the link always come through whole; only the request parameters are shortened.
  return fitSnsMessage(`${intro}${cutToBytes(parts.details.json, room)}${note}`, maxBytes);
}

/**
 * The notification for one CloudTrail record: an ASCII subject that says what happened and who
 * (`[ap-northeast-1] ssm:StartSession by hogehoge`), and a body of labelled lines in the chosen language with the time
 * in the chosen zone, the target resource, the error of a failed call and a link to the event; secrets and values
 * CloudTrail hid never appear. The message fits SNS's 262,144 bytes: a huge event's request parameters are cut with a
 * visible note.
 */
export function formatActivity(record: CloudTrailRecord, options: FormatOptions): Alert {
  const parts = activityParts(record, options);
  return { subject: parts.subject, message: renderActivityMessage(parts, options.language) };
}

/** The Amazon Q Developer custom notification for a record (Slack, Microsoft Teams). */
export function activityChatNotification(record: CloudTrailRecord, options: FormatOptions): string {
  const parts = activityParts(record, options);
  const labels = LABELS[options.language];
  const principal = identifyPrincipal(record.userIdentity);
  const eventID = textOf(record.eventID);
  const region = textOf(record.awsRegion);
  return chatNotification({
    ...(eventID === undefined ? {} : { id: eventID }),
    title: `${parts.lines.some((l) => l.label === labels.error) ? ":warning: " : ""}${parts.summary}`,
    description: parts.lines.map(({ label, value }) => `*${label}*: ${value}`).join("\n"),
    ...(parts.link === undefined ? {} : { nextSteps: [`${labels.link}: ${parts.link}`] }),
    keywords: [...(region === undefined ? [] : [oneLine(region)]), oneLine(callName(record, options.language)), principal.kind],
    summary: parts.subject,
    eventType: "CloudTrailUserActivity",
    ...(parts.target === undefined ? {} : { relatedResources: [parts.target] }),
    ...(eventID === undefined ? {} : { additionalContext: { eventID } }),
  });
}

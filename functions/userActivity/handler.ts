/**
 * The UserActivityNotifier's handler: decodes CloudTrail records (EventBridge events, CloudWatch Logs subscription
 * batches, or batches forwarded by a LogSubscriptionDispatcher), keeps those the criteria ask for, and publishes one
 * readable notification per record: a few labelled lines in Japanese or English, the time in the configured zone,
 * who did it, on what, whether it failed, and a link to the event.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";

import { type ActivityCriteria, activityCriteriaProblems, activityMatches } from "./criteria";
import { chatNotification, publishAlertWithChat } from "./chatNotification";
import { type CloudTrailRecord, cloudTrailConsoleLink, decodeCloudTrailPayload } from "../shared/cloudtrailEvents";
import {
  describePrincipal,
  describeTarget,
  failureOf,
  formatLocalTime,
  identifyPrincipal,
  type Language,
  oneLine,
  principalName,
  redactHidden,
  serviceName,
} from "../shared/readableEvent";
import { assertIsError, consoleLogger, embeddedMetricSink, type Logger, type MetricSink, namedError, reportRejectedInput, requireEnv } from "../shared/runtime";
import { dynamoDbSentJournal, type SentJournal } from "./sentJournal";
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
  /** The event in the CloudTrail console. */
  link: string;
  /** The request parameters as indented JSON, secrets removed; undefined when there are none. */
  details?: { label: string; json: string };
  /** The ASCII subject. */
  subject: string;
  /** The resource the call acted on, when the record names one. */
  target?: string;
}

function shown(value: unknown): string {
  return typeof value === "string" && oneLine(value) !== "" ? oneLine(value) : "-";
}

function summaryOf(record: CloudTrailRecord, who: string, failure: { code?: string } | undefined, language: Language): string {
  const action = `${serviceName(record.eventSource)}:${record.eventName}`;
  const code = failure?.code === undefined ? "" : ` (${failure.code})`;
  if (record.eventName === "ConsoleLogin") {
    if (language === "ja") {
      return failure ? `${who} が AWS マネジメントコンソールへのサインインに失敗しました${code}。` : `${who} が AWS マネジメントコンソールにサインインしました。`;
    }
    return failure ? `${who} failed to sign in to the AWS Management Console${code}.` : `${who} signed in to the AWS Management Console.`;
  }
  if (language === "ja") {
    return failure
      ? `${who} が ${record.awsRegion} で ${action} を実行しようとしましたが、失敗しました${code}。`
      : `${who} が ${record.awsRegion} で ${action} を実行しました。`;
  }
  return failure ? `${who} tried to call ${action} in ${record.awsRegion}, and it failed${code}.` : `${who} called ${action} in ${record.awsRegion}.`;
}

/**
 * The ASCII subject: `[ap-northeast-1] ssm:StartSession by hogehoge`, `[us-east-1] FAILED signin:ConsoleLogin by root`.
 * At most 99 characters and one line; when too long, the caller's name is shortened first.
 */
export function activitySubject(record: CloudTrailRecord): string {
  const failure = failureOf(record);
  const head = snsSubject(`[${record.awsRegion}] ${failure ? "FAILED " : ""}${serviceName(record.eventSource)}:${record.eventName}`);
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
  const lines: ActivityParts["lines"] = [
    { label: labels.time, value: formatLocalTime(record.eventTime, options.timeZone) },
    { label: labels.region, value: shown(record.awsRegion) },
    { label: labels.eventSource, value: shown(record.eventSource) },
    { label: labels.eventName, value: shown(record.eventName) },
    { label: labels.principal, value: who },
    { label: labels.sourceIp, value: shown(record.sourceIPAddress) },
    { label: labels.userAgent, value: shown(record.userAgent) },
    { label: labels.target, value: shown(target) },
    { label: labels.account, value: shown(record.recipientAccountId ?? record.userIdentity.accountId) },
  ];
  const mfa = record.additionalEventData?.MFAUsed;
  if (record.eventName === "ConsoleLogin" && typeof mfa === "string") {
    lines.push({ label: labels.mfa, value: shown(mfa) });
  }
  if (failure) {
    lines.push({ label: labels.error, value: oneLine([failure.code, failure.message].filter((p) => p !== undefined).join(": ")) || "-" });
  }
  const params = redactHidden(record.requestParameters ?? undefined);
  const details =
    typeof params === "object" && params !== null && Object.keys(params).length > 0
      ? { label: labels.request, json: JSON.stringify(params, null, 2) }
      : undefined;
  return {
    summary: oneLine(summaryOf(record, who, failure, options.language)),
    lines,
    link: cloudTrailConsoleLink(record),
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
  const head = [parts.summary, "", ...parts.lines.map(({ label, value }) => `${label}: ${value}`), `${labels.link}: ${parts.link}`].join("\n");
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
  return chatNotification({
    id: record.eventID,
    title: `${parts.lines.some((l) => l.label === labels.error) ? ":warning: " : ""}${parts.summary}`,
    description: parts.lines.map(({ label, value }) => `*${label}*: ${value}`).join("\n"),
    nextSteps: [`${labels.link}: ${parts.link}`],
    keywords: [record.awsRegion, `${serviceName(record.eventSource)}:${record.eventName}`, principal.kind],
    summary: parts.subject,
    eventType: "CloudTrailUserActivity",
    ...(parts.target === undefined ? {} : { relatedResources: [parts.target] }),
    additionalContext: { eventID: record.eventID },
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Handler

/** Everything the handler is configured with (from environment variables in Lambda). */
export interface UserActivitySettings extends FormatOptions {
  topicArn: string;
  criteria: ActivityCriteria;
  /** Also send the Amazon Q Developer custom notification to HTTPS subscribers. */
  chatNotifications: boolean;
  /** The DynamoDB table of the sent journal; without it, notifications are at least once. */
  sentTableName?: string;
}

export interface UserActivityDependencies {
  sns: Pick<SNSClient, "send">;
  logger: Logger;
  metrics: MetricSink;
  /** Remembers the events notified, so that a retry or a redelivery does not notify them again. */
  journal?: SentJournal;
}

/** What one invocation did. */
export interface UserActivityResult {
  /** Records decoded from the payload. */
  records: number;
  /** Records the criteria matched (after removing duplicates within the payload). */
  matched: number;
  published: number;
  /** Matched records the sent journal says were notified before (by an earlier attempt or delivery): skipped. */
  alreadySent: number;
  /** Payloads or records that could not be decoded. */
  rejected: number;
}

/** Notifications published at once. */
const PUBLISH_CONCURRENCY = 4;

/**
 * The handler: one notification per matching record. Bad input is logged with its reason and counted in the
 * `RejectedInput` metric without stopping the rest of the batch. When a publish fails, the other records are still
 * published and the invocation then fails, so Lambda retries it.
 *
 * With a sent journal, each event is notified once across retries and redeliveries: the matching records the journal
 * knows are skipped (logged, counted in `NotificationsAlreadySent`), and each notification SNS accepts is written to
 * the journal, so a retry publishes only what did not go out. When the journal cannot be read, nothing is published
 * and the invocation fails (Lambda retries it: nothing lost). When writing it fails after SNS accepted a notification,
 * the error is logged and counted in `SentJournalWriteFailed`, and the invocation does not fail for it (a retry could
 * only notify again). Still at least once: an invocation killed after SNS accepted a notification but before the
 * journal write, and two deliveries of one event handled at the same time, notify it twice.
 * Without a journal, a retried batch notifies its records that were already published again.
 */
export function userActivityHandler(settings: UserActivitySettings, deps: UserActivityDependencies): (event: unknown) => Promise<UserActivityResult> {
  const { sns, logger, metrics, journal } = deps;
  return async (event) => {
    const payload = decodeCloudTrailPayload(event);
    if (payload.control) {
      logger.info("CloudWatch Logs control message skipped", { source: payload.source });
      return { records: 0, matched: 0, published: 0, alreadySent: 0, rejected: 0 };
    }
    reportRejectedInput(payload.rejected, logger, metrics);

    const seen = new Set<string>();
    const matching = payload.records.filter((record) => {
      if (seen.has(record.eventID) || !activityMatches(record, settings.criteria)) {
        return false;
      }
      seen.add(record.eventID);
      return true;
    });

    let alreadySent = new Set<string>();
    if (journal !== undefined && matching.length > 0) {
      try {
        alreadySent = await journal.sent(matching.map((record) => record.eventID));
      } catch (error) {
        assertIsError(error);
        logger.error("sent journal not readable; nothing published, the invocation fails so that Lambda retries it", { error: `${error.name}: ${error.message}` });
        throw namedError("SentJournalUnavailableError", `the sent journal could not be read (${error.name}: ${error.message}); nothing was published, the invocation fails so that Lambda retries it`);
      }
    }
    if (alreadySent.size > 0) {
      metrics.count("NotificationsAlreadySent", alreadySent.size);
      logger.info("records notified before skipped", { eventIDs: [...alreadySent] });
    }
    const due = matching.filter((record) => !alreadySent.has(record.eventID));

    const failures: Array<{ eventID: string; error: string }> = [];
    let published = 0;
    let unrecorded = 0;
    for (let i = 0; i < due.length; i += PUBLISH_CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + PUBLISH_CONCURRENCY).map(async (record) => {
          try {
            const alert = formatActivity(record, settings);
            const chat = settings.chatNotifications ? activityChatNotification(record, settings) : undefined;
            await publishAlertWithChat(sns, settings.topicArn, alert, chat);
            published += 1;
          } catch (error) {
            assertIsError(error);
            failures.push({ eventID: record.eventID, error: `${error.name}: ${error.message}` });
            return;
          }
          try {
            await journal?.markSent(record.eventID);
          } catch (error) {
            assertIsError(error);
            unrecorded += 1;
            logger.error("notification sent but not recorded in the sent journal; a retry or redelivery may notify it again", { eventID: record.eventID, error: `${error.name}: ${error.message}` });
          }
        }),
      );
    }
    if (published > 0) {
      metrics.count("NotificationsPublished", published);
    }
    if (unrecorded > 0) {
      metrics.count("SentJournalWriteFailed", unrecorded);
    }
    logger.info("records processed", { source: payload.source, records: payload.records.length, matched: matching.length, published, alreadySent: alreadySent.size, rejected: payload.rejected.length });
    if (failures.length > 0) {
      metrics.count("NotificationsFailed", failures.length);
      for (const failure of failures) {
        logger.error("notification not published", failure);
      }
      throw namedError("PublishFailedError", `${failures.length} of ${due.length} notifications could not be published; the invocation fails so that Lambda retries it`, { failures });
    }
    return { records: payload.records.length, matched: matching.length, published, alreadySent: alreadySent.size, rejected: payload.rejected.length };
  };
}

/** Environment variables the deployed function reads. */
export const USER_ACTIVITY_ENVIRONMENT = {
  timeZone: "ACTIVITY_TIME_ZONE",
  language: "ACTIVITY_LANGUAGE",
  criteria: "ACTIVITY_CRITERIA",
  chatNotifications: "ACTIVITY_CHAT_NOTIFICATIONS",
  /** Optional: the sent journal's table. */
  sentTable: "ACTIVITY_SENT_TABLE",
} as const;

/** Reads and checks the handler's settings; throws naming the variable at cold start when one is wrong. */
export function userActivitySettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): UserActivitySettings {
  const names = USER_ACTIVITY_ENVIRONMENT;
  const bad = (variable: string, message: string) => namedError("ConfigurationError", `environment variable ${variable} ${message}`, { variable });
  const timeZone = requireEnv(names.timeZone, env);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw bad(names.timeZone, `must be an IANA time zone, got ${JSON.stringify(timeZone)}`);
  }
  const language = requireEnv(names.language, env);
  if (language !== "ja" && language !== "en") {
    throw bad(names.language, `must be "ja" or "en", got ${JSON.stringify(language)}`);
  }
  const criteriaText = requireEnv(names.criteria, env);
  let criteria: unknown;
  try {
    criteria = JSON.parse(criteriaText);
  } catch (error) {
    assertIsError(error);
    throw bad(names.criteria, `must be JSON: ${error.message}`);
  }
  const problems = activityCriteriaProblems(criteria, names.criteria);
  if (problems.length > 0) {
    throw bad(names.criteria, `is invalid: ${problems.join("; ")}`);
  }
  const chat = env[names.chatNotifications] ?? "false";
  if (chat !== "true" && chat !== "false") {
    throw bad(names.chatNotifications, `must be "true" or "false", got ${JSON.stringify(chat)}`);
  }
  const sentTableName = env[names.sentTable];
  return {
    topicArn: requireEnv("ALERT_TOPIC_ARN", env),
    timeZone,
    language,
    criteria: criteria as ActivityCriteria,
    chatNotifications: chat === "true",
    ...(sentTableName === undefined || sentTableName === "" ? {} : { sentTableName }),
  };
}

/**
 * The callback factory the UserActivityNotifier deploys: settings from the environment, SDK clients built once per
 * cold start (a DynamoDB client only when the function has a sent journal table).
 */
export function userActivityCallbackFactory(): (event: unknown) => Promise<UserActivityResult> {
  const settings = userActivitySettingsFromEnvironment();
  const sns = new SNSClient({});
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "user-activity-notifier");
  // Fail a hung journal request well before the function's timeout, so that the invocation is retried.
  const journal =
    settings.sentTableName === undefined ? undefined : dynamoDbSentJournal(new DynamoDBClient({ requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 } }), settings.sentTableName);
  return userActivityHandler(settings, { sns, logger: consoleLogger, metrics, ...(journal === undefined ? {} : { journal }) });
}

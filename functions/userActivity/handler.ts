/**
 * The UserActivityNotifier's handler: decodes CloudTrail records (EventBridge events, CloudWatch Logs subscription
 * batches, or batches forwarded by a LogSubscriptionDispatcher), keeps those the criteria ask for, and publishes one
 * readable notification per record (see format.ts), at most once per event with a sent journal; with burst grouping,
 * a key's further events within a window as one summary (bursts.ts, summaryFormat.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";

import { type BurstGate, dynamoDbBurstGate, isBurstSweepEvent, type PublishSummary } from "./bursts";
import { activityMatches } from "./criteria";
import { publishAlertWithChat } from "./chatNotification";
import { activityChatNotification, formatActivity } from "./format";
import { dynamoDbSentJournal, type SentJournal } from "./sentJournal";
import { fromEnvironment, type UserActivitySettings } from "./settings";
import { formatSummary, summaryChatNotification } from "./summaryFormat";
import { type CloudTrailRecord, decodeCloudTrailPayload } from "../shared/cloudtrailEvents";
import { assertIsError, consoleLogger, embeddedMetricSink, type Logger, type MetricSink, namedError, reportRejectedInput, systemClock } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What the handler works with: the SNS client, where it logs and counts, and the optional sent journal. */
export interface UserActivityDependencies {
  sns: Pick<SNSClient, "send">;
  logger: Logger;
  metrics: MetricSink;
  /** Remembers the events notified, so that a retry or a redelivery does not notify them again. */
  journal?: SentJournal;
  /** Burst grouping: which matching events are sent at once, counted for a summary, or over the hourly cap. */
  bursts?: BurstGate;
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
  /** With burst grouping: matching events counted for their key's summary instead of sent. */
  counted?: number;
  /** With burst grouping: matching events the hourly message cap held back (summarised after the hour). */
  heldBack?: number;
  /** The scheduled sweep: summaries sent (closed windows, and past hours' held-back events). */
  summaries?: number;
}

/** Notifications published at once. */
const PUBLISH_CONCURRENCY = 4;

/** The records the criteria select, each event once (a payload may hold an event twice). */
function matchingRecords(records: readonly CloudTrailRecord[], settings: UserActivitySettings): CloudTrailRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.eventID) || !activityMatches(record, settings.criteria)) {
      return false;
    }
    seen.add(record.eventID);
    return true;
  });
}

/**
 * The event IDs among `matching` the sent journal says were notified before (none without a journal). When the journal
 * cannot be read, throws SentJournalUnavailableError: nothing is published and Lambda retries the invocation.
 */
async function notifiedBefore(matching: readonly CloudTrailRecord[], deps: UserActivityDependencies): Promise<Set<string>> {
  const { logger, metrics, journal } = deps;
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
  return alreadySent;
}

/** What publishing the due records did. */
interface PublishOutcome {
  published: number;
  /** Notifications SNS accepted that the sent journal could not record. */
  unrecorded: number;
  failures: Array<{ eventID: string; error: string }>;
}

/**
 * Publishes one notification per record, {@link PUBLISH_CONCURRENCY} at a time, and records each one SNS accepted in
 * the sent journal. A failed publish is collected, not thrown, so that the other records still go out; a failed
 * journal write is logged and counted only.
 */
async function publishNotifications(due: readonly CloudTrailRecord[], settings: UserActivitySettings, deps: UserActivityDependencies): Promise<PublishOutcome> {
  const { sns, logger, journal } = deps;
  const outcome: PublishOutcome = { published: 0, unrecorded: 0, failures: [] };
  for (let i = 0; i < due.length; i += PUBLISH_CONCURRENCY) {
    await Promise.all(
      due.slice(i, i + PUBLISH_CONCURRENCY).map(async (record) => {
        try {
          const alert = formatActivity(record, settings);
          const chat = settings.chatNotifications ? activityChatNotification(record, settings) : undefined;
          await publishAlertWithChat(sns, settings.topicArn, alert, chat);
          outcome.published += 1;
        } catch (error) {
          assertIsError(error);
          outcome.failures.push({ eventID: record.eventID, error: `${error.name}: ${error.message}` });
          return;
        }
        try {
          await journal?.markSent(record.eventID);
        } catch (error) {
          assertIsError(error);
          outcome.unrecorded += 1;
          logger.error("notification sent but not recorded in the sent journal; a retry or redelivery may notify it again", { eventID: record.eventID, error: `${error.name}: ${error.message}` });
        }
      }),
    );
  }
  return outcome;
}

/** What burst grouping decided for the due records. */
interface Admitted {
  /** Records to notify now. */
  notify: CloudTrailRecord[];
  counted: number;
  heldBack: number;
}

/**
 * Burst grouping, one due record after another (a key's events in the order they came): those the gate sends at once
 * are returned; those counted for a summary, or held back by the hourly cap, are written to the sent journal at once,
 * so that a retry or a redelivery does not count them again. Without a gate every record is notified.
 */
async function admitRecords(due: readonly CloudTrailRecord[], deps: UserActivityDependencies): Promise<Admitted> {
  const { bursts, journal, logger } = deps;
  if (bursts === undefined) {
    return { notify: [...due], counted: 0, heldBack: 0 };
  }
  const admitted: Admitted = { notify: [], counted: 0, heldBack: 0 };
  for (const record of due) {
    const admission = await bursts.admit(record);
    if (admission === "notify") {
      admitted.notify.push(record);
      continue;
    }
    admitted[admission === "counted" ? "counted" : "heldBack"] += 1;
    try {
      await journal?.markSent(record.eventID);
    } catch (error) {
      assertIsError(error);
      logger.error("event counted but not recorded in the sent journal; a retry or redelivery may count it again", { eventID: record.eventID, error: `${error.name}: ${error.message}` });
    }
  }
  return admitted;
}

/** The scheduled sweep: sends the summaries that are due. */
async function sweepBursts(deps: UserActivityDependencies): Promise<UserActivityResult> {
  const { bursts, logger, metrics } = deps;
  const result = bursts === undefined ? { summaries: 0, overflowSummaries: 0, checked: 0 } : await bursts.sweep();
  const summaries = result.summaries + result.overflowSummaries;
  if (summaries > 0) {
    metrics.count("SummariesPublished", summaries);
  }
  logger.info("burst sweep", { ...result, grouping: bursts !== undefined });
  return { records: 0, matched: 0, published: 0, alreadySent: 0, rejected: 0, summaries };
}

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
 *
 * With burst grouping (`deps.bursts`), each due record goes through the gate first (bursts.ts): sent at once, counted
 * for its key's summary, or held back by the hourly cap; counted and held-back records are journaled at once, so a
 * retry or a redelivery counts them once too. The scheduled sweep's input (`{"cloudtrail-alerts":"burst-sweep"}`)
 * sends the summaries that are due instead.
 */
export function userActivityHandler(settings: UserActivitySettings, deps: UserActivityDependencies): (event: unknown) => Promise<UserActivityResult> {
  const { logger, metrics } = deps;
  return async (event) => {
    if (isBurstSweepEvent(event)) {
      return sweepBursts(deps);
    }
    const payload = decodeCloudTrailPayload(event);
    if (payload.control) {
      logger.info("CloudWatch Logs control message skipped", { source: payload.source });
      return { records: 0, matched: 0, published: 0, alreadySent: 0, rejected: 0 };
    }
    reportRejectedInput(payload.rejected, logger, metrics);

    const matching = matchingRecords(payload.records, settings);
    const alreadySent = await notifiedBefore(matching, deps);
    const due = matching.filter((record) => !alreadySent.has(record.eventID));
    const { notify, counted, heldBack } = await admitRecords(due, deps);
    const { published, unrecorded, failures } = await publishNotifications(notify, settings, deps);
    const grouped = deps.bursts === undefined ? {} : { counted, heldBack };
    if (counted + heldBack > 0) {
      metrics.count("EventsCounted", counted + heldBack);
    }
    if (published > 0) {
      metrics.count("NotificationsPublished", published);
    }
    if (unrecorded > 0) {
      metrics.count("SentJournalWriteFailed", unrecorded);
    }
    logger.info("records processed", { source: payload.source, records: payload.records.length, matched: matching.length, published, alreadySent: alreadySent.size, rejected: payload.rejected.length, ...grouped });
    if (failures.length > 0) {
      metrics.count("NotificationsFailed", failures.length);
      for (const failure of failures) {
        logger.error("notification not published", failure);
      }
      throw namedError("PublishFailedError", `${failures.length} of ${notify.length} notifications could not be published; the invocation fails so that Lambda retries it`, { failures });
    }
    return { records: payload.records.length, matched: matching.length, published, alreadySent: alreadySent.size, rejected: payload.rejected.length, ...grouped };
  };
}

/**
 * The callback factory the UserActivityNotifier deploys: settings from the environment, SDK clients built once per
 * cold start (a DynamoDB client only when the function has a sent journal table).
 */
export function userActivityCallbackFactory(): (event: unknown) => Promise<UserActivityResult> {
  const settings = fromEnvironment();
  const sns = new SNSClient({});
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "user-activity-notifier");
  // Fail a hung journal request well before the function's timeout, so that the invocation is retried.
  const dynamodb = settings.sentTableName === undefined ? undefined : new DynamoDBClient({ requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 } });
  const journal = dynamodb === undefined || settings.sentTableName === undefined ? undefined : dynamoDbSentJournal(dynamodb, settings.sentTableName);
  const bursts =
    dynamodb === undefined || settings.sentTableName === undefined || settings.burst === undefined
      ? undefined
      : dynamoDbBurstGate(dynamodb, settings.sentTableName, settings.burst, summaryPublisher(settings, sns), systemClock);
  return userActivityHandler(settings, { sns, logger: consoleLogger, metrics, ...(journal === undefined ? {} : { journal }), ...(bursts === undefined ? {} : { bursts }) });
}

/** Publishes burst grouping's summaries to the alert topic, as email text and (when configured) as a chat message. */
export function summaryPublisher(settings: UserActivitySettings, sns: Pick<SNSClient, "send">): PublishSummary {
  return async (summary) => {
    const chat = settings.chatNotifications ? summaryChatNotification(summary, settings) : undefined;
    await publishAlertWithChat(sns, settings.topicArn, formatSummary(summary, settings), chat);
  };
}

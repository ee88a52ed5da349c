/**
 * DownloadThresholdAlert's handler: counts S3 `GetObject` data events per object since the last reset of a fixed
 * calendar schedule (for example every Monday 01:00 in Asia/Tokyo) and alerts when an object's count passes its
 * threshold.
 *
 * Two counters share the same handler:
 * - `dynamodb` (recommended, dynamoDbCounter.ts): per download, a claim on its own small event item, one conditional
 *   increment of the (object, window) counter item, and a record of its alert: three writes of one write unit each,
 *   whatever the count. The claim makes a redelivered event a no-op; the counter item gives every counted download a
 *   distinct position, so exactly one invocation sees the count cross the threshold.
 * - `logs` (the FilterLogEvents re-count of docs/sourceArticles.md, logsCounter.ts): re-counts the window with `FilterLogEvents` on the trail's
 *   log group. See `logsDownloadCounter` for its limits.
 */
import { randomUUID } from "crypto";

import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";

import { decodeCloudTrailPayload, type CloudTrailRecord, type PayloadSource } from "../shared/cloudtrailEvents";
import { environmentReader } from "../shared/environment";
import { assertIsError, type Clock, consoleLogger, embeddedMetricSink, namedError, reportRejectedInput, systemClock, type Logger, type MetricSink } from "../shared/runtime";
import { publishAlert, type Alert } from "../shared/snsAlert";
import { downloadAlert } from "./alertText";
import { windowCalculator, type CountingWindow } from "./countingWindow";
import type { CountingAttempt, DownloadCounter } from "./downloadCounter";
import { dynamoDbDownloadCounter } from "./dynamoDbCounter";
import { logsDownloadCounter } from "./logsCounter";
import { fromEnvironment, type DownloadThresholdSettings } from "./settings";
import { watchedDownload, type WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** What one invocation did; also logged. */
export interface DownloadThresholdResult {
  /** True for a CloudWatch Logs health check (nothing to do). */
  control: boolean;
  /** Payloads or records that could not be decoded. */
  rejected: number;
  /** Records that are not downloads of watched objects. */
  ignored: number;
  /** Downloads counted now. */
  counted: number;
  /** Downloads not counted now: counted before (redelivered). */
  notCounted: number;
  /** Alerts published (including alerts kept from a failed attempt). */
  alerted: number;
}

/** The clients and helpers the handler uses. */
export interface DownloadThresholdDependencies {
  sns: Pick<SNSClient, "send">;
  /** Required with the dynamodb counter. */
  dynamodb?: Pick<DynamoDBClient, "send">;
  /** Required with the logs counter. */
  logs?: Pick<CloudWatchLogsClient, "send">;
  logger?: Logger;
  metrics?: MetricSink;
  clock?: Clock;
  random?: () => number;
}

/** The part of Lambda's context the handler reads. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  /** Lambda's request ID: the same for Lambda's retries of one asynchronous invocation. */
  awsRequestId?: string;
}

/**
 * How long past an invocation's end its claims stay leased: the clocks of two Lambda hosts may differ a little, and a
 * request sent just before the end may still reach DynamoDB after it.
 */
export const CLAIM_LEASE_MARGIN_MS = 15_000;

/** A download counted now or left unsettled by an earlier attempt: its alert when one is due, settled at the end. */
interface Counted {
  download: WatchedDownload;
  window: CountingWindow;
  count: number;
  object: string;
  alert?: Alert;
  /** Counted by an earlier attempt whose alert may not have gone out. */
  resent: boolean;
  sent?: boolean;
}

/** What one invocation works with, shared by its steps. */
interface Invocation {
  settings: DownloadThresholdSettings;
  counter: DownloadCounter;
  windowAt: (at: Date) => CountingWindow;
  logger: Logger;
  metrics: MetricSink | undefined;
  source: PayloadSource;
  result: DownloadThresholdResult;
  failures: string[];
  attempt: CountingAttempt;
}

/** The invocation as a counter sees it: until when it may wait, who it is, and when it is surely over. */
function countingAttempt(clock: Clock, context: InvocationContext | undefined, timeBudgetMs: number): CountingAttempt {
  const now = clock.now();
  const remaining = context ? context.getRemainingTimeInMillis() : timeBudgetMs;
  return {
    // Stop waiting out throttling 5 s before Lambda would stop the function.
    deadline: now + (context ? Math.max(0, remaining - 5000) : timeBudgetMs),
    // Lambda keeps the request ID for its retries of an asynchronous invocation: a retry finds its own claims.
    owner: context?.awsRequestId || randomUUID(),
    leaseEndsAt: now + remaining + CLAIM_LEASE_MARGIN_MS,
  };
}

/**
 * Builds the handler. Per record: decode (both CloudWatch Logs and EventBridge shapes), keep only successful
 * `GetObject` events on watched objects, compute the counting window from the event time, count once, alert when the
 * count passes the threshold (`every`) or is the first past it (`once`). Undecodable input is logged and counted in
 * the `RejectedInput` metric and never retried.
 *
 * The batch is counted first, then its alerts are published, then every counted download is settled (its alert
 * recorded as sent, none or pending). A record that fails (counting or publishing) does not stop the others; the
 * invocation then fails so that Lambda retries it: the retry skips what was settled and sends only what did not go
 * out. An invocation killed before it could settle is retried by Lambda with the same request ID, which takes its own
 * claims over and sends their alerts: none is lost; an alert SNS had already accepted is then sent a second time.
 */
export function downloadThresholdHandler(
  settings: DownloadThresholdSettings,
  deps: DownloadThresholdDependencies,
): (event: unknown, context?: InvocationContext) => Promise<DownloadThresholdResult> {
  const { sns, logger = consoleLogger, metrics, clock = systemClock } = deps;
  const windowAt = windowCalculator(settings.reset);
  const counter = buildCounter(settings, deps, clock, logger);
  const timeBudgetMs = settings.timeBudgetMs ?? 240_000;

  return async (event, context) => {
    const payload = decodeCloudTrailPayload(event);
    const result: DownloadThresholdResult = { control: payload.control, rejected: payload.rejected.length, ignored: 0, counted: 0, notCounted: 0, alerted: 0 };
    if (payload.control) {
      logger.info("CloudWatch Logs control message skipped");
      return result;
    }
    reportRejectedInput(payload.rejected, logger, metrics);
    const invocation: Invocation = {
      settings,
      counter,
      windowAt,
      logger,
      metrics,
      source: payload.source,
      result,
      failures: [],
      attempt: countingAttempt(clock, context, timeBudgetMs),
    };

    const counted = await countBatch(invocation, payload.records);
    await publishDue(invocation, sns, counted);
    await settleAll(invocation, counted);
    if (result.alerted > 0) {
      metrics?.count("DownloadAlertsSent", result.alerted);
    }
    logger.info("invocation done", { ...result, failed: invocation.failures.length });
    if (invocation.failures.length > 0) {
      throw namedError("DownloadProcessingError", `${invocation.failures.length} of ${payload.records.length} records failed: ${invocation.failures.join("; ")}`, {
        failures: invocation.failures,
      });
    }
    return result;
  };
}

/** Notes a record that failed; the invocation fails at the end so that Lambda retries it. */
function fail(invocation: Invocation, record: CloudTrailRecord, object: string, error: Error): void {
  invocation.failures.push(`${record.eventID}: ${error.name}: ${error.message}`);
  invocation.logger.error("download not processed; the invocation will fail so that Lambda retries it", { eventID: record.eventID, object, error: error.name, reason: error.message });
}

/**
 * Counts every record of the batch; returns the downloads counted now or left unsettled before. A record that fails
 * does not stop the others. An event listed twice in the batch is counted once.
 */
async function countBatch(invocation: Invocation, records: readonly CloudTrailRecord[]): Promise<Counted[]> {
  const counted: Counted[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    const download = selectDownload(invocation, record);
    if (download === undefined) {
      continue;
    }
    const object = `s3://${download.bucket}/${download.key}`;
    if (seen.has(JSON.stringify([object, record.eventID]))) {
      invocation.result.notCounted += 1;
      invocation.logger.info("download not counted", { eventID: record.eventID, object, reason: "listed twice in this batch" });
      continue;
    }
    seen.add(JSON.stringify([object, record.eventID]));
    try {
      const item = await countDownload(invocation, download, object);
      if (item !== undefined) {
        counted.push(item);
      }
    } catch (error) {
      assertIsError(error);
      fail(invocation, record, object, error);
    }
  }
  return counted;
}

/** The watched download `record` is, or undefined after noting it as ignored or rejected. */
function selectDownload(invocation: Invocation, record: CloudTrailRecord): WatchedDownload | undefined {
  const { result, logger, metrics } = invocation;
  const download = watchedDownload(record, invocation.settings.watches);
  if (!("ignored" in download)) {
    return download;
  }
  if (download.malformed) {
    result.rejected += 1;
    reportRejectedInput([{ source: invocation.source, reason: download.ignored, id: record.eventID }], logger, metrics);
  } else {
    result.ignored += 1;
    logger.info("event ignored", { eventID: record.eventID, eventName: record.eventName, reason: download.ignored });
  }
  return undefined;
}

/** Counts one download in its window; returns it (with its alert when one is due) when it was counted or left unsettled. */
async function countDownload(invocation: Invocation, download: WatchedDownload, object: string): Promise<Counted | undefined> {
  const { settings, result, logger } = invocation;
  const { record } = download;
  let window: CountingWindow;
  try {
    window = invocation.windowAt(new Date(record.eventTime));
  } catch (error) {
    assertIsError(error);
    // An event time the schedule has no window for (year 0 or 9999) never will have one: retrying cannot help.
    result.rejected += 1;
    reportRejectedInput([{ source: invocation.source, reason: error.message, id: record.eventID }], logger, invocation.metrics);
    return undefined;
  }
  const outcome = await invocation.counter.count(download, window, invocation.attempt);
  const counted = outcome.counted ? outcome : outcome.unsettled;
  if (outcome.counted) {
    result.counted += 1;
  } else {
    result.notCounted += 1;
    logger.info(outcome.unsettled ? "download counted before; its alert may not have gone out" : "download not counted", { eventID: record.eventID, object, reason: outcome.reason });
  }
  if (counted === undefined) {
    return undefined;
  }
  const alerting = settings.notify === "every" ? counted.count > download.threshold : counted.count === download.threshold + 1;
  if (outcome.counted) {
    logger.info("download counted", { eventID: record.eventID, object, count: counted.count, threshold: download.threshold, windowStart: window.start.toISOString(), alerting });
  }
  const item: Counted = { download, window, count: counted.count, object, resent: !outcome.counted };
  if (alerting) {
    const { notify, language, timeZone } = settings;
    item.alert = downloadAlert({ download, count: counted.count, window, notify, language, timeZone });
  }
  return item;
}

/** Publishes the alerts due, each on its own: one that fails does not stop the others. */
async function publishDue(invocation: Invocation, sns: Pick<SNSClient, "send">, counted: Counted[]): Promise<void> {
  for (const item of counted) {
    if (item.alert === undefined) {
      continue;
    }
    try {
      await publishAlert(sns, invocation.settings.topicArn, item.alert);
      invocation.result.alerted += 1;
      item.sent = true;
    } catch (error) {
      assertIsError(error);
      item.sent = false;
      fail(invocation, item.download.record, item.object, error);
    }
  }
}

/**
 * Settles every download counted now or left unsettled: its alert sent, none due, or pending (publishing failed:
 * whichever invocation gets the event next sends it). A download that cannot be settled stays claimed, and the
 * invocation fails so that Lambda's retry (same request ID) takes the claim over and settles it; an alert sent but not
 * settled is then sent again (at least once).
 */
async function settleAll(invocation: Invocation, counted: Counted[]): Promise<void> {
  const { counter, logger } = invocation;
  if (counter.settle === undefined) {
    return;
  }
  for (const item of counted) {
    const state = item.alert === undefined ? "none" : item.sent ? "sent" : "pending";
    try {
      await counter.settle(item.download, item.window, item.count, state);
    } catch (error) {
      assertIsError(error);
      invocation.failures.push(`${item.download.record.eventID}: ${error.name}: ${error.message}`);
      const fields = { eventID: item.download.record.eventID, object: item.object, count: item.count, error: error.name, reason: error.message };
      if (item.alert === undefined) {
        logger.error("download counted but not settled; the invocation will fail so that Lambda's retry settles it", fields);
      } else {
        logger.error(item.sent ? "alert sent but not settled; Lambda's retry may send it again" : "alert could not be published nor kept for a retry; Lambda's retry sends it", {
          subject: item.alert.subject,
          ...(item.sent ? {} : { message: item.alert.message }),
          ...fields,
        });
      }
    }
  }
}

function buildCounter(settings: DownloadThresholdSettings, deps: DownloadThresholdDependencies, clock: Clock, logger: Logger): DownloadCounter {
  if (settings.counter.kind === "dynamodb") {
    if (deps.dynamodb === undefined) {
      throw namedError("InvalidSettingsError", "the dynamodb counter needs a DynamoDB client");
    }
    return dynamoDbDownloadCounter(deps.dynamodb, settings.counter.tableName, { clock, logger });
  }
  if (deps.logs === undefined) {
    throw namedError("InvalidSettingsError", "the logs counter needs a CloudWatch Logs client");
  }
  return logsDownloadCounter(deps.logs, settings.counter.logGroupName, { clock, ...(deps.random ? { random: deps.random } : {}) });
}

/**
 * The Lambda callback factory the component deploys: settings from the environment, SDK clients built once per cold
 * start. The logs counter's client does not retry by itself: the handler's backoff owns retries and their deadline.
 */
export function downloadThresholdCallbackFactory(): (event: unknown, context?: InvocationContext) => Promise<DownloadThresholdResult> {
  const settings = fromEnvironment(process.env);
  // Lambda sets it; the metrics carry it as their dimension.
  const functionName = environmentReader(process.env).required("AWS_LAMBDA_FUNCTION_NAME");
  // Fail a hung request well before the function's timeout, so that the alert is kept for the retry.
  const requestHandler = { connectionTimeout: 3000, requestTimeout: 10_000 };
  return downloadThresholdHandler(settings, {
    sns: new SNSClient({ requestHandler }),
    ...(settings.counter.kind === "dynamodb" ? { dynamodb: new DynamoDBClient({ requestHandler }) } : { logs: new CloudWatchLogsClient({ requestHandler, maxAttempts: 1 }) }),
    metrics: embeddedMetricSink(functionName),
  });
}

/**
 * The LogSubscriptionDispatcher's handler. It receives the trail log group's CloudWatch Logs subscription batches
 * (through the one subscription filter the dispatcher owns), matches every CloudTrail record against each consumer's
 * record patterns, and forwards to each consumer the log events meant for it, as a CloudWatch Logs subscription
 * payload of its own (see payload.ts), published to the dispatch topic with a `consumer` message attribute that the
 * consumer's SNS subscription filters on.
 *
 * Consumers decode these deliveries with the same `decodeCloudTrailPayload` they use for a direct subscription, so a
 * consumer works the same behind the dispatcher as on its own subscription filter.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";

import { consumerPayloads, type LogEvent } from "./payload";
import { type DispatchRoute, fromEnvironment, type LogDispatchSettings } from "./settings";
import { cloudTrailRecordProblem, readSubscriptionData, type SubscriptionMessage } from "../shared/cloudtrailEvents";
import { matchesAnyRecordPattern } from "../shared/recordPattern";
import { assertIsError, consoleLogger, embeddedMetricSink, type Logger, type MetricSink, namedError, REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The message attribute that names the consumer a forwarded batch is for. */
export const CONSUMER_ATTRIBUTE = "consumer";

/** What the dispatcher works with: the SNS client, and where it logs and counts. */
export interface LogDispatchDependencies {
  sns: Pick<SNSClient, "send">;
  logger: Logger;
  metrics: MetricSink;
}

/** What one invocation did. */
export interface LogDispatchResult {
  /** Log events in the batch. */
  logEvents: number;
  /** Log events forwarded, per consumer key (consumers without matches are left out). */
  forwarded: Record<string, number>;
  /** SNS messages published. */
  messages: number;
  /** Payloads or log events that could not be used. */
  rejected: number;
}

function isLogEvent(value: unknown): value is LogEvent {
  const v = value as Partial<LogEvent> | null;
  return typeof v === "object" && v !== null && typeof v.id === "string" && typeof v.message === "string" && typeof v.timestamp === "number";
}

/** Reports one payload or log event that could not be used: logged with its reason, counted in the result. */
type Reject = (reason: string, id?: string) => void;

/**
 * The log events each route wants, by route key (every key present). A log event that is not a JSON CloudTrail record
 * is rejected.
 */
function routeLogEvents(logEvents: readonly unknown[], routes: readonly DispatchRoute[], reject: Reject): Map<string, LogEvent[]> {
  const perRoute = new Map<string, LogEvent[]>(routes.map((route) => [route.key, []]));
  for (const logEvent of logEvents) {
    if (!isLogEvent(logEvent)) {
      reject("log event is not {id, timestamp, message}");
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(logEvent.message);
    } catch (error) {
      assertIsError(error);
      reject(`log event message is not JSON: ${error.message}`, logEvent.id);
      continue;
    }
    const problem = cloudTrailRecordProblem(record);
    if (problem !== undefined) {
      reject(problem, logEvent.id);
      continue;
    }
    for (const route of routes) {
      if (matchesAnyRecordPattern(record, route.patterns)) {
        perRoute.get(route.key)?.push(logEvent);
      }
    }
  }
  return perRoute;
}

/** The payloads for consumer `key`: a log event cut to fit is logged, one that cannot be made to fit is rejected. */
function payloadsFor(key: string, envelope: SubscriptionMessage, logEvents: readonly LogEvent[], logger: Logger, reject: Reject): string[] {
  const { payloads, oversized } = consumerPayloads(envelope, logEvents);
  for (const { logEvent, forwarded } of oversized) {
    if (forwarded) {
      logger.warn("log event cut to fit an SNS message", { id: logEvent.id, consumer: key, bytes: Buffer.byteLength(logEvent.message, "utf8") });
    } else {
      reject(`log event is too large to forward to ${key} in one SNS message`, logEvent.id);
    }
  }
  return payloads;
}

/** Publishes one payload for consumer `key`; resolves to undefined when SNS accepted it, else to the failure as text. */
function publishPayload(sns: Pick<SNSClient, "send">, topicArn: string, key: string, payload: string): Promise<string | undefined> {
  return sns
    .send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: payload,
        MessageAttributes: { [CONSUMER_ATTRIBUTE]: { DataType: "String", StringValue: key } },
      }),
    )
    .then(
      () => undefined,
      (error: unknown) => {
        assertIsError(error);
        return `${key}: ${error.name}: ${error.message}`;
      },
    );
}

/**
 * The dispatcher handler. Bad payloads and log events are logged with their reason and counted in `RejectedInput`;
 * the rest of the batch is still forwarded. When a publish fails, the others are still attempted and the invocation
 * then fails, so that Lambda retries the batch (consumers may then see some events twice, as CloudWatch Logs
 * subscriptions already allow).
 */
export function logDispatchHandler(settings: LogDispatchSettings, deps: LogDispatchDependencies): (event: unknown) => Promise<LogDispatchResult> {
  const { sns, logger, metrics } = deps;
  return async (event) => {
    const data = (event as { awslogs?: { data?: unknown } } | null)?.awslogs?.data;
    const opened = readSubscriptionData(data);
    const result: LogDispatchResult = { logEvents: 0, forwarded: {}, messages: 0, rejected: 0 };
    const reject: Reject = (reason, id) => {
      result.rejected += 1;
      logger.warn(REJECTED_INPUT_MESSAGE, { source: "logs", reason, ...(id === undefined ? {} : { id }) });
    };
    if ("reason" in opened) {
      reject(opened.reason);
      metrics.count(REJECTED_INPUT_METRIC, result.rejected);
      return result;
    }
    if (opened.message.messageType === "CONTROL_MESSAGE") {
      logger.info("CloudWatch Logs control message skipped", {});
      return result;
    }
    const envelope = opened.message;
    result.logEvents = envelope.logEvents.length;

    const publishes: Array<Promise<string | undefined>> = [];
    for (const [key, logEvents] of routeLogEvents(envelope.logEvents, settings.routes, reject)) {
      if (logEvents.length === 0) continue;
      result.forwarded[key] = logEvents.length;
      for (const payload of payloadsFor(key, envelope, logEvents, logger, reject)) {
        publishes.push(publishPayload(sns, settings.topicArn, key, payload));
      }
    }
    const outcomes = await Promise.all(publishes);
    const failures = outcomes.filter((failure): failure is string => failure !== undefined);
    result.messages = outcomes.length - failures.length;
    if (result.rejected > 0) {
      metrics.count(REJECTED_INPUT_METRIC, result.rejected);
    }
    logger.info("batch dispatched", { logGroup: envelope.logGroup, logEvents: result.logEvents, forwarded: result.forwarded, messages: result.messages, rejected: result.rejected });
    if (failures.length > 0) {
      metrics.count("ForwardsFailed", failures.length);
      throw namedError("ForwardFailedError", `${failures.length} forwarded batches could not be published (${failures.join("; ")}); the invocation fails so that Lambda retries it`, { failures });
    }
    return result;
  };
}

/** The callback factory the LogSubscriptionDispatcher deploys. */
export function logDispatchCallbackFactory(): (event: unknown) => Promise<LogDispatchResult> {
  const settings = fromEnvironment();
  const sns = new SNSClient({});
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "log-subscription-dispatcher");
  return logDispatchHandler(settings, { sns, logger: consoleLogger, metrics });
}

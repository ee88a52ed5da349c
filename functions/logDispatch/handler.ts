/**
 * The LogSubscriptionDispatcher's handler. It receives the trail log group's CloudWatch Logs subscription batches
 * (through the one subscription filter the dispatcher owns), matches every CloudTrail record against each consumer's
 * record patterns, and forwards to each consumer the log events meant for it, as a CloudWatch Logs subscription
 * payload of its own (`{"awslogs":{"data": base64(gzip(json))}}`), published to the dispatch topic with a `consumer`
 * message attribute that the consumer's SNS subscription filters on.
 *
 * Consumers decode these deliveries with the same `decodeCloudTrailPayload` they use for a direct subscription, so a
 * consumer works the same behind the dispatcher as on its own subscription filter.
 */
import { gzipSync } from "zlib";

import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";

import { cloudTrailRecordProblem, readSubscriptionData, type SubscriptionMessage } from "../shared/cloudtrailEvents";
import { matchesAnyRecordPattern, type RecordPattern, recordPatternProblems } from "../shared/recordPattern";
import { assertIsError, consoleLogger, embeddedMetricSink, type Logger, type MetricSink, namedError, REJECTED_INPUT_MESSAGE, REJECTED_INPUT_METRIC, requireEnv } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The message attribute that names the consumer a forwarded batch is for. */
export const CONSUMER_ATTRIBUTE = "consumer";

/**
 * Largest SNS message the dispatcher publishes. SNS accepts 262,144 bytes including message attributes; the margin
 * leaves room for the attribute.
 */
export const MAX_FORWARDED_MESSAGE_BYTES = 256 * 1024 - 2048;

/**
 * Largest record JSON forwarded when a log event alone does not fit: base64 adds a third and gzip may not shrink
 * incompressible text, so three quarters of the message limit, less room for the envelope.
 */
export const MAX_FORWARDED_RECORD_BYTES = Math.floor((MAX_FORWARDED_MESSAGE_BYTES * 3) / 4) - 4096;

/** One consumer: its routing key and the record patterns (alternatives) it wants. */
export interface DispatchRoute {
  key: string;
  patterns: RecordPattern[];
}

export interface LogDispatchSettings {
  topicArn: string;
  routes: DispatchRoute[];
}

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

interface LogEvent {
  id: string;
  timestamp: number;
  message: string;
}

/** The forwarded payload for `logEvents`: the original envelope with only these events. */
export function forwardedPayload(envelope: SubscriptionMessage, logEvents: readonly LogEvent[]): string {
  const data = gzipSync(Buffer.from(JSON.stringify({ ...envelope, logEvents }), "utf8")).toString("base64");
  return JSON.stringify({ awslogs: { data } });
}

/**
 * Splits `logEvents` into payloads of at most `maxBytes` each (halving until each fits). A single event that does not
 * fit on its own is returned in `tooLarge`.
 */
export function packPayloads(
  envelope: SubscriptionMessage,
  logEvents: readonly LogEvent[],
  maxBytes = MAX_FORWARDED_MESSAGE_BYTES,
): { payloads: string[]; tooLarge: LogEvent[] } {
  if (logEvents.length === 0) {
    return { payloads: [], tooLarge: [] };
  }
  const payload = forwardedPayload(envelope, logEvents);
  if (Buffer.byteLength(payload, "utf8") <= maxBytes) {
    return { payloads: [payload], tooLarge: [] };
  }
  if (logEvents.length === 1) {
    return { payloads: [], tooLarge: [...logEvents] };
  }
  const half = Math.ceil(logEvents.length / 2);
  const first = packPayloads(envelope, logEvents.slice(0, half), maxBytes);
  const second = packPayloads(envelope, logEvents.slice(half), maxBytes);
  return { payloads: [...first.payloads, ...second.payloads], tooLarge: [...first.tooLarge, ...second.tooLarge] };
}

/** Text values longer than this may be cut to make an oversized record fit; shorter ones (names, keys, IDs) never are. */
export const MIN_CUT_TEXT_LENGTH = 1024;

/** Fields replaced by a note, largest first, when cutting long text alone does not make a record fit. */
const DROPPABLE_FIELDS = ["responseElements", "additionalEventData", "serviceEventDetails", "requestParameters"];

/**
 * A copy of `record` whose JSON takes at most `maxBytes` of UTF-8: the longest text values (over
 * {@link MIN_CUT_TEXT_LENGTH} characters) are cut first, each ending with a note of how much was cut; then, if needed,
 * the largest of responseElements, additionalEventData, serviceEventDetails and requestParameters is replaced by a
 * note. Identifying fields (event ID, time, source, name, identity, bucket and key) are short and stay whole.
 * Undefined when the record cannot be made to fit.
 */
export function shrinkRecord(record: Record<string, unknown>, maxBytes: number): Record<string, unknown> | undefined {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  const size = () => Buffer.byteLength(JSON.stringify(copy), "utf8");
  let bytes = size();
  const longest = (): { holder: Record<string, unknown> | unknown[]; key: string | number; length: number } | undefined => {
    let best: { holder: Record<string, unknown> | unknown[]; key: string | number; length: number } | undefined;
    const walk = (holder: Record<string, unknown> | unknown[]) => {
      for (const [key, value] of Object.entries(holder)) {
        if (typeof value === "string" && value.length > MIN_CUT_TEXT_LENGTH + 100 && (best === undefined || value.length > best.length)) {
          best = { holder, key: Array.isArray(holder) ? Number(key) : key, length: value.length };
        } else if (typeof value === "object" && value !== null) {
          walk(value as Record<string, unknown> | unknown[]);
        }
      }
    };
    walk(copy);
    return best;
  };
  while (bytes > maxBytes) {
    const target = longest();
    if (target === undefined) {
      break;
    }
    const text = (target.holder as Record<string | number, string>)[target.key];
    // Cut at least as many characters as there are bytes over the limit (each is at least one byte), never below
    // MIN_CUT_TEXT_LENGTH, and never between the two halves of a surrogate pair.
    let keep = Math.max(MIN_CUT_TEXT_LENGTH, text.length - (bytes - maxBytes) - 64);
    if (/[\ud800-\udbff]/.test(text.charAt(keep - 1))) {
      keep -= 1;
    }
    const kept = text.slice(0, keep);
    (target.holder as Record<string | number, string>)[target.key] = `${kept} ...[cut ${text.length - kept.length} characters to forward]`;
    bytes = size();
  }
  for (const field of [...DROPPABLE_FIELDS].sort((a, b) => Buffer.byteLength(JSON.stringify(copy[b]) ?? "") - Buffer.byteLength(JSON.stringify(copy[a]) ?? ""))) {
    if (bytes <= maxBytes) {
      break;
    }
    if (copy[field] !== undefined && copy[field] !== null) {
      copy[field] = { cutToForward: `${Buffer.byteLength(JSON.stringify(copy[field]), "utf8")} bytes left out` };
      bytes = size();
    }
  }
  return bytes <= maxBytes ? copy : undefined;
}

function isLogEvent(value: unknown): value is LogEvent {
  const v = value as Partial<LogEvent> | null;
  return typeof v === "object" && v !== null && typeof v.id === "string" && typeof v.message === "string" && typeof v.timestamp === "number";
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
    const reject = (reason: string, id?: string) => {
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

    const perRoute = new Map<string, LogEvent[]>(settings.routes.map((route) => [route.key, []]));
    for (const logEvent of envelope.logEvents) {
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
      for (const route of settings.routes) {
        if (matchesAnyRecordPattern(record, route.patterns)) {
          perRoute.get(route.key)?.push(logEvent);
        }
      }
    }

    const failures: string[] = [];
    const publishes: Array<Promise<void>> = [];
    for (const [key, logEvents] of perRoute) {
      if (logEvents.length === 0) continue;
      result.forwarded[key] = logEvents.length;
      const { payloads, tooLarge } = packPayloads({ ...envelope, logEvents: [] }, logEvents);
      for (const big of tooLarge) {
        // Forward a copy with its longest values cut (the consumer still gets who, what, when and on which object),
        // rather than leave the consumer without the event.
        const shrunk = shrinkRecord(JSON.parse(big.message) as Record<string, unknown>, MAX_FORWARDED_RECORD_BYTES);
        const packed = shrunk === undefined ? undefined : packPayloads({ ...envelope, logEvents: [] }, [{ ...big, message: JSON.stringify(shrunk) }]);
        if (packed === undefined || packed.payloads.length !== 1) {
          reject(`log event is too large to forward to ${key} in one SNS message`, big.id);
          continue;
        }
        logger.warn("log event cut to fit an SNS message", { id: big.id, consumer: key, bytes: Buffer.byteLength(big.message, "utf8") });
        payloads.push(packed.payloads[0]);
      }
      for (const payload of payloads) {
        publishes.push(
          sns
            .send(
              new PublishCommand({
                TopicArn: settings.topicArn,
                Message: payload,
                MessageAttributes: { [CONSUMER_ATTRIBUTE]: { DataType: "String", StringValue: key } },
              }),
            )
            .then(
              () => {
                result.messages += 1;
              },
              (error: unknown) => {
                assertIsError(error);
                failures.push(`${key}: ${error.name}: ${error.message}`);
              },
            ),
        );
      }
    }
    await Promise.all(publishes);
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

/** Environment variables the deployed dispatcher reads. */
export const LOG_DISPATCH_ENVIRONMENT = { topicArn: "DISPATCH_TOPIC_ARN", routes: "DISPATCH_ROUTES" } as const;

/** Reads and checks the dispatcher's settings; throws naming the variable at cold start when one is wrong. */
export function logDispatchSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): LogDispatchSettings {
  const topicArn = requireEnv(LOG_DISPATCH_ENVIRONMENT.topicArn, env);
  const variable = LOG_DISPATCH_ENVIRONMENT.routes;
  const text = requireEnv(variable, env);
  let routes: unknown;
  try {
    routes = JSON.parse(text);
  } catch (error) {
    assertIsError(error);
    throw namedError("ConfigurationError", `environment variable ${variable} must be JSON: ${error.message}`, { variable });
  }
  const problems = Array.isArray(routes)
    ? routes.flatMap((route: unknown, i) => {
        const r = route as Partial<DispatchRoute> | null;
        if (typeof r !== "object" || r === null || typeof r.key !== "string" || !Array.isArray(r.patterns)) {
          return [`[${i}] must be {key, patterns}`];
        }
        return r.patterns.flatMap((pattern, j) => recordPatternProblems(pattern, `[${i}].patterns[${j}]`));
      })
    : ["must be a list of routes"];
  if (problems.length > 0) {
    throw namedError("ConfigurationError", `environment variable ${variable} is invalid: ${problems.join("; ")}`, { variable });
  }
  return { topicArn, routes: routes as DispatchRoute[] };
}

/** The callback factory the LogSubscriptionDispatcher deploys. */
export function logDispatchCallbackFactory(): (event: unknown) => Promise<LogDispatchResult> {
  const settings = logDispatchSettingsFromEnvironment();
  const sns = new SNSClient({});
  const metrics = embeddedMetricSink(process.env.AWS_LAMBDA_FUNCTION_NAME ?? "log-subscription-dispatcher");
  return logDispatchHandler(settings, { sns, logger: consoleLogger, metrics });
}

/**
 * Small helpers every handler in `functions/` shares: errors, structured logs and
 * CloudWatch metrics written as Embedded Metric Format (no `cloudwatch:PutMetricData` permission needed).
 */

/**
 * Tells Pulumi's closure serializer to copy this module into each Lambda archive by value, also when
 * cloudtrail-alerts is installed under `node_modules` of another program. Without it the serializer would
 * emit `require("cloudtrail-alerts/...")`, and the archives deliberately do not carry this package.
 */
export const deploymentOnlyModule = true;

/**
 * Creates an `Error` with a `name` and extra fields. Handlers use this instead of `Error` subclasses: Pulumi's closure
 * serializer rewrites a class into a function that calls `Error` without `new`, so a serialized subclass instance
 * has no message and no stack, and is not even an `instanceof Error`.
 */
export function namedError<F extends object>(name: string, message: string, fields?: F): Error & F {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, fields);
}

/** True when `error` was created by {@link namedError} with this name. */
export function hasErrorName(error: unknown, name: string): error is Error {
  return error instanceof Error && error.name === name;
}

/** Narrows a caught value to `Error`, rethrowing anything else wrapped so that nothing is swallowed. */
export function assertIsError(error: unknown): asserts error is Error {
  if (!(error instanceof Error)) {
    throw new Error(`non-Error value thrown: ${String(error)}`);
  }
}

/** Fields of one structured log line. */
export type LogFields = Record<string, unknown>;

/** Structured JSON logger; with the function's JSON log format Lambda adds timestamp, level and request ID. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The logger handlers use by default: one JSON object per call on the matching console level. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.info({ message, ...fields }),
  warn: (message, fields) => console.warn({ message, ...fields }),
  error: (message, fields) => console.error({ message, ...fields }),
};

/** Writes CloudWatch metrics; the default implementation prints Embedded Metric Format to stdout. */
export interface MetricSink {
  count(name: string, value: number, dimensions?: Record<string, string>): void;
}

/** Namespace of every metric the handlers emit. */
export const METRIC_NAMESPACE = "CloudTrailAlerts";

/**
 * The metric every handler counts rejected input in: payloads or records it could not decode or use, which are not
 * retried. `SecureCallbackFunction`'s `rejectedInputAlarm` alarms on it.
 */
export const REJECTED_INPUT_METRIC = "RejectedInput";

/** The message of the WARN line logged, with its reason, for each rejected payload or record. */
export const REJECTED_INPUT_MESSAGE = "input rejected";

/**
 * Logs each rejected payload or record (its fields: source, reason, id) as {@link REJECTED_INPUT_MESSAGE} and counts
 * them in {@link REJECTED_INPUT_METRIC}; does nothing for an empty list.
 */
export function reportRejectedInput(rejected: readonly object[], logger: Logger, metrics: MetricSink | undefined): void {
  for (const item of rejected) {
    logger.warn(REJECTED_INPUT_MESSAGE, { ...item });
  }
  if (rejected.length > 0) {
    metrics?.count(REJECTED_INPUT_METRIC, rejected.length);
  }
}

/**
 * Emits one Embedded Metric Format document per call. It is written with `process.stdout.write` rather
 * than `console.log`: with the JSON log format, console output is wrapped into a `message` field and
 * CloudWatch would no longer extract the metric.
 */
export function embeddedMetricSink(
  functionName: string,
  write: (line: string) => void = (line) => process.stdout.write(line),
): MetricSink {
  return {
    count(name, value, dimensions = {}) {
      const allDimensions = { FunctionName: functionName, ...dimensions };
      const document = {
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: METRIC_NAMESPACE,
              Dimensions: [Object.keys(allDimensions)],
              Metrics: [{ Name: name, Unit: "Count" }],
            },
          ],
        },
        ...allDimensions,
        [name]: value,
      };
      write(`${JSON.stringify(document)}\n`);
    },
  };
}

/** Where time comes from: the system clock in Lambda, a virtual clock in tests and benchmarks. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The system clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const state: { timer?: NodeJS.Timeout } = {};
      const onAbort = () => {
        clearTimeout(state.timer);
        reject(signal?.reason as Error);
      };
      state.timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

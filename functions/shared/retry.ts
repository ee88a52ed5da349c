/**
 * One retry policy for every handler: which AWS errors are worth retrying, and how long to wait before the next try.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

// Arrays, not Sets: Pulumi's closure serializer turns a captured module-level Set into an object whose `has` throws
// (pulumi/pulumi#1314), so Lambda code keeps its constant collections in arrays.

/** Error names and codes of throttling: the service refused the call because of its rate quota. */
const THROTTLING_NAMES: readonly string[] = [
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "RequestThrottledException",
  "SlowDown",
];

/** Error names and codes of transient faults: timeouts, dropped connections and the service's own errors. */
const TRANSIENT_NAMES: readonly string[] = [
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ServiceUnavailableException",
  "ServiceUnavailable",
  "InternalServerError",
  "InternalServerException",
  "InternalFailure",
];

interface AwsErrorDetails {
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  code?: string;
}

function namesOf(error: Error): string[] {
  const { code } = error as AwsErrorDetails;
  return code === undefined ? [error.name] : [error.name, code];
}

/** True when the service refused the call for its rate quota (HTTP 429 or a throttling error name). */
export function isThrottlingError(error: Error): boolean {
  return (error as AwsErrorDetails).$metadata?.httpStatusCode === 429 || namesOf(error).some((name) => THROTTLING_NAMES.includes(name));
}

/** True when the call may succeed if tried again unchanged: throttling, a server-side fault (5xx) or a transient network error. */
export function isRetryableError(error: Error): boolean {
  const details = error as AwsErrorDetails;
  return (
    isThrottlingError(error) ||
    details.$fault === "server" ||
    (details.$metadata?.httpStatusCode ?? 0) >= 500 ||
    namesOf(error).some((name) => TRANSIENT_NAMES.includes(name))
  );
}

/**
 * Exponential backoff with "equal jitter": for the n-th consecutive failure (n >= 1) a delay drawn uniformly from
 * [d/2, d] where d = min(maxMs, baseMs * 2^(n-1)). Never zero, so a throttled caller always waits.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (ceiling / 2) * random();
}

/**
 * Deploy-time patterns of DownloadThresholdAlert: what selects the successful `GetObject` events on the watched
 * objects in an EventBridge rule, a subscription filter, a LogSubscriptionDispatcher route and the trail's event
 * selectors. The handler never builds these; it selects records itself (functions/downloadThreshold/watchedDownload.ts).
 */
import { SUCCESSFUL_GET_OBJECT } from "../functions/downloadThreshold/logsCounter";
import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import { quoteFilterString, type RecordPattern } from "../functions/shared/recordPattern";
import type { AdvancedEventSelector } from "./auditTrail";

/**
 * The record pattern (EventBridge content filtering over one CloudTrail record, see recordPattern.ts) that selects
 * exactly the successful `GetObject` events on the watched objects: per bucket, the exact keys and `{ prefix }`es
 * (a prefix of "" watches the whole bucket, with no key condition); several buckets with `$or`. It is the `detail` of
 * the EventBridge rule and the pattern a LogSubscriptionDispatcher routes downloads with. Values match literally:
 * `*` and `?` in keys are not wildcards.
 */
export function downloadRecordPattern(watches: readonly WatchedObject[]): RecordPattern {
  const perBucket = [...new Set(watches.map((w) => w.bucket))].map((bucket): RecordPattern => {
    const ofBucket = watches.filter((w) => w.bucket === bucket);
    if (ofBucket.some((w) => w.keyPrefix === "")) {
      return { requestParameters: { bucketName: [bucket] } };
    }
    const keys = ofBucket.map((w) => (w.key !== undefined ? w.key : { prefix: w.keyPrefix }));
    return { requestParameters: { bucketName: [bucket], key: keys } };
  });
  return {
    eventSource: ["s3.amazonaws.com"],
    eventName: ["GetObject"],
    // Failed requests (access denied, no such key) carry an errorCode and are not downloads.
    errorCode: [{ exists: false }],
    ...(perBucket.length === 1 ? perBucket[0] : { $or: perBucket }),
  };
}

/**
 * The subscription filter pattern that selects successful `GetObject` events on the watched objects, grouped by
 * bucket: `{ (...GetObject...) && (($.requestParameters.bucketName = "b" && ($.requestParameters.key = "k" || ...)) || ...) }`.
 * Its GetObject clause is the one the logs counter's FilterLogEvents pattern uses.
 */
export function downloadFilterPattern(watches: readonly WatchedObject[]): string {
  const buckets = [...new Set(watches.map((w) => w.bucket))].map((bucket) => {
    const ofBucket = watches.filter((w) => w.bucket === bucket);
    const bucketClause = `$.requestParameters.bucketName = ${quoteFilterString(bucket)}`;
    // A prefix of "" watches the whole bucket; no key condition is needed then.
    if (ofBucket.some((w) => w.keyPrefix === "")) {
      return `(${bucketClause})`;
    }
    const keys = ofBucket.map((w) => `$.requestParameters.key = ${quoteFilterString(w.key ?? `${w.keyPrefix}*`)}`);
    return `(${bucketClause} && (${keys.join(" || ")}))`;
  });
  return `{ ${SUCCESSFUL_GET_OBJECT} && (${buckets.join(" || ")}) }`;
}

/**
 * The EventBridge pattern for successful `GetObject` data events on the watched objects: CloudTrail's S3 API calls
 * whose `detail` matches {@link downloadRecordPattern}. Values are matched literally (`*` is not a wildcard in
 * EventBridge's exact and prefix matching), so keys need no escaping beyond JSON's.
 */
export function downloadEventPattern(watches: readonly WatchedObject[]): string {
  return JSON.stringify({ source: ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"], detail: downloadRecordPattern(watches) });
}

/**
 * The advanced event selectors that make a trail log `GetObject` (read-only data events) on exactly the watched
 * objects: one selector for exact keys (`resources.ARN` equals), one for prefixes (`resources.ARN` starts with).
 */
export function downloadEventSelectors(name: string, watches: readonly WatchedObject[], partition = "aws"): AdvancedEventSelector[] {
  const arn = (bucket: string, key: string) => `arn:${partition}:s3:::${bucket}/${key}`;
  const base = [
    { field: "eventCategory", equals: ["Data"] },
    { field: "resources.type", equals: ["AWS::S3::Object"] },
    { field: "eventName", equals: ["GetObject"] },
    { field: "readOnly", equals: ["true"] },
  ];
  const exact = [...new Set(watches.flatMap((w) => (w.key !== undefined ? [arn(w.bucket, w.key)] : [])))];
  const prefixes = [...new Set(watches.flatMap((w) => (w.keyPrefix !== undefined ? [arn(w.bucket, w.keyPrefix)] : [])))];
  return [
    ...(exact.length > 0 ? [{ name: `${name}: GetObject on watched objects`, fieldSelectors: [...base, { field: "resources.ARN", equals: exact }] }] : []),
    ...(prefixes.length > 0 ? [{ name: `${name}: GetObject under watched prefixes`, fieldSelectors: [...base, { field: "resources.ARN", startsWith: prefixes }] }] : []),
  ];
}

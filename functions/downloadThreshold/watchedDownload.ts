/**
 * Which CloudTrail records count: successful S3 `GetObject` events on watched objects, each matched to the watch whose
 * threshold applies.
 */
import type { CloudTrailRecord } from "../shared/cloudtrailEvents";
import { isObject, shown } from "../shared/values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** One watched object (`key`) or every object under a prefix (`keyPrefix`, counted per object key). */
export type WatchedObject =
  | { bucket: string; key: string; keyPrefix?: undefined; threshold: number }
  | { bucket: string; keyPrefix: string; key?: undefined; threshold: number };

/** A download of a watched object. */
export interface WatchedDownload {
  bucket: string;
  key: string;
  threshold: number;
  record: CloudTrailRecord;
}

/**
 * Why `value` is not a usable watch list (a non-empty list of `{ bucket, key | keyPrefix, threshold }` with a whole
 * threshold >= 1), one problem per bad entry; empty when it is usable. The handler's check of what it was deployed
 * with; the component checks its arguments more closely (bucket names, key lengths, patterns that fit).
 */
export function watchesProblems(value: unknown, path = "watches"): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    return [`${path} must be a non-empty list of { bucket, key | keyPrefix, threshold }, got ${shown(value, 200)}`];
  }
  return value.flatMap((watch: unknown, i) =>
    isWatchedObject(watch) ? [] : [`${path}[${i}] must be { bucket, key | keyPrefix, threshold } with a whole threshold >= 1, got ${shown(watch, 200)}`],
  );
}

function isWatchedObject(value: unknown): value is WatchedObject {
  if (!isObject(value)) {
    return false;
  }
  const oneOf = (typeof value.key === "string") !== (typeof value.keyPrefix === "string");
  return typeof value.bucket === "string" && oneOf && typeof value.threshold === "number" && Number.isInteger(value.threshold) && value.threshold >= 1;
}

/** The watch that applies to `bucket`/`key`: an exact key first, otherwise the longest matching prefix. */
export function watchFor(watches: readonly WatchedObject[], bucket: string, key: string): WatchedObject | undefined {
  let best: WatchedObject | undefined;
  for (const watch of watches) {
    if (watch.bucket !== bucket) {
      continue;
    }
    if (watch.key !== undefined) {
      if (watch.key === key) {
        return watch;
      }
    } else if (key.startsWith(watch.keyPrefix) && (best === undefined || watch.keyPrefix.length > (best.keyPrefix ?? "").length)) {
      best = watch;
    }
  }
  return best;
}

/**
 * The watched download `record` is, or why it does not count: another service or event name, a failed request
 * (`errorCode` set) or an object nobody watches. Bucket and key are compared exactly as CloudTrail reports them.
 * `malformed` marks a successful S3 GetObject without a bucket name and key: no real data event looks like that, so
 * the handler reports it as rejected input rather than quietly ignoring it.
 */
export function watchedDownload(record: CloudTrailRecord, watches: readonly WatchedObject[]): WatchedDownload | { ignored: string; malformed?: true } {
  if (record.eventSource !== "s3.amazonaws.com" || record.eventName !== "GetObject") {
    return { ignored: `${record.eventSource} ${record.eventName} is not an S3 GetObject` };
  }
  if (record.errorCode !== undefined && record.errorCode !== null) {
    return { ignored: `the request failed with ${String(record.errorCode)}` };
  }
  const bucket = record.requestParameters?.bucketName;
  const key = record.requestParameters?.key;
  if (typeof bucket !== "string" || typeof key !== "string") {
    return { ignored: "the S3 GetObject record has no requestParameters.bucketName and requestParameters.key", malformed: true };
  }
  const watch = watchFor(watches, bucket, key);
  if (watch === undefined) {
    return { ignored: "the object is not watched" };
  }
  return { bucket, key, threshold: watch.threshold, record };
}

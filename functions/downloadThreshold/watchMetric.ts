/**
 * The metric of downloads counted per watch, which the operations dashboard draws against each watch's threshold:
 * `DownloadCount` (namespace `CloudTrailAlerts`), dimensions `FunctionName` and `Watch`, valued at the count the
 * download reached in its window (the `Maximum` of a period is the highest count any object of the watch reached).
 */
import { createHash } from "crypto";

import { watchFor, type WatchedObject } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The metric's name. */
export const DOWNLOAD_COUNT_METRIC = "DownloadCount";

/** The dimension naming the watch. */
export const WATCH_DIMENSION = "Watch";

/** CloudWatch's longest dimension value. See https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html */
const MAX_DIMENSION_VALUE_LENGTH = 1024;

/**
 * The `Watch` dimension's value for a watch: `s3://bucket/key`, or `s3://bucket/prefix*` for a prefix. CloudWatch
 * takes printable ASCII only, so other characters are percent-encoded (UTF-8); a value longer than CloudWatch's 1,024
 * characters is cut and ends with a digest of the whole, so that two watches never share one.
 */
export function watchDimension(watch: Pick<WatchedObject, "bucket" | "key" | "keyPrefix">): string {
  const raw = `s3://${watch.bucket}/${watch.key ?? `${watch.keyPrefix ?? ""}*`}`;
  const ascii = raw.replace(/[^\x21-\x7e ]/gu, (c) => encodeURIComponent(c));
  if (ascii.length <= MAX_DIMENSION_VALUE_LENGTH) {
    return ascii;
  }
  return `${ascii.slice(0, MAX_DIMENSION_VALUE_LENGTH - 18)}~${createHash("sha256").update(raw, "utf8").digest("hex").slice(0, 17)}`;
}

/** Counts `count` (the position a download reached in its window) in {@link DOWNLOAD_COUNT_METRIC} for its watch. */
export function reportDownloadCount(
  metrics: { count(name: string, value: number, dimensions?: Record<string, string>): void } | undefined,
  watches: readonly WatchedObject[],
  download: { bucket: string; key: string },
  count: number,
): void {
  const watch = watchFor(watches, download.bucket, download.key);
  if (watch !== undefined) {
    metrics?.count(DOWNLOAD_COUNT_METRIC, count, { [WATCH_DIMENSION]: watchDimension(watch) });
  }
}

/**
 * Time arithmetic of the backfill: 5-minute windows (one log file each), half-open intervals `[start, end)` in epoch
 * milliseconds, merging, widening to whole windows and splitting into pieces that can be paged concurrently.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Length of the event-time window one log file covers. */
export const WINDOW_MS = 5 * 60 * 1000;

/** A half-open time interval `[start, end)` in epoch milliseconds. */
export type Interval = readonly [start: number, end: number];

/** Start of the 5-minute window holding `ms`. */
export function windowStartOf(ms: number): number {
  return Math.floor(ms / WINDOW_MS) * WINDOW_MS;
}

/** `ms` rounded up to a window boundary. */
export function ceilToWindow(ms: number): number {
  return Math.ceil(ms / WINDOW_MS) * WINDOW_MS;
}

/** Sorts, drops empty intervals, and merges overlapping or touching ones. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([start, end]) => end > start).sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) {
      last[1] = Math.max(last[1], end);
    } else {
      merged.push([start, end]);
    }
  }
  return merged;
}

/** Widens each interval outwards to whole windows, then merges. */
export function widenToWindows(intervals: readonly Interval[]): Interval[] {
  return mergeIntervals(intervals.map(([start, end]) => [windowStartOf(start), ceilToWindow(end)] as const));
}

/** Total length of (merged) intervals in ms. */
export function totalLength(intervals: readonly Interval[]): number {
  return mergeIntervals(intervals).reduce((sum, [start, end]) => sum + (end - start), 0);
}

/** Number of 5-minute windows that intersect the intervals. */
export function windowCount(intervals: readonly Interval[]): number {
  return widenToWindows(intervals).reduce((sum, [start, end]) => sum + (end - start) / WINDOW_MS, 0);
}

/**
 * The point at which to cut `[start, end)` in two: its middle, moved to a window boundary when the interval spans at
 * least two windows (so that each window is read by one chain), otherwise, if `withinWindows`, to a whole second.
 * Undefined when the halves would be shorter than `minLengthMs`.
 */
export function splitPoint(start: number, end: number, minLengthMs: number, withinWindows = true): number | undefined {
  const middle = start + (end - start) / 2;
  const onWindow = Math.round(middle / WINDOW_MS) * WINDOW_MS;
  const onSecond = Math.round(middle / 1000) * 1000;
  const candidates = end - start >= 2 * WINDOW_MS ? [onWindow, onSecond] : [onSecond];
  for (const candidate of withinWindows ? candidates : candidates.filter((c) => c % WINDOW_MS === 0)) {
    if (candidate - start >= minLengthMs && end - candidate >= minLengthMs) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * Cuts intervals into at most `pieces` parts, always halving the longest part at its {@link splitPoint}, so that
 * they can be paged concurrently. The parts cover exactly the input, newest first.
 */
export function splitIntervals(intervals: readonly Interval[], pieces: number, minLengthMs: number, withinWindows = true): Interval[] {
  const parts: Interval[] = mergeIntervals(intervals);
  while (parts.length < pieces) {
    let longest = -1;
    let cut: number | undefined;
    parts.forEach(([start, end], i) => {
      const candidate = splitPoint(start, end, minLengthMs, withinWindows);
      if (candidate !== undefined && (longest < 0 || end - start > parts[longest][1] - parts[longest][0])) {
        longest = i;
        cut = candidate;
      }
    });
    if (longest < 0 || cut === undefined) {
      break;
    }
    const [start, end] = parts[longest];
    parts.splice(longest, 1, [start, cut], [cut, end]);
  }
  return parts.sort((a, b) => b[0] - a[0]);
}

/** ISO 8601 form of an interval, as carried in Step Functions payloads. */
export function intervalToIso([start, end]: Interval): [string, string] {
  return [new Date(start).toISOString(), new Date(end).toISOString()];
}

/** Parses an interval written by {@link intervalToIso}; undefined when it is not one. */
export function intervalFromIso(value: unknown): Interval | undefined {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") {
    return undefined;
  }
  const start = Date.parse(value[0]);
  const end = Date.parse(value[1]);
  return Number.isFinite(start) && Number.isFinite(end) && end > start ? [start, end] : undefined;
}

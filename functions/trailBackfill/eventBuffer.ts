/**
 * The events one invocation has read and not yet written, by 5-minute window. A window's file is written once every
 * task touching it has been read past it, so that each file holds its whole window, once.
 */
import type { Event as TrailEvent } from "@aws-sdk/client-cloudtrail";

import { type Logger, namedError } from "../shared/runtime";
import { WINDOW_MS, windowStartOf } from "../shared/timeIntervals";
import { isObject } from "../shared/values";
import type { PairStats } from "./checkpoint";
import { finishTask, type Task, undoneIntersects } from "./taskQueue";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** One buffered event: its time and its `CloudTrailEvent` JSON text, as LookupEvents returned it. */
export interface BufferedEvent {
  time: number;
  json: string;
}

/** The windows read but not written (window start -> event ID -> event), and the windows written. */
export interface EventBuffer {
  pending: Map<number, Map<string, BufferedEvent>>;
  written: Set<number>;
}

/** An empty buffer. */
export function eventBuffer(): EventBuffer {
  return { pending: new Map(), written: new Set() };
}

/** Where {@link acceptPage} reports what it skips. */
export interface PageReport {
  stats: Pick<PairStats, "rejected">;
  logger: Logger;
  pair: { account: string; region: string };
}

/** The event's time, or undefined when LookupEvents returned it without a usable one. */
function eventTime(event: TrailEvent): number | undefined {
  const time = event.EventTime?.getTime();
  return time === undefined || !Number.isFinite(time) ? undefined : time;
}

/** The event's `CloudTrailEvent` text when it is a JSON object and the event has an ID; undefined otherwise. */
function eventJson(event: TrailEvent): string | undefined {
  const json = event.CloudTrailEvent;
  let parsed: unknown;
  try {
    parsed = typeof json === "string" ? JSON.parse(json) : undefined;
  } catch {
    parsed = undefined;
  }
  return typeof event.EventId !== "string" || event.EventId === "" || !isObject(parsed) ? undefined : json;
}

/** Buffers an event under its window; an event of a window already written is a bug. */
function bufferEvent(buffer: EventBuffer, id: string, time: number, json: string): void {
  const windowStart = windowStartOf(time);
  if (buffer.written.has(windowStart)) {
    throw namedError("BackfillInternalError", `event ${id} at ${new Date(time).toISOString()} arrived after its window was written`);
  }
  let events = buffer.pending.get(windowStart);
  if (events === undefined) {
    events = new Map();
    buffer.pending.set(windowStart, events);
  }
  events.set(id, { time, json });
}

/**
 * Takes one page of `task` (newest first): buffers the events within the task's undone part, skips and counts
 * unusable ones, and moves the task's `doneFrom` down to the oldest event seen (or finishes the task on its last page
 * or once the page reaches past its start).
 */
export function acceptPage(task: Task, events: readonly TrailEvent[], lastPage: boolean, buffer: EventBuffer, report: PageReport): void {
  const upper = task.doneFrom;
  let oldest = Number.POSITIVE_INFINITY;
  for (const event of events) {
    const time = eventTime(event);
    if (time === undefined) {
      report.stats.rejected += 1;
      report.logger.warn("event without EventTime skipped", { ...report.pair, eventId: event.EventId });
      continue;
    }
    oldest = Math.min(oldest, time);
    // Older than the task's part: another chain reads it. At or after doneFrom: read already (bounds are inclusive).
    if (time < task.start || time >= upper) {
      continue;
    }
    const json = eventJson(event);
    if (json === undefined) {
      report.stats.rejected += 1;
      report.logger.warn("event without EventId or CloudTrailEvent object skipped", { ...report.pair, eventId: event.EventId, eventTime: new Date(time).toISOString() });
      continue;
    }
    bufferEvent(buffer, event.EventId as string, time, json);
  }
  if (lastPage || oldest < task.start) {
    finishTask(task);
  } else if (Number.isFinite(oldest)) {
    // Events at `oldest` itself may continue on the next page.
    task.doneFrom = Math.max(task.start, Math.min(task.doneFrom, oldest + 1));
    task.lastPageSpan = upper - task.doneFrom;
  }
}

/**
 * Removes the windows no unfinished task still has to read from the buffer, marks them written and returns them,
 * oldest first, for the caller to write.
 */
export function takeCompleteWindows(buffer: EventBuffer, tasks: readonly Task[]): Array<[number, Map<string, BufferedEvent>]> {
  const ready = [...buffer.pending.keys()].filter((w) => !undoneIntersects(tasks, w, w + WINDOW_MS)).sort((a, b) => a - b);
  return ready.map((windowStart) => {
    const events = buffer.pending.get(windowStart) as Map<string, BufferedEvent>;
    buffer.pending.delete(windowStart);
    buffer.written.add(windowStart);
    return [windowStart, events];
  });
}

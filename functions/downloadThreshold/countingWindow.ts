/**
 * Counting windows: when download counts go back to zero. A window runs from one run of the reset schedule (a 5-field
 * cron expression in an IANA time zone, evaluated with croner) to the next.
 */
import { Cron } from "croner";

import { assertIsError, namedError } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** When counts go back to zero: a 5-field cron expression evaluated in an IANA time zone. */
export interface ResetSchedule {
  schedule: string;
  timeZone: string;
}

/** The reset of the FilterLogEvents re-count (docs/sourceArticles.md): Monday 01:00 in Tokyo. */
export const DEFAULT_RESET: ResetSchedule = { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" };

/** A counting window: downloads at or after `start` and before `end` count together. */
export interface CountingWindow {
  start: Date;
  end: Date;
}

function resetCron(reset: ResetSchedule): Cron {
  // 5-part: minutes to weekdays, as in crontab. "no-wildcard": a reset at a listed time (30 2 * * *, 0 1,13 * * *)
  // that falls into a daylight-saving gap runs right after the gap instead of being skipped, as in Vixie cron; a
  // time that occurs twice resets once. Day of month and day of week combine with OR, as in crontab.
  return new Cron(reset.schedule, { timezone: reset.timeZone, mode: "5-part", fixedTimeRule: "no-wildcard" });
}

/**
 * What `reset` should be when it cannot be used (completing "the reset schedule must be ..."), or undefined when it
 * can: exactly 5 fields, parsed by croner, in an IANA time zone, running at least once before and after `now`.
 */
export function resetScheduleProblem(reset: ResetSchedule, now = new Date()): string | undefined {
  const fields = reset.schedule.trim().split(/\s+/);
  if (fields.length !== 5 || reset.schedule.trim() === "") {
    return 'a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1"';
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: reset.timeZone });
  } catch {
    return `a schedule in an IANA time zone such as Asia/Tokyo (not ${JSON.stringify(reset.timeZone)})`;
  }
  try {
    const cron = resetCron(reset);
    if (cron.nextRun(now) === null || cron.previousRuns(1, now).length === 0) {
      return "a schedule that runs (this one never does)";
    }
  } catch (error) {
    assertIsError(error);
    return `a valid cron expression (${error.message})`;
  }
  return undefined;
}

/**
 * Returns a function that gives the counting window containing a time. The cron schedule is parsed once; each call
 * asks the library for the runs around `at`.
 */
export function windowCalculator(reset: ResetSchedule): (at: Date) => CountingWindow {
  const cron = resetCron(reset);
  return (at) => {
    // previousRuns() returns runs strictly before its reference (at millisecond precision), so ask from 1 ms later
    // to include a run at exactly `at`. nextRun() returns the first run strictly after `at`.
    const start = cron.previousRuns(1, new Date(at.getTime() + 1))[0];
    const end = cron.nextRun(at);
    if (start === undefined || end === null || start.getTime() > at.getTime() || end.getTime() <= at.getTime()) {
      throw namedError("ScheduleError", `reset schedule "${reset.schedule}" in ${reset.timeZone} has no counting window around ${at.toISOString()}`, { at: at.toISOString() });
    }
    return { start, end };
  };
}

/**
 * The counting window containing `at`: `start` is the latest schedule time at or before `at`, `end` the next schedule
 * time after it. Times are instants, so a window that spans a daylight-saving change is an hour shorter or longer.
 */
export function countingWindow(at: Date, reset: ResetSchedule): CountingWindow {
  return windowCalculator(reset)(at);
}

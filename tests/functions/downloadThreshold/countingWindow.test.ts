import { expect } from "chai";
import * as fc from "fast-check";

import { countingWindow, resetScheduleProblem, windowCalculator } from "../../../functions/downloadThreshold/countingWindow";

const MINUTE = 60_000;
const iso = (window: { start: Date; end: Date }) => ({ start: window.start.toISOString(), end: window.end.toISOString() });

describe("countingWindow", () => {
  describe("examples", () => {
    const tokyoMonday = { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" };

    it("puts a Monday 10:02 Tokyo download in the week that started Monday 01:00 Tokyo", () => {
      expect(iso(countingWindow(new Date("2025-03-03T01:02:03Z"), tokyoMonday))).to.deep.equal({
        start: "2025-03-02T16:00:00.000Z",
        end: "2025-03-09T16:00:00.000Z",
      });
    });

    it("starts a window exactly at the reset time and ends the previous one 1 ms before", () => {
      expect(iso(countingWindow(new Date("2025-03-09T16:00:00.000Z"), tokyoMonday))).to.deep.equal({ start: "2025-03-09T16:00:00.000Z", end: "2025-03-16T16:00:00.000Z" });
      expect(iso(countingWindow(new Date("2025-03-09T15:59:59.999Z"), tokyoMonday))).to.deep.equal({ start: "2025-03-02T16:00:00.000Z", end: "2025-03-09T16:00:00.000Z" });
    });

    it("makes a weekly window that spans the spring daylight-saving change one hour shorter (Europe/Berlin)", () => {
      const window = countingWindow(new Date("2025-03-28T12:00:00Z"), { schedule: "0 1 * * 1", timeZone: "Europe/Berlin" });

      expect(iso(window)).to.deep.equal({ start: "2025-03-24T00:00:00.000Z", end: "2025-03-30T23:00:00.000Z" });
      expect((window.end.getTime() - window.start.getTime()) / 3_600_000).to.equal(167);
    });

    it("makes a weekly window that spans the autumn change one hour longer (America/New_York)", () => {
      const window = countingWindow(new Date("2025-11-01T12:00:00Z"), { schedule: "0 1 * * 1", timeZone: "America/New_York" });

      expect(iso(window)).to.deep.equal({ start: "2025-10-27T05:00:00.000Z", end: "2025-11-03T06:00:00.000Z" });
      expect((window.end.getTime() - window.start.getTime()) / 3_600_000).to.equal(169);
    });

    it("resets right after the gap when the reset time does not exist that day (02:30 on the spring change in New York)", () => {
      const schedule = { schedule: "30 2 * * *", timeZone: "America/New_York" };

      expect(iso(countingWindow(new Date("2025-03-09T06:59:59Z"), schedule))).to.deep.equal({ start: "2025-03-08T07:30:00.000Z", end: "2025-03-09T07:00:00.000Z" });
      expect(iso(countingWindow(new Date("2025-03-09T12:00:00Z"), schedule))).to.deep.equal({ start: "2025-03-09T07:00:00.000Z", end: "2025-03-10T06:30:00.000Z" });
    });

    it("resets once when the reset time occurs twice (01:30 on the autumn change in New York)", () => {
      const window = countingWindow(new Date("2025-11-02T06:45:00Z"), { schedule: "30 1 * * *", timeZone: "America/New_York" });

      expect(iso(window)).to.deep.equal({ start: "2025-11-02T05:30:00.000Z", end: "2025-11-03T06:30:00.000Z" });
    });

    it("treats day of month and day of week as alternatives, as crontab does", () => {
      // The 1st of the month or any Monday, 09:00 UTC: Saturday 2025-03-01 and then Monday 2025-03-03.
      expect(iso(countingWindow(new Date("2025-03-02T00:00:00Z"), { schedule: "0 9 1 * 1", timeZone: "UTC" }))).to.deep.equal({
        start: "2025-03-01T09:00:00.000Z",
        end: "2025-03-03T09:00:00.000Z",
      });
    });
  });

  describe("resetScheduleProblem", () => {
    const cases: Array<[string, { schedule: string; timeZone: string }, string | undefined]> = [
      ["the default", { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, undefined],
      ["6 fields", { schedule: "0 0 1 * * 1", timeZone: "UTC" }, 'a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1"'],
      ["a nickname", { schedule: "@weekly", timeZone: "UTC" }, 'a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1"'],
      ["an hour out of range", { schedule: "0 25 * * 1", timeZone: "UTC" }, "a valid cron expression"],
      ["a date that never comes", { schedule: "0 0 30 2 *", timeZone: "UTC" }, "a schedule that runs (this one never does)"],
      ["an unknown time zone", { schedule: "0 1 * * 1", timeZone: "Mars/Olympus" }, 'a schedule in an IANA time zone such as Asia/Tokyo (not "Mars/Olympus")'],
    ];
    for (const [title, reset, expected] of cases) {
      it(`${expected === undefined ? "accepts" : "rejects"} ${title}`, () => {
        const problem = resetScheduleProblem(reset);
        if (expected === undefined) {
          expect(problem).to.equal(undefined);
        } else {
          expect(problem).to.be.a("string").and.satisfy((p: string) => p.startsWith(expected));
        }
      });
    }
  });

  describe("properties", () => {
    // Zones with and without daylight saving, including 30- and 45-minute offsets and a 30-minute DST shift.
    const ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland", "Asia/Kathmandu", "America/St_Johns"];
    const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

    /**
     * Schedules whose runs an independent wall-clock check can tell exactly: fixed times are at 04:00 or later (no
     * zone here changes its clocks then), hourly ones (`*`) run at every occurrence of the minute and skip gaps.
     */
    const schedules = fc.record({
      minute: fc.integer({ min: 0, max: 59 }),
      hour: fc.oneof(fc.constant("*"), fc.integer({ min: 4, max: 23 }).map(String), fc.tuple(fc.integer({ min: 4, max: 11 }), fc.integer({ min: 12, max: 23 })).map(([a, b]) => `${a},${b}`)),
      dayOfMonth: fc.oneof(fc.constant("*"), fc.integer({ min: 1, max: 28 }).map(String)),
      dayOfWeek: fc.oneof(fc.constant("*"), fc.integer({ min: 0, max: 6 }).map(String), fc.constant("1-5")),
      timeZone: fc.constantFrom(...ZONES),
    });
    const instants = fc.integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2035-12-31T00:00:00Z") }).map((t) => new Date(t));

    type Generated = { minute: number; hour: string; dayOfMonth: string; dayOfWeek: string; timeZone: string };
    const cronOf = (s: Generated) => `${s.minute} ${s.hour} ${s.dayOfMonth} * ${s.dayOfWeek}`;

    /** True when the wall-clock time at UTC minute `t` in the schedule's zone matches it (crontab's rules). */
    function oracle(s: Generated): (t: number) => boolean {
      const format = new Intl.DateTimeFormat("en-US", { timeZone: s.timeZone, hourCycle: "h23", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
      const hours = s.hour === "*" ? undefined : s.hour.split(",").map(Number);
      const weekdays = s.dayOfWeek === "*" ? undefined : s.dayOfWeek === "1-5" ? [1, 2, 3, 4, 5] : [Number(s.dayOfWeek)];
      const dayOfMonth = s.dayOfMonth === "*" ? undefined : Number(s.dayOfMonth);
      return (t) => {
        const parts: Record<string, string> = {};
        for (const part of format.formatToParts(new Date(t))) {
          parts[part.type] = part.value;
        }
        if (Number(parts.minute) !== s.minute || (hours !== undefined && !hours.includes(Number(parts.hour)))) {
          return false;
        }
        const domOk = dayOfMonth === undefined || Number(parts.day) === dayOfMonth;
        const dowOk = weekdays === undefined || weekdays.includes(WEEKDAYS[parts.weekday]);
        // Both restricted: either one (crontab); otherwise the restricted one.
        return dayOfMonth !== undefined && weekdays !== undefined ? domOk || dowOk : domOk && dowOk;
      };
    }

    it("start <= at < end, and start and end are consecutive schedule times, in zones with and without DST", () => {
      fc.assert(
        fc.property(schedules, instants, (s, at) => {
          const reset = { schedule: cronOf(s), timeZone: s.timeZone };
          const { start, end } = countingWindow(at, reset);
          const runs = oracle(s);

          expect(start.getTime()).to.be.at.most(at.getTime());
          expect(end.getTime()).to.be.greaterThan(at.getTime());
          expect(runs(start.getTime()), `start ${start.toISOString()} is a run of ${reset.schedule} in ${s.timeZone}`).to.equal(true);
          expect(runs(end.getTime()), `end ${end.toISOString()} is a run of ${reset.schedule} in ${s.timeZone}`).to.equal(true);
          // Every UTC offset is a multiple of 15 minutes, so only minutes congruent to the schedule's can be runs.
          const first = Math.floor(start.getTime() / MINUTE) + 1;
          for (let minute = first + ((((s.minute - first) % 15) + 15) % 15); minute * MINUTE < end.getTime(); minute += 15) {
            expect(runs(minute * MINUTE), `${new Date(minute * MINUTE).toISOString()} lies between two runs`).to.equal(false);
          }
        }),
        { numRuns: 60 },
      );
    });

    it("gives the same window for every instant in it, including its start and the millisecond before its end", () => {
      fc.assert(
        fc.property(schedules, instants, fc.double({ min: 0, max: 1, noNaN: true }), (s, at, fraction) => {
          const windowAt = windowCalculator({ schedule: cronOf(s), timeZone: s.timeZone });
          const window = iso(windowAt(at));
          const { start, end } = windowAt(at);
          const inside = new Date(start.getTime() + Math.floor(fraction * (end.getTime() - start.getTime() - 1)));

          expect(iso(windowAt(start))).to.deep.equal(window);
          expect(iso(windowAt(inside))).to.deep.equal(window);
          expect(iso(windowAt(new Date(end.getTime() - 1)))).to.deep.equal(window);
          expect(windowAt(end).start.toISOString()).to.equal(window.end);
        }),
        { numRuns: 200 },
      );
    });
  });
});

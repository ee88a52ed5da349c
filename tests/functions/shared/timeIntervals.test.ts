import { expect } from "chai";
import * as fc from "fast-check";

import {
  ceilToWindow,
  type Interval,
  intervalFromIso,
  intervalToIso,
  mergeIntervals,
  splitIntervals,
  splitPoint,
  totalLength,
  WINDOW_MS,
  widenToWindows,
  windowCount,
  windowStartOf,
} from "../../../functions/shared/timeIntervals";

const T0 = Date.parse("2024-05-01T00:00:00Z");
const interval = fc
  .tuple(fc.integer({ min: 0, max: 3 * 24 * 3600 }), fc.integer({ min: 1, max: 12 * 3600 }))
  .map(([offset, length]): Interval => [T0 + offset * 1000, T0 + (offset + length) * 1000]);
const intervals = fc.array(interval, { maxLength: 8 });

/** True when `t` is inside one of the intervals. */
const covers = (list: readonly Interval[], t: number) => list.some(([start, end]) => t >= start && t < end);

describe("timeIntervals", () => {
  it("puts a time exactly on a boundary in the window that starts there", () => {
    // Prepare
    const boundary = Date.parse("2024-05-01T10:05:00Z");

    // Act / Assess
    expect(windowStartOf(boundary)).to.equal(boundary);
    expect(windowStartOf(boundary - 1)).to.equal(boundary - WINDOW_MS);
    expect(ceilToWindow(boundary + 1)).to.equal(boundary + WINDOW_MS);
  });

  it("merges into sorted, disjoint, non-touching intervals covering exactly the same times", () => {
    fc.assert(
      fc.property(intervals, fc.array(fc.integer({ min: 0, max: 4 * 24 * 3600 }), { maxLength: 30 }), (input, probes) => {
        const merged = mergeIntervals(input);

        merged.forEach(([start, end], i) => {
          expect(end).to.be.greaterThan(start);
          if (i > 0) expect(start).to.be.greaterThan(merged[i - 1][1]);
        });
        for (const probe of probes.map((p) => T0 + p * 1000)) {
          expect(covers(merged, probe)).to.equal(covers(input, probe));
        }
      }),
    );
  });

  it("widens to whole windows: every covered time stays covered, every boundary is on a window", () => {
    fc.assert(
      fc.property(intervals, (input) => {
        const widened = widenToWindows(input);

        for (const [start, end] of widened) {
          expect(start % WINDOW_MS).to.equal(0);
          expect(end % WINDOW_MS).to.equal(0);
        }
        for (const [start, end] of input) {
          expect(covers(widened, start) && covers(widened, end - 1)).to.equal(true);
        }
        expect(windowCount(input)).to.equal(totalLength(widened) / WINDOW_MS);
      }),
    );
  });

  it("splits into at most the asked number of parts that cover the input exactly, newest first", () => {
    fc.assert(
      fc.property(intervals, fc.integer({ min: 1, max: 12 }), (input, pieces) => {
        const parts = splitIntervals(input, pieces, 10_000);

        expect(parts.length).to.be.at.most(Math.max(pieces, mergeIntervals(input).length));
        expect(mergeIntervals(parts)).to.deep.equal(mergeIntervals(input));
        expect(totalLength(parts)).to.equal(parts.reduce((sum, [s, e]) => sum + (e - s), 0));
        parts.forEach(([start], i) => i > 0 && expect(start).to.be.lessThan(parts[i - 1][0]));
      }),
    );
  });

  it("cuts long intervals on window boundaries and short ones on whole seconds, never below the minimum", () => {
    fc.assert(
      fc.property(interval, fc.integer({ min: 1000, max: 60_000 }), ([start, end], minimum) => {
        const cut = splitPoint(start, end, minimum);

        if (cut !== undefined) {
          expect(cut - start).to.be.at.least(minimum);
          expect(end - cut).to.be.at.least(minimum);
          expect(cut % 1000).to.equal(0);
        } else {
          expect(end - start).to.be.lessThan(2 * minimum + 2000);
        }
      }),
    );
    expect(splitPoint(T0, T0 + 4 * WINDOW_MS, 10_000)).to.equal(T0 + 2 * WINDOW_MS);
    expect(splitPoint(T0, T0 + 61_000, 10_000)).to.equal(T0 + 31_000);
  });

  it("round-trips intervals through ISO text and refuses anything else", () => {
    fc.assert(
      fc.property(interval, (value) => {
        expect(intervalFromIso(intervalToIso(value))).to.deep.equal(value);
      }),
    );
    expect(intervalFromIso(["2024-05-01T01:00:00Z", "2024-05-01T00:00:00Z"])).to.equal(undefined);
    expect(intervalFromIso(["yesterday", "today"])).to.equal(undefined);
    expect(intervalFromIso("2024-05-01T00:00:00Z")).to.equal(undefined);
  });
});

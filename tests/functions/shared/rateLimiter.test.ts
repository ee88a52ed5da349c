import { expect } from "chai";
import * as fc from "fast-check";

import { createRateLimiter } from "../../../functions/shared/rateLimiter";
import { backoffDelay } from "../../../functions/shared/retry";
import { VirtualClock } from "../../../simulation/virtualClock";

const T0 = Date.parse("2024-05-01T00:00:00Z");

/** Callers that each acquire at a given time offset; returns the grant times in grant order, with the caller index. */
async function grants(rate: number, arrivals: number[], pauses: Array<{ at: number; ms: number }> = []) {
  const clock = new VirtualClock(T0);
  const limiter = createRateLimiter(rate, clock);
  const granted: Array<{ caller: number; at: number }> = [];
  await clock.run(async () => {
    await Promise.all([
      ...arrivals.map(async (offset, caller) => {
        await clock.sleep(offset);
        await limiter.acquire();
        granted.push({ caller, at: clock.now() - T0 });
      }),
      ...pauses.map(async ({ at, ms }) => {
        await clock.sleep(at);
        limiter.pause(ms);
      }),
    ]);
  });
  return granted;
}

describe("rateLimiter", () => {
  it("never grants two requests closer than 1/rate, whatever the arrivals and pauses", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0.5, 1, 2, 5),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 5000 }), ms: fc.integer({ min: 0, max: 3000 }) }), { maxLength: 3 }),
        async (rate, arrivals, pauses) => {
          const granted = await grants(rate, arrivals, pauses);

          expect(granted.length).to.equal(arrivals.length);
          const times = granted.map((g) => g.at).sort((a, b) => a - b);
          times.forEach((t, i) => i > 0 && expect(t - times[i - 1]).to.be.at.least(1000 / rate - 1e-3));
        },
      ),
    );
  });

  it("grants nothing during a pause, also to callers already waiting", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 10 }), async (at, ms, callers) => {
        const granted = await grants(2, Array.from({ length: callers }, () => 0), [{ at, ms }]);

        for (const g of granted) {
          expect(g.at <= at || g.at >= at + ms).to.equal(true);
        }
      }),
    );
  });

  it("keeps the rate exactly when callers keep it busy, serving them in arrival order", async () => {
    // Prepare: 9 callers asking at once, then 1 more a little later.
    const arrivals = [0, 0, 0, 0, 0, 0, 0, 0, 0, 100];

    // Act
    const granted = await grants(2, arrivals);

    // Assess: one every 500 ms from the start, in order, with no idle slot.
    expect(granted).to.deep.equal(arrivals.map((_, caller) => ({ caller, at: caller * 500 })));
  });

  it("slows down multiplicatively on throttling and climbs back additively, never above the configured rate", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), async (outcomes) => {
        // Prepare: callers one after another, each reporting whether the service throttled it.
        const clock = new VirtualClock(T0);
        const limiter = createRateLimiter(2, clock);
        const times: number[] = [];
        const rates: number[] = [];

        // Act
        await clock.run(async () => {
          for (const throttled of outcomes) {
            await limiter.acquire();
            times.push(clock.now());
            rates.push(limiter.currentRate);
            if (throttled) limiter.throttled(0);
            else limiter.succeeded();
          }
        });

        // Assess: each grant is at least one interval of the rate in force after the grant before it.
        const after = outcomes.map((throttled, i) => (throttled ? Math.max(0.2, rates[i] * 0.7) : Math.min(2, rates[i] + 0.04)));
        times.forEach((t, i) => i > 0 && expect(t - times[i - 1]).to.be.at.least(1000 / after[i - 1] - 1e-3));
        rates.forEach((rate, i) => i > 0 && expect(rate).to.be.closeTo(after[i - 1], 1e-9));
        expect(Math.max(...rates)).to.be.at.most(2);
      }),
    );
  });

  it("backs off exponentially with jitter, within [d/2, d] and capped", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (attempt, r) => {
        const ceiling = Math.min(20_000, 1000 * 2 ** (attempt - 1));
        const delay = backoffDelay(attempt, 1000, 20_000, () => r);

        expect(delay).to.be.at.least(ceiling / 2).and.at.most(ceiling);
      }),
    );
  });

  it("refuses a rate that is not a positive number", () => {
    expect(() => createRateLimiter(0)).to.throw("requestsPerSecond must be a positive number, got 0");
    expect(() => createRateLimiter(Number.NaN)).to.throw("requestsPerSecond must be a positive number, got NaN");
  });
});

import { expect } from "chai";
import * as fc from "fast-check";

import { INVALID_ENVIRONMENT_ERROR } from "../../../functions/shared/environment";
import { hasErrorName } from "../../../functions/shared/runtime";
import {
  DEFAULT_CONCURRENT_REQUESTS,
  DEFAULT_REQUESTS_PER_SECOND,
  fromEnvironment,
  toEnvironment,
  type TrailBackfillSettings,
} from "../../../functions/trailBackfill/settings";

function thrown(action: () => unknown): Error & { variable?: string } {
  try {
    action();
  } catch (error) {
    expect(hasErrorName(error, INVALID_ENVIRONMENT_ERROR), String(error)).to.equal(true);
    return error as Error & { variable?: string };
  }
  throw new Error("expected an error");
}

describe("trailBackfill settings", () => {
  const full: TrailBackfillSettings = {
    bucket: "org-trail-logs",
    prefix: "org-trail/backfill",
    organizationId: "o-a1b2c3d4e5",
    bucketOwner: "999999999999",
    externalId: "tb-external",
    requestsPerSecond: 1.5,
    concurrentRequests: 6,
  };

  it("reads back every setting it writes", () => {
    const minimal: TrailBackfillSettings = { bucket: "b", prefix: "", requestsPerSecond: 2, concurrentRequests: 1 };

    expect(fromEnvironment(toEnvironment(full))).to.deep.equal(full);
    expect(fromEnvironment(toEnvironment(minimal))).to.deep.equal(minimal);
  });

  it("round-trips any valid settings", () => {
    const settings = fc.record(
      {
        bucket: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
        prefix: fc.constantFrom("", "backfill", "team/logs", "a!b_c.d*e'f(g)h-i"),
        organizationId: fc.stringMatching(/^o-[a-z0-9]{10,32}$/),
        bucketOwner: fc.stringMatching(/^\d{12}$/),
        externalId: fc.stringMatching(/^[\w+=,.@:/-]{2,40}$/),
        requestsPerSecond: fc.double({ min: 0.01, max: 2, noNaN: true }),
        concurrentRequests: fc.integer({ min: 1, max: 16 }),
      },
      { requiredKeys: ["bucket", "prefix", "requestsPerSecond", "concurrentRequests"] },
    );
    fc.assert(
      fc.property(settings, (s) => {
        expect(fromEnvironment(toEnvironment(s))).to.deep.equal(s);
      }),
    );
  });

  it("writes the variables the function has always read", () => {
    expect(toEnvironment(full)).to.deep.equal({
      BACKFILL_BUCKET: "org-trail-logs",
      BACKFILL_KEY_PREFIX: "org-trail/backfill",
      BACKFILL_KEY_ORGANIZATION_ID: "o-a1b2c3d4e5",
      BACKFILL_BUCKET_OWNER: "999999999999",
      READER_EXTERNAL_ID: "tb-external",
      REQUESTS_PER_SECOND: "1.5",
      CONCURRENT_REQUESTS_PER_PAIR: "6",
    });
  });

  it("defaults the rate and concurrency, and trims the prefix's slashes", () => {
    expect(fromEnvironment({ BACKFILL_BUCKET: "b", BACKFILL_KEY_PREFIX: "/team/logs/" })).to.deep.equal({
      bucket: "b",
      prefix: "team/logs",
      requestsPerSecond: DEFAULT_REQUESTS_PER_SECOND,
      concurrentRequests: DEFAULT_CONCURRENT_REQUESTS,
    });
  });

  const bad: Array<[string, NodeJS.ProcessEnv, string, string]> = [
    ["a missing bucket", { BACKFILL_KEY_PREFIX: "p" }, "BACKFILL_BUCKET", "environment variable BACKFILL_BUCKET is not set; the function was deployed without it"],
    ["an empty bucket", { BACKFILL_BUCKET: "" }, "BACKFILL_BUCKET", "environment variable BACKFILL_BUCKET is not set; the function was deployed without it"],
    ["a prefix with a '..' segment", { BACKFILL_BUCKET: "b", BACKFILL_KEY_PREFIX: "a/../b" }, "BACKFILL_KEY_PREFIX", "environment variable BACKFILL_KEY_PREFIX must be S3 key segments of letters, digits and !_.*'()- separated by '/', got \"a/../b\""],
    ["an organization ID without o-", { BACKFILL_BUCKET: "b", BACKFILL_KEY_ORGANIZATION_ID: "a1b2c3d4e5" }, "BACKFILL_KEY_ORGANIZATION_ID", 'environment variable BACKFILL_KEY_ORGANIZATION_ID must be an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits), got "a1b2c3d4e5"'],
    ["an organization ID with a '/'", { BACKFILL_BUCKET: "b", BACKFILL_KEY_ORGANIZATION_ID: "o-a1b2c3d4e5/x" }, "BACKFILL_KEY_ORGANIZATION_ID", 'environment variable BACKFILL_KEY_ORGANIZATION_ID must be an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits), got "o-a1b2c3d4e5/x"'],
    ["an uppercase organization ID", { BACKFILL_BUCKET: "b", BACKFILL_KEY_ORGANIZATION_ID: "o-A1B2C3D4E5" }, "BACKFILL_KEY_ORGANIZATION_ID", 'environment variable BACKFILL_KEY_ORGANIZATION_ID must be an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits), got "o-A1B2C3D4E5"'],
    ["a rate of 0", { BACKFILL_BUCKET: "b", REQUESTS_PER_SECOND: "0" }, "REQUESTS_PER_SECOND", 'environment variable REQUESTS_PER_SECOND must be a number more than 0 and at most 100, got "0"'],
    ["a rate that is not a number", { BACKFILL_BUCKET: "b", REQUESTS_PER_SECOND: "fast" }, "REQUESTS_PER_SECOND", 'environment variable REQUESTS_PER_SECOND must be a number more than 0 and at most 100, got "fast"'],
    ["a fractional concurrency", { BACKFILL_BUCKET: "b", CONCURRENT_REQUESTS_PER_PAIR: "2.5" }, "CONCURRENT_REQUESTS_PER_PAIR", 'environment variable CONCURRENT_REQUESTS_PER_PAIR must be a whole number from 1 to 32, got "2.5"'],
    ["a concurrency over 32", { BACKFILL_BUCKET: "b", CONCURRENT_REQUESTS_PER_PAIR: "33" }, "CONCURRENT_REQUESTS_PER_PAIR", 'environment variable CONCURRENT_REQUESTS_PER_PAIR must be a whole number from 1 to 32, got "33"'],
  ];
  for (const [title, env, variable, message] of bad) {
    it(`refuses ${title} with InvalidEnvironmentError naming ${variable}`, () => {
      const error = thrown(() => fromEnvironment(env));

      expect(error.message).to.equal(message);
      expect(error.variable).to.equal(variable);
    });
  }
});

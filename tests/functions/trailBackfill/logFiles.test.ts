import { gunzipSync } from "zlib";

import type { PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";
import * as fc from "fast-check";

import { WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { logFileBody, logFileKey, normalizeKeyPrefix, putLogFile } from "../../../functions/trailBackfill/logFiles";

describe("logFileKey", () => {
  const windowStart = fc.integer({ min: 0, max: 400_000 }).map((n) => new Date(Date.parse("2020-01-01T00:00:00Z") + n * WINDOW_MS));
  const account = fc.stringMatching(/^\d{12}$/);
  const region = fc.constantFrom("us-east-1", "ap-northeast-1", "eu-central-2", "us-gov-west-1", "ap-southeast-7");

  it("follows CloudTrail's layout, with date parts and time stamp of the window", () => {
    fc.assert(
      fc.property(account, region, windowStart, fc.constantFrom(undefined, "", "backfill", "/team/logs/"), (accountId, r, start, prefix) => {
        const key = logFileKey({ prefix, accountId, region: r, windowStart: start });
        const i = start.toISOString();
        const lead = prefix === undefined || prefix === "" ? "" : `${prefix.replace(/^\/|\/$/g, "")}/`;

        expect(key).to.equal(
          `${lead}AWSLogs/${accountId}/CloudTrail/${r}/${i.slice(0, 4)}/${i.slice(5, 7)}/${i.slice(8, 10)}/` +
            `${accountId}_CloudTrail_${r}_${i.slice(0, 4)}${i.slice(5, 7)}${i.slice(8, 10)}T${i.slice(11, 13)}${i.slice(14, 16)}Z_${key.slice(-24, -8)}.json.gz`,
        );
        expect(key.slice(-24, -8)).to.match(/^[A-Za-z0-9]{16}$/);
      }),
    );
  });

  it("gives the same window of the same pair the same key, and different windows or pairs different keys", () => {
    fc.assert(
      fc.property(account, region, windowStart, windowStart, (accountId, r, a, b) => {
        const keyA = logFileKey({ accountId, region: r, windowStart: a });

        expect(logFileKey({ accountId, region: r, windowStart: new Date(a.getTime()) })).to.equal(keyA);
        expect(logFileKey({ accountId, region: r, windowStart: b }) === keyA).to.equal(a.getTime() === b.getTime());
      }),
    );
    const one = logFileKey({ accountId: "111111111111", region: "us-east-1", windowStart: new Date("2024-05-20T10:00:00Z") });
    expect(one.slice(-24, -8)).not.to.equal(logFileKey({ accountId: "111111111111", region: "us-west-2", windowStart: new Date("2024-05-20T10:00:00Z") }).slice(-24, -8));
  });

  it("refuses a window that is not on a 5-minute boundary, and bad account, region or prefix", () => {
    expect(() => logFileKey({ accountId: "111111111111", region: "us-east-1", windowStart: new Date("2024-05-20T10:01:00Z") })).to.throw(
      "windowStart must be a time on a 5-minute boundary between 1970 and 9999, got 2024-05-20T10:01:00.000Z",
    );
    expect(() => logFileKey({ accountId: "1111", region: "us-east-1", windowStart: new Date(0) })).to.throw('accountId must be a 12-digit AWS account ID, got "1111"');
    expect(() => logFileKey({ accountId: "111111111111", region: "Tokyo", windowStart: new Date(0) })).to.throw('region must be an AWS region such as us-east-1, got "Tokyo"');
    expect(() => logFileKey({ prefix: "a/../b", accountId: "111111111111", region: "us-east-1", windowStart: new Date(0) })).to.throw("prefix must be S3 key segments");
  });
});

describe("trailBackfill log files", () => {
  it("normalizes a key prefix by removing its leading and trailing slashes, and refuses anything but plain segments", () => {
    expect(normalizeKeyPrefix(undefined)).to.equal("");
    expect(normalizeKeyPrefix("/")).to.equal("");
    expect(normalizeKeyPrefix("//team/logs//")).to.equal("team/logs");
    for (const bad of ["a//b", "a/./b", "..", "a b", "a/é"]) {
      expect(() => normalizeKeyPrefix(bad), bad).to.throw(`prefix must be S3 key segments of letters, digits and !_.*'()- separated by '/', got ${JSON.stringify(bad)}`);
    }
  });

  it("writes the same bytes for the same events in any order: oldest first, then by event ID", () => {
    const a = { time: 2000, json: '{"eventID":"a"}' };
    const b = { time: 1000, json: '{"eventID":"b"}' };
    const c = { time: 2000, json: '{"eventID":"c"}' };

    const one = logFileBody(new Map([["c", c], ["a", a], ["b", b]]));
    const other = logFileBody(new Map([["a", a], ["b", b], ["c", c]]));

    expect(one.equals(other)).to.equal(true);
    expect(gunzipSync(one).toString("utf8")).to.equal('{"Records":[{"eventID":"b"},{"eventID":"a"},{"eventID":"c"}]}');
  });

  it("puts the file under its key as gzipped JSON, with the expected bucket owner when one is given", async () => {
    // Prepare
    const sent: PutObjectCommand[] = [];
    const s3 = { send: (command: PutObjectCommand) => (sent.push(command), Promise.resolve({})) } as unknown as Parameters<typeof putLogFile>[0];
    const windowStart = Date.parse("2024-05-20T10:05:00Z");
    const events = new Map([["e1", { time: windowStart + 1, json: '{"eventID":"e1"}' }]]);

    // Act
    await putLogFile(s3, { bucket: "logs", prefix: "p", bucketOwner: "999999999999" }, { accountId: "111111111111", region: "us-east-1", windowStart, events });
    await putLogFile(s3, { bucket: "logs" }, { accountId: "111111111111", region: "us-east-1", windowStart, events });

    // Assess
    expect(sent.map((c) => ({ ...c.input, Body: undefined }))).to.deep.equal([
      { Bucket: "logs", Key: logFileKey({ prefix: "p", accountId: "111111111111", region: "us-east-1", windowStart: new Date(windowStart) }), Body: undefined, ContentType: "application/json", ContentEncoding: "gzip", ExpectedBucketOwner: "999999999999" },
      { Bucket: "logs", Key: logFileKey({ accountId: "111111111111", region: "us-east-1", windowStart: new Date(windowStart) }), Body: undefined, ContentType: "application/json", ContentEncoding: "gzip" },
    ]);
    expect(gunzipSync(sent[0].input.Body as Buffer).toString("utf8")).to.equal('{"Records":[{"eventID":"e1"}]}');
  });
});

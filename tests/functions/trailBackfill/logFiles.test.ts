import { gunzipSync } from "zlib";

import type { PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";
import * as fc from "fast-check";

import { WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { logFileBody, logFileKey, logFilesFolder, normalizeKeyPrefix, putLogFile } from "../../../functions/trailBackfill/logFiles";

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

  it("puts the organization ID between AWSLogs/ and the account in the organization trail layout, and nothing else changes", () => {
    const organization = fc.stringMatching(/^o-[a-z0-9]{10,32}$/);
    fc.assert(
      fc.property(organization, account, region, windowStart, fc.constantFrom(undefined, "", "org-trail", "/team/logs/"), (organizationId, accountId, r, start, prefix) => {
        const accountKey = logFileKey({ prefix, accountId, region: r, windowStart: start });
        const key = logFileKey({ prefix, organizationId, accountId, region: r, windowStart: start });
        const lead = prefix === undefined || prefix === "" ? "" : `${prefix.replace(/^\/|\/$/g, "")}/`;

        expect(key).to.equal(accountKey.replace(`${lead}AWSLogs/`, `${lead}AWSLogs/${organizationId}/`));
        expect(key.startsWith(logFilesFolder(prefix, organizationId))).to.equal(true);
      }),
    );
  });

  describe("against AWS's documented keys", () => {
    // "Finding your CloudTrail log files", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
    // (the object names there, without the leading bucket name), and "CloudTrail log file examples",
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html (the example file name).
    const ACCOUNT_TRAIL = "prefix_name/AWSLogs/Account ID/CloudTrail/region/YYYY/MM/DD/file_name.json.gz";
    const ORGANIZATION_TRAIL = "prefix_name/AWSLogs/O-ID/Account ID/CloudTrail/Region/YYYY/MM/DD/file_name.json.gz";
    const EXAMPLE_FILE_NAME = "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz";
    const ORGANIZATION_ID = "o-exampleorgid";
    const documented = (template: string) =>
      template
        .replace("O-ID", ORGANIZATION_ID)
        .replace("Account ID", "111122223333")
        .replace(/region/i, "us-east-2")
        .replace("YYYY/MM/DD", "2015/08/01")
        .replace("file_name.json.gz", EXAMPLE_FILE_NAME);
    // The unique string has no meaning (readers must ignore it); ours is derived from the pair and window.
    const withExampleUniqueString = (key: string) => key.replace(/_[A-Za-z0-9]{16}\.json\.gz$/, "_Mu0KsOhtH1ar15ZZ.json.gz");
    const file = { prefix: "prefix_name", accountId: "111122223333", region: "us-east-2", windowStart: new Date("2015-08-01T02:10:00Z") };

    it("writes an account trail's key", () => {
      expect(documented(ACCOUNT_TRAIL)).to.equal(`prefix_name/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/${EXAMPLE_FILE_NAME}`);
      expect(withExampleUniqueString(logFileKey(file))).to.equal(documented(ACCOUNT_TRAIL));
    });

    it("writes an organization trail's key, with the organization ID after AWSLogs/", () => {
      expect(documented(ORGANIZATION_TRAIL)).to.equal(`prefix_name/AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-2/2015/08/01/${EXAMPLE_FILE_NAME}`);
      expect(withExampleUniqueString(logFileKey({ ...file, organizationId: ORGANIZATION_ID }))).to.equal(documented(ORGANIZATION_TRAIL));
    });
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
    for (const organizationId of ["", "o-short", "O-EXAMPLEORGID", "o-exampleorgid/..", "r-exampleorgid"]) {
      expect(() => logFileKey({ organizationId, accountId: "111111111111", region: "us-east-1", windowStart: new Date(0) }), organizationId).to.throw(
        `organizationId must be an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits), got ${JSON.stringify(organizationId)}`,
      );
    }
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
  it("puts the file under the organization ID of its destination, when it has one", async () => {
    // Prepare
    const sent: PutObjectCommand[] = [];
    const s3 = { send: (command: PutObjectCommand) => (sent.push(command), Promise.resolve({})) } as unknown as Parameters<typeof putLogFile>[0];
    const windowStart = Date.parse("2024-05-20T10:05:00Z");

    // Act
    await putLogFile(s3, { bucket: "org-logs", prefix: "org-trail", organizationId: "o-a1b2c3d4e5" }, { accountId: "222222222222", region: "ap-northeast-1", windowStart, events: new Map() });

    // Assess
    expect(sent.map((c) => c.input.Key)).to.deep.equal([logFileKey({ prefix: "org-trail", organizationId: "o-a1b2c3d4e5", accountId: "222222222222", region: "ap-northeast-1", windowStart: new Date(windowStart) })]);
    expect(sent[0].input.Key).to.match(/^org-trail\/AWSLogs\/o-a1b2c3d4e5\/222222222222\/CloudTrail\/ap-northeast-1\/2024\/05\/20\/222222222222_CloudTrail_ap-northeast-1_20240520T1005Z_[A-Za-z0-9]{16}\.json\.gz$/);
  });

  it("names the folder of every log file: AWSLogs/ under the prefix, and the organization ID in the organization layout", () => {
    expect(logFilesFolder(undefined)).to.equal("AWSLogs/");
    expect(logFilesFolder("/team/logs/")).to.equal("team/logs/AWSLogs/");
    expect(logFilesFolder("", "o-a1b2c3d4e5")).to.equal("AWSLogs/o-a1b2c3d4e5/");
    expect(logFilesFolder("org-trail", "o-a1b2c3d4e5")).to.equal("org-trail/AWSLogs/o-a1b2c3d4e5/");
    expect(() => logFilesFolder("a//b", "o-a1b2c3d4e5")).to.throw("prefix must be S3 key segments");
    expect(() => logFilesFolder("", "o-*")).to.throw('organizationId must be an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits), got "o-*"');
  });
});

import { expect } from "chai";
import * as fc from "fast-check";

import { downloadEventPattern, downloadEventSelectors, downloadFilterPattern, downloadRecordPattern } from "../../components/downloadPatterns";
import { objectFilterPattern } from "../../functions/downloadThreshold/logsCounter";
import type { WatchedObject } from "../../functions/downloadThreshold/watchedDownload";
import { getObjectRecord } from "../../simulation/downloadEvents";
import { compileFilterPattern } from "../../simulation/logsFilterPattern";

const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";

describe("CloudWatch Logs filter patterns", () => {
  it("quotes every value and escapes backslashes and double quotes", () => {
    const watches: WatchedObject[] = [
      { bucket: BUCKET, key: KEY, threshold: 5 },
      { bucket: BUCKET, key: 'a "quoted" \\ name.pdf', threshold: 5 },
      { bucket: "other-bucket", keyPrefix: "報告/", threshold: 2 },
    ];

    expect(downloadFilterPattern(watches)).to.equal(
      '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.errorCode NOT EXISTS) && (' +
        '($.requestParameters.bucketName = "confidential-reports" && ($.requestParameters.key = "2025/売上報告 Q1.pdf" || $.requestParameters.key = "a \\"quoted\\" \\\\ name.pdf")) || ' +
        '($.requestParameters.bucketName = "other-bucket" && ($.requestParameters.key = "報告/*"))) }',
    );
  });

  // Keys mixing what breaks naive quoting: quotes, backslashes, spaces, '+', '%', Japanese, slashes.
  const keyCharacters = fc.constantFrom(..."ab\"\\ +%/売上報告-.".split(""));
  const keys = fc.string({ unit: keyCharacters, minLength: 1, maxLength: 10 });

  it("matches successful GetObject events on exactly the watched keys and prefixes", () => {
    fc.assert(
      fc.property(fc.uniqueArray(keys, { minLength: 2, maxLength: 5 }), fc.boolean(), (candidates, asPrefix) => {
        const [watched, ...others] = candidates;
        const matches = compileFilterPattern(downloadFilterPattern([asPrefix ? { bucket: BUCKET, keyPrefix: watched, threshold: 1 } : { bucket: BUCKET, key: watched, threshold: 1 }]));
        const event = (key: string, bucket = BUCKET) => getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key, bucket });

        expect(matches(event(watched))).to.equal(true);
        expect(matches(event(`${watched}x`))).to.equal(asPrefix);
        for (const other of others) {
          expect(matches(event(other))).to.equal(asPrefix ? other.startsWith(watched) : false);
        }
        expect(matches(event(watched, "other-bucket"))).to.equal(false);
        expect(matches(getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key: watched, errorCode: "AccessDenied" }))).to.equal(false);
        expect(matches(getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key: watched, eventName: "HeadObject" }))).to.equal(false);
      }),
      { numRuns: 200 },
    );
  });

  it("selects with its subscription pattern what the logs counter's FilterLogEvents pattern selects for one object", () => {
    const subscription = compileFilterPattern(downloadFilterPattern([{ bucket: BUCKET, key: KEY, threshold: 1 }]));
    const perObject = compileFilterPattern(objectFilterPattern(BUCKET, KEY));
    const records = [
      getObjectRecord({ eventID: "a", eventTime: "2025-03-03T01:02:03Z" }),
      getObjectRecord({ eventID: "b", eventTime: "2025-03-03T01:02:03Z", errorCode: "AccessDenied" }),
      getObjectRecord({ eventID: "c", eventTime: "2025-03-03T01:02:03Z", eventName: "HeadObject" }),
      getObjectRecord({ eventID: "d", eventTime: "2025-03-03T01:02:03Z", eventSource: "s3-outposts.amazonaws.com" }),
      getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key: `${KEY}.bak` }),
    ];

    expect(records.map((r) => subscription(r))).to.deep.equal([true, false, false, false, false]);
    expect(records.map((r) => perObject(r))).to.deep.equal(records.map((r) => subscription(r)));
  });
});

describe("downloadRecordPattern and downloadEventPattern", () => {
  it("selects one bucket's keys and prefixes without $or, and a whole bucket without a key condition", () => {
    const oneBucket = downloadRecordPattern([
      { bucket: BUCKET, key: KEY, threshold: 1 },
      { bucket: BUCKET, keyPrefix: "board/", threshold: 1 },
    ]);
    const wholeBucket = downloadRecordPattern([
      { bucket: BUCKET, key: KEY, threshold: 1 },
      { bucket: BUCKET, keyPrefix: "", threshold: 1 },
    ]);

    expect(oneBucket).to.deep.equal({
      eventSource: ["s3.amazonaws.com"],
      eventName: ["GetObject"],
      errorCode: [{ exists: false }],
      requestParameters: { bucketName: [BUCKET], key: [KEY, { prefix: "board/" }] },
    });
    expect(wholeBucket).to.deep.include({ requestParameters: { bucketName: [BUCKET] } });
  });

  it("wraps the record pattern as the detail of CloudTrail's S3 API calls", () => {
    const watches: WatchedObject[] = [{ bucket: BUCKET, key: KEY, threshold: 1 }];

    expect(JSON.parse(downloadEventPattern(watches))).to.deep.equal({ source: ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"], detail: downloadRecordPattern(watches) });
  });
});

describe("downloadEventSelectors", () => {
  it("logs GetObject on exact keys with equals and under prefixes with startsWith, each ARN once, in the partition given", () => {
    const selectors = downloadEventSelectors(
      "dta",
      [
        { bucket: BUCKET, key: KEY, threshold: 1 },
        { bucket: BUCKET, keyPrefix: "board/", threshold: 1 },
        { bucket: BUCKET, keyPrefix: "board/", threshold: 2 },
      ],
      "aws-cn",
    );

    expect(selectors.map((s) => [s.name, s.fieldSelectors.at(-1)])).to.deep.equal([
      ["dta: GetObject on watched objects", { field: "resources.ARN", equals: [`arn:aws-cn:s3:::${BUCKET}/${KEY}`] }],
      ["dta: GetObject under watched prefixes", { field: "resources.ARN", startsWith: [`arn:aws-cn:s3:::${BUCKET}/board/`] }],
    ]);
  });
});

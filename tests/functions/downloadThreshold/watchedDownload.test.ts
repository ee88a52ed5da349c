import { expect } from "chai";

import { watchedDownload, watchesProblems, watchFor, type WatchedObject } from "../../../functions/downloadThreshold/watchedDownload";
import { getObjectRecord } from "../../../simulation/downloadEvents";

const BUCKET = "confidential-reports";
const record = (overrides: Omit<Parameters<typeof getObjectRecord>[0], "eventID" | "eventTime">) => getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", ...overrides });

describe("watchesProblems", () => {
  it("accepts a non-empty list of exact keys and prefixes with whole thresholds >= 1", () => {
    expect(watchesProblems([{ bucket: BUCKET, key: "a.pdf", threshold: 1 }, { bucket: BUCKET, keyPrefix: "", threshold: 20 }])).to.deep.equal([]);
  });

  it("names each bad entry by its path and shows it", () => {
    expect(watchesProblems([])).to.deep.equal(["watches must be a non-empty list of { bucket, key | keyPrefix, threshold }, got []"]);
    expect(watchesProblems({ bucket: BUCKET }, "WATCHES")).to.deep.equal([`WATCHES must be a non-empty list of { bucket, key | keyPrefix, threshold }, got {"bucket":"${BUCKET}"}`]);
    expect(
      watchesProblems([
        { bucket: BUCKET, key: "a", threshold: 1 },
        { bucket: BUCKET, key: "a", keyPrefix: "a", threshold: 1 },
        { bucket: BUCKET, key: "a", threshold: 0 },
        "a",
      ]),
    ).to.deep.equal([
      `watches[1] must be { bucket, key | keyPrefix, threshold } with a whole threshold >= 1, got {"bucket":"${BUCKET}","key":"a","keyPrefix":"a","threshold":1}`,
      `watches[2] must be { bucket, key | keyPrefix, threshold } with a whole threshold >= 1, got {"bucket":"${BUCKET}","key":"a","threshold":0}`,
      'watches[3] must be { bucket, key | keyPrefix, threshold } with a whole threshold >= 1, got "a"',
    ]);
  });
});

describe("watchFor and watchedDownload", () => {
  const watches: WatchedObject[] = [
    { bucket: BUCKET, keyPrefix: "", threshold: 5 },
    { bucket: BUCKET, keyPrefix: "2025/", threshold: 3 },
    { bucket: BUCKET, key: "2025/q1.pdf", threshold: 1 },
  ];

  it("prefers an exact key, then the longest prefix, and only in the watch's bucket", () => {
    expect(watchFor(watches, BUCKET, "2025/q1.pdf")?.threshold).to.equal(1);
    expect(watchFor(watches, BUCKET, "2025/q2.pdf")?.threshold).to.equal(3);
    expect(watchFor(watches, BUCKET, "2024/q1.pdf")?.threshold).to.equal(5);
    expect(watchFor(watches, "other-bucket", "2025/q1.pdf")).to.equal(undefined);
  });

  it("says why a record does not count, and marks a GetObject without bucket and key as malformed", () => {
    const bare = record({});
    delete (bare.requestParameters as Record<string, unknown>).key;

    expect(watchedDownload(record({ eventName: "HeadObject" }), watches)).to.deep.equal({ ignored: "s3.amazonaws.com HeadObject is not an S3 GetObject" });
    expect(watchedDownload(record({ errorCode: "AccessDenied" }), watches)).to.deep.equal({ ignored: "the request failed with AccessDenied" });
    expect(watchedDownload(record({ bucket: "other-bucket" }), watches)).to.deep.equal({ ignored: "the object is not watched" });
    expect(watchedDownload(bare, watches)).to.deep.equal({ ignored: "the S3 GetObject record has no requestParameters.bucketName and requestParameters.key", malformed: true });
  });

  it("gives a watched download the threshold that applies to its key", () => {
    const download = record({ bucket: BUCKET, key: "2025/q2.pdf" });

    expect(watchedDownload(download, watches)).to.deep.equal({ bucket: BUCKET, key: "2025/q2.pdf", threshold: 3, record: download });
  });
});

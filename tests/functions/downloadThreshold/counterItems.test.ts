import { createHash } from "crypto";

import { expect } from "chai";
import * as fc from "fast-check";

import {
  claimRefusal,
  claimRequest,
  COUNTER_RETENTION_AFTER_WINDOW_SECONDS,
  counterKey,
  countRequest,
  digestOfEntry,
  entriesOf,
  entryName,
  eventDigest,
  eventKey,
  expiresAt,
  legacyAttribute,
  legacyPosition,
  numberAttribute,
  positionReadRequest,
  settleRequest,
} from "../../../functions/downloadThreshold/counterItems";
import type { WatchedDownload } from "../../../functions/downloadThreshold/watchedDownload";
import { getObjectRecord } from "../../../simulation/downloadEvents";

const WINDOW = { start: new Date("2025-03-02T16:00:00Z"), end: new Date("2025-03-09T16:00:00Z") };
const EXPIRES = WINDOW.end.getTime() / 1000 + COUNTER_RETENTION_AFTER_WINDOW_SECONDS;
const download = (eventID: string, key = "2025/売上報告 Q1.pdf", bucket = "confidential-reports"): WatchedDownload => ({
  bucket,
  key,
  threshold: 1,
  record: getObjectRecord({ eventID, eventTime: "2025-03-03T01:02:03Z", bucket, key }),
});

describe("counterItems: keys and names", () => {
  it("digests a download's object and event ID into 16 base64url characters, distinct for any other object or event", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (key, otherKey, id, otherId) => {
        const digest = eventDigest(download(id, key));

        expect(digest).to.match(/^[A-Za-z0-9_-]{16}$/);
        expect(eventDigest(download(id, key))).to.equal(digest);
        if (key !== otherKey) expect(eventDigest(download(id, otherKey))).to.not.equal(digest);
        if (id !== otherId) expect(eventDigest(download(otherId, key))).to.not.equal(digest);
      }),
    );
    // The parts cannot run into each other: "a/b" + "c" is not "a" + "b/c".
    expect(eventDigest(download("e", "c", "a/b"))).to.not.equal(eventDigest(download("e", "b/c", "a")));
  });

  it("names a download's entry p<digest> and reads the digest back from entry names only", () => {
    fc.assert(
      fc.property(fc.string(), (id) => {
        const digest = eventDigest(download(id));

        expect(digestOfEntry(entryName(digest))).to.equal(digest);
      }),
    );
    for (const other of ["downloads", "windowEnd", "expiresAt", "object", "entry", legacyAttribute("x"), "p", `p${"a".repeat(17)}`]) {
      expect(digestOfEntry(other), other).to.equal(undefined);
    }
  });

  it("keys the counter item by object and window, and each event item by its digest and window, with the TTL after the window", () => {
    const d = download("00000000-0000-4000-8000-000000000001");

    expect(counterKey(d, WINDOW)).to.deep.equal({ object: { S: "confidential-reports/2025/売上報告 Q1.pdf" }, entry: { S: "window#2025-03-02T16:00:00.000Z" } });
    expect(eventKey("AbCdEfGhIjKlMnOp", WINDOW)).to.deep.equal({ object: { S: "event#AbCdEfGhIjKlMnOp" }, entry: { S: "window#2025-03-02T16:00:00.000Z" } });
    expect(expiresAt(WINDOW)).to.equal(Date.parse("2025-03-23T16:00:00Z") / 1000);
  });

  it("reads the earlier counter's attributes: e + 96 bits of the event ID's SHA-256, position plus 16,384 times the tag", () => {
    const id = "00000000-0000-4000-8000-000000000001";

    expect(legacyAttribute(id)).to.equal(`e${createHash("sha256").update(id).digest("base64url").slice(0, 16)}`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16_383 }), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (position, tag) => {
        expect(legacyPosition(position + tag * 16_384)).to.deep.equal({ position, pending: tag === 1 });
      }),
    );
  });
});

describe("counterItems: requests", () => {
  const key = eventKey("AbCdEfGhIjKlMnOp", WINDOW);

  it("claims an event item when it is new, held by the same owner, or its lease ended; returning the old item either way", () => {
    expect(claimRequest("counts", key, { owner: "req-1", leaseEndsAt: 2000, now: 1000, expiresAt: EXPIRES })).to.deep.equal({
      TableName: "counts",
      Key: key,
      UpdateExpression: "SET #owner = :owner, #leaseEndsAt = :leaseEndsAt, #expiresAt = :expiresAt",
      ConditionExpression: "attribute_not_exists(#object) OR #owner = :owner OR #leaseEndsAt < :now",
      ExpressionAttributeNames: { "#object": "object", "#owner": "owner", "#leaseEndsAt": "leaseEndsAt", "#expiresAt": "expiresAt" },
      ExpressionAttributeValues: { ":owner": { S: "req-1" }, ":leaseEndsAt": { N: "2000" }, ":now": { N: "1000" }, ":expiresAt": { N: String(EXPIRES) } },
      ReturnValues: "ALL_OLD",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      ReturnConsumedCapacity: "TOTAL",
    });
  });

  it("counts with one conditional increment that sets the entry from the same operand, removing released entries but never its own", () => {
    const d = download("00000000-0000-4000-8000-000000000001");
    const entry = entryName(eventDigest(d));

    const request = countRequest("counts", counterKey(d, WINDOW), { entry, legacy: legacyAttribute(d.record.eventID), releases: ["pAAAAAAAAAAAAAAAA", entry, "pBBBBBBBBBBBBBBBB"], window: WINDOW });
    const alone = countRequest("counts", counterKey(d, WINDOW), { entry, legacy: legacyAttribute(d.record.eventID), releases: [], window: WINDOW });

    expect(request).to.deep.equal({
      TableName: "counts",
      Key: counterKey(d, WINDOW),
      UpdateExpression:
        "SET #downloads = if_not_exists(#downloads, :zero) + :one, #entry = if_not_exists(#downloads, :zero) + :one, #windowEnd = :windowEnd, #expiresAt = :expiresAt REMOVE #r0, #r1",
      ConditionExpression: "attribute_not_exists(#entry) AND attribute_not_exists(#legacy)",
      ExpressionAttributeNames: {
        "#downloads": "downloads",
        "#entry": entry,
        "#legacy": legacyAttribute(d.record.eventID),
        "#windowEnd": "windowEnd",
        "#expiresAt": "expiresAt",
        "#r0": "pAAAAAAAAAAAAAAAA",
        "#r1": "pBBBBBBBBBBBBBBBB",
      },
      ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" }, ":windowEnd": { S: "2025-03-09T16:00:00.000Z" }, ":expiresAt": { N: String(EXPIRES) } },
      ReturnValues: "ALL_NEW",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      ReturnConsumedCapacity: "TOTAL",
    });
    expect(alone.UpdateExpression).to.not.include("REMOVE");
    expect(Object.keys(alone.ExpressionAttributeNames ?? {})).to.deep.equal(["#downloads", "#entry", "#legacy", "#windowEnd", "#expiresAt"]);
  });

  it("settles for good (sent, none) or keeps the position with the lease ended (pending), only while the owner holds the claim", () => {
    const sent = settleRequest("counts", key, { owner: "req-1", position: 7, state: "sent" });
    const pending = settleRequest("counts", key, { owner: "req-1", position: 7, state: "pending" });

    expect(sent).to.deep.include({
      UpdateExpression: "SET #position = :position, #alert = :alert REMOVE #owner, #leaseEndsAt",
      ConditionExpression: "#owner = :owner",
      ExpressionAttributeValues: { ":position": { N: "7" }, ":alert": { S: "sent" }, ":owner": { S: "req-1" } },
      ReturnConsumedCapacity: "TOTAL",
    });
    expect(pending).to.deep.include({
      UpdateExpression: "SET #position = :position, #alert = :alert, #leaseEndsAt = :zero",
      ExpressionAttributeValues: { ":position": { N: "7" }, ":alert": { S: "pending" }, ":owner": { S: "req-1" }, ":zero": { N: "0" } },
    });
  });

  it("reads only an event item's position, eventually consistent", () => {
    expect(positionReadRequest("counts", key)).to.deep.equal({
      TableName: "counts",
      Key: key,
      ProjectionExpression: "#position",
      ExpressionAttributeNames: { "#position": "position" },
      ReturnConsumedCapacity: "TOTAL",
    });
  });
});

describe("counterItems: answers", () => {
  it("reads why a claim was refused: the download is recorded, or another invocation holds it until its lease ends", () => {
    expect(claimRefusal({ position: { N: "3" }, alert: { S: "sent" } })).to.deep.equal({ recorded: "sent", position: 3 });
    expect(claimRefusal({ position: { N: "4" }, alert: { S: "none" } })).to.deep.equal({ recorded: "none", position: 4 });
    expect(claimRefusal({ owner: { S: "req-9" }, leaseEndsAt: { N: "5000" } })).to.deep.equal({ heldBy: "req-9", until: 5000 });
  });

  it("lists a counter item's entries with their positions, and nothing else", () => {
    expect([
      ...entriesOf({
        object: { S: "b/k" },
        downloads: { N: "12" },
        pAAAAAAAAAAAAAAAA: { N: "11" },
        pBBBBBBBBBBBBBBBB: { N: "12" },
        [legacyAttribute("x")]: { N: "3" },
        pCCCCCCCCCCCCCCCC: { S: "not a number" },
      }),
    ]).to.deep.equal([
      ["pAAAAAAAAAAAAAAAA", 11],
      ["pBBBBBBBBBBBBBBBB", 12],
    ]);
    expect([numberAttribute({ n: { N: "9007199254740993" } }, "n"), numberAttribute({}, "n"), numberAttribute(undefined, "n")]).to.deep.equal([undefined, undefined, undefined]);
  });
});

import { expect } from "chai";

import { downloadAlert, visibleKey } from "../../../functions/downloadThreshold/alertText";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { getObjectRecord } from "../../../simulation/downloadEvents";

const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";
// The window of the sample event (Monday 2025-03-03 10:02:03 JST): Monday 01:00 JST to the next Monday 01:00 JST.
const WINDOW_START = Date.parse("2025-03-02T16:00:00Z");
const WINDOW_END = Date.parse("2025-03-09T16:00:00Z");

/** An ISO event time `seconds` after the window start. */
const afterReset = (seconds: number): string => new Date(WINDOW_START + seconds * 1000).toISOString().replace(".000Z", "Z");

function download(id: number | string, seconds = 3600, overrides: { key?: string; bucket?: string } = {}): CloudTrailRecord {
  return getObjectRecord({ eventID: `00000000-0000-4000-8000-${String(id).padStart(12, "0")}`, eventTime: afterReset(seconds), ...overrides });
}

describe("visibleKey", () => {
  it("keeps every visible character as S3 reports it and writes invisible or layout characters as escapes", () => {
    expect(visibleKey('報告/📈 e\u0301 "a+b%20" \\ *.pdf')).to.equal('報告/📈 e\u0301 "a+b%20" \\ *.pdf');
    expect(visibleKey("a\nb\u0000c\u2028d\u200be\u202ef\ufeff")).to.equal("a\\u{000A}b\\u{0000}c\\u{2028}d\\u{200B}e\\u{202E}f\\u{FEFF}");
  });
});

describe("downloadAlert", () => {
  it("keeps each value taken from the record on its own line, so that a user agent cannot forge alert lines", () => {
    // Prepare
    const record = { ...download(1), userAgent: "curl/8.0\nWho: root (root user)\u2028x", sourceIPAddress: undefined };

    // Act
    const { message } = downloadAlert({
      download: { bucket: BUCKET, key: KEY, threshold: 1, record },
      count: 2,
      window: { start: new Date(WINDOW_START), end: new Date(WINDOW_END) },
      notify: "once",
      language: "en",
      timeZone: "Asia/Tokyo",
    });

    // Assess
    expect(message.split("\n").filter((line) => /^(Who|When|Source IP|User agent): /.test(line))).to.deep.equal([
      "Who: alice@example.com (IAM Identity Center user, permission set ReadOnly)",
      "When: 2025-03-03 02:00:00 +09:00",
      "Source IP: (unknown)",
      "User agent: curl/8.0 Who: root (root user) x",
    ]);
  });

  it("shows a source IP address or user agent that is not text as unknown, in both languages, instead of failing the batch", () => {
    // Prepare: fields CloudTrail writes as text, holding a number and a list (a record from another producer, say).
    const record = { ...download(1), sourceIPAddress: 203, userAgent: ["curl/8.0"] } as unknown as CloudTrailRecord;
    const alert = (language: "en" | "ja") =>
      downloadAlert({
        download: { bucket: BUCKET, key: KEY, threshold: 1, record },
        count: 2,
        window: { start: new Date(WINDOW_START), end: new Date(WINDOW_END) },
        notify: "once",
        language,
        timeZone: "Asia/Tokyo",
      }).message;

    // Act
    const [en, ja] = [alert("en"), alert("ja")];

    // Assess
    expect(en.split("\n").filter((line) => /^(Source IP|User agent): /.test(line))).to.deep.equal(["Source IP: (unknown)", "User agent: (unknown)"]);
    expect(ja).to.not.match(/203|curl|undefined/);
  });
});


describe("downloadAlert subjects", () => {
  const facts = (key: string, notify: "every" | "once" = "every") => ({
    download: { bucket: BUCKET, key, threshold: 1, record: download(1, 3600, { key }) },
    count: 2,
    window: { start: new Date(WINDOW_START), end: new Date(WINDOW_END) },
    notify,
    language: "en" as const,
    timeZone: "Asia/Tokyo",
  });

  it("names a printable ASCII key in the subject and leaves any other to the message, shown with visibleKey", () => {
    const ascii = downloadAlert(facts("reports/q1 final+v2.pdf"));
    const forged = downloadAlert(facts("a.pdf\nSubject: fake"));

    expect(ascii.subject).to.equal("S3 object downloaded 2 times (threshold 1): s3://confidential-reports/reports/q1 final+v2.pdf");
    expect(forged.subject).to.equal("S3 object downloaded 2 times (threshold 1): s3://confidential-reports (key in message)");
    expect(forged.message.split("\n")).to.include("Object: s3://confidential-reports/a.pdf\\u{000A}Subject: fake");
  });

  it("closes with what happens next in the window, and nothing more (the counter has no cap to announce)", () => {
    const every = downloadAlert(facts("a.pdf"));
    const once = downloadAlert(facts("a.pdf", "once"));

    expect([every, once].map(({ message }) => message.split("\n").slice(-2))).to.deep.equal([
      ["", "Every further download of this object until 2025-03-10 01:00:00 +09:00 is alerted too."],
      ["", "No further alerts for this object until 2025-03-10 01:00:00 +09:00 (notify: once)."],
    ]);
  });
});

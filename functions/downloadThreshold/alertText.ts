/**
 * The alert a download past its threshold sends: an ASCII subject (SNS's rules) and a body in Japanese or English that
 * says which object, how many downloads in which window, and who downloaded it, when and from where.
 */
import { cloudTrailConsoleLink } from "../shared/cloudtrailEvents";
import { describePrincipal, formatLocalTime, oneLine } from "../shared/readableEvent";
import type { Alert } from "../shared/snsAlert";
import type { CountingWindow } from "./countingWindow";
import type { AlertLanguage, NotifyMode } from "./settings";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

const TEXT = {
  en: {
    heading: "An S3 object was downloaded more times than allowed since the last reset.",
    object: "Object",
    downloads: "Downloads",
    downloadsValue: (count: number, threshold: number) => `${count} (threshold: ${threshold})`,
    window: "Window",
    windowValue: (start: string, end: string, zone: string) => `${start} to ${end} (${zone})`,
    thisDownload: "This download",
    who: "Who",
    when: "When",
    sourceIp: "Source IP",
    userAgent: "User agent",
    event: "Event",
    every: (end: string) => `Every further download of this object until ${end} is alerted too.`,
    once: (end: string) => `No further alerts for this object until ${end} (notify: once).`,
    unknown: "(unknown)",
  },
  ja: {
    heading: "S3 オブジェクトが前回のリセット以降、しきい値を超えてダウンロードされました。",
    object: "オブジェクト",
    downloads: "ダウンロード回数",
    downloadsValue: (count: number, threshold: number) => `${count} 回 (しきい値: ${threshold} 回)`,
    window: "集計期間",
    windowValue: (start: string, end: string, zone: string) => `${start} から ${end} まで (${zone})`,
    thisDownload: "今回のダウンロード",
    who: "実行者",
    when: "日時",
    sourceIp: "送信元 IP",
    userAgent: "ユーザーエージェント",
    event: "イベント",
    every: (end: string) => `${end} まで、このオブジェクトのダウンロードは毎回通知します。`,
    once: (end: string) => `${end} まで、このオブジェクトについてはこれ以上通知しません (notify: once)。`,
    unknown: "(不明)",
  },
} as const;

// Characters a key may hold that a reader cannot see or that change the layout: control characters, line and
// paragraph separators, bidirectional marks, overrides and isolates, zero-width characters and the byte order mark.
const INVISIBLE_IN_KEYS = /[\p{Cc}\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/**
 * An object key as alerts show it: every character as S3 reports it (Japanese, emoji, combining marks, `+`, `%20`,
 * quotes, backslashes stay as they are), except invisible and layout characters, which are written as `\u{XXXX}` so
 * that a key can neither forge lines of the alert nor look like another key.
 */
export function visibleKey(key: string): string {
  return key.replace(INVISIBLE_IN_KEYS, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}}`);
}

/** What an alert reports. */
export interface DownloadAlertFacts {
  download: WatchedDownload;
  count: number;
  window: CountingWindow;
  notify: NotifyMode;
  language: AlertLanguage;
  timeZone: string;
}

/**
 * The alert for a download past its threshold: an ASCII subject (SNS's rules) naming count, threshold and object,
 * and a body in `language` with the object, count, window and who/when/where of the download.
 */
export function downloadAlert(facts: DownloadAlertFacts): Alert {
  const { download, count, window, notify, language, timeZone } = facts;
  const { bucket, key, threshold, record } = download;
  const t = TEXT[language];
  // The key exactly, but with characters that could forge lines or hide text written as escapes (see visibleKey).
  const object = `s3://${bucket}/${visibleKey(key)}`;
  const printableKey = /^[\x20-\x7e]*$/.test(key);
  const subject = `S3 object downloaded ${count} times (threshold ${threshold}): ${printableKey ? object : `s3://${bucket} (key in message)`}`;
  const end = formatLocalTime(window.end, timeZone);
  const rows: Array<[string, string]> = [
    [t.object, object],
    [t.downloads, t.downloadsValue(count, threshold)],
    [t.window, t.windowValue(formatLocalTime(window.start, timeZone), end, timeZone)],
  ];
  // Values from the record go on one line each: a line break (in a user agent, say) must not forge alert lines.
  const shown = (value: unknown) => (typeof value === "string" ? oneLine(value) : "") || t.unknown;
  const downloadRows: Array<[string, string]> = [
    [t.who, oneLine(describePrincipal(record.userIdentity, language))],
    [t.when, formatLocalTime(record.eventTime, timeZone)],
    [t.sourceIp, shown(record.sourceIPAddress)],
    [t.userAgent, shown(record.userAgent)],
    [t.event, cloudTrailConsoleLink(record)],
  ];
  const line = ([label, value]: [string, string]) => `${label}: ${value}`;
  const closing = notify === "every" ? t.every(end) : t.once(end);
  const message = [t.heading, "", ...rows.map(line), "", t.thisDownload, ...downloadRows.map(line), "", closing].join("\n");
  return { subject, message };
}

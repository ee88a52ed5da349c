/**
 * How the UserActivityNotifier writes the summaries of burst grouping (bursts.ts): "and 37 more ... between 10:00 and
 * 10:05" for a key's counted events, and the events an hour's message cap held back; each with the first and last of
 * them, and a link to the rest in CloudTrail's Event history. As an email and as an Amazon Q Developer chat message.
 */
import type { BurstSample, BurstSummary, OverflowSummary } from "./bursts";
import { chatNotification } from "./chatNotification";
import type { FormatOptions } from "./format";
import { cloudTrailConsoleLink } from "../shared/cloudtrailEvents";
import { describePrincipal, formatLocalTime, oneLine, principalName, serviceName } from "../shared/readableEvent";
import { type Alert, fitSnsMessage, snsSubject } from "../shared/snsAlert";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** `1 message`, `100 messages`. */
function messages(count: number): string {
  return `${count} message${count === 1 ? "" : "s"}`;
}

const WORDS = {
  en: {
    burst: (count: number, action: string, who: string, from: string, to: string) => `and ${count} more ${action} calls by ${who}, between ${from} and ${to}.`,
    opener: (at: string) => `The first one was notified at ${at}; these were counted, not sent one by one.`,
    overflow: (max: number, from: string, to: string, count: number) =>
      `The notifier reached its limit of ${messages(max)} per hour between ${from} and ${to}: ${count} more matching events were counted, not sent one by one.`,
    count: "Counted",
    first: "First of them",
    last: "Last of them",
    rest: "All of them in CloudTrail Event history",
  },
  ja: {
    burst: (count: number, action: string, who: string, from: string, to: string) => `${who} による ${action} がさらに ${count} 件ありました (${from} から ${to} まで)。`,
    opener: (at: string) => `最初の 1 件は ${at} に通知済みです。以降は個別に送らず件数のみ数えました。`,
    overflow: (max: number, from: string, to: string, count: number) =>
      `${from} から ${to} までの 1 時間で通知の上限 (${max} 件) に達したため、条件に合うイベント ${count} 件を個別には送らず件数のみ数えました。`,
    count: "件数",
    first: "最初",
    last: "最後",
    rest: "CloudTrail イベント履歴",
  },
} as const;

/** One sample as one line: time, Region, target, link. */
function sampleLine(sample: BurstSample, timeZone: string): string {
  const parts = [formatLocalTime(sample.eventTime, timeZone), sample.awsRegion, ...(sample.target === undefined ? [] : [oneLine(sample.target)])];
  return `${parts.join(", ")} (${cloudTrailConsoleLink(sample)})`;
}

/** CloudTrail's Event history in the samples' Region, filtered by event name when there is one. */
function eventHistoryLink(region: string, eventName?: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/cloudtrailv2/home?region=${r}#/events${eventName === undefined ? "" : `?EventName=${encodeURIComponent(eventName)}`}`;
}

/** The first and last sample lines and the Event history link, labelled. */
function sampleLines(samples: readonly BurstSample[], options: FormatOptions, eventName?: string): string[] {
  const words = WORDS[options.language];
  const [first, last] = [samples[0], samples[samples.length - 1]];
  return [
    ...(first === undefined ? [] : [`${words.first}: ${sampleLine(first, options.timeZone)}`]),
    ...(last === undefined || last === first ? [] : [`${words.last}: ${sampleLine(last, options.timeZone)}`]),
    `${words.rest}: ${eventHistoryLink(first?.awsRegion ?? "us-east-1", eventName)}`,
  ];
}

/** The readable parts of a summary: subject, summary sentence, labelled lines. */
interface SummaryParts {
  subject: string;
  summary: string;
  lines: string[];
}

function burstParts(summary: BurstSummary, options: FormatOptions): SummaryParts {
  const words = WORDS[options.language];
  const action = `${serviceName(summary.eventSource)}:${summary.eventName}`;
  const who = oneLine(describePrincipal(summary.identity, options.language));
  const region = summary.samples[0]?.awsRegion ?? "";
  const at = (iso: string) => formatLocalTime(iso, options.timeZone);
  const tail = ` +${summary.count} more`;
  const head = snsSubject(`[${region}] ${action} by ${principalName(summary.identity)}`);
  return {
    subject: head.length + tail.length <= 99 ? `${head}${tail}` : `${head.slice(0, 99 - tail.length - 3)}...${tail}`,
    summary: oneLine(words.burst(summary.count, action, who, at(summary.firstTime), at(summary.lastTime))),
    lines: [words.opener(at(summary.opener.eventTime)), "", `${words.count}: ${summary.count}`, ...sampleLines(summary.samples, options, summary.eventName)],
  };
}

function overflowParts(summary: OverflowSummary, options: FormatOptions): SummaryParts {
  const words = WORDS[options.language];
  const at = (ms: number) => formatLocalTime(new Date(ms), options.timeZone);
  return {
    subject: snsSubject(`cloudtrail-alerts: ${summary.count} more matching events (limit ${messages(summary.maxMessagesPerHour)} per hour)`),
    summary: words.overflow(summary.maxMessagesPerHour, at(summary.hourStart), at(summary.hourStart + 3_600_000), summary.count),
    lines: [`${words.count}: ${summary.count}`, ...sampleLines(summary.samples, options)],
  };
}

function partsOf(summary: BurstSummary | OverflowSummary, options: FormatOptions): SummaryParts {
  return summary.kind === "burst" ? burstParts(summary, options) : overflowParts(summary, options);
}

/** The email of a summary: an ASCII subject, the summary sentence, then the counts, samples and the link to the rest. */
export function formatSummary(summary: BurstSummary | OverflowSummary, options: FormatOptions): Alert {
  const parts = partsOf(summary, options);
  return { subject: parts.subject, message: fitSnsMessage([parts.summary, "", ...parts.lines].join("\n")) };
}

/** The Amazon Q Developer custom notification of a summary (Slack, Microsoft Teams). */
export function summaryChatNotification(summary: BurstSummary | OverflowSummary, options: FormatOptions): string {
  const parts = partsOf(summary, options);
  return chatNotification({
    title: parts.summary,
    description: parts.lines.filter((line) => line !== "").join("\n"),
    summary: parts.subject,
    eventType: summary.kind === "burst" ? "CloudTrailUserActivitySummary" : "CloudTrailUserActivityOverflow",
    keywords: summary.kind === "burst" ? [`${serviceName(summary.eventSource)}:${summary.eventName}`, `+${summary.count}`] : [`+${summary.count}`],
  });
}

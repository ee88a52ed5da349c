/**
 * How the LogSubscriptionDispatcher packs the log events meant for one consumer into SNS messages: each message a
 * CloudWatch Logs subscription payload of its own (`{"awslogs":{"data": base64(gzip(json))}}`) within SNS's size
 * limit, and a record too large for any message forwarded with its longest values cut.
 */
import { gzipSync } from "zlib";

import type { SubscriptionMessage } from "../shared/cloudtrailEvents";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/**
 * Largest SNS message the dispatcher publishes. SNS accepts 262,144 bytes including message attributes; the margin
 * leaves room for the attribute.
 */
export const MAX_FORWARDED_MESSAGE_BYTES = 256 * 1024 - 2048;

/**
 * Largest record JSON forwarded when a log event alone does not fit: base64 adds a third and gzip may not shrink
 * incompressible text, so three quarters of the message limit, less room for the envelope.
 */
export const MAX_FORWARDED_RECORD_BYTES = Math.floor((MAX_FORWARDED_MESSAGE_BYTES * 3) / 4) - 4096;

/** One CloudWatch Logs log event of a subscription payload. */
export interface LogEvent {
  id: string;
  timestamp: number;
  message: string;
}

/** The forwarded payload for `logEvents`: the original envelope with only these events. */
export function forwardedPayload(envelope: SubscriptionMessage, logEvents: readonly LogEvent[]): string {
  const data = gzipSync(Buffer.from(JSON.stringify({ ...envelope, logEvents }), "utf8")).toString("base64");
  return JSON.stringify({ awslogs: { data } });
}

/**
 * Splits `logEvents` into payloads of at most `maxBytes` each (halving until each fits). A single event that does not
 * fit on its own is returned in `tooLarge`.
 */
export function packPayloads(
  envelope: SubscriptionMessage,
  logEvents: readonly LogEvent[],
  maxBytes = MAX_FORWARDED_MESSAGE_BYTES,
): { payloads: string[]; tooLarge: LogEvent[] } {
  if (logEvents.length === 0) {
    return { payloads: [], tooLarge: [] };
  }
  const payload = forwardedPayload(envelope, logEvents);
  if (Buffer.byteLength(payload, "utf8") <= maxBytes) {
    return { payloads: [payload], tooLarge: [] };
  }
  if (logEvents.length === 1) {
    return { payloads: [], tooLarge: [...logEvents] };
  }
  const half = Math.ceil(logEvents.length / 2);
  const first = packPayloads(envelope, logEvents.slice(0, half), maxBytes);
  const second = packPayloads(envelope, logEvents.slice(half), maxBytes);
  return { payloads: [...first.payloads, ...second.payloads], tooLarge: [...first.tooLarge, ...second.tooLarge] };
}

/** Text values longer than this may be cut to make an oversized record fit; shorter ones (names, keys, IDs) never are. */
export const MIN_CUT_TEXT_LENGTH = 1024;

/** Fields replaced by a note, largest first, when cutting long text alone does not make a record fit. */
const DROPPABLE_FIELDS = ["responseElements", "additionalEventData", "serviceEventDetails", "requestParameters"];

/** Where a text value sits: the object or array holding it, and its key there. */
interface TextPlace {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  length: number;
}

/** The longest text value anywhere in `value` that may be cut (well over {@link MIN_CUT_TEXT_LENGTH}); undefined when none. */
function longestCuttableText(value: Record<string, unknown> | unknown[]): TextPlace | undefined {
  let best: TextPlace | undefined;
  const walk = (holder: Record<string, unknown> | unknown[]) => {
    for (const [key, item] of Object.entries(holder)) {
      if (typeof item === "string" && item.length > MIN_CUT_TEXT_LENGTH + 100 && (best === undefined || item.length > best.length)) {
        best = { holder, key: Array.isArray(holder) ? Number(key) : key, length: item.length };
      } else if (typeof item === "object" && item !== null) {
        walk(item as Record<string, unknown> | unknown[]);
      }
    }
  };
  walk(value);
  return best;
}

/**
 * A copy of `record` whose JSON takes at most `maxBytes` of UTF-8: the longest text values (over
 * {@link MIN_CUT_TEXT_LENGTH} characters) are cut first, each ending with a note of how much was cut; then, if needed,
 * the largest of responseElements, additionalEventData, serviceEventDetails and requestParameters is replaced by a
 * note. Identifying fields (event ID, time, source, name, identity, bucket and key) are short and stay whole.
 * Undefined when the record cannot be made to fit.
 */
export function shrinkRecord(record: Record<string, unknown>, maxBytes: number): Record<string, unknown> | undefined {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  const size = () => Buffer.byteLength(JSON.stringify(copy), "utf8");
  let bytes = size();
  while (bytes > maxBytes) {
    const target = longestCuttableText(copy);
    if (target === undefined) {
      break;
    }
    const text = (target.holder as Record<string | number, string>)[target.key];
    // Cut at least as many characters as there are bytes over the limit (each is at least one byte), never below
    // MIN_CUT_TEXT_LENGTH, and never between the two halves of a surrogate pair.
    let keep = Math.max(MIN_CUT_TEXT_LENGTH, text.length - (bytes - maxBytes) - 64);
    if (/[\ud800-\udbff]/.test(text.charAt(keep - 1))) {
      keep -= 1;
    }
    const kept = text.slice(0, keep);
    (target.holder as Record<string | number, string>)[target.key] = `${kept} ...[cut ${text.length - kept.length} characters to forward]`;
    bytes = size();
  }
  for (const field of [...DROPPABLE_FIELDS].sort((a, b) => Buffer.byteLength(JSON.stringify(copy[b]) ?? "") - Buffer.byteLength(JSON.stringify(copy[a]) ?? ""))) {
    if (bytes <= maxBytes) {
      break;
    }
    if (copy[field] !== undefined && copy[field] !== null) {
      copy[field] = { cutToForward: `${Buffer.byteLength(JSON.stringify(copy[field]), "utf8")} bytes left out` };
      bytes = size();
    }
  }
  return bytes <= maxBytes ? copy : undefined;
}


/**
 * The payloads for one consumer's log events. A log event too large for a message on its own is forwarded as a copy
 * with its longest values cut (the consumer still gets who, what, when and on which object) rather than left out; it
 * is listed in `oversized`, in order, with `forwarded: false` when even the cut copy does not fit.
 */
export function consumerPayloads(
  envelope: SubscriptionMessage,
  logEvents: readonly LogEvent[],
): { payloads: string[]; oversized: Array<{ logEvent: LogEvent; forwarded: boolean }> } {
  const empty = { ...envelope, logEvents: [] };
  const { payloads, tooLarge } = packPayloads(empty, logEvents);
  const oversized = tooLarge.map((logEvent) => {
    const shrunk = shrinkRecord(JSON.parse(logEvent.message) as Record<string, unknown>, MAX_FORWARDED_RECORD_BYTES);
    const packed = shrunk === undefined ? undefined : packPayloads(empty, [{ ...logEvent, message: JSON.stringify(shrunk) }]);
    if (packed === undefined || packed.payloads.length !== 1) {
      return { logEvent, forwarded: false };
    }
    payloads.push(packed.payloads[0]);
    return { logEvent, forwarded: true };
  });
  return { payloads, oversized };
}

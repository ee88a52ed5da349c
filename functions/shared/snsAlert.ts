/**
 * Publishing alerts to SNS within its rules: a subject that every SNS API version accepts (ASCII, one line, at most
 * 99 characters) and a message that fits SNS's 262,144-byte limit, cut with a visible note instead of failing.
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Longest subject this project sends (SNS's documented limit is 100; older API rules were stricter). */
export const SNS_SUBJECT_MAX_LENGTH = 99;
/** SNS's limit on a message, in bytes of UTF-8. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;

/** A readable alert: a short ASCII subject for the mail's subject line and a body in any language. */
export interface Alert {
  subject: string;
  message: string;
}

/**
 * Makes `text` a valid SNS subject: non-ASCII and control characters are dropped, runs of white space become one
 * space, and text longer than 99 characters is cut with "...". Never empty.
 */
export function snsSubject(text: string): string {
  const ascii = text
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (ascii === "") {
    return "(no subject)";
  }
  return ascii.length <= SNS_SUBJECT_MAX_LENGTH ? ascii : `${ascii.slice(0, SNS_SUBJECT_MAX_LENGTH - 3).trimEnd()}...`;
}

/**
 * Returns `message` unchanged when it fits in `maxBytes` of UTF-8, otherwise its longest prefix (cut between
 * characters) followed by a note saying how much was left out.
 */
export function fitSnsMessage(message: string, maxBytes = SNS_MESSAGE_MAX_BYTES): string {
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= maxBytes) {
    return message;
  }
  const note = `\n\n[cut: this message was ${bytes.length} bytes; SNS accepts ${maxBytes}. The full event is in CloudTrail.]`;
  let end = maxBytes - Buffer.byteLength(note, "utf8");
  // Step back to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) {
    end -= 1;
  }
  return `${bytes.subarray(0, end).toString("utf8")}${note}`;
}

/** Publishes one alert, making its subject and message valid for SNS first. Returns the SNS message ID. */
export async function publishAlert(sns: Pick<SNSClient, "send">, topicArn: string, alert: Alert): Promise<string | undefined> {
  const result = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: snsSubject(alert.subject), Message: fitSnsMessage(alert.message) }),
  );
  return result.MessageId;
}

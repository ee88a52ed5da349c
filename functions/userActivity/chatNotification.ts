/**
 * Alerts for Slack and Microsoft Teams through Amazon Q Developer in chat applications (formerly AWS Chatbot), next to
 * the readable email, from one SNS publish.
 *
 * Amazon Q Developer subscribes to a topic over HTTPS and posts only messages in its custom-notification format
 * (`{"version":"1.0","source":"custom","content":{...}}`). Publishing with `MessageStructure: "json"` sends that JSON to
 * HTTPS subscribers and the readable text to everyone else (email, SQS, Lambda).
 * See https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html and
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (MessageStructure).
 */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";

import { type Alert, fitSnsMessage, SNS_MESSAGE_MAX_BYTES, snsSubject } from "../shared/snsAlert";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The content of an Amazon Q Developer custom notification. */
export interface ChatContent {
  /** Unique event identifier (helps deduplicate). */
  id?: string;
  /** One line; markdown and emoji allowed. */
  title: string;
  /** The body; markdown allowed. */
  description: string;
  nextSteps?: string[];
  keywords?: string[];
  /** A short plain-text summary (shown in notification previews). */
  summary?: string;
  eventType?: string;
  relatedResources?: string[];
  additionalContext?: Record<string, string>;
}

/**
 * Longest description sent. Chat platforms cut long messages anyway; the full text is in the email. This keeps a
 * custom notification well inside what Slack and Teams show in one message.
 */
export const CHAT_DESCRIPTION_MAX_CHARACTERS = 3500;

/**
 * Longest value of any other field (the ID, each next step, keyword, related resource and context value). With the
 * title and description cut too, a notification always leaves room for the email text in one SNS message, whatever a
 * record holds (an event ID of 100,000 characters would otherwise make the publish fail on every retry).
 */
export const CHAT_VALUE_MAX_CHARACTERS = 1000;

/** Cuts `text` to `max` characters (code points), marking the cut. */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** `list` with each value cut to {@link CHAT_VALUE_MAX_CHARACTERS}; undefined when it is missing or empty. */
function cutList(list: readonly string[] | undefined): string[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list.map((value) => cut(value, CHAT_VALUE_MAX_CHARACTERS));
}

/** The custom-notification JSON for Amazon Q Developer in chat applications. */
export function chatNotification(content: ChatContent): string {
  const value = (text: string) => cut(text, CHAT_VALUE_MAX_CHARACTERS);
  const relatedResources = cutList(content.relatedResources);
  const nextSteps = cutList(content.nextSteps);
  const keywords = cutList(content.keywords);
  const metadata = {
    ...(content.summary === undefined ? {} : { summary: value(content.summary) }),
    ...(content.eventType === undefined ? {} : { eventType: value(content.eventType) }),
    ...(relatedResources === undefined ? {} : { relatedResources }),
    ...(content.additionalContext === undefined ? {} : { additionalContext: Object.fromEntries(Object.entries(content.additionalContext).map(([k, v]) => [value(k), value(v)])) }),
  };
  return JSON.stringify({
    version: "1.0",
    source: "custom",
    ...(content.id === undefined ? {} : { id: value(content.id) }),
    content: {
      textType: "client-markdown",
      title: cut(content.title, 250),
      description: cut(content.description, CHAT_DESCRIPTION_MAX_CHARACTERS),
      ...(nextSteps === undefined ? {} : { nextSteps }),
      ...(keywords === undefined ? {} : { keywords }),
    },
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
  });
}

/**
 * The `Message` for `MessageStructure: "json"`: `default` (email, SQS, Lambda, ...) carries `text`, `https` (Amazon Q
 * Developer) carries `chatJson`. The whole document must fit SNS's 262,144 bytes, so `text` is cut (with a note) to
 * the room the chat JSON leaves.
 */
export function structuredMessage(text: string, chatJson: string, maxBytes = SNS_MESSAGE_MAX_BYTES): string {
  let budget = maxBytes;
  for (;;) {
    const document = JSON.stringify({ default: fitSnsMessage(text, budget), https: chatJson });
    const excess = Buffer.byteLength(document, "utf8") - maxBytes;
    if (excess <= 0) {
      return document;
    }
    // JSON escaping makes the document longer than its parts; shrink the text by the excess and try again.
    budget -= excess;
    if (budget < 1024) {
      throw new Error(`the chat notification (${Buffer.byteLength(chatJson, "utf8")} bytes) leaves no room for the text in one SNS message`);
    }
  }
}

/**
 * Publishes an alert: the readable text to every subscriber and, when `chatJson` is given, the chat notification to
 * HTTPS subscribers (Amazon Q Developer). Returns the SNS message ID.
 */
export async function publishAlertWithChat(
  sns: Pick<SNSClient, "send">,
  topicArn: string,
  alert: Alert,
  chatJson?: string,
): Promise<string | undefined> {
  const subject = snsSubject(alert.subject);
  const command =
    chatJson === undefined
      ? new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: fitSnsMessage(alert.message) })
      : new PublishCommand({ TopicArn: topicArn, Subject: subject, MessageStructure: "json", Message: structuredMessage(alert.message, chatJson) });
  const result = await sns.send(command);
  return result.MessageId;
}

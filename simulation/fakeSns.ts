/**
 * A loopback SNS endpoint that speaks the Query protocol the AWS SDK uses for `Publish` and enforces the rules this
 * project depends on: the topic must exist, the message must be non-empty and at most 262,144 bytes, the subject
 * ASCII, one line, starting with a letter, digit or punctuation, at most 99 characters, and a `MessageStructure: json`
 * message a JSON object with a string `default`. Failures can be injected.
 */
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

import { SNSClient } from "@aws-sdk/client-sns";

/** One message SNS accepted. */
export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  messageId: string;
  /** String message attributes, by name (present only when the publisher sent some). */
  attributes?: Record<string, string>;
  /** `json` when the message holds one body per protocol (see {@link deliveredBody}). */
  messageStructure?: "json";
}

/** Credentials and region for SDK clients that talk to loopback fakes. */
export const FAKE_AWS_ENVIRONMENT = {
  AWS_ACCESS_KEY_ID: "AKIAFAKEFORTESTS0000",
  AWS_SECRET_ACCESS_KEY: "fake-secret-for-loopback-tests",
  AWS_REGION: "ap-northeast-1",
} as const;

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SNS subscription protocols whose key a `MessageStructure: json` message may carry. */
export type DeliveryProtocol = "email" | "email-json" | "http" | "https" | "sqs" | "lambda" | "sms" | "firehose" | "application";

/**
 * The body SNS delivers to a subscriber of `protocol`: for a `MessageStructure: json` message, the string under the
 * protocol's key, or under `default` when it has none; otherwise the message as published. (An HTTPS subscriber
 * without raw delivery, such as Amazon Q Developer in chat applications, gets it as the `Message` of SNS's JSON
 * envelope; an email subscriber as the mail body.) See https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
export function deliveredBody(published: Pick<PublishedMessage, "message" | "messageStructure">, protocol: DeliveryProtocol): string {
  if (published.messageStructure !== "json") {
    return published.message;
  }
  const document = JSON.parse(published.message) as Record<string, unknown>;
  const body = document[protocol];
  return typeof body === "string" ? body : String(document.default);
}

export class FakeSns {
  /** Messages accepted, in order. */
  readonly published: PublishedMessage[] = [];
  /** Requests refused, with the error code returned. */
  readonly refused: Array<{ code: string; reason: string }> = [];
  private readonly injected: Array<{ code: string; status: number }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly topics: Set<string>,
  ) {}

  /** Starts the fake on a free loopback port with the given topics. */
  static async start(topicArns: string[]): Promise<FakeSns> {
    const server = http.createServer();
    const fake = new FakeSns(server, new Set(topicArns));
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => fake.handle(Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Environment that points SDK clients created from scratch (`new SNSClient({})`) at this fake. */
  get environment(): Record<string, string> {
    return { ...FAKE_AWS_ENVIRONMENT, AWS_ENDPOINT_URL_SNS: this.endpoint };
  }

  /** An SDK client for this fake. */
  client(): SNSClient {
    return new SNSClient({
      endpoint: this.endpoint,
      region: FAKE_AWS_ENVIRONMENT.AWS_REGION,
      credentials: { accessKeyId: FAKE_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
    });
  }

  /** Makes the next `count` requests fail with `code` (for example `Throttling`, or `InternalError` with 500). */
  failNext(count: number, code = "Throttling", status = 400): void {
    for (let i = 0; i < count; i++) {
      this.injected.push({ code, status });
    }
  }

  /** Forgets the failures `failNext` queued that no request has met yet; returns how many there were. */
  clearFailures(): number {
    return this.injected.splice(0).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private handle(body: string, res: http.ServerResponse): void {
    const params = new URLSearchParams(body);
    const error = (status: number, code: string, message: string) => {
      this.refused.push({ code, reason: message });
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code>` +
          `<Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    };
    const injected = this.injected.shift();
    if (injected) {
      return error(injected.status, injected.code, "injected failure");
    }
    if (params.get("Action") !== "Publish") {
      return error(400, "InvalidAction", `the fake implements Publish only, got ${params.get("Action")}`);
    }
    const topicArn = params.get("TopicArn") ?? "";
    const message = params.get("Message");
    const subject = params.get("Subject") ?? undefined;
    if (!this.topics.has(topicArn)) {
      return error(404, "NotFound", "Topic does not exist");
    }
    if (message === null || message === "") {
      return error(400, "InvalidParameter", "Invalid parameter: Empty message");
    }
    if (Buffer.byteLength(message, "utf8") > 262_144) {
      return error(400, "InvalidParameter", "Invalid parameter: Message too long");
    }
    if (subject !== undefined && (subject.length === 0 || subject.length > 99 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(subject))) {
      return error(400, "InvalidParameter", "Invalid parameter: Subject");
    }
    if (params.get("MessageStructure") === "json") {
      let document: unknown;
      try {
        document = JSON.parse(message);
      } catch {
        document = undefined;
      }
      if (typeof (document as { default?: unknown } | undefined)?.default !== "string") {
        return error(400, "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse or has no default");
      }
    }
    const attributes: Record<string, string> = {};
    for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[params.get(`MessageAttributes.entry.${i}.Name`) ?? ""] = params.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "";
    }
    const messageId = randomUUID();
    this.published.push({
      topicArn,
      message,
      messageId,
      ...(subject === undefined ? {} : { subject }),
      ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
      ...(params.get("MessageStructure") === "json" ? { messageStructure: "json" as const } : {}),
    });
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId>` +
        `</PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}

/**
 * An in-process CloudWatch Logs that answers `FilterLogEvents` the way the real API does where it matters to counting:
 * - the quota of 5 requests per second per account and region, refused with `ThrottlingException: Rate exceeded`
 *   (measured on the clock it is given, so a simulation can use a virtual clock);
 * - paging: one call scans at most 1 MB of the log group (or returns at most 10,000 events), then returns what matched
 *   with a `nextToken`, so pages can be empty while the search goes on;
 * - the JSON filter pattern is evaluated (see logsFilterPattern.ts), and a malformed one is refused.
 * It plugs into a real `CloudWatchLogsClient` as its request handler, so the SDK serializes requests and parses
 * responses and errors exactly as in Lambda (`client()`). Code that builds its own clients from scratch (a handler loaded
 * from its Lambda archive) reaches it over loopback HTTP (`listen()`). Benchmarks that make hundreds of thousands of
 * calls can skip the SDK's serialization with `sender()`, which answers the same commands directly.
 */
import { createHash } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { Readable } from "stream";

import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";

import { compileFilterPattern } from "./logsFilterPattern";
import { FAKE_AWS_ENVIRONMENT } from "./fakeSns";

/** One event of the fake log group. */
export interface FakeLogEvent {
  timestamp: number;
  message: string;
}

export interface FakeCloudWatchLogsOptions {
  logGroupName: string;
  clock: { now(): number };
  /** @default 5 (FilterLogEvents' quota per account and region) */
  requestsPerSecond?: number;
  /** Raw bytes one call scans before it returns a page. @default 1 MiB */
  scanBytesPerPage?: number;
  /** @default 10000 */
  maxEventsPerPage?: number;
}

interface StoredEvent extends FakeLogEvent {
  eventId: string;
  parsed: unknown;
  bytes: number;
}

/** What the fake was asked and answered. */
export interface FakeLogsStats {
  /** Every FilterLogEvents request, throttled ones included. */
  requests: number;
  throttled: number;
  pages: number;
  emptyPages: number;
}

export class FakeCloudWatchLogs {
  readonly stats: FakeLogsStats = { requests: 0, throttled: 0, pages: 0, emptyPages: 0 };
  private readonly events: StoredEvent[] = [];
  private readonly accepted: number[] = [];
  /** Per filter pattern: per event, 1 when it matches, 0 when not, -1 when not evaluated yet. */
  private readonly matches = new Map<string, { test: (event: unknown) => boolean; flags: Int8Array }>();
  private readonly options: Required<FakeCloudWatchLogsOptions>;

  constructor(options: FakeCloudWatchLogsOptions) {
    this.options = { requestsPerSecond: 5, scanBytesPerPage: 1024 * 1024, maxEventsPerPage: 10_000, ...options };
  }

  /** Adds events to the log group (kept in timestamp order, as FilterLogEvents returns them). */
  add(events: FakeLogEvent[]): void {
    for (const event of events) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.message);
      } catch {
        parsed = undefined;
      }
      // CloudWatch Logs counts 26 bytes of overhead per event.
      this.events.push({ ...event, eventId: String(this.events.length).padStart(56, "0"), parsed, bytes: Buffer.byteLength(event.message, "utf8") + 26 });
    }
    this.events.sort((a, b) => a.timestamp - b.timestamp);
    this.matches.clear();
  }

  /** A real SDK client whose requests this fake answers in-process. It does not retry (the handler does). */
  client(): CloudWatchLogsClient {
    return new CloudWatchLogsClient({
      region: FAKE_AWS_ENVIRONMENT.AWS_REGION,
      credentials: { accessKeyId: FAKE_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
      maxAttempts: 1,
      requestHandler: {
        handle: (request: { headers: Record<string, string>; body?: unknown }) => {
          // Read the bytes through their buffer: the SDK's body type warns when used as a string.
          const bytes = request.body as Uint8Array;
          const body = typeof request.body === "string" ? request.body : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
          const { status, payload } = this.answer(request.headers["x-amz-target"] ?? "", JSON.parse(body) as Record<string, unknown>);
          return Promise.resolve({
            response: {
              statusCode: status,
              headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": `fake-${this.stats.requests}` },
              body: Readable.from([Buffer.from(JSON.stringify(payload))]),
            },
          });
        },
      },
    });
  }

  /**
   * A `send` that answers FilterLogEvents commands in-process without the SDK's serialization: results are returned
   * as the SDK would parse them and errors thrown with the SDK's name, message and `$metadata`.
   */
  sender(): Pick<CloudWatchLogsClient, "send"> {
    const send = (command: unknown): Promise<unknown> => {
      if (!(command instanceof FilterLogEventsCommand)) {
        return Promise.reject(new Error("the fake implements FilterLogEvents only"));
      }
      const { status, payload } = this.answer("Logs_20140328.FilterLogEvents", JSON.parse(JSON.stringify(command.input)) as Record<string, unknown>);
      if (status !== 200) {
        const { __type, message } = payload as { __type: string; message: string };
        return Promise.reject(Object.assign(new Error(message), { name: __type, $fault: "client", $metadata: { httpStatusCode: status } }));
      }
      return Promise.resolve({ ...(payload as object), $metadata: { httpStatusCode: 200 } });
    };
    return { send };
  }

  /**
   * Serves the fake on a free loopback port, for SDK clients created from scratch: `environment` points them here
   * (`new CloudWatchLogsClient({})` in a Lambda archive). Stop it when done.
   */
  async listen(): Promise<{ endpoint: string; environment: Record<string, string>; stop(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const { status, payload } = this.answer(String(req.headers["x-amz-target"] ?? ""), JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
        const errorType = status === 200 ? {} : { "x-amzn-errortype": (payload as { __type: string }).__type };
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": `fake-${this.stats.requests}`, ...errorType });
        res.end(JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      endpoint,
      environment: { ...FAKE_AWS_ENVIRONMENT, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint },
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      },
    };
  }

  private answer(target: string, input: Record<string, unknown>): { status: number; payload: unknown } {
    const error = (status: number, type: string, message: string) => ({ status, payload: { __type: type, message } });
    if (target !== "Logs_20140328.FilterLogEvents") {
      return error(400, "InvalidOperationException", `the fake implements FilterLogEvents only, got ${target}`);
    }
    this.stats.requests += 1;
    const now = this.options.clock.now();
    while (this.accepted.length > 0 && this.accepted[0] <= now - 1000) {
      this.accepted.shift();
    }
    if (this.accepted.length >= this.options.requestsPerSecond) {
      this.stats.throttled += 1;
      return error(400, "ThrottlingException", "Rate exceeded");
    }
    this.accepted.push(now);

    if (input.logGroupName !== this.options.logGroupName) {
      return error(400, "ResourceNotFoundException", "The specified log group does not exist.");
    }
    const startTime = typeof input.startTime === "number" ? input.startTime : -Infinity;
    const endTime = typeof input.endTime === "number" ? input.endTime : Infinity;
    const filterPattern = typeof input.filterPattern === "string" ? input.filterPattern : "";
    let compiled = this.matches.get(filterPattern);
    if (compiled === undefined) {
      try {
        compiled = { test: filterPattern === "" ? () => true : compileFilterPattern(filterPattern), flags: new Int8Array(this.events.length).fill(-1) };
      } catch (caught) {
        return error(400, "InvalidParameterException", (caught as Error).message);
      }
      this.matches.set(filterPattern, compiled);
    }
    const { test, flags } = compiled;
    const matches = (at: number): boolean => {
      if (flags[at] === -1) {
        flags[at] = this.events[at].parsed !== undefined && test(this.events[at].parsed) ? 1 : 0;
      }
      return flags[at] === 1;
    };
    const query = createHash("sha256").update(JSON.stringify([input.logGroupName, startTime, endTime, filterPattern])).digest("hex").slice(0, 16);

    let index: number;
    if (input.nextToken === undefined) {
      index = this.firstAtOrAfter(startTime);
    } else {
      const token = decodeToken(input.nextToken);
      if (token === undefined || token.query !== query) {
        return error(400, "InvalidParameterException", "The specified nextToken is invalid.");
      }
      index = token.index;
    }
    const found: Array<{ logStreamName: string; timestamp: number; message: string; ingestionTime: number; eventId: string }> = [];
    let scanned = 0;
    while (index < this.events.length && this.events[index].timestamp <= endTime && scanned < this.options.scanBytesPerPage && found.length < this.options.maxEventsPerPage) {
      const event = this.events[index];
      scanned += event.bytes;
      if (matches(index)) {
        found.push({ logStreamName: "111111111111_CloudTrail_ap-northeast-1", timestamp: event.timestamp, message: event.message, ingestionTime: event.timestamp, eventId: event.eventId });
      }
      index += 1;
    }
    const more = index < this.events.length && this.events[index].timestamp <= endTime;
    this.stats.pages += 1;
    if (found.length === 0) {
      this.stats.emptyPages += 1;
    }
    return {
      status: 200,
      payload: { events: found, searchedLogStreams: [], ...(more ? { nextToken: Buffer.from(JSON.stringify({ index, query })).toString("base64") } : {}) },
    };
  }

  private firstAtOrAfter(time: number): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.events[middle].timestamp < time) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}

function decodeToken(token: unknown): { index: number; query: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(String(token), "base64").toString("utf8")) as { index?: unknown; query?: unknown };
    return typeof value.index === "number" && typeof value.query === "string" ? { index: value.index, query: value.query } : undefined;
  } catch {
    return undefined;
  }
}

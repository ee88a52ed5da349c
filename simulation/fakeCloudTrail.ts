/**
 * A LookupEvents fake that behaves like CloudTrail where the backfill depends on it:
 * - at most 50 events a page (`InvalidMaxResultsException` above), a `NextToken` that only works with the same
 *   parameters and expires (`InvalidNextTokenException`);
 * - `StartTime` and `EndTime` are inclusive bounds (`InvalidTimeRangeException` when start > end or start is older
 *   than 90 days, the stricter reading of the API reference), results newest first;
 * - at most one lookup attribute (`InvalidLookupAttributesException`);
 * - a quota of 2 requests per second per account and region, as a token bucket of 2 tokens: a request beyond it gets
 *   `ThrottlingException` (other callers can consume the same quota with {@link LookupEventsFake.consume});
 * - only the last 90 days, and each event's `CloudTrailEvent` is a JSON string.
 *
 * Two front ends share this core: an HTTP server speaking the AWS JSON 1.1 protocol for real SDK clients (the account
 * is identified by the request's access key, the region by its signing scope), and an in-process client for the
 * benchmark, which runs on virtual time with a configurable response latency.
 */
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

import type { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";

import type { Clock } from "../functions/shared/runtime";

export const LOOKBACK_MS = 90 * 24 * 60 * 60 * 1000;

/** One stored event. Times are whole seconds, as CloudTrail records them. */
export interface FakeEvent {
  id: string;
  time: number;
  name: string;
  source: string;
  username: string;
  readOnly: boolean;
  /** The `CloudTrailEvent` JSON text. */
  json: string;
}

/** A pair's events, newest first, possibly generated on demand (the benchmark holds hundreds of thousands). */
export interface EventStore {
  readonly count: number;
  /** Time of the i-th newest event. */
  timeAt(index: number): number;
  eventAt(index: number): FakeEvent;
}

/** A store over a list of events. */
export function listStore(events: FakeEvent[]): EventStore {
  const sorted = [...events].sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : 1));
  return { count: sorted.length, timeAt: (i) => sorted[i].time, eventAt: (i) => sorted[i] };
}

/** The CloudTrail record of a fake event, shaped like a real management event. */
export function cloudTrailRecord(p: { id: string; time: number; name: string; source: string; username: string; readOnly: boolean; account: string; region: string }): Record<string, unknown> {
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLEPRINCIPAL",
      arn: `arn:aws:iam::${p.account}:user/${p.username}`,
      accountId: p.account,
      accessKeyId: "AKIAEXAMPLEKEY000000",
      userName: p.username,
    },
    eventTime: new Date(p.time).toISOString().replace(".000Z", "Z"),
    eventSource: p.source,
    eventName: p.name,
    awsRegion: p.region,
    sourceIPAddress: "203.0.113.10",
    userAgent: "aws-cli/2.15.0 md/テスト",
    requestParameters: { maxResults: 50, note: "日本語のパラメータ" },
    responseElements: null,
    requestID: p.id.replace(/-/g, "").slice(0, 32),
    eventID: p.id,
    readOnly: p.readOnly,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: p.account,
    eventCategory: "Management",
  };
}

/** Builds a fake event and its JSON. */
export function fakeEvent(p: { id: string; time: number; account: string; region: string; name?: string; source?: string; username?: string; readOnly?: boolean }): FakeEvent {
  const event = { name: "DescribeInstances", source: "ec2.amazonaws.com", username: "alice", readOnly: true, ...p };
  return { id: p.id, time: p.time, name: event.name, source: event.source, username: event.username, readOnly: event.readOnly, json: JSON.stringify(cloudTrailRecord(event)) };
}

/** A deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The event ID of the i-th generated event of a pair: UUID-shaped, with the pair tag and index readable back. */
export function generatedEventId(pairTag: number, index: number): string {
  const hex = index.toString(16).padStart(12, "0");
  return `${pairTag.toString(16).padStart(8, "0")}-0000-4000-8000-${hex}`;
}

/** Reads back the index of an ID made by {@link generatedEventId}. */
export function generatedEventIndex(id: string): { pairTag: number; index: number } | undefined {
  const match = /^([0-9a-f]{8})-0000-4000-8000-([0-9a-f]{12})$/.exec(id);
  return match ? { pairTag: parseInt(match[1], 16), index: parseInt(match[2], 16) } : undefined;
}

/**
 * `count` events in `[start, end)` whose times follow a bursty distribution (a share of them packed into a few dense
 * 5-minute bursts, the rest spread evenly), with whole-second times and some events exactly on 5-minute boundaries.
 * Events are generated when read, so the store holds only their times.
 */
export function generatedStore(p: { account: string; region: string; pairTag: number; start: number; end: number; count: number; seed: number; burstShare?: number; bursts?: number }): EventStore {
  const random = seededRandom(p.seed);
  const burstShare = p.burstShare ?? 0.3;
  const bursts = Array.from({ length: p.bursts ?? 3 }, () => p.start + Math.floor(random() * Math.max(1, p.end - p.start - 300_000)));
  const times = new Float64Array(p.count);
  for (let i = 0; i < p.count; i++) {
    const r = random();
    let time: number;
    if (r < 0.02) {
      // Exactly on a 5-minute boundary.
      time = Math.floor((p.start + random() * (p.end - p.start)) / 300_000) * 300_000;
    } else if (r < 0.02 + burstShare) {
      time = bursts[Math.floor(random() * bursts.length)] + random() * 300_000;
    } else {
      time = p.start + random() * (p.end - p.start);
    }
    times[i] = Math.min(p.end - 1000, Math.max(p.start, Math.floor(time / 1000) * 1000));
  }
  // Newest first; the index in this order is the event's identity.
  times.sort();
  times.reverse();
  const names = ["DescribeInstances", "AssumeRole", "GetBucketAcl", "ListUsers", "CreateTags", "ConsoleLogin"];
  return {
    count: p.count,
    timeAt: (i) => times[i],
    eventAt: (i) =>
      fakeEvent({ id: generatedEventId(p.pairTag, i), time: times[i], account: p.account, region: p.region, name: names[i % names.length], readOnly: i % 3 !== 0 }),
  };
}

/** An error as the SDK surfaces a service error. */
export function serviceError(name: string, message: string, status = 400): Error & { $metadata: { httpStatusCode: number }; $fault: string } {
  const error = new Error(message) as Error & { $metadata: { httpStatusCode: number }; $fault: string };
  error.name = name;
  error.$metadata = { httpStatusCode: status };
  error.$fault = status >= 500 ? "server" : "client";
  return error;
}

/** The LookupEvents request fields the fake reads (times in epoch seconds, as on the wire). */
export interface LookupRequest {
  StartTime?: number;
  EndTime?: number;
  MaxResults?: number;
  NextToken?: string;
  LookupAttributes?: Array<{ AttributeKey?: string; AttributeValue?: string }>;
  EventCategory?: string;
}

/** The wire form of a response. */
export interface LookupResponse {
  Events: Array<Record<string, unknown>>;
  NextToken?: string;
}

/** One request the fake received. */
export interface ReceivedRequest {
  account: string;
  region: string;
  at: number;
  outcome: "ok" | "throttled" | "error";
  error?: string;
  startTime?: number;
  endTime?: number;
  nextToken?: boolean;
  returned: number;
}

interface TokenState {
  pair: string;
  query: string;
  offset: number;
  issuedAt: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface LookupEventsFakeOptions {
  clock: Clock;
  /** @default 2 */
  requestsPerSecond?: number;
  /** Token bucket size. @default 2 */
  burst?: number;
  /** Time each response takes (in-process front end and HTTP front end). @default 0 */
  latencyMs?: number;
  /** A NextToken older than this is refused. @default 15 minutes */
  tokenTtlMs?: number;
}

const ATTRIBUTE_FIELDS: Record<string, (e: FakeEvent) => string> = {
  EventId: (e) => e.id,
  EventName: (e) => e.name,
  EventSource: (e) => e.source,
  Username: (e) => e.username,
  ReadOnly: (e) => String(e.readOnly),
};

export class LookupEventsFake {
  readonly received: ReceivedRequest[] = [];
  private readonly stores = new Map<string, EventStore>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokens = new Map<string, TokenState>();
  private readonly failures = new Map<string, Array<{ name: string; status: number }>>();
  private readonly clock: Clock;
  private readonly rate: number;
  private readonly burst: number;
  private readonly tokenTtlMs: number;
  latencyMs: number;
  /** Called for each request before it is answered (tests use it to kill a run mid-page). */
  onRequest?: (request: ReceivedRequest & { pending: true }) => void;

  constructor(options: LookupEventsFakeOptions) {
    this.clock = options.clock;
    this.rate = options.requestsPerSecond ?? 2;
    this.burst = options.burst ?? 2;
    this.latencyMs = options.latencyMs ?? 0;
    this.tokenTtlMs = options.tokenTtlMs ?? 15 * 60 * 1000;
  }

  /** Stores the events of one account and region. */
  setEvents(account: string, region: string, store: EventStore | FakeEvent[]): void {
    this.stores.set(`${account}/${region}`, Array.isArray(store) ? listStore(store) : store);
  }

  /** Makes the next `count` requests of a pair fail with `name` (for example `InternalFailure` with 500). */
  failNext(account: string, region: string, count: number, name: string, status = 500): void {
    const list = this.failures.get(`${account}/${region}`) ?? [];
    for (let i = 0; i < count; i++) list.push({ name, status });
    this.failures.set(`${account}/${region}`, list);
  }

  /** Another tool uses `count` requests of the pair's quota now. */
  consume(account: string, region: string, count: number): void {
    const bucket = this.refill(`${account}/${region}`);
    bucket.tokens -= count;
  }

  /** Fills every pair's quota again (between tests). */
  resetQuota(): void {
    this.buckets.clear();
  }

  /** Forgets every NextToken issued so far (as if they had expired). */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** Requests of one pair. */
  requestsOf(account: string, region: string): ReceivedRequest[] {
    return this.received.filter((r) => r.account === account && r.region === region);
  }

  /** Answers one request after the configured latency; rejects with the service's error. */
  async lookup(account: string, region: string, request: LookupRequest): Promise<LookupResponse> {
    const record: ReceivedRequest = {
      account,
      region,
      at: this.clock.now(),
      outcome: "ok",
      ...(request.StartTime === undefined ? {} : { startTime: request.StartTime * 1000 }),
      ...(request.EndTime === undefined ? {} : { endTime: request.EndTime * 1000 }),
      nextToken: request.NextToken !== undefined,
      returned: 0,
    };
    this.received.push(record);
    let response: LookupResponse | undefined;
    let failure: Error | undefined;
    try {
      response = this.answer(account, region, request, record);
    } catch (error) {
      failure = error as Error;
      record.outcome = failure.name === "ThrottlingException" ? "throttled" : "error";
      record.error = failure.name;
    }
    this.onRequest?.({ ...record, pending: true });
    if (this.latencyMs > 0) {
      await this.clock.sleep(this.latencyMs);
    }
    if (failure !== undefined) {
      throw failure;
    }
    return response as LookupResponse;
  }

  /** A client for the benchmark: the SDK's request and response shapes, no HTTP. */
  client(account: string, region: string): Pick<CloudTrailClient, "send"> {
    const seconds = (date: unknown) => (date instanceof Date ? date.getTime() / 1000 : undefined);
    return {
      send: (async (command: LookupEventsCommand, options?: { abortSignal?: AbortSignal }) => {
        options?.abortSignal?.throwIfAborted();
        const input = command.input;
        const response = await this.lookup(account, region, {
          StartTime: seconds(input.StartTime),
          EndTime: seconds(input.EndTime),
          MaxResults: input.MaxResults,
          NextToken: input.NextToken,
          LookupAttributes: input.LookupAttributes,
        });
        return {
          $metadata: {},
          NextToken: response.NextToken,
          Events: response.Events.map((e) => ({ ...e, EventTime: new Date((e.EventTime as number) * 1000) })),
        };
      }) as unknown as Pick<CloudTrailClient, "send">["send"],
    };
  }

  private refill(pair: string): Bucket {
    const now = this.clock.now();
    const bucket = this.buckets.get(pair) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.rate);
    bucket.updatedAt = now;
    this.buckets.set(pair, bucket);
    return bucket;
  }

  private answer(account: string, region: string, request: LookupRequest, record: ReceivedRequest): LookupResponse {
    const pair = `${account}/${region}`;
    const bucket = this.refill(pair);
    if (bucket.tokens < 1) {
      throw serviceError("ThrottlingException", "Rate exceeded");
    }
    bucket.tokens -= 1;
    const injected = this.failures.get(pair)?.shift();
    if (injected) {
      throw serviceError(injected.name, "injected failure", injected.status);
    }
    const now = this.clock.now();
    const maxResults = request.MaxResults ?? 50;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
      throw serviceError("InvalidMaxResultsException", "MaxResults must be from 1 to 50");
    }
    const attributes = request.LookupAttributes ?? [];
    if (attributes.length > 1) {
      throw serviceError("InvalidLookupAttributesException", "You can specify only one lookup attribute");
    }
    const attribute = attributes[0];
    const fieldOf = attribute === undefined ? undefined : ATTRIBUTE_FIELDS[attribute.AttributeKey ?? ""];
    if (attribute !== undefined && fieldOf === undefined) {
      throw serviceError("InvalidLookupAttributesException", `unsupported attribute ${String(attribute.AttributeKey)}`);
    }
    const oldest = now - LOOKBACK_MS;
    const start = request.StartTime === undefined ? oldest : request.StartTime * 1000;
    const end = request.EndTime === undefined ? now : request.EndTime * 1000;
    if (start > end) {
      throw serviceError("InvalidTimeRangeException", "StartTime is after EndTime");
    }
    if (start < oldest) {
      throw serviceError("InvalidTimeRangeException", "StartTime is outside the 90 days that LookupEvents holds");
    }
    const query = JSON.stringify({ start, end, maxResults, attribute });
    let offset = 0;
    if (request.NextToken !== undefined) {
      const state = this.tokens.get(request.NextToken);
      if (state === undefined || state.pair !== pair || state.query !== query || now - state.issuedAt > this.tokenTtlMs) {
        throw serviceError("InvalidNextTokenException", "Invalid NextToken");
      }
      this.tokens.delete(request.NextToken);
      offset = state.offset;
    }
    const store = this.stores.get(pair);
    const matches: FakeEvent[] = [];
    let index = store === undefined ? 0 : this.firstAtOrBefore(store, Math.min(end, now));
    let skipped = 0;
    if (fieldOf === undefined) {
      // Without a filter every event counts: jump over the pages already returned.
      index += offset;
      skipped = offset;
    }
    let more = false;
    // Newest first: walk from the newest event at or before `end` towards `start`.
    for (; store !== undefined && index < store.count && store.timeAt(index) >= Math.max(start, oldest); index++) {
      const event = store.eventAt(index);
      if (fieldOf !== undefined && fieldOf(event) !== attribute?.AttributeValue) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      if (matches.length === maxResults) {
        more = true;
        break;
      }
      matches.push(event);
    }
    record.returned = matches.length;
    const response: LookupResponse = {
      Events: matches.map((e) => ({
        EventId: e.id,
        EventName: e.name,
        ReadOnly: String(e.readOnly),
        AccessKeyId: "AKIAEXAMPLEKEY000000",
        EventTime: e.time / 1000,
        EventSource: e.source,
        Username: e.username,
        Resources: [],
        CloudTrailEvent: e.json,
      })),
    };
    if (more) {
      const token = randomUUID();
      this.tokens.set(token, { pair, query, offset: offset + matches.length, issuedAt: now });
      response.NextToken = token;
    }
    return response;
  }

  /** Index of the newest event at or before `time` (binary search over the newest-first order). */
  private firstAtOrBefore(store: EventStore, time: number): number {
    let low = 0;
    let high = store.count;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (store.timeAt(mid) > time) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Starts the HTTP front end; `accountOf` maps a request's access key ID to its account. */
  async listen(accountOf: (accessKeyId: string) => string | undefined): Promise<LookupEventsServer> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        void this.handleHttp(req, Buffer.concat(chunks).toString("utf8"), accountOf).then(({ status, body }) => {
          res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID(), ...(status === 200 ? {} : { "x-amzn-errortype": (body as { __type: string }).__type }) });
          res.end(JSON.stringify(body));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new LookupEventsServer(server);
  }

  private async handleHttp(req: http.IncomingMessage, body: string, accountOf: (accessKeyId: string) => string | undefined): Promise<{ status: number; body: unknown }> {
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.endsWith("CloudTrail_20131101.LookupEvents")) {
      return { status: 400, body: { __type: "UnknownOperationException", message: `the fake implements LookupEvents only, got ${target}` } };
    }
    const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/cloudtrail\/aws4_request/.exec(String(req.headers.authorization ?? ""));
    const account = scope ? accountOf(scope[1]) : undefined;
    if (!scope || account === undefined) {
      return { status: 400, body: { __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." } };
    }
    try {
      return { status: 200, body: await this.lookup(account, scope[2], JSON.parse(body) as LookupRequest) };
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      return { status: e.$metadata?.httpStatusCode ?? 400, body: { __type: e.name, message: e.message } };
    }
  }
}

/** The HTTP front end of a {@link LookupEventsFake}. */
export class LookupEventsServer {
  constructor(private readonly server: http.Server) {}

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}

/**
 * The UserActivityNotifier's handler with burst grouping on loopback services: dynalite for its table (sent journal and
 * burst state), the fake SNS for the alert topic, and a clock the caller moves. `invoke` delivers an event the way
 * Lambda does for asynchronous invocations (EventBridge, CloudWatch Logs): a failed invocation is tried again, up to
 * three attempts. Every AWS call is counted by command. Tests and the `bench:activity` benchmark share it.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import type { Clock, Logger, MetricSink } from "../functions/shared/runtime";
import { BURST_SWEEP_EVENT, type BurstSettings, dynamoDbBurstGate } from "../functions/userActivity/bursts";
import type { ActivityCriteria } from "../functions/userActivity/criteria";
import { summaryPublisher, type UserActivityResult, userActivityHandler } from "../functions/userActivity/handler";
import { dynamoDbSentJournal } from "../functions/userActivity/sentJournal";
import type { UserActivitySettings } from "../functions/userActivity/settings";
import { FakeSns } from "./fakeSns";
import { LocalDynamoDb } from "./localDynamoDb";

export const BURST_TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:alerts";

/** A clock that moves only when told to (`sleep` moves it too, so retries with backoff take simulated time). */
export class SteppedClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.time += Math.max(0, ms);
    return Promise.resolve();
  }
  /** Moves the clock to `ms` (never back). */
  set(ms: number): void {
    this.time = Math.max(this.time, ms);
  }
}

/** One delivery of an event: what the attempts returned or threw. */
export interface Delivery {
  result?: UserActivityResult;
  attempts: number;
  errors: string[];
}

export interface BurstHarness {
  clock: SteppedClock;
  sns: FakeSns;
  /** AWS calls made by the handler, by command (`UpdateItemCommand`, `PublishCommand`, ...). */
  calls: Map<string, number>;
  /** Makes calls of `command` fail (before they reach the service) `count` times, after letting `skip` through. */
  failNext(command: string, count?: number, skip?: number): void;
  /** One invocation. */
  handle(event: unknown): Promise<UserActivityResult>;
  /** One delivery, retried on failure like Lambda's asynchronous invocations (up to 3 attempts). */
  invoke(event: unknown, attempts?: number): Promise<Delivery>;
  /** The scheduled sweep, delivered like `invoke`. */
  sweep(): Promise<Delivery>;
  stop(): Promise<void>;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noMetrics: MetricSink = { count: () => undefined };

/** Wraps an SDK client so that its calls are counted and failures can be injected before they are sent. */
function counted<C extends { send: (command: never) => Promise<unknown> }>(client: C, calls: Map<string, number>, failures: Map<string, { skip: number; count: number }>): C {
  const send = client.send.bind(client) as (command: { constructor: { name: string } }) => Promise<unknown>;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver) as unknown;
      return (command: { constructor: { name: string } }) => {
        const name = command.constructor.name;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const planned = failures.get(name);
        if (planned !== undefined && planned.skip > 0) {
          planned.skip -= 1;
        } else if (planned !== undefined && planned.count > 0) {
          planned.count -= 1;
          const error = new Error(`injected failure of ${name}`);
          error.name = "InternalServerError";
          return Promise.reject(error);
        }
        return send(command);
      };
    },
  });
}

/**
 * Starts dynalite and the fake SNS and builds the handler: `criteria` select the events, `burst` turns grouping on
 * (undefined: every matching event is notified, the sent journal still deduplicates).
 */
export async function startBurstHarness(options: { criteria: ActivityCriteria; burst?: BurstSettings; start: number }): Promise<BurstHarness> {
  const db = await LocalDynamoDb.start();
  const sns = await FakeSns.start([BURST_TOPIC_ARN]);
  const tableName = await db.createSentJournalTable();
  const clock = new SteppedClock(options.start);
  const calls = new Map<string, number>();
  const failures = new Map<string, { skip: number; count: number }>();
  const dynamoClient = new DynamoDBClient({ endpoint: db.endpoint, region: "ap-northeast-1", credentials: { accessKeyId: "AKIAFAKEFORTESTS0000", secretAccessKey: "fake" } });
  const dynamodb = counted(dynamoClient, calls, failures);
  const snsClient: SNSClient = counted(sns.client(), calls, failures);
  const settings: UserActivitySettings = {
    topicArn: BURST_TOPIC_ARN,
    timeZone: "Asia/Tokyo",
    language: "en",
    criteria: options.criteria,
    chatNotifications: false,
    sentTableName: tableName,
    ...(options.burst === undefined ? {} : { burst: options.burst }),
  };
  const journal = dynamoDbSentJournal(dynamodb, tableName, undefined, () => clock.now());
  const bursts = options.burst === undefined ? undefined : dynamoDbBurstGate(dynamodb, tableName, options.burst, summaryPublisher(settings, snsClient), clock);
  const handler = userActivityHandler(settings, { sns: snsClient, logger: silent, metrics: noMetrics, journal, ...(bursts === undefined ? {} : { bursts }) });

  const invoke = async (event: unknown, attempts = 3): Promise<Delivery> => {
    const delivery: Delivery = { attempts: 0, errors: [] };
    while (delivery.attempts < attempts) {
      delivery.attempts += 1;
      try {
        delivery.result = await handler(event);
        return delivery;
      } catch (error) {
        delivery.errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    }
    return delivery;
  };
  return {
    clock,
    sns,
    calls,
    failNext: (command, count = 1, skip = 0) => failures.set(command, { skip, count }),
    handle: handler,
    invoke,
    sweep: () => invoke({ ...BURST_SWEEP_EVENT }),
    async stop() {
      dynamoClient.destroy();
      await sns.stop();
      await db.stop();
    },
  };
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same burst. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An IAM user's identity in account 123456789012. */
export function iamUser(name: string): CloudTrailRecord["userIdentity"] {
  return { type: "IAMUser", principalId: `AIDA${name.toUpperCase()}`, arn: `arn:aws:iam::123456789012:user/${name}`, accountId: "123456789012", userName: name };
}

/**
 * What a `terraform apply` looks like in CloudTrail: `count` calls by one principal within `spanMs` from `start`, in
 * time order, at random moments (seeded). `eventName` picks each call's name (one name by default: a plan that adds
 * hundreds of security group rules).
 */
export function applyBurst(options: {
  user: string;
  count: number;
  start: number;
  spanMs: number;
  random: () => number;
  eventName?: (i: number) => string;
  idPrefix?: string;
}): CloudTrailRecord[] {
  const { user, count, start, spanMs, random } = options;
  const times = Array.from({ length: count }, () => start + Math.floor(random() * spanMs)).sort((a, b) => a - b);
  return times.map((at, i) => ({
    eventVersion: "1.09",
    userIdentity: iamUser(user),
    eventTime: new Date(at).toISOString().replace(/\.\d+Z$/, "Z"),
    eventSource: "ec2.amazonaws.com",
    eventName: options.eventName?.(i) ?? "AuthorizeSecurityGroupIngress",
    awsRegion: "ap-northeast-1",
    sourceIPAddress: "203.0.113.10",
    userAgent: "APN/1.0 HashiCorp/1.0 Terraform/1.9.0",
    requestParameters: { groupId: `sg-${String(i).padStart(8, "0")}` },
    responseElements: null,
    requestID: `${options.idPrefix ?? user}-request-${i}`,
    eventID: `${options.idPrefix ?? user}-event-${String(i).padStart(4, "0")}`,
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: "123456789012",
    eventCategory: "Management",
  }));
}

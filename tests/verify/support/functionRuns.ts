/**
 * The AWS calls a stack's Lambda code really makes, recorded by running it: every function's archive (what a
 * deployment uploads) is loaded with the function's own environment, against loopback fakes of every service the
 * stack's resources stand for (its tables on dynalite, its topics on the fake SNS, its buckets on s3rver, its reader
 * roles on the fake STS, its trail's log group and LookupEvents behind them), and invoked the way its trigger would
 * invoke it with one sample of CloudTrail traffic:
 * - an EventBridge rule targeting it: each record as the event CloudTrail sends, when it matches the rule's pattern;
 * - a subscription filter with it as destination: each record as a subscription payload, when it matches the filter;
 * - an SNS subscription: each message the functions before it published to the topic that passes the filter policy;
 * - a state machine invoking it: one execution over one account-region pair holding a few events.
 * Each function's calls are attributed to its URN by a {@link CallLedger}, installed only while the functions run.
 */
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";

import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { systemClock } from "../../../functions/shared/runtime";
import { materializeArchive, withEnvironment } from "../../../preview/lambdaArchive";
import type { RecordedResource } from "../../../preview/mockCloud";
import { BackfillHarness } from "../../../simulation/backfillHarness";
import { CallLedger, type RecordedCall } from "../../../simulation/callLedger";
import { getObjectRecord, sampleGetObject } from "../../../simulation/downloadEvents";
import { matchesEventPattern } from "../../../simulation/eventPattern";
import { FakeCloudWatchLogs } from "../../../simulation/fakeCloudWatchLogs";
import { fakeEvent } from "../../../simulation/fakeCloudTrail";
import { FakeSns, type PublishedMessage } from "../../../simulation/fakeSns";
import { eventBridgeEvent, fixture, subscriptionPayload } from "../../../simulation/fixtures";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";
import { compileFilterPattern } from "../../../simulation/logsFilterPattern";
import { StateMachineInterpreter } from "../../../simulation/stateMachineInterpreter";
import { captureOutput } from "../../support/captureOutput";
import { leaveRetiredEnvironmentEntries } from "./retiredEnvironments";

/** One function run from its archive, with the AWS calls it made. */
export interface FunctionRun {
  fn: RecordedResource;
  /** The callback factory the function runs (its `cloudtrail-alerts:callback` tag). */
  factory: string;
  /** SHA-256 of the archive's `__index.js`: equal for functions that ship the same code. */
  codeDigest: string;
  invocations: number;
  calls: RecordedCall[];
}

/**
 * The sample traffic, in the order CloudTrail records it: an SSM session of the IAM user hogehoge (delivered twice, as
 * at-least-once delivery may), then six downloads of the sample object within one counting window.
 */
export function sampleTraffic(): CloudTrailRecord[] {
  const session = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
  const first = Date.parse(sampleGetObject().eventTime);
  const downloads = [0, 1, 2, 3, 4, 5].map((n) => getObjectRecord({ eventID: `verify-download-${n}`, eventTime: new Date(first + n * 60_000).toISOString().replace(".000Z", "Z") }));
  return [session, session, ...downloads];
}

type Invoke = (event: unknown, context?: unknown) => Promise<unknown>;

const byType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const CONTEXT = { getRemainingTimeInMillis: () => 900_000 };
/**
 * Time between two deliveries to a function. The sample's events are a minute apart; delivering them a quarter of a
 * second apart keeps a counter that re-counts with FilterLogEvents (one request per download) under that API's quota
 * of 5 requests per second, as the real spacing would.
 */
const DELIVERY_INTERVAL_MS = 250;

/** The loopback world standing for the stack's resources. */
class World {
  private constructor(
    readonly resources: RecordedResource[],
    readonly db: LocalDynamoDb,
    readonly sns: FakeSns,
    readonly logs: Awaited<ReturnType<FakeCloudWatchLogs["listen"]>>,
    readonly backfill: BackfillHarness,
    /** Accounts of the roles the fake STS lets the backfill assume (the reader roles). */
    readonly readerAccounts: string[],
  ) {}

  static async start(resources: RecordedResource[], traffic: CloudTrailRecord[]): Promise<World> {
    const db = await LocalDynamoDb.start();
    for (const table of byType(resources, "aws:dynamodb/table:Table")) {
      const { hashKey, rangeKey, attributes } = table.inputs as { hashKey: string; rangeKey?: string; attributes: Array<{ name: string; type: "S" | "N" | "B" }> };
      const client = db.client();
      await client.send(
        new CreateTableCommand({
          TableName: String(table.state.name),
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }, ...(rangeKey === undefined ? [] : [{ AttributeName: rangeKey, KeyType: "RANGE" as const }])],
          AttributeDefinitions: attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
        }),
      );
      client.destroy();
    }
    const sns = await FakeSns.start(byType(resources, "aws:sns/topic:Topic").map((t) => String(t.state.arn)));
    // The trail's log group, read by subscription filters, holds every record of the traffic.
    const logGroups = [...new Set(byType(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").map((f) => String(f.inputs.logGroup)))];
    if (logGroups.length > 1) {
      throw new Error(`the world has one trail log group, but subscription filters read ${logGroups.join(", ")}`);
    }
    const logGroup = new FakeCloudWatchLogs({ logGroupName: logGroups[0] ?? "none", clock: { now: () => Date.now() } });
    logGroup.add(traffic.map((record) => ({ timestamp: Date.parse(record.eventTime), message: JSON.stringify(record) })));
    const roles = byType(resources, "aws:iam/role:Role").flatMap((role) => {
      const statement = (JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: Array<{ Principal: { AWS?: string }; Condition?: { StringEquals?: Record<string, string> } }> }).Statement[0];
      const externalId = statement.Condition?.StringEquals?.["sts:ExternalId"];
      return statement.Principal.AWS === undefined ? [] : [{ arn: String(role.state.arn), ...(externalId === undefined ? {} : { externalId }) }];
    });
    const buckets = byType(resources, "aws:s3/bucket:Bucket").map((b) => String(b.state.bucket));
    const backfill = await BackfillHarness.start({ clock: systemClock, roles, buckets });
    return new World(resources, db, sns, await logGroup.listen(), backfill, roles.map((role) => role.arn.split(":")[4]));
  }

  /** Environment that points SDK clients created from scratch at the fakes (s3rver accepts only its own credentials). */
  get environment(): Record<string, string> {
    return { ...this.db.environment, ...this.sns.environment, ...this.logs.environment, ...this.backfill.environment };
  }

  async stop(): Promise<void> {
    await Promise.all([this.db.stop(), this.sns.stop(), this.logs.stop(), this.backfill.stop()]);
  }
}

/** The events `fn`'s EventBridge rules, subscription filters and SNS subscriptions deliver to it. */
function deliveries(world: World, fn: RecordedResource, traffic: CloudTrailRecord[]): unknown[] {
  const arn = String(fn.state.arn);
  const targets = byType(world.resources, "aws:cloudwatch/eventTarget:EventTarget").filter((target) => target.inputs.arn === arn);
  const ruleOf = (target: RecordedResource): RecordedResource =>
    byType(world.resources, "aws:cloudwatch/eventRule:EventRule").find((r) => String(r.state.arn).endsWith(`/${String(target.inputs.rule)}`))!;
  // A target's constant `input` replaces the matched event, as EventBridge delivers it.
  const delivered = (target: RecordedResource, event: unknown): unknown => (typeof target.inputs.input === "string" ? JSON.parse(target.inputs.input) : event);
  const fromRules = targets
    .filter((target) => ruleOf(target).inputs.eventPattern !== undefined)
    .flatMap((target) => {
      const pattern = JSON.parse(String(ruleOf(target).inputs.eventPattern)) as Record<string, unknown>;
      return traffic
        .map((record) => eventBridgeEvent(record))
        .filter((event) => matchesEventPattern(pattern, event))
        .map((event) => delivered(target, event));
    });
  // A scheduled rule fires once after the traffic, so work the traffic left (a burst's summary) is done as well.
  const fromSchedules = targets
    .filter((target) => ruleOf(target).inputs.scheduleExpression !== undefined)
    .map((target) => delivered(target, { "detail-type": "Scheduled Event", source: "aws.events", resources: [String(ruleOf(target).state.arn)], detail: {} }));
  const fromLogs = byType(world.resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    .filter((filter) => filter.inputs.destinationArn === arn)
    .flatMap((filter) => {
      const pattern = filter.inputs.filterPattern;
      const matches = typeof pattern === "string" && pattern !== "" ? compileFilterPattern(pattern) : () => true;
      return traffic.filter((record) => matches(record)).map((record) => subscriptionPayload([record]));
    });
  const fromTopics = byType(world.resources, "aws:sns/topicSubscription:TopicSubscription")
    .filter((subscription) => subscription.inputs.protocol === "lambda" && subscription.inputs.endpoint === arn)
    .flatMap((subscription) => world.sns.published.filter((message) => message.topicArn === subscription.inputs.topic && passes(subscription, message)).map(snsDelivery));
  return [...fromRules, ...fromLogs, ...fromTopics, ...fromSchedules];
}

/** True when `message` passes the subscription's filter policy on message attributes (exact string values). */
function passes(subscription: RecordedResource, message: PublishedMessage): boolean {
  const filterPolicy = subscription.inputs.filterPolicy;
  if (typeof filterPolicy !== "string") {
    return true;
  }
  if (subscription.inputs.filterPolicyScope !== "MessageAttributes") {
    throw new Error(`the proof evaluates filter policies on message attributes only, not ${String(subscription.inputs.filterPolicyScope)}`);
  }
  const policy = JSON.parse(filterPolicy) as Record<string, unknown[]>;
  return Object.entries(policy).every(([name, accepted]) => accepted.includes(message.attributes?.[name]));
}

/** The event SNS invokes a subscribed function with. */
function snsDelivery(message: PublishedMessage): unknown {
  const attributes = Object.fromEntries(Object.entries(message.attributes ?? {}).map(([name, value]) => [name, { Type: "String", Value: value }]));
  return { Records: [{ EventSource: "aws:sns", EventVersion: "1.0", Sns: { Type: "Notification", MessageId: message.messageId, TopicArn: message.topicArn, Message: message.message, MessageAttributes: attributes } }] };
}

/** Runs the state machine that invokes `fn` once, over the first reader role's account and `fn`'s region. */
async function runStateMachine(world: World, machine: RecordedResource, fn: RecordedResource, invoke: Invoke): Promise<number> {
  const [account] = world.readerAccounts;
  const region = String(fn.state.arn).split(":")[3];
  const end = Math.floor(Date.now() / 300_000) * 300_000 - 300_000;
  const start = end - 3_600_000;
  world.backfill.lookup.setEvents(
    account,
    region,
    [1, 2, 3, 4, 5].map((n) => fakeEvent({ id: `verify-backfill-${n}`, time: start + n * 600_000, account, region })),
  );
  let invocations = 0;
  const interpreter = new StateMachineInterpreter(JSON.parse(String(machine.inputs.definition)) as Record<string, unknown>, (_arn, payload) => {
    invocations += 1;
    return invoke(payload, CONTEXT);
  });
  await interpreter.start({ accounts: [account], regions: [region], startTime: new Date(start).toISOString(), endTime: new Date(end).toISOString() });
  return invocations;
}

/** Functions invoked through SNS run last, after the functions that publish to their topics. */
function invocationOrder(resources: RecordedResource[]): RecordedResource[] {
  const fedBySns = (fn: RecordedResource) => byType(resources, "aws:sns/topicSubscription:TopicSubscription").some((s) => s.inputs.endpoint === fn.state.arn);
  const functions = byType(resources, "aws:lambda/function:Function");
  return [...functions.filter((fn) => !fedBySns(fn)), ...functions.filter(fedBySns)];
}

/** Runs every Lambda function of `resources` from its archive with the sample traffic; returns what each called. */
export async function runFunctions(resources: RecordedResource[]): Promise<FunctionRun[]> {
  const traffic = sampleTraffic();
  const world = await World.start(resources, traffic);
  const ledger = new CallLedger();
  const restore = ledger.install();
  const runs: FunctionRun[] = [];
  try {
    for (const fn of invocationOrder(resources)) {
      const archive = await materializeArchive(fn.inputs.code);
      const variables = { ...world.environment, ...(fn.inputs.environment as { variables: Record<string, string> }).variables, AWS_LAMBDA_FUNCTION_NAME: String(fn.state.name) };
      const machine = byType(resources, "aws:sfn/stateMachine:StateMachine").find((m) => String(m.inputs.definition).includes(`"${String(fn.state.arn)}"`));
      const factory = (fn.inputs.tags as Record<string, string> | undefined)?.["cloudtrail-alerts:callback"] ?? "";
      await leaveRetiredEnvironmentEntries(world.db, factory, variables, traffic);
      const { result: invocations } = await captureOutput(() =>
        withEnvironment(variables, () =>
          ledger.attribute(fn.urn, async () => {
            const handler: Invoke = archive.loadHandler();
            if (machine !== undefined) {
              return runStateMachine(world, machine, fn, handler);
            }
            const events = deliveries(world, fn, traffic);
            for (const event of events) {
              await handler(event, CONTEXT);
              await systemClock.sleep(DELIVERY_INTERVAL_MS);
            }
            return events.length;
          }),
        ),
      );
      runs.push({ fn, factory, codeDigest: archive.codeDigest, invocations, calls: ledger.callsOf(fn.urn) });
    }
  } finally {
    restore();
    await world.stop();
  }
  return runs;
}

/**
 * `npm run bench:activity [-- --records N --batch N]`: measures the UserActivityNotifier's handler code and compares
 * two ways of feeding several notifiers from one trail log group on the same simulated load:
 *
 * - one subscription filter per notifier, as in docs/sourceArticles.md (CloudWatch Logs allows only two per log
 *   group), and
 * - one LogSubscriptionDispatcher shared by all of them.
 *
 * The load is a deterministic mix of CloudTrail records (seeded): mostly read-only calls of service roles, some
 * changes, AWS service events, console sign-ins, SSM sessions and the watched user's calls. CloudWatch Logs applies each
 * filter pattern before batching, so a destination is invoked once per batch of its matching events; the batch size
 * is a parameter (CloudWatch Logs decides it in practice). Times are wall-clock on this machine, SNS is an in-memory
 * client that accepts every publish.
 *
 * Then burst grouping (`--burst-events N`, default 1000; 0 skips it): a replayed `terraform apply` of N matching events
 * (seeded) through the real handler on dynalite and the fake SNS, once without and once with grouping (its defaults),
 * each event delivered by EventBridge at its own time and the sweep run every simulated minute as its schedule does:
 * messages sent per 1,000 matching events, and AWS calls per event.
 */
import { performance } from "perf_hooks";
import { parseArgs } from "util";
import { gzipSync } from "zlib";

import type { PublishCommand } from "@aws-sdk/client-sns";

import { activityPrefilter } from "../components/activityPatterns";
import { type ActivityCriteria, activityMatches } from "../functions/userActivity/criteria";
import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import { logDispatchHandler } from "../functions/logDispatch/handler";
import { matchesAnyRecordPattern } from "../functions/shared/recordPattern";
import type { Logger, MetricSink } from "../functions/shared/runtime";
import { formatActivity } from "../functions/userActivity/format";
import { runMain } from "../preview/exit";
import { DEFAULT_BURST_SETTINGS } from "../functions/userActivity/bursts";
import { applyBurst, seededRandom, startBurstHarness } from "../simulation/activityBursts";
import { eventBridgeEvent } from "../simulation/fixtures";

const NOTIFIERS: Record<string, ActivityCriteria> = {
  "user-hogehoge": { userNames: ["hogehoge"] },
  "ssm-sessions": { presets: ["ssm-sessions"] },
  "console-sign-in": { presets: ["console-sign-in"] },
  "iam-changes": { presets: ["iam-changes"] },
  "bucket-creation": { presets: ["bucket-creation"] },
};

/** A small deterministic PRNG (mulberry32), so every run measures the same load. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function load(count: number): CloudTrailRecord[] {
  const next = random(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const role = (name: string, session: string) => ({
    type: "AssumedRole",
    arn: `arn:aws:sts::123456789012:assumed-role/${name}/${session}`,
    accountId: "123456789012",
    sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::123456789012:role/${name}`, userName: name } },
  });
  return Array.from({ length: count }, (_, i) => {
    const roll = next();
    const base = { eventVersion: "1.09", eventTime: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString().replace(/\.\d+Z$/, "Z"), eventID: `e-${i}`, awsRegion: pick(["ap-northeast-1", "us-east-1"]), sourceIPAddress: "192.0.2.1", userAgent: "aws-sdk-go-v2/1.26.1", recipientAccountId: "123456789012" };
    if (roll < 0.6) {
      return { ...base, userIdentity: role(pick(["monitoring", "ci-deployer", "backup"]), "s"), eventSource: pick(["ec2.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "kms.amazonaws.com"]), eventName: pick(["DescribeInstances", "ListBuckets", "GetRole", "Decrypt"]), eventType: "AwsApiCall", readOnly: true, requestParameters: { maxResults: 100 } };
    }
    if (roll < 0.8) {
      return { ...base, userIdentity: role("ci-deployer", "deploy"), eventSource: pick(["ec2.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com", "lambda.amazonaws.com"]), eventName: pick(["RunInstances", "PutObject", "PutRolePolicy", "UpdateFunctionCode", "CreateBucket"]), eventType: "AwsApiCall", readOnly: false, requestParameters: { roleName: "app", policyName: "p", bucketName: "b" } };
    }
    if (roll < 0.9) {
      return { ...base, userIdentity: { type: "AWSService", invokedBy: "lambda.amazonaws.com" }, eventSource: "sts.amazonaws.com", eventName: "AssumeRole", eventType: "AwsApiCall", readOnly: true, requestParameters: { roleArn: "arn:aws:iam::123456789012:role/app" } };
    }
    if (roll < 0.95) {
      return { ...base, awsRegion: "us-east-1", userIdentity: pick([{ type: "Root", arn: "arn:aws:iam::123456789012:root", accountId: "123456789012" }, { type: "IAMUser", userName: "alice", accountId: "123456789012" }]), eventSource: "signin.amazonaws.com", eventName: "ConsoleLogin", eventType: "AwsConsoleSignIn", readOnly: false, responseElements: { ConsoleLogin: pick(["Success", "Failure"]) } };
    }
    if (roll < 0.98) {
      return { ...base, userIdentity: role("AWSReservedSSO_Admin_0123456789abcdef", "bob@example.com"), eventSource: "ssm.amazonaws.com", eventName: pick(["StartSession", "TerminateSession"]), eventType: "AwsApiCall", readOnly: false, requestParameters: { target: "i-0123456789abcdef0" } };
    }
    return { ...base, userIdentity: { type: "IAMUser", userName: "hogehoge", arn: "arn:aws:iam::123456789012:user/hogehoge", accountId: "123456789012" }, eventSource: pick(["s3.amazonaws.com", "ssm.amazonaws.com", "ec2.amazonaws.com"]), eventName: pick(["ListBuckets", "StartSession", "DescribeInstances", "CreateBucket"]), eventType: "AwsApiCall", readOnly: false, requestParameters: { bucketName: "b", target: "i-1" } };
  });
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function payloadOf(records: CloudTrailRecord[]): { awslogs: { data: string } } {
  const document = { messageType: "DATA_MESSAGE", owner: "123456789012", logGroup: "/aws/cloudtrail/bench", logStream: "s", subscriptionFilters: ["f"], logEvents: records.map((r, i) => ({ id: String(i), timestamp: i, message: JSON.stringify(r) })) };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(document))).toString("base64") } };
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noMetrics: MetricSink = { count: () => undefined };

/** What one replay of the burst cost. */
interface BurstRun {
  messages: number;
  calls: Map<string, number>;
  sweeps: number;
}

/**
 * A seeded `terraform apply` of `count` calls by one principal over 4 minutes (six kinds of call, as a plan that adds
 * security group rules, tags, roles and policies), delivered one EventBridge invocation each; the sweep runs every
 * simulated minute until 10 minutes after the last call.
 */
async function replayBurst(count: number, grouping: boolean): Promise<BurstRun> {
  const start = Date.UTC(2025, 4, 14, 1);
  const names = ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", "CreateTags", "CreateTags", "AttachRolePolicy", "PutRolePolicy", "CreateRole", "RunInstances"];
  const pick = seededRandom(2025);
  const events = applyBurst({ user: "deployer", count, start, spanMs: 4 * 60_000, random: seededRandom(42), eventName: () => names[Math.floor(pick() * names.length)] });
  const harness = await startBurstHarness({ criteria: { userNames: ["deployer"] }, start, ...(grouping ? { burst: DEFAULT_BURST_SETTINGS } : {}) });
  let sweeps = 0;
  let nextSweep = start + 60_000;
  const sweepUntil = async (at: number) => {
    for (; nextSweep <= at; nextSweep += 60_000) {
      harness.clock.set(nextSweep);
      const delivery = await harness.sweep();
      if (delivery.result === undefined) throw new Error(`sweep failed: ${delivery.errors.join("; ")}`);
      sweeps += 1;
    }
  };
  try {
    for (const event of events) {
      const at = Date.parse(event.eventTime) + 500;
      await sweepUntil(at);
      harness.clock.set(at);
      const delivery = await harness.invoke(eventBridgeEvent(event));
      if (delivery.result === undefined) throw new Error(`delivery failed: ${delivery.errors.join("; ")}`);
    }
    await sweepUntil(start + 14 * 60_000);
    return { messages: harness.sns.published.length, calls: new Map(harness.calls), sweeps };
  } finally {
    await harness.stop();
  }
}

/** The burst section of the report. */
async function benchBursts(count: number, out: (line?: string) => void): Promise<void> {
  const off = await replayBurst(count, false);
  const on = await replayBurst(count, true);
  const per = (run: BurstRun, command: string) => (run.calls.get(command) ?? 0) / count;
  const total = (run: BurstRun) => [...run.calls.values()].reduce((a, b) => a + b, 0) / count;
  const dynamo = ["GetItemCommand", "PutItemCommand", "UpdateItemCommand"];
  const row = (label: string, run: BurstRun) =>
    `| ${label} | ${run.messages} | ${((run.messages / count) * 1000).toFixed(1)} | ${dynamo.map((c) => per(run, c).toFixed(3)).join(" / ")} | ${per(run, "PublishCommand").toFixed(3)} | ${total(run).toFixed(3)} |`;
  out();
  out(`Burst grouping: a replayed terraform apply of ${count} matching events by one principal in 4 minutes (6 kinds of call, seeded), one EventBridge invocation each, the sweep every simulated minute (${on.sweeps} runs); dynalite and the fake SNS.`);
  out();
  out("| grouping | messages sent | per 1,000 matching events | DynamoDB calls per event (GetItem / PutItem / UpdateItem) | SNS publishes per event | AWS calls per event |");
  out("|---|---:|---:|---:|---:|---:|");
  out(row("off", off));
  out(row(`on (${DEFAULT_BURST_SETTINGS.windowSeconds / 60}-minute window, ${DEFAULT_BURST_SETTINGS.maxMessagesPerHour} messages/hour)`, on));
  const added = dynamo.reduce((sum, c) => sum + per(on, c) - per(off, c), 0);
  out();
  out(`Added AWS calls per event with grouping: ${added.toFixed(3)} DynamoDB calls (sweeps included), ${(per(on, "PublishCommand") - per(off, "PublishCommand")).toFixed(3)} SNS publishes; ${(total(on) - total(off)).toFixed(3)} in all.`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: "string", default: "20000" }, batch: { type: "string", default: "100" }, "burst-events": { type: "string", default: "1000" } } });
  const count = Number(values.records);
  const batchSize = Number(values.batch);
  const records = load(count);
  const names = Object.keys(NOTIFIERS);
  const prefilters = Object.fromEntries(names.map((n) => [n, activityPrefilter(NOTIFIERS[n]).patterns]));

  // Who receives what.
  const perNotifier = names.map((name) => {
    const filtered = records.filter((r) => matchesAnyRecordPattern(r, prefilters[name]));
    const notified = filtered.filter((r) => activityMatches(r, NOTIFIERS[name]));
    return { name, filtered: filtered.length, notified: notified.length, invocations: Math.ceil(filtered.length / batchSize) };
  });
  const union = records.filter((r) => names.some((n) => matchesAnyRecordPattern(r, prefilters[n])));
  const unionBatches = batches(union, batchSize);

  // The dispatcher's handler on the real batches, with an SNS client that accepts everything.
  let messages = 0;
  let forwardedBytes = 0;
  const sns = {
    send: (command: PublishCommand) => {
      messages += 1;
      forwardedBytes += Buffer.byteLength(command.input.Message ?? "", "utf8");
      return Promise.resolve({ MessageId: "m", $metadata: {} });
    },
  };
  const routes = names.map((key) => ({ key, patterns: prefilters[key] }));
  const dispatch = logDispatchHandler({ topicArn: "arn:aws:sns:ap-northeast-1:123456789012:dispatch", routes }, { sns: sns as never, logger: silent, metrics: noMetrics });
  const payloads = unionBatches.map(payloadOf);
  const receivedBytes = payloads.reduce((sum, p) => sum + Buffer.byteLength(JSON.stringify(p)), 0);
  const dispatchStart = performance.now();
  for (const payload of payloads) await dispatch(payload);
  const dispatchMs = performance.now() - dispatchStart;

  // The formatter.
  const sample = records.slice(0, 5000);
  const timings: Record<string, number> = {};
  for (const language of ["ja", "en"] as const) {
    const start = performance.now();
    let bytes = 0;
    for (const r of sample) bytes += formatActivity(r, { timeZone: "Asia/Tokyo", language }).message.length;
    timings[language] = performance.now() - start;
    if (bytes === 0) throw new Error("nothing formatted");
  }

  const out = (line = "") => process.stdout.write(`${line}\n`);
  out(`Simulated trail load: ${count} CloudTrail records, batches of up to ${batchSize} log events, ${names.length} notifiers.`);
  out();
  out("| notifier | records passing its filter pattern | notifications (exact criteria) | invocations with its own filter |");
  out("|---|---:|---:|---:|");
  for (const n of perNotifier) out(`| ${n.name} | ${n.filtered} | ${n.notified} | ${n.invocations} |`);
  out();
  out("| feeding the notifiers | subscription filters on the log group | dispatcher invocations | SNS messages to notifiers | notifier invocations |");
  out("|---|---:|---:|---:|---:|");
  out(`| one filter per notifier (article) | ${names.length} (CloudWatch Logs allows 2) | - | - | ${perNotifier.reduce((s, n) => s + n.invocations, 0)} |`);
  out(`| one LogSubscriptionDispatcher | 1 | ${unionBatches.length} | ${messages} | ${messages} |`);
  out();
  out(`Dispatcher handler: ${unionBatches.length} batches (${union.length} records, ${(receivedBytes / 1024).toFixed(0)} KiB received, ${(forwardedBytes / 1024).toFixed(0)} KiB forwarded) in ${dispatchMs.toFixed(0)} ms: ${(dispatchMs / unionBatches.length).toFixed(2)} ms per batch, ${((union.length / dispatchMs) * 1000).toFixed(0)} records/s.`);
  out(`formatActivity: ${sample.length} records in ${timings.ja.toFixed(0)} ms (ja), ${timings.en.toFixed(0)} ms (en): ${((sample.length / timings.ja) * 1000).toFixed(0)} and ${((sample.length / timings.en) * 1000).toFixed(0)} records/s.`);
  const burstEvents = Number(values["burst-events"]);
  if (burstEvents > 0) {
    await benchBursts(burstEvents, out);
  }
}

runMain(main);

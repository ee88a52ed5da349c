/**
 * `npm run bench:downloads [-- --downloads 10000 --objects 100 --redelivered 0.05 --concurrency 10 --seed 1
 *   --hot-downloads 100000 --hot-concurrency 4]`
 *
 * Replays downloads of watched objects, in random order with some events delivered twice, through the real handler
 * (`downloadThresholdHandler`) twice: with the DynamoDB counter against dynalite (a DynamoDB API server on loopback)
 * and with the FilterLogEvents re-count (docs/sourceArticles.md) against a fake CloudWatch Logs that enforces
 * 5 requests/s and pages results. Alerts go to a fake SNS on loopback. Prints alerts sent against expected, duplicates, AWS calls per
 * delivery, throttled calls and handler times, for `notify: every` and `notify: once`; for the DynamoDB counter also
 * the write and read units per delivery from DynamoDB's `ConsumedCapacity` (see simulation/capacityMeter.ts) and the
 * cost per million downloads at on-demand prices.
 *
 * Then the hot object: one object downloaded `--hot-downloads` times in one window (`0` skips it), DynamoDB counter
 * only, with the write units of the delivery that counted download number 1, 100, 1,000, ... and the highest rate one
 * object can sustain before its counter item's partition throttles (computed from the measured units).
 *
 * Time: the FilterLogEvents quota is measured on a virtual clock that advances only while every worker waits
 * in `sleep()` (otherwise the run would take hours); its handler times are that simulated waiting, with requests taking no time.
 * DynamoDB handler times are measured in real time on loopback.
 */
import { parseArgs } from "util";

import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import { downloadThresholdHandler } from "../functions/downloadThreshold/handler";
import type { DownloadThresholdSettings, NotifyMode } from "../functions/downloadThreshold/settings";
import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import type { Logger } from "../functions/shared/runtime";
import { runMain } from "../preview/exit";
import { asEventBridgeEvent, getObjectRecord } from "../simulation/downloadEvents";
import { FakeCloudWatchLogs } from "../simulation/fakeCloudWatchLogs";
import { difference, emptyTotals, meteredDynamoDb, type CapacityTotals } from "../simulation/capacityMeter";
import { FakeSns } from "../simulation/fakeSns";
import { LocalDynamoDb } from "../simulation/localDynamoDb";
import { seededRandom, VirtualClock } from "../simulation/virtualClock";

// The SDK warns on every run that its next releases need Node.js 22 (Lambda runs nodejs22.x); keep the output readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:bench-alerts";
const LOG_GROUP = "/aws/cloudtrail/bench-trail";
const BUCKET = "confidential-reports";
// The window every download falls in: Monday 2025-03-03 01:00 to Monday 2025-03-10 01:00, Tokyo time.
const WINDOW_START = Date.parse("2025-03-02T16:00:00Z");
const WINDOW_MS = 7 * 24 * 3600 * 1000;
const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Lambda retries a failed asynchronous invocation twice. */
const ATTEMPTS = 3;
/**
 * DynamoDB on-demand prices, US East (N. Virginia), after AWS halved on-demand throughput prices on 1 November 2024:
 * quoted from https://aws.amazon.com/dynamodb/pricing/on-demand/ by airbyte.com's "Amazon DynamoDB Pricing" (21 July
 * 2025). Check the pricing page for your Region and today's prices.
 */
const ON_DEMAND = { region: "us-east-1", dollarsPerMillionWriteUnits: 0.625, dollarsPerMillionReadUnits: 0.125 };
/** AWS's documented throughput limit of one partition (a single item never exceeds it). */
const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
/** The download numbers the hot-object table reports, and the earlier counter's units for them (issue 16, measured). */
const DOWNLOAD_NUMBERS = [1, 100, 1000, 2000, 5000, 9999, 100_000];
const EARLIER_COUNTER_UNITS: Record<number, string> = { 1: "1", 100: "2", 1000: "20", 2000: "40", 5000: "98", 9999: "196", 100_000: "not counted (cap 10,000)" };

interface Options {
  downloads: number;
  objects: number;
  redelivered: number;
  concurrency: number;
  seed: number;
  hotDownloads: number;
  hotConcurrency: number;
}

interface Workload {
  watches: WatchedObject[];
  records: CloudTrailRecord[];
  /** Indexes into `records`, in delivery order; redelivered events appear twice. */
  deliveries: number[];
  expected: Record<NotifyMode, number>;
}

/** Objects with thresholds 5 to 50, downloads spread over them and over the week, delivered in random order. */
function buildWorkload(options: Options): Workload {
  const random = seededRandom(options.seed);
  const integer = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const keyStyles = [(i: number) => `報告/売上報告 ${i}.pdf`, (i: number) => `bench/q${i}+final.pdf`, (i: number) => `bench/100% done ${i}.pdf`];
  const watches: WatchedObject[] = Array.from({ length: options.objects }, (_, i) => ({ bucket: BUCKET, key: keyStyles[i % keyStyles.length](i), threshold: integer(5, 50) }));
  const hex = (digits: number) => Array.from({ length: digits }, () => integer(0, 15).toString(16)).join("");
  const records = Array.from({ length: options.downloads }, () => {
    const watch = watches[integer(0, watches.length - 1)];
    return getObjectRecord({
      eventID: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      eventTime: new Date(WINDOW_START + Math.floor((random() * WINDOW_MS) / 1000) * 1000).toISOString().replace(".000Z", "Z"),
      key: watch.key!,
      sourceIPAddress: `192.0.2.${integer(1, 254)}`,
    });
  });
  const perObject = new Map<string, number>();
  for (const record of records) {
    const key = String(record.requestParameters?.key);
    perObject.set(key, (perObject.get(key) ?? 0) + 1);
  }
  const expected = { every: 0, once: 0 };
  for (const watch of watches) {
    const downloads = perObject.get(watch.key!) ?? 0;
    expected.every += Math.max(0, downloads - watch.threshold);
    expected.once += downloads > watch.threshold ? 1 : 0;
  }
  return { watches, records, deliveries: deliveryOrder(records.length, options.redelivered, random), expected };
}

/** Each download gets a random place in the delivery order; a redelivery (`redelivered` of them) a random later one. */
function deliveryOrder(downloads: number, redelivered: number, random: () => number): number[] {
  const slots: Array<{ at: number; index: number }> = [];
  for (let index = 0; index < downloads; index++) {
    const at = random();
    slots.push({ at, index });
    if (random() < redelivered) {
      slots.push({ at: at + random() * (1 - at), index });
    }
  }
  slots.sort((a, b) => a.at - b.at);
  return slots.map((s) => s.index);
}

/**
 * One object downloaded `hotDownloads` times in the window, alerting for the last 100 (`notify: every`), delivered in
 * random order with the same share of redeliveries.
 */
function buildHotWorkload(options: Options): Workload {
  const random = seededRandom(options.seed + 2);
  const threshold = Math.max(1, options.hotDownloads - 100);
  const watches: WatchedObject[] = [{ bucket: BUCKET, key: "報告/hot object 売上.pdf", threshold }];
  const records = Array.from({ length: options.hotDownloads }, (_, i) =>
    getObjectRecord({
      eventID: `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      eventTime: new Date(WINDOW_START + Math.floor((random() * WINDOW_MS) / 1000) * 1000).toISOString().replace(".000Z", "Z"),
      key: watches[0].key!,
    }),
  );
  return { watches, records, deliveries: deliveryOrder(records.length, options.redelivered, random), expected: { every: Math.max(0, options.hotDownloads - threshold), once: options.hotDownloads > threshold ? 1 : 0 } };
}

/** Counts the requests a client sends. */
function counting<C extends { send(...args: never[]): Promise<unknown> }>(client: C, tally: { calls: number }): Pick<C, "send"> {
  return {
    send: ((...args: never[]) => {
      tally.calls += 1;
      return client.send(...args);
    }),
  };
}

interface Invocation {
  calls: number;
  ms: number;
  failed: boolean;
  /** Where the download lies in the window, from 0 (at the reset) to 1 (just before the next). */
  windowPosition: number;
  /** DynamoDB counter: what its calls consumed. */
  units?: CapacityTotals;
  /** DynamoDB counter: the download number it counted (its position in the window), if it counted one. */
  counted?: number;
}

/** One worker: a Lambda execution environment with its own handler and clients. */
interface Worker {
  invoke(event: unknown): Promise<unknown>;
  calls(): number;
  now(): number;
  /** What the DynamoDB counter's calls consumed so far. */
  units?(): CapacityTotals;
  /** The download number the last invocation counted, if any. */
  counted?(): number | undefined;
}

interface RunResult {
  design: string;
  notify: NotifyMode;
  invocations: Invocation[];
  alerts: Array<{ eventID: string; object: string }>;
  throttled: number;
  failedInvocations: number;
  droppedEvents: number;
  /** Wall-clock seconds the replay took. */
  seconds: number;
  /** How long the design took to work through every delivery, on its own clock (virtual for the logs design). */
  drainMs: number;
}

/**
 * Delivers every event through `concurrency` workers, each with its own handler (a Lambda execution environment),
 * retrying a failed invocation like Lambda's asynchronous retries.
 */
async function replay(
  workload: Workload,
  concurrency: number,
  worker: (index: number) => Worker,
): Promise<{ invocations: Invocation[]; failedInvocations: number; droppedEvents: number }> {
  const queue = workload.deliveries.map((index) => ({ index, attempt: 1 }));
  const invocations: Invocation[] = [];
  let failedInvocations = 0;
  let droppedEvents = 0;
  await Promise.all(
    Array.from({ length: concurrency }, (_, w) =>
      (async () => {
        const environment = worker(w);
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const callsBefore = environment.calls();
          const unitsBefore = environment.units?.();
          const started = environment.now();
          let failed = false;
          try {
            await environment.invoke(asEventBridgeEvent(workload.records[next.index]));
          } catch {
            failed = true;
            failedInvocations += 1;
            if (next.attempt < ATTEMPTS) {
              queue.push({ index: next.index, attempt: next.attempt + 1 });
            } else {
              droppedEvents += 1;
            }
          }
          const windowPosition = (Date.parse(workload.records[next.index].eventTime) - WINDOW_START) / WINDOW_MS;
          const units = unitsBefore === undefined ? undefined : difference(environment.units!(), unitsBefore);
          const counted = environment.counted?.();
          invocations.push({ calls: environment.calls() - callsBefore, ms: environment.now() - started, failed, windowPosition, ...(units ? { units } : {}), ...(counted === undefined ? {} : { counted }) });
        }
      })(),
    ),
  );
  return { invocations, failedInvocations, droppedEvents };
}

function settingsFor(workload: Workload, notify: NotifyMode, counter: DownloadThresholdSettings["counter"]): DownloadThresholdSettings {
  return {
    watches: workload.watches,
    reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" },
    notify,
    counter,
    topicArn: TOPIC_ARN,
    language: "en",
    timeZone: "Asia/Tokyo",
  };
}

function alertsOf(sns: FakeSns): RunResult["alerts"] {
  return sns.published.map((p) => ({
    eventID: /#\/events\/(\S+)/.exec(p.message)?.[1] ?? "?",
    object: /^Object: (.*)$/m.exec(p.message)?.[1] ?? "?",
  }));
}

/** A DynamoDB counter worker: its clients counted and metered, the download number it counted read from its log. */
function dynamoDbWorker(db: LocalDynamoDb, sns: FakeSns, settings: DownloadThresholdSettings): Worker {
  const tally = { calls: 0 };
  const totals = emptyTotals();
  const metered = meteredDynamoDb(db.client(), totals, (input) => (String(input.Key?.object?.S).startsWith("event#") ? "event items" : "counter item"));
  let counted: number | undefined;
  const logger: Logger = {
    ...SILENT,
    info: (message, fields) => {
      if (message === "download counted") counted = Number(fields?.count);
    },
  };
  const handler = downloadThresholdHandler(settings, { sns: counting<SNSClient>(sns.client(), tally), dynamodb: counting<DynamoDBClient>(metered.client, tally), logger });
  return {
    invoke: (event) => {
      counted = undefined;
      return handler(event);
    },
    calls: () => tally.calls,
    now: () => performance.now(),
    units: () => ({ ...totals, writeUnitsByGroup: { ...totals.writeUnitsByGroup } }),
    counted: () => counted,
  };
}

async function runDynamoDb(workload: Workload, notify: NotifyMode, concurrency: number): Promise<RunResult & { counts: Record<string, number> }> {
  const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([TOPIC_ARN])]);
  const tableName = await db.createCountsTable();
  const started = Date.now();
  const result = await replay(workload, concurrency, () => dynamoDbWorker(db, sns, settingsFor(workload, notify, { kind: "dynamodb", tableName })));
  const seconds = (Date.now() - started) / 1000;
  const alerts = alertsOf(sns);
  const scan = await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true, FilterExpression: "attribute_exists(downloads)" }));
  const counts = Object.fromEntries((scan.Items ?? []).map((item) => [String(item.object.S), Number(item.downloads.N)]));
  await Promise.all([db.stop(), sns.stop()]);
  return { design: "DynamoDB counter", notify, ...result, alerts, throttled: 0, seconds, drainMs: seconds * 1000, counts };
}

async function runLogs(workload: Workload, notify: NotifyMode, options: Options): Promise<RunResult> {
  const sns = await FakeSns.start([TOPIC_ARN]);
  const clock = new VirtualClock(WINDOW_START + WINDOW_MS);
  const logs = new FakeCloudWatchLogs({ logGroupName: LOG_GROUP, clock });
  // The trail has delivered every download to the log group (the subscription filter fires after that).
  logs.add(workload.records.map((record) => ({ timestamp: Date.parse(record.eventTime), message: JSON.stringify(record) })));
  const random = seededRandom(options.seed + 1);
  const started = Date.now();
  const virtualStart = clock.now();
  // Time stands still while a publish to the fake SNS is in flight (see VirtualClock.trackSends).
  const result = await clock.run(() =>
    replay(workload, options.concurrency, () => {
      const tally = { calls: 0 };
      const handler = downloadThresholdHandler(
        // Lambda's 300 s timeout minus the 5 s the handler keeps in reserve.
        { ...settingsFor(workload, notify, { kind: "logs", logGroupName: LOG_GROUP }), timeBudgetMs: 295_000 },
        // sender(): the fake without the SDK's serialization, which would dominate the run time.
        { sns: counting<SNSClient>(clock.trackSends(sns.client()), tally), logs: counting<CloudWatchLogsClient>(logs.sender() as CloudWatchLogsClient, tally), clock, random, logger: SILENT },
      );
      return { invoke: (event) => handler(event), calls: () => tally.calls, now: () => clock.now() };
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const alerts = alertsOf(sns);
  await sns.stop();
  return { design: "FilterLogEvents re-count", notify, ...result, alerts, throttled: logs.stats.throttled, seconds, drainMs: clock.now() - virtualStart };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function formatMs(ms: number): string {
  if (ms >= 3_600_000) {
    return `${(ms / 3_600_000).toFixed(1)} h`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Alerts sent for the same event twice, or (notify: once) for the same object twice. */
function duplicateAlerts(run: RunResult): number {
  const seen = new Set<string>();
  const alertedObjects = new Set<string>();
  let duplicates = 0;
  for (const alert of run.alerts) {
    duplicates += seen.has(alert.eventID) || (run.notify === "once" && alertedObjects.has(alert.object)) ? 1 : 0;
    seen.add(alert.eventID);
    alertedObjects.add(alert.object);
  }
  return duplicates;
}

/** Dollars per million downloads for the units `run` consumed, at on-demand prices. */
function costPerMillion(run: RunResult, downloads: number): number {
  const write = sum(run.invocations.map((i) => i.units?.writeUnits ?? 0));
  const read = sum(run.invocations.map((i) => i.units?.readUnits ?? 0));
  return ((write * ON_DEMAND.dollarsPerMillionWriteUnits + read * ON_DEMAND.dollarsPerMillionReadUnits) / downloads);
}

/** The capacity rows of a DynamoDB run: units per delivery and what they cost. */
function capacityRows(run: RunResult, downloads: number, tenths: [string, (i: Invocation) => boolean, (i: Invocation) => boolean]): Record<string, string> {
  const metered = run.invocations.filter((i) => i.units !== undefined);
  if (metered.length === 0) {
    return { "write units per delivery (mean / max)": "-", [`write units per delivery, ${tenths[0]}`]: "-", "read units per delivery (mean)": "-", [`DynamoDB cost per million downloads (on-demand, ${ON_DEMAND.region})`]: "- (no table)" };
  }
  const writes = metered.map((i) => i.units!.writeUnits);
  const writesWhere = (test: (i: Invocation) => boolean) => mean(metered.filter(test).map((i) => i.units!.writeUnits));
  return {
    "write units per delivery (mean / max)": `${mean(writes).toFixed(2)} / ${Math.max(...writes)}`,
    [`write units per delivery, ${tenths[0]}`]: `${writesWhere(tenths[1]).toFixed(2)} vs ${writesWhere(tenths[2]).toFixed(2)}`,
    "read units per delivery (mean)": mean(metered.map((i) => i.units!.readUnits)).toFixed(3),
    [`DynamoDB cost per million downloads (on-demand, ${ON_DEMAND.region})`]: `$${costPerMillion(run, downloads).toFixed(2)}`,
  };
}

const windowTenths: [string, (i: Invocation) => boolean, (i: Invocation) => boolean] = ["downloads in the first vs last tenth of the window", (i) => i.windowPosition < 0.1, (i) => i.windowPosition >= 0.9];

function summarize(run: RunResult, expected: number, workload: Workload) {
  const deliveries = workload.deliveries.length;
  const duplicates = duplicateAlerts(run);
  const calls = run.invocations.map((i) => i.calls);
  const callsWhere = (test: (position: number) => boolean) => mean(run.invocations.filter((i) => test(i.windowPosition)).map((i) => i.calls));
  const times = run.invocations.map((i) => i.ms).sort((a, b) => a - b);
  return {
    "alerts sent / expected": `${run.alerts.length} / ${expected}`,
    "duplicate alerts": String(duplicates),
    "missing alerts": String(Math.max(0, expected - (run.alerts.length - duplicates))),
    "AWS calls per delivery (mean / max)": `${(sum(calls) / deliveries).toFixed(2)} / ${Math.max(...calls)}`,
    "calls per delivery, downloads in the first vs last tenth of the window": `${callsWhere((p) => p < 0.1).toFixed(2)} vs ${callsWhere((p) => p >= 0.9).toFixed(2)}`,
    ...capacityRows(run, workload.records.length, windowTenths),
    "throttled calls": String(run.throttled),
    "failed invocations (retried)": `${run.failedInvocations} (${run.droppedEvents} dropped after ${ATTEMPTS} attempts)`,
    "handler time p50 / p99 (see below)": `${formatMs(percentile(times, 50))} / ${formatMs(percentile(times, 99))}`,
    "time to work through all deliveries (see below)": formatMs(run.drainMs),
  };
}

function markdown(header: string[], rows: string[][]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function table(title: string, runs: RunResult[], workload: Workload): string {
  const summaries = runs.map((run) => summarize(run, workload.expected[run.notify], workload));
  const rows = Object.keys(summaries[0]);
  return [`notify: ${title}`, "", markdown(["", ...runs.map((r) => r.design)], rows.map((row) => [row, ...summaries.map((s) => s[row as keyof typeof s])])), ""].join("\n");
}

/** The hot object's report: its summary, the units at each download number, the ceiling and the cost. */
function hotReport(run: RunResult & { counts: Record<string, number> }, workload: Workload, concurrency: number): string[] {
  const downloads = workload.records.length;
  const tenth = Math.ceil(downloads / 10);
  const byNumber = new Map(run.invocations.filter((i) => i.counted !== undefined).map((i) => [i.counted!, i]));
  const counterUnits = run.invocations.filter((i) => i.counted !== undefined).map((i) => i.units!.writeUnitsByGroup["counter item"] ?? 0);
  const ceiling = PARTITION_WRITE_UNITS_PER_SECOND / mean(counterUnits);
  const duplicates = duplicateAlerts(run);
  const summary = {
    "alerts sent / expected": `${run.alerts.length} / ${workload.expected.every}`,
    "duplicate alerts": String(duplicates),
    "missing alerts": String(Math.max(0, workload.expected.every - (run.alerts.length - duplicates))),
    "downloads counted (the counter item's count) / downloads": `${Object.values(run.counts).join(", ")} / ${downloads}`,
    "AWS calls per delivery (mean / max)": `${(sum(run.invocations.map((i) => i.calls)) / workload.deliveries.length).toFixed(2)} / ${Math.max(...run.invocations.map((i) => i.calls))}`,
    ...capacityRows(run, downloads, [`downloads 1-${tenth} vs ${downloads - tenth + 1}-${downloads}`, (i) => i.counted !== undefined && i.counted <= tenth, (i) => i.counted !== undefined && i.counted > downloads - tenth]),
    "counter item write units per counted download (mean / max)": `${mean(counterUnits).toFixed(2)} / ${Math.max(...counterUnits)}`,
    "failed invocations (retried)": `${run.failedInvocations} (${run.droppedEvents} dropped after ${ATTEMPTS} attempts)`,
    "replayed in": formatMs(run.seconds * 1000),
  };
  const numbers = DOWNLOAD_NUMBERS.filter((n) => n <= downloads);
  return [
    `Hot object: ${downloads} downloads of one object in one weekly window (threshold ${workload.watches[0].threshold}, notify every), ` +
      `${workload.deliveries.length - downloads} delivered twice, ${workload.deliveries.length} deliveries through ${concurrency} concurrent handlers. DynamoDB counter only.`,
    "",
    markdown(["", "DynamoDB counter"], Object.entries(summary)),
    "",
    "Write units of the delivery that counted download number N (all its calls), the earlier counter beside it:",
    "",
    markdown(
      ["download number in the window", ...numbers.map((n) => n.toLocaleString("en-US"))],
      [
        ["earlier counter (one attribute per event; issue 16)", ...numbers.map((n) => EARLIER_COUNTER_UNITS[n] ?? "?")],
        ["this counter (measured)", ...numbers.map((n) => String(byNumber.get(n)?.units?.writeUnits ?? "?"))],
      ],
    ),
    "",
    `Hot-object ceiling (computed, not measured): a partition takes ${PARTITION_WRITE_UNITS_PER_SECOND} write units/s (AWS's documented limit); the counter item took ` +
      `${mean(counterUnits).toFixed(2)} write units per counted download (measured), so one object sustains about ${Math.floor(ceiling)} counted downloads/s before its ` +
      "partition throttles. Claims and settles go to event items, spread over the table's partitions by digest.",
    `Cost: $${costPerMillion(run, downloads).toFixed(2)} per million downloads at ${ON_DEMAND.region} on-demand prices ($${ON_DEMAND.dollarsPerMillionWriteUnits} per million write units, ` +
      `$${ON_DEMAND.dollarsPerMillionReadUnits} per million read units).`,
    "",
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      downloads: { type: "string", default: "10000" },
      objects: { type: "string", default: "100" },
      redelivered: { type: "string", default: "0.05" },
      concurrency: { type: "string", default: "10" },
      seed: { type: "string", default: "1" },
      "hot-downloads": { type: "string", default: "100000" },
      "hot-concurrency": { type: "string", default: "4" },
    },
  });
  const options: Options = {
    downloads: Number(values.downloads),
    objects: Number(values.objects),
    redelivered: Number(values.redelivered),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
    hotDownloads: Number(values["hot-downloads"]),
    hotConcurrency: Number(values["hot-concurrency"]),
  };
  const workload = buildWorkload(options);
  const redeliveries = workload.deliveries.length - workload.records.length;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `Workload: ${workload.records.length} downloads of ${workload.watches.length} objects (thresholds ${Math.min(...workload.watches.map((w) => w.threshold))}-${Math.max(...workload.watches.map((w) => w.threshold))}) ` +
      `in one weekly window, delivered in random order; ${redeliveries} events (${((100 * redeliveries) / workload.records.length).toFixed(1)} %) delivered twice; ` +
      `${workload.deliveries.length} deliveries through ${options.concurrency} concurrent handlers; seed ${options.seed}.`,
  );
  log("");

  for (const notify of ["every", "once"] as const) {
    const runs: RunResult[] = [];
    for (const run of [() => runDynamoDb(workload, notify, options.concurrency), () => runLogs(workload, notify, options)]) {
      const result = await run();
      log(`  ${result.design}, notify ${notify}: replayed in ${result.seconds.toFixed(1)} s`);
      runs.push(result);
    }
    log("");
    log(table(notify, runs, workload));
  }
  log("Times: the DynamoDB counter's are measured in real time on loopback (dynalite and a fake SNS, no network");
  log("latency). The FilterLogEvents re-count's are simulated on a virtual clock: the time spent waiting for its");
  log("5 requests/s quota, with requests taking no time (real pages take longer), so an invocation that finds the");
  log("quota free takes 0 ms. The fake scans at most 1 MB of the log group per page and the log group holds only the");
  log("benchmark's downloads; a real trail's log group also holds every other event, so real re-counts scan more.");
  log("Units: DynamoDB's ConsumedCapacity of every call, as dynalite computes it; a write whose condition failed (a");
  log("redelivery's claim) is charged as AWS documents (see simulation/capacityMeter.ts). Cost: on-demand prices, above.");
  log("");

  if (options.hotDownloads > 0) {
    const hot = buildHotWorkload(options);
    const run = await runDynamoDb(hot, "every", options.hotConcurrency);
    for (const line of hotReport(run, hot, options.hotConcurrency)) {
      log(line);
    }
  }
}

runMain(main);

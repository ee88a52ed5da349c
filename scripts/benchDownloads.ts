/**
 * `npm run bench:downloads [-- --downloads 10000 --objects 100 --redelivered 0.05 --concurrency 10 --seed 1]`
 *
 * Replays downloads of watched objects, in random order with some events delivered twice, through the real handler
 * (`downloadThresholdHandler`) twice: with the DynamoDB counter against dynalite (a DynamoDB API server on loopback)
 * and with the FilterLogEvents re-count (docs/sourceArticles.md) against a fake CloudWatch Logs that enforces
 * 5 requests/s and pages results. Alerts go to a fake SNS on loopback. Prints alerts sent against expected, duplicates, AWS calls per
 * delivery, throttled calls and handler times, for `notify: every` and `notify: once`.
 *
 * Time: the FilterLogEvents quota is measured on a virtual clock that advances only while every worker waits
 * in `sleep()` (otherwise the run would take hours); its handler times are that simulated waiting, with requests taking no time.
 * DynamoDB handler times are measured in real time on loopback.
 */
import { parseArgs } from "util";

import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";

import type { CloudTrailRecord } from "../functions/shared/cloudtrailEvents";
import { downloadThresholdHandler } from "../functions/downloadThreshold/handler";
import type { DownloadThresholdSettings, NotifyMode } from "../functions/downloadThreshold/settings";
import type { WatchedObject } from "../functions/downloadThreshold/watchedDownload";
import type { Logger } from "../functions/shared/runtime";
import { runMain } from "../preview/exit";
import { asEventBridgeEvent, getObjectRecord } from "../simulation/downloadEvents";
import { FakeCloudWatchLogs } from "../simulation/fakeCloudWatchLogs";
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

interface Options {
  downloads: number;
  objects: number;
  redelivered: number;
  concurrency: number;
  seed: number;
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
  // Each download gets a random place in the delivery order; a redelivery comes at a random later place.
  const slots: Array<{ at: number; index: number }> = [];
  records.forEach((_, index) => {
    const at = random();
    slots.push({ at, index });
    if (random() < options.redelivered) {
      slots.push({ at: at + random() * (1 - at), index });
    }
  });
  slots.sort((a, b) => a.at - b.at);
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
  return { watches, records, deliveries: slots.map((s) => s.index), expected };
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
  worker: (index: number) => { invoke(event: unknown): Promise<unknown>; calls(): number; now(): number },
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
          invocations.push({ calls: environment.calls() - callsBefore, ms: environment.now() - started, failed, windowPosition });
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

async function runDynamoDb(workload: Workload, notify: NotifyMode, options: Options): Promise<RunResult> {
  const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([TOPIC_ARN])]);
  const tableName = await db.createCountsTable();
  const started = Date.now();
  const result = await replay(workload, options.concurrency, () => {
    const tally = { calls: 0 };
    const handler = downloadThresholdHandler(settingsFor(workload, notify, { kind: "dynamodb", tableName }), {
      sns: counting<SNSClient>(sns.client(), tally),
      dynamodb: counting<DynamoDBClient>(db.client(), tally),
      logger: SILENT,
    });
    return { invoke: (event) => handler(event), calls: () => tally.calls, now: () => performance.now() };
  });
  const seconds = (Date.now() - started) / 1000;
  const alerts = alertsOf(sns);
  await Promise.all([db.stop(), sns.stop()]);
  return { design: "DynamoDB counter", notify, ...result, alerts, throttled: 0, seconds, drainMs: seconds * 1000 };
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

function summarize(run: RunResult, expected: number, deliveries: number) {
  const seen = new Set<string>();
  const alertedObjects = new Set<string>();
  let duplicates = 0;
  for (const alert of run.alerts) {
    const duplicate = seen.has(alert.eventID) || (run.notify === "once" && alertedObjects.has(alert.object));
    duplicates += duplicate ? 1 : 0;
    seen.add(alert.eventID);
    alertedObjects.add(alert.object);
  }
  const calls = run.invocations.map((i) => i.calls);
  const totalCalls = calls.reduce((a, b) => a + b, 0);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const callsWhere = (test: (position: number) => boolean) => mean(run.invocations.filter((i) => test(i.windowPosition)).map((i) => i.calls));
  const times = run.invocations.map((i) => i.ms).sort((a, b) => a - b);
  return {
    "alerts sent / expected": `${run.alerts.length} / ${expected}`,
    "duplicate alerts": String(duplicates),
    "missing alerts": String(Math.max(0, expected - (run.alerts.length - duplicates))),
    "AWS calls per delivery (mean / max)": `${(totalCalls / deliveries).toFixed(2)} / ${Math.max(...calls)}`,
    "calls per delivery, downloads in the first vs last tenth of the window": `${callsWhere((p) => p < 0.1).toFixed(2)} vs ${callsWhere((p) => p >= 0.9).toFixed(2)}`,
    "throttled calls": String(run.throttled),
    "failed invocations (retried)": `${run.failedInvocations} (${run.droppedEvents} dropped after ${ATTEMPTS} attempts)`,
    "handler time p50 / p99 (see below)": `${formatMs(percentile(times, 50))} / ${formatMs(percentile(times, 99))}`,
    "time to work through all deliveries (see below)": formatMs(run.drainMs),
  };
}

function table(title: string, runs: RunResult[], workload: Workload): string {
  const summaries = runs.map((run) => summarize(run, workload.expected[run.notify], workload.deliveries.length));
  const rows = Object.keys(summaries[0]);
  return [
    `notify: ${title}`,
    "",
    `| | ${runs.map((r) => r.design).join(" | ")} |`,
    `|---|${runs.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row} | ${summaries.map((s) => s[row as keyof typeof s]).join(" | ")} |`),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      downloads: { type: "string", default: "10000" },
      objects: { type: "string", default: "100" },
      redelivered: { type: "string", default: "0.05" },
      concurrency: { type: "string", default: "10" },
      seed: { type: "string", default: "1" },
    },
  });
  const options: Options = {
    downloads: Number(values.downloads),
    objects: Number(values.objects),
    redelivered: Number(values.redelivered),
    concurrency: Number(values.concurrency),
    seed: Number(values.seed),
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
    for (const run of [runDynamoDb, runLogs]) {
      const result = await run(workload, notify, options);
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
}

runMain(main);

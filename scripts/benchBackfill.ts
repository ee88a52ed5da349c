/**
 * `npm run bench:backfill`: the backfill function against the LookupEvents fake (2 requests/s per pair as a token
 * bucket of 2, 50 events a page, NextTokens, newest first) at response latencies of 0.05 s and 1 s, for 1 and 8
 * pairs, side by side with the LookupEvents loop of docs/sourceArticles.md (fixed 0.6 s pause, exponential backoff
 * on throttling).
 *
 * Time is simulated: the handler, the rate limiter and the fake run on a virtual clock, so hours of quota-bound paging
 * take seconds. Everything else is real: the function's own code (`backfillPair`, invoked again and again with its
 * checkpoint like the state machine does, each invocation stopping 2 minutes before Lambda's 15), gzip, and the
 * counting of every event in every object written. A final row repeats one case on the real clock against the HTTP
 * fakes and s3rver, as a cross-check of the simulation.
 *
 * The function runs as Lambda runs it: each invocation through the handler (`handleBackfillEvent`, what the callback
 * factory calls) with a Lambda context's remaining time. Throttled requests are counted from the client's side
 * (simulation/clientTally.ts), and checked against what the fake answered. The backoff jitter comes from a PRNG seeded
 * with `--seed` (the fake's events from fixed seeds), so two runs print the same counts; only memory and the real
 * clock's row vary.
 *
 * Options: `-- --events <per pair>` (default 100000), `-- --quick` (10000 events, no real-time row), `-- --seed N`
 * (default 1).
 */
import { fork } from "child_process";
import { parseArgs } from "util";
import * as v8 from "v8";
import * as vm from "vm";

import { systemClock } from "../functions/shared/runtime";
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";

import type { Clock } from "../functions/shared/runtime";
import type { PairCheckpoint, PairDone } from "../functions/trailBackfill/checkpoint";
import { type BackfillHandlerDependencies, handleBackfillEvent } from "../functions/trailBackfill/handler";
import { runMain } from "../preview/exit";
import { articleBackfillLoop } from "../simulation/articleBackfillLoop";
import { BackfillHarness } from "../simulation/backfillHarness";
import { type ClientTally, newTally, tallied } from "../simulation/clientTally";
import { CountingS3 } from "../simulation/countingS3";
import { generatedEventIndex, generatedStore, LookupEventsFake } from "../simulation/fakeCloudTrail";
import { logFileRecords } from "../simulation/s3Server";
import { seededRandom, VirtualClock } from "../simulation/virtualClock";

const RATE = 2;
const LAMBDA_TIMEOUT_MS = 900_000;
const NOW = Date.parse("2024-06-01T00:00:00Z");
const RANGE_START = Date.parse("2024-05-20T00:00:00Z");
const RANGE_END = Date.parse("2024-05-21T00:00:00Z");
const ACCOUNTS = ["222222222222", "333333333333", "444444444444", "555555555555"];
const REGIONS = ["us-east-1", "ap-northeast-1"];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

// The SDK's notice that its next releases need Node.js 22 (Lambda runs nodejs22.x) would interleave with the table.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
/**
 * Live memory (heap and buffers right after a full garbage collection) is sampled every this many milliseconds of
 * simulated time: the fake and the counting store make garbage in the same process, which resident memory would count.
 */
const MEMORY_SAMPLE_MS = 30_000;

interface Row {
  approach: string;
  pairs: number;
  latencyMs: number;
  clock: string;
  /** Requests per second of each pair over its own run time: the slowest pair and the mean. */
  minRate: number;
  meanRate: number;
  eventsPerSecond: number;
  requests: number;
  throttled: number;
  lost: number;
  duplicated: number;
  peakMb: number;
  /** The longest pair's run time, and how many Lambda invocations it took. */
  longestSeconds: number;
  invocations: string;
  /** Useful work apart from the request rate (simulated rows only); see {@link usefulFigures}. */
  useful?: UsefulFigures;
}

/** Events a pair may read per second at its quota: 2 requests/s of 50 events. */
const PAIR_EVENT_CEILING = RATE * 50;

/** What a pair's requests achieved, apart from how many it sent. */
interface UsefulFigures {
  /** Distinct events written per second of each pair's own run time: the slowest pair and the mean. */
  minPerPair: number;
  meanPerPair: number;
  /** Requests LookupEvents answered (throttled ones not counted), and the fewest that read every event: 50 a page. */
  answered: number;
  needed: number;
}

/** A run's useful figures: the events each pair wrote over its run time, and the requests beyond the pages needed. */
function usefulFigures(p: { eventsPerPair: number; lost: number; durations: number[]; requests: number; throttled: number }): UsefulFigures {
  const pairs = p.durations.length;
  const writtenPerPair = p.eventsPerPair - p.lost / pairs;
  const perPair = p.durations.map((seconds) => writtenPerPair / seconds);
  return {
    minPerPair: Math.min(...perPair),
    meanPerPair: perPair.reduce((a, b) => a + b, 0) / pairs,
    answered: p.requests - p.throttled,
    needed: pairs * Math.max(1, Math.ceil(p.eventsPerPair / 50)),
  };
}

/** The useful figures of the simulated rows, next to nothing else: useful events per pair and redundant requests. */
function usefulTable(rows: Row[]): string {
  const header = `| approach | pairs | latency | clock | useful events/s per pair (slowest, mean) | % of ${PAIR_EVENT_CEILING} (slowest) | requests answered | needed (50 events a page) | redundant |`;
  const rule = "|---|---:|---:|---|---:|---:|---:|---:|---:|";
  const lines = rows.flatMap((r) => {
    const u = r.useful;
    if (u === undefined) {
      return [];
    }
    const redundant = u.answered - u.needed;
    return [
      `| ${r.approach} | ${r.pairs} | ${r.latencyMs / 1000} s | ${r.clock} | ${u.minPerPair.toFixed(1)}, ${u.meanPerPair.toFixed(1)} | ${((u.minPerPair / PAIR_EVENT_CEILING) * 100).toFixed(1)}% | ` +
        `${u.answered.toLocaleString("en-US")} | ${u.needed.toLocaleString("en-US")} | ${redundant.toLocaleString("en-US")} (${((redundant / u.needed) * 100).toFixed(2)}%) |`,
    ];
  });
  return [header, rule, ...lines].join("\n");
}

/**
 * Backfills one pair the way the state machine drives the function: `fetch` again and again with the checkpoint the
 * last invocation returned, each invocation through the handler with a Lambda context on `clock`.
 */
async function backfillAsLambda(
  firstCheckpoint: unknown,
  bucket: string,
  deps: Omit<BackfillHandlerDependencies, "remainingTimeInMillis" | "cloudTrailFor"> & { cloudTrail: Pick<CloudTrailClient, "send">; clock: Clock },
): Promise<PairDone> {
  const { cloudTrail, ...handlerDeps } = deps;
  let checkpoint = firstCheckpoint;
  for (;;) {
    const invokedAt = deps.clock.now();
    const context = { getRemainingTimeInMillis: () => LAMBDA_TIMEOUT_MS - (deps.clock.now() - invokedAt) };
    const output = (await handleBackfillEvent({ action: "fetch", checkpoint }, { bucket }, {
      ...handlerDeps,
      cloudTrailFor: () => Promise.resolve(cloudTrail),
      // What the callback factory passes: the context's remaining time at the start of the invocation.
      remainingTimeInMillis: context.getRemainingTimeInMillis(),
    })) as PairCheckpoint | PairDone;
    if (output.done) return output;
    checkpoint = JSON.parse(JSON.stringify(output)) as unknown;
  }
}

/** Requests per second a pair sent: the requests after the first, over the time from the first to the last. */
function sustainedRate(sentAt: number[]): number {
  return sentAt.length < 2 ? 0 : ((sentAt.length - 1) * 1000) / (sentAt[sentAt.length - 1] - sentAt[0]);
}

/** Throttled requests the clients saw; they must be the ones the fake answered. */
function throttledSeenBy(tallies: ClientTally[], answered: number): number {
  const seen = tallies.reduce((sum, t) => sum + t.throttled, 0);
  if (seen !== answered) {
    throw new Error(`the clients saw ${seen} throttled requests, the LookupEvents fake answered ${answered}`);
  }
  return seen;
}

/** Live memory: heap and buffers after a full garbage collection. */
function liveMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function simulate(approach: "function" | "article", pairCount: number, latencyMs: number, eventsPerPair: number, otherToolRate: number, seed: number): Promise<Row> {
  const clock = new VirtualClock(NOW);
  const random = seededRandom(seed);
  const tallies: ClientTally[] = [];
  const fake = new LookupEventsFake({ clock, latencyMs });
  const s3 = new CountingS3(clock);
  const pairs = ACCOUNTS.flatMap((account) => REGIONS.map((region) => ({ account, region }))).slice(0, pairCount).map((pair, i) => ({ ...pair, pairTag: i + 1 }));
  for (const pair of pairs) {
    fake.setEvents(pair.account, pair.region, generatedStore({ ...pair, start: RANGE_START, end: RANGE_END, count: eventsPerPair, seed: 1000 + pair.pairTag }));
  }
  const baseline = liveMemory();
  let peak = baseline;
  let nextSample = clock.now() + MEMORY_SAMPLE_MS;
  const durations: number[] = new Array<number>(pairs.length).fill(0);
  const invocations: number[] = new Array<number>(pairs.length).fill(0);
  const began = clock.now();
  let othersDone = false;

  await clock.run(async () => {
    const others = pairs.map(async (pair) => {
      // Another tool sharing the pair's quota (the benchmark's shared-quota row).
      while (otherToolRate > 0 && !othersDone) {
        fake.consume(pair.account, pair.region, 1);
        await clock.sleep(1000 / otherToolRate);
      }
    });
    await Promise.all(
      pairs.map(async (pair, index) => {
        const tally = newTally();
        tallies.push(tally);
        const cloudTrail = tallied(fake.client(pair.account, pair.region), tally);
        const started = clock.now();
        if (approach === "article") {
          await articleBackfillLoop({ ...pair, start: RANGE_START, end: RANGE_END, cloudTrail, s3: s3.client(), bucket: "bench", clock });
          invocations[index] = 1;
        } else {
          const first = { ...pair, roleArn: `arn:aws:iam::${pair.account}:role/reader`, startTime: new Date(RANGE_START).toISOString(), endTime: new Date(RANGE_END).toISOString() };
          invocations[index] = (await backfillAsLambda(first, "bench", { cloudTrail, s3: s3.client(), clock, random, logger: silent })).invocations;
        }
        durations[index] = (clock.now() - started) / 1000;
      }),
    );
    othersDone = true;
    await Promise.all(others);
  }, (now) => {
    if (now >= nextSample) {
      nextSample = now + MEMORY_SAMPLE_MS;
      peak = Math.max(peak, liveMemory());
    }
  });

  const elapsed = (clock.now() - began) / 1000;
  const rates = pairs.map((pair) => sustainedRate(fake.requestsOf(pair.account, pair.region).map((r) => r.at)));
  const verdict = s3.verify(pairs.map((pair) => ({ pairTag: pair.pairTag, count: eventsPerPair })));
  const written = verdict.written - verdict.duplicated;
  return {
    approach: approach === "function" ? "this function" : "article's loop",
    pairs: pairCount,
    latencyMs,
    clock: otherToolRate > 0 ? `virtual, another tool at ${otherToolRate} req/s` : "virtual",
    minRate: Math.min(...rates),
    meanRate: rates.reduce((a, b) => a + b, 0) / rates.length,
    eventsPerSecond: written / elapsed,
    requests: fake.received.length,
    throttled: throttledSeenBy(tallies, fake.received.filter((r) => r.outcome === "throttled").length),
    lost: verdict.lost,
    duplicated: verdict.duplicated,
    peakMb: (peak - baseline) / 1024 / 1024,
    longestSeconds: Math.max(...durations),
    invocations: approach === "function" ? `${Math.max(...invocations)}` : Math.max(...durations) * 1000 > LAMBDA_TIMEOUT_MS ? "1 (over 15 min)" : "1",
    useful: usefulFigures({
      eventsPerPair,
      lost: verdict.lost,
      durations,
      requests: fake.received.length,
      throttled: fake.received.filter((r) => r.outcome === "throttled").length,
    }),
  };
}

/** One pair on the real clock: the function against the HTTP LookupEvents fake and s3rver, for `seconds`. */
async function realTime(latencyMs: number, events: number, seed: number): Promise<Row> {
  const account = "222222222222";
  const region = "us-east-1";
  const role = `arn:aws:iam::${account}:role/reader`;
  const harness = await BackfillHarness.start({ clock: systemClock, roles: [{ arn: role }], buckets: ["bench-real"], latencyMs });
  const end = Math.floor(Date.now() / 300_000) * 300_000 - 3_600_000;
  const start = end - 6 * 3_600_000;
  harness.lookup.setEvents(account, region, generatedStore({ account, region, pairTag: 1, start, end, count: events, seed: 77 }));
  const baseline = liveMemory();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, liveMemory())), 1000);
  const began = Date.now();
  const tally = newTally();
  const output = await backfillAsLambda({ account, region, roleArn: role, startTime: new Date(start).toISOString(), endTime: new Date(end).toISOString() }, "bench-real", {
    cloudTrail: tallied(harness.cloudTrailClient(role, region), tally),
    s3: harness.s3Client(),
    clock: systemClock,
    random: seededRandom(seed),
    logger: silent,
  });
  const seconds = (Date.now() - began) / 1000;
  clearInterval(sampler);
  const peakMb = (peak - baseline) / 1024 / 1024;
  const counts = new Uint8Array(events);
  for (const object of await harness.s3.objects("bench-real")) {
    for (const record of logFileRecords(object.bytes)) {
      counts[generatedEventIndex(record.eventID as string)!.index] += 1;
    }
  }
  await harness.stop();
  const requests = harness.lookup.received.length;
  const rate = sustainedRate(harness.lookup.received.map((r) => r.at));
  return {
    approach: "this function",
    pairs: 1,
    latencyMs,
    clock: "real (HTTP fake, s3rver)",
    minRate: rate,
    meanRate: rate,
    eventsPerSecond: output.events / seconds,
    requests,
    throttled: throttledSeenBy([tally], harness.lookup.received.filter((r) => r.outcome === "throttled").length),
    lost: counts.filter((n) => n === 0).length,
    duplicated: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    peakMb,
    longestSeconds: seconds,
    invocations: String(output.invocations),
  };
}

function table(rows: Row[]): string {
  const header = "| approach | pairs | latency | clock | req/s per pair (slowest, mean) | % of 2 req/s (slowest) | events/s (all pairs) | requests | throttled | lost | duplicated | peak memory | longest pair | invocations |";
  const rule = "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";
  const lines = rows.map(
    (r) =>
      `| ${r.approach} | ${r.pairs} | ${r.latencyMs / 1000} s | ${r.clock} | ${r.minRate.toFixed(2)}, ${r.meanRate.toFixed(2)} | ${((r.minRate / RATE) * 100).toFixed(1)}% | ` +
      `${r.eventsPerSecond.toFixed(1)} | ${r.requests.toLocaleString("en-US")} | ${r.throttled} | ${r.lost} | ${r.duplicated} | ${r.peakMb.toFixed(1)} MB | ${Math.round(r.longestSeconds)} s | ${r.invocations} |`,
  );
  return [header, rule, ...lines].join("\n");
}

/** One scenario, as a child process is asked to run it. */
type Scenario = { kind: "simulate"; approach: "function" | "article"; pairs: number; latencyMs: number; events: number; otherToolRate: number; seed: number } | { kind: "real"; latencyMs: number; events: number; seed: number };

export function runScenario(scenario: Scenario): Promise<Row> {
  return scenario.kind === "real" ? realTime(scenario.latencyMs, scenario.events, scenario.seed) : simulate(scenario.approach, scenario.pairs, scenario.latencyMs, scenario.events, scenario.otherToolRate, scenario.seed);
}

/** Runs a scenario in a fresh process, so that its peak memory is its own. */
function inChildProcess(scenario: Scenario): Promise<Row> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ["--scenario", JSON.stringify(scenario)], { execArgv: ["-r", "ts-node/register/transpile-only"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (row) => resolve(row as Row));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`scenario ${JSON.stringify(scenario)} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: "string" }, quick: { type: "boolean", default: false }, seed: { type: "string", default: "1" }, scenario: { type: "string" } }, strict: true });
  if (values.scenario !== undefined) {
    const row = await runScenario(JSON.parse(values.scenario) as Scenario);
    await new Promise<void>((resolve) => process.send?.(row, () => resolve()));
    return;
  }
  const eventsPerPair = Number(values.events ?? (values.quick ? 10_000 : 100_000));
  const seed = Number(values.seed);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`TrailBackfill benchmark: ${eventsPerPair.toLocaleString("en-US")} events per pair over 24 hours (30% in three 5-minute bursts, 2% exactly on window boundaries).`);
  out("LookupEvents fake: 2 requests/s per account-region (token bucket of 2), 50 events a page, newest first, NextTokens.");
  out("Virtual clock: the handler, limiter and fake wait on simulated time; events, requests and objects are real and counted.");
  out(`Handler invoked with a Lambda context; throttles counted by the clients; backoff jitter seeded (--seed ${seed}). Node ${process.version}, ${new Date().toISOString()}`);
  out("");
  const scenarios: Scenario[] = [];
  for (const latencyMs of [50, 1000]) {
    for (const pairs of [1, 8]) {
      for (const approach of ["function", "article"] as const) {
        scenarios.push({ kind: "simulate", approach, pairs, latencyMs, events: eventsPerPair, otherToolRate: 0, seed });
      }
    }
  }
  for (const approach of ["function", "article"] as const) {
    scenarios.push({ kind: "simulate", approach, pairs: 1, latencyMs: 1000, events: eventsPerPair, otherToolRate: 0.5, seed });
  }
  if (!values.quick) {
    scenarios.push({ kind: "real", latencyMs: 1000, events: 3_000, seed });
  }
  const rows: Row[] = [];
  const started = Date.now();
  for (const scenario of scenarios) {
    rows.push(await inChildProcess(scenario));
    process.stderr.write(`  ${JSON.stringify(scenario)} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  out(table(rows));
  out("");
  out(usefulTable(rows));
  out("");
  out(`useful events/s per pair: distinct events a pair wrote per second of its own run time, against the ${PAIR_EVENT_CEILING} its quota allows`);
  out("(2 requests/s of 50 events); redundant: requests LookupEvents answered beyond the fewest that read every event (one per 50),");
  out("throttled requests not counted (they are in the first table). The first table's req/s counts every request sent, useful or not.");
  out("");
  out("req/s per pair: LookupEvents requests a pair sent per second, from its first request to its last (throttled ones included); events/s:");
  out("distinct events written per second of the whole run. lost / duplicated: events of the fake's data missing from, or repeated across,");
  out("the objects finally in the bucket. peak memory: the most live memory (JS heap and buffers right after a full garbage collection,");
  out("sampled every 30 s of simulated time, every second on the real clock) above the baseline; each scenario runs in its own process.");
  out("longest pair: time from a pair's start to its last file. article's loop: the LookupEvents loop of docs/sourceArticles.md.");
  out("invocations: Lambda invocations of the longest pair (the function stops 2 minutes before Lambda's 15; the LookupEvents loop runs in one");
  out("invocation, so one longer than 15 minutes would be killed). With another tool using 0.5 req/s of the quota, 1.5 req/s is left.");
  out(`Total benchmark time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
}

if (require.main === module) {
  runMain(main);
}

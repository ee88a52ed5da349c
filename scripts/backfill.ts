/**
 * `npm run backfill -- --start <time> --end <time> [options]`: starts a TrailBackfill execution for every account and
 * region of the stack's config (or the ones given), prints its ARN and console link, and with `--wait` follows it
 * with a progress bar until it ends. `--dry-run` prints the plan and estimates instead of starting anything.
 *
 * The state machine ARN comes from the stack's outputs (`pulumi stack output --json`, so the Pulumi CLI must be
 * installed and logged in to the stack's backend) or from `--state-machine-arn`.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { parseArgs } from "util";

import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { Presets, SingleBar } from "cli-progress";

import { BACKFILL_MAP_LABEL } from "../components/trailBackfill";
import { LOOKBACK_MS, LOOKUP_PAGE_SIZE } from "../functions/trailBackfill/awsFacts";
import { logFileKey, logFilesFolder } from "../functions/trailBackfill/logFiles";
import { backfillRequestProblems, widenedRange } from "../functions/trailBackfill/request";
import { DEFAULT_CONCURRENT_REQUESTS } from "../functions/trailBackfill/settings";
import { S3Client } from "@aws-sdk/client-s3";
import { readMapResults } from "../functions/trailBackfill/mapResults";
import { MAX_PAIRS_PER_EXECUTION } from "../functions/trailBackfill/request";
import { type BackfillSummary, summarizeBackfill } from "../functions/trailBackfill/summary";
import { WINDOW_MS } from "../functions/shared/timeIntervals";
import { runMain } from "../preview/exit";
import { findProjectDirectory, loadStackFiles, stackNameProblem, stackNames } from "../preview/stackFiles";
import { type BackfillConfig, loadStackConfig, StackConfigError } from "../stackConfig";

/** Step Functions' 256 KiB state limit leaves room for about this many pairs per execution. */
export { MAX_PAIRS_PER_EXECUTION };
const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:([\w-]{1,80})$/;

export const USAGE = `usage: npm run backfill -- --start <ISO time> --end <ISO time> [options]

Re-fetches CloudTrail events of [start, end) (widened to whole 5-minute windows) for every account-region pair
into the backfill bucket, as native CloudTrail log files.

  --start <time>             start of the range, ISO 8601 with a zone, e.g. 2024-05-01T00:00:00Z (within 90 days)
  --end <time>               end of the range (exclusive)
  --stack <name>             stack whose config lists accounts and regions: dev, my-org/dev or
                             my-org/cloudtrail-alerts/dev (required when the project has several stack files)
  --accounts <id,id,...>     accounts to backfill (default: all in the stack's config)
  --regions <r,r,...>        regions to backfill (default: the enabled regions in the stack's config)
  --state-machine-arn <arn>  state machine to start (default: the stack output backfillStateMachineArn,
                             read with \`pulumi stack output --json\`)
  --dry-run                  print the pairs, files and estimated LookupEvents calls; start nothing
  --events-per-day <n>       events per pair and day assumed by --dry-run's estimate (default: 10000)
  --wait                     follow the execution with a progress bar until it ends
  --help                     print this help`;

/** Parsed and validated command-line options. */
export interface BackfillOptions {
  stack: string;
  accounts: string[];
  regions: string[];
  startTime: string;
  endTime: string;
  stateMachineArn?: string;
  dryRun: boolean;
  wait: boolean;
  eventsPerDay: number;
}

/** A problem with the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

const OPTION_OF_FIELD: Record<string, string> = { startTime: "--start", endTime: "--end", accounts: "--accounts", regions: "--regions" };

/** Renames the request's field names in a validation message to the options that set them. */
export function asOptionMessage(problem: string): string {
  return problem.replace(/^(startTime|endTime|accounts|regions)\b/, (field) => OPTION_OF_FIELD[field]);
}

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");

/**
 * Parses and checks the arguments against the stack's backfill config. Throws {@link UsageError} listing every
 * problem; `warnings` receives advice that does not stop the run. `stacks` are the project's stack files
 * (`Pulumi.<stack>.yaml`): without `--stack` the only one is used, and with several `--stack` is required.
 */
export function parseBackfillArgs(
  argv: string[],
  loadConfig: (stack: string) => BackfillConfig | undefined,
  now: number,
  warnings: string[] = [],
  stacks: readonly string[] = ["dev"],
): BackfillOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        accounts: { type: "string" },
        regions: { type: "string" },
        start: { type: "string" },
        end: { type: "string" },
        "state-machine-arn": { type: "string" },
        "dry-run": { type: "boolean", default: false },
        wait: { type: "boolean", default: false },
        "events-per-day": { type: "string" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) {
    return "help";
  }
  const stack = (values.stack as string | undefined) ?? onlyStack(stacks);
  const stackProblem = stackNameProblem(stack);
  if (stackProblem !== undefined) {
    throw new UsageError(stackProblem);
  }
  const problems: string[] = [];
  for (const required of ["start", "end"]) {
    if (values[required] === undefined) problems.push(`--${required} is required`);
  }
  const config = loadConfig(stack);
  if (config === undefined) {
    throw new UsageError(`the backfill is not enabled in stack ${stack}: set cloudtrail-alerts:backfill.enabled to true (see docs/trailBackfill.md)`);
  }
  const stateMachineArn = values["state-machine-arn"] as string | undefined;
  if (stateMachineArn !== undefined && !STATE_MACHINE_ARN.test(stateMachineArn)) {
    problems.push(`--state-machine-arn must be a Step Functions state machine ARN, got ${JSON.stringify(stateMachineArn)}`);
  }
  const eventsPerDayText = (values["events-per-day"] as string | undefined) ?? "10000";
  const eventsPerDay = Number(eventsPerDayText);
  if (!/^\d+$/.test(eventsPerDayText)) {
    problems.push(`--events-per-day must be a whole number, got ${JSON.stringify(eventsPerDayText)}`);
  }
  const accounts = list(values.accounts as string | undefined) ?? config.accounts;
  const regions = list(values.regions as string | undefined) ?? config.regions;
  const request = { accounts, regions, startTime: (values.start as string | undefined) ?? "", endTime: (values.end as string | undefined) ?? "" };
  if (values.start !== undefined && values.end !== undefined) {
    problems.push(...backfillRequestProblems(request, now, config.accounts).map(asOptionMessage));
  }
  if (accounts.length * regions.length > MAX_PAIRS_PER_EXECUTION) {
    problems.push(
      `${accounts.length} accounts x ${regions.length} regions make ${accounts.length * regions.length} pairs; one execution takes at most ` +
        `${MAX_PAIRS_PER_EXECUTION} (its plan, with every pair in it, must fit Step Functions' 256 KiB of state data): run several, each with part of --accounts`,
    );
  }
  if (problems.length > 0) {
    throw new UsageError(problems.join("\n"));
  }
  const start = Date.parse(request.startTime);
  if (start < now - LOOKBACK_MS + 2 * 24 * 3600_000) {
    warnings.push(
      `--start is ${((now - start) / 86_400_000).toFixed(1)} days ago: LookupEvents drops events after 90 days, so the oldest windows may age out before the backfill reads them`,
    );
  }
  return {
    stack,
    accounts,
    regions,
    startTime: request.startTime,
    endTime: request.endTime,
    ...(stateMachineArn === undefined ? {} : { stateMachineArn }),
    dryRun: values["dry-run"] === true,
    wait: values.wait === true,
    eventsPerDay,
  };
}

/** The stack to use when `--stack` is not given: the project's only stack file. */
function onlyStack(stacks: readonly string[]): string {
  if (stacks.length !== 1) {
    throw new UsageError(
      stacks.length === 0
        ? "--stack is required: the project has no stack file (Pulumi.<stack>.yaml)"
        : `--stack is required: the project has ${stacks.length} stacks (${stacks.join(", ")}); name the one whose backfill to start`,
    );
  }
  return stacks[0];
}

/** What a dry run reports. */
export interface BackfillEstimate {
  startTime: string;
  endTime: string;
  pairs: number;
  windowsPerPair: number;
  /** Most files the run can write (windows without events get none). */
  maxFiles: number;
  /** LookupEvents calls at the assumed event volume, and the least any run needs. */
  estimatedCalls: number;
  minimumCalls: number;
  /** Seconds a pair needs at the configured rate for its estimated calls, and for the whole run. */
  secondsPerPair: number;
  secondsTotal: number;
}

/** Files, LookupEvents calls and the least time at `requestsPerSecond`, for `eventsPerDay` events per pair and day. */
export function estimateBackfill(options: Pick<BackfillOptions, "startTime" | "endTime" | "accounts" | "regions" | "eventsPerDay">, config: Pick<BackfillConfig, "requestsPerSecond" | "maxConcurrency">): BackfillEstimate {
  const [start, end] = widenedRange(options);
  const windowsPerPair = (end - start) / WINDOW_MS;
  const pairs = options.accounts.length * options.regions.length;
  // Each of the first sub-ranges costs at least one call; every 50 events cost one more.
  const firstCalls = Math.min(DEFAULT_CONCURRENT_REQUESTS, windowsPerPair);
  const callsPerPair = Math.max(firstCalls, Math.ceil((options.eventsPerDay * (end - start)) / 86_400_000 / LOOKUP_PAGE_SIZE) + firstCalls - 1);
  const secondsPerPair = callsPerPair / config.requestsPerSecond;
  return {
    startTime: new Date(start).toISOString(),
    endTime: new Date(end).toISOString(),
    pairs,
    windowsPerPair,
    maxFiles: windowsPerPair * pairs,
    estimatedCalls: callsPerPair * pairs,
    minimumCalls: firstCalls * pairs,
    secondsPerPair,
    secondsTotal: secondsPerPair * Math.ceil(pairs / config.maxConcurrency),
  };
}

/** `45s`, `11m42s`, `1h02m03s`, `7d00h00m`. */
export function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d${two(h)}h${two(m)}m`;
  if (h > 0) return `${h}h${two(m)}m${two(s % 60)}s`;
  return m > 0 ? `${m}m${two(s % 60)}s` : `${s}s`;
}

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, noun: string) => `${count(n)} ${noun}${n === 1 ? "" : "s"}`;

/** Where the files go: the key layout, the bucket, and the key of the first file (of the first pair and window). */
export function keysLine(options: Pick<BackfillOptions, "startTime" | "endTime" | "accounts" | "regions">, config: Pick<BackfillConfig, "keyLayout" | "organizationId" | "prefix" | "existingBucketName">): string {
  const organizationId = config.keyLayout === "organization" ? config.organizationId : undefined;
  const folder = logFilesFolder(config.prefix, organizationId);
  const first = logFileKey({ prefix: config.prefix, organizationId, accountId: options.accounts[0], region: options.regions[0], windowStart: new Date(widenedRange(options)[0]) });
  const bucket = config.existingBucketName === undefined ? "the stack's backfill bucket" : `s3://${config.existingBucketName}`;
  return `  keys      ${config.keyLayout} trail layout, under ${folder}<account>/CloudTrail/<region>/ in ${bucket}; the first is ${first}`;
}

/** The dry run's report. */
export function renderPlan(options: BackfillOptions, config: Pick<BackfillConfig, "requestsPerSecond" | "maxConcurrency" | "keyLayout" | "organizationId" | "prefix" | "existingBucketName">): string {
  const e = estimateBackfill(options, config);
  const lines = [
    "Backfill plan (dry run: nothing was started)",
    `  range     ${e.startTime} .. ${e.endTime} (widened to whole 5-minute windows; ${duration((Date.parse(e.endTime) - Date.parse(e.startTime)) / 1000)})`,
    `  pairs     ${e.pairs} (${plural(options.accounts.length, "account")} x ${plural(options.regions.length, "region")}), up to ${config.maxConcurrency} at once`,
  ];
  for (const account of options.accounts) {
    lines.push(`            ${account}: ${options.regions.join(", ")}`);
  }
  lines.push(
    `  files     at most ${count(e.maxFiles)} (${count(e.windowsPerPair)} five-minute windows x ${e.pairs} pairs; windows without events get no file)`,
    keysLine(options, config),
    `  calls     about ${count(e.estimatedCalls)} LookupEvents calls at ${count(options.eventsPerDay)} events per pair and day (--events-per-day), at least ${count(e.minimumCalls)}`,
    `  time      at ${config.requestsPerSecond} requests/s per pair: at least ${duration(e.secondsPerPair)} per pair, ${duration(e.secondsTotal)} for all pairs (${Math.ceil(e.pairs / config.maxConcurrency)} wave(s) of ${config.maxConcurrency})`,
  );
  return lines.join("\n");
}

/** The parts of a state machine ARN. */
export function parseStateMachineArn(arn: string): { partition: string; region: string; account: string; name: string } {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (match === null) {
    throw new UsageError(`not a Step Functions state machine ARN: ${JSON.stringify(arn)}`);
  }
  return { partition: match[1], region: match[2], account: match[3], name: match[4] };
}

/** The execution's page in the Step Functions console. */
export function consoleLink(executionArn: string): string {
  const region = executionArn.split(":")[3];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** A unique execution name that says what it backfills: `backfill-20240501T0000-20240502T0000-1a2b3c`. */
export function executionName(options: Pick<BackfillOptions, "startTime" | "endTime">, random: () => string = () => randomBytes(3).toString("hex")): string {
  const [start, end] = widenedRange(options);
  const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, "");
  return `backfill-${stamp(start)}-${stamp(end)}-${random()}`;
}

/** Reads the state machine ARN from the stack's outputs with the Pulumi CLI. */
export function stateMachineArnFromStack(stack: string, run: (command: string, args: string[]) => string = (command, args) => execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })): string {
  let text: string;
  try {
    text = run("pulumi", ["stack", "output", "--json", "--stack", stack]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new UsageError(
        "the Pulumi CLI is not installed, so the state machine ARN cannot be read from the stack's outputs; pass --state-machine-arn " +
          "(the stack output backfillStateMachineArn)",
      );
    }
    throw new UsageError(`pulumi stack output --json --stack ${stack} failed: ${(e.stderr ?? e.message).trim()}`);
  }
  const outputs = JSON.parse(text) as Record<string, unknown>;
  const arn = outputs.backfillStateMachineArn;
  if (typeof arn !== "string") {
    throw new UsageError(`stack ${stack} has no output backfillStateMachineArn: deploy it with the backfill enabled, or pass --state-machine-arn`);
  }
  return arn;
}

/** What the command needs from outside, injected by tests. */
export interface BackfillCommandDeps {
  now(): number;
  loadConfig(stack: string): BackfillConfig | undefined;
  /** The project's stacks: the `<stack>` of each `Pulumi.<stack>.yaml`. */
  stackNames(): string[];
  stateMachineArnOf(stack: string): string;
  sfn(region: string): Pick<SFNClient, "send">;
  /** Reads the pairs' results the Map exported (the bucket is in the state machine's Region). */
  s3(region: string): Pick<S3Client, "send">;
  out(text: string): void;
  err(text: string): void;
  sleep(ms: number): Promise<void>;
  /** The progress bar's output; undefined for none. */
  progressStream?: NodeJS.WritableStream;
  /** Seconds between polls with --wait. */
  pollSeconds?: number;
}

/** Runs the command; resolves to the exit code. */
export async function runBackfillCommand(argv: string[], deps: BackfillCommandDeps): Promise<number> {
  const warnings: string[] = [];
  let options: BackfillOptions | "help";
  let config: BackfillConfig | undefined;
  try {
    options = parseBackfillArgs(argv, (stack) => (config = deps.loadConfig(stack)), deps.now(), warnings, deps.stackNames());
  } catch (error) {
    if (error instanceof UsageError || error instanceof StackConfigError) {
      deps.err(`${error.message.split("\n").map((line) => `error: ${line}`).join("\n")}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    deps.out(`${USAGE}\n`);
    return 0;
  }
  const backfill = config as unknown as BackfillConfig;
  warnings.forEach((warning) => deps.err(`warning: ${warning}\n`));
  if (options.dryRun) {
    deps.out(`${renderPlan(options, backfill)}\n`);
    return 0;
  }

  let stateMachineArn: string;
  try {
    stateMachineArn = options.stateMachineArn ?? deps.stateMachineArnOf(options.stack);
    parseStateMachineArn(stateMachineArn);
  } catch (error) {
    if (error instanceof UsageError) {
      deps.err(`error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { region } = parseStateMachineArn(stateMachineArn);
  const sfn = deps.sfn(region);
  const input = { accounts: options.accounts, regions: options.regions, startTime: options.startTime, endTime: options.endTime };
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionName(options), input: JSON.stringify(input) }));
  const executionArn = started.executionArn as string;
  deps.out(`Started ${options.accounts.length * options.regions.length} pairs: ${executionArn}\nConsole: ${consoleLink(executionArn)}\n`);
  if (!options.wait) {
    deps.out("Follow it with --wait next time, or in the console.\n");
    return 0;
  }
  return followExecution(executionArn, options.accounts.length * options.regions.length, sfn, deps);
}

/** Polls the execution and its Map Run, showing a progress bar, then prints the outcome. */
export async function followExecution(executionArn: string, pairs: number, sfn: Pick<SFNClient, "send">, deps: BackfillCommandDeps): Promise<number> {
  const bar =
    deps.progressStream === undefined
      ? undefined
      : new SingleBar(
          { format: "pairs [{bar}] {value}/{total} | {running} running | {status}", stream: deps.progressStream, noTTYOutput: true, notTTYSchedule: 30_000, hideCursor: false },
          Presets.shades_classic,
        );
  bar?.start(pairs, 0, { running: 0, status: "RUNNING" });
  let mapRunArn: string | undefined;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (mapRunArn === undefined) {
      const runs = await sfn.send(new ListMapRunsCommand({ executionArn }));
      mapRunArn = runs.mapRuns?.find((run) => run.mapRunArn?.includes(`/${BACKFILL_MAP_LABEL}:`))?.mapRunArn ?? runs.mapRuns?.[0]?.mapRunArn;
    }
    if (mapRunArn !== undefined) {
      const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
      const c = run.itemCounts;
      const finished = (c?.succeeded ?? 0) + (c?.failed ?? 0) + (c?.aborted ?? 0) + (c?.timedOut ?? 0);
      bar?.update(finished, { running: c?.running ?? 0, status: execution.status });
    }
    if (execution.status !== "RUNNING" && execution.status !== "PENDING_REDRIVE") {
      bar?.update({ status: execution.status });
      bar?.stop();
      return reportOutcome(execution, deps, executionArn);
    }
    await deps.sleep((deps.pollSeconds ?? 10) * 1000);
  }
}

/**
 * The execution's summary with every pair listed: the execution output lists at most 100 pairs of each kind, so they
 * are read from the results the Map exported to S3 (manifest.json and the result files it lists).
 */
export async function completeSummary(summary: BackfillSummary, s3: Pick<S3Client, "send">): Promise<BackfillSummary> {
  if (summary.results === undefined || (summary.done.length === summary.doneCount && summary.failed.length === summary.failedCount)) {
    return summary;
  }
  const results = await readMapResults(s3, { MapRunArn: "", ResultWriterDetails: { Bucket: summary.results.bucket, Key: summary.results.manifestKey } });
  const full = summarizeBackfill(summary, results, Number.POSITIVE_INFINITY);
  return { ...summary, done: full.done, failed: full.failed };
}

async function reportOutcome(execution: { status?: string; output?: string; error?: string; cause?: string }, deps: BackfillCommandDeps, executionArn: string): Promise<number> {
  if (execution.status !== "SUCCEEDED") {
    deps.err(`Execution ${execution.status ?? "ended"}: ${execution.error ?? "no error"}${execution.cause ? `\n${execution.cause}` : ""}\n`);
    return 3;
  }
  const summary = await completeSummary(JSON.parse(execution.output ?? "{}") as BackfillSummary, deps.s3(executionArn.split(":")[3]));
  const t = summary.totals;
  deps.out(
    `Backfilled ${summary.startTime} .. ${summary.endTime}: ${summary.doneCount ?? summary.done.length} of ${summary.pairs} pairs done, ` +
      `${count(t.events)} events in ${count(t.files)} files (${count(t.requests)} LookupEvents calls, ${count(t.throttled)} throttled)\n`,
  );
  for (const pair of summary.done) {
    deps.out(`  done    ${pair.account} ${pair.region.padEnd(15)} ${count(pair.events).padStart(10)} events ${count(pair.files).padStart(7)} files\n`);
  }
  for (const pair of summary.failed) {
    deps.out(`  FAILED  ${pair.account} ${pair.region.padEnd(15)} ${pair.error}\n`);
  }
  if (summary.failed.length > 0) {
    deps.out("Failed pairs: the function's log group has each pair's error (filter by account and region); rerun them with --accounts and --regions.\n");
    return 1;
  }
  return 0;
}

/** The command as run from a shell. */
async function main(): Promise<number> {
  const directory = findProjectDirectory(process.cwd());
  return runBackfillCommand(process.argv.slice(2), {
    now: () => Date.now(),
    loadConfig: (stack) => {
      const { config } = loadStackFiles(directory, stack);
      return loadStackConfig((key) => config[key], Object.keys(config)).backfill;
    },
    stackNames: () => stackNames(directory),
    stateMachineArnOf: (stack) => stateMachineArnFromStack(stack),
    sfn: (region) => new SFNClient({ region }),
    s3: (region) => new S3Client({ region }),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    progressStream: process.stderr,
  });
}

if (require.main === module) {
  runMain(main);
}

import { PassThrough } from "stream";

import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";

import {
  asOptionMessage,
  type BackfillCommandDeps,
  consoleLink,
  duration,
  estimateBackfill,
  executionName,
  keysLine,
  parseBackfillArgs,
  runBackfillCommand,
  stateMachineArnFromStack,
  UsageError,
} from "../../scripts/backfill";
import type { BackfillConfig } from "../../stackConfig";
import { summarizeBackfill } from "../../functions/trailBackfill/summary";
import { logFileKey } from "../../functions/trailBackfill/logFiles";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const CONFIG: BackfillConfig = {
  accounts: ["111111111111", "222222222222", "333333333333"],
  stackAccountId: "111111111111",
  deployRoleName: "OrganizationAccountAccessRole",
  regions: ["us-east-1", "ap-northeast-1"],
  maxConcurrency: 4,
  requestsPerSecond: 2,
  keyLayout: "account",
};
const MACHINE = "arn:aws:states:ap-northeast-1:111111111111:stateMachine:cloudtrail-alerts-dev-backfill";
const RANGE = ["--start", "2024-05-20T10:02:00Z", "--end", "2024-05-21T10:00:00Z"];

describe("npm run backfill", () => {
  const sfn = mockClient(SFNClient);
  let out: string;
  let err: string;
  let progress: PassThrough;

  function deps(overrides: Partial<BackfillCommandDeps> = {}): BackfillCommandDeps {
    return {
      now: () => NOW,
      loadConfig: (stack) => (stack === "dev" ? CONFIG : undefined),
      stackNames: () => ["dev"],
      stateMachineArnOf: () => MACHINE,
      sfn: () => new SFNClient({ region: "ap-northeast-1", credentials: { accessKeyId: "AKIAUNUSED", secretAccessKey: "unused" } }),
      s3: () => ({ send: () => Promise.reject(new Error("S3 is not read when the output lists every pair")) }),
      out: (text) => (out += text),
      err: (text) => (err += text),
      sleep: () => Promise.resolve(),
      progressStream: progress,
      ...overrides,
    };
  }

  beforeEach(() => {
    sfn.reset();
    out = "";
    err = "";
    progress = new PassThrough();
    progress.resume();
  });

  describe("arguments", () => {
    it("defaults to every account and enabled region of the stack's config", () => {
      expect(parseBackfillArgs(RANGE, () => CONFIG, NOW)).to.deep.equal({
        stack: "dev",
        accounts: CONFIG.accounts,
        regions: CONFIG.regions,
        startTime: "2024-05-20T10:02:00Z",
        endTime: "2024-05-21T10:00:00Z",
        dryRun: false,
        wait: false,
        eventsPerDay: 10000,
      });
    });

    it("takes accounts, regions, the state machine and flags from the command line", () => {
      const options = parseBackfillArgs([...RANGE, "--accounts", "222222222222, 333333333333", "--regions", "us-east-1", "--state-machine-arn", MACHINE, "--wait", "--stack", "dev"], () => CONFIG, NOW);

      expect(options).to.deep.include({ accounts: ["222222222222", "333333333333"], regions: ["us-east-1"], stateMachineArn: MACHINE, wait: true });
    });

    it("names every problem by its option", () => {
      let error: unknown;
      try {
        parseBackfillArgs(["--start", "2024-05-20", "--end", "2024-06-03T00:00:00Z", "--accounts", "12345,999999999999", "--state-machine-arn", "my-machine"], () => CONFIG, NOW);
      } catch (thrown) {
        error = thrown;
      }

      expect(error).to.be.instanceOf(UsageError);
      expect((error as Error).message.split("\n")).to.deep.equal([
        '--state-machine-arn must be a Step Functions state machine ARN, got "my-machine"',
        '--accounts[0] must be a 12-digit AWS account ID, got "12345"',
        "--accounts: 999999999999 has no reader role; deployed reader roles are in 111111111111, 222222222222, 333333333333",
        '--start must be an ISO 8601 time with a time zone, such as 2024-05-01T00:00:00Z, got "2024-05-20"',
        "--end must not be in the future (now is 2024-06-01T12:00:00.000Z), got 2024-06-03T00:00:00Z",
      ]);
      expect(asOptionMessage("endTime must be x")).to.equal("--end must be x");
    });

    it("requires --start and --end, refuses unknown options and a stack without the backfill", () => {
      expect(() => parseBackfillArgs([], () => CONFIG, NOW)).to.throw("--start is required\n--end is required");
      expect(() => parseBackfillArgs([...RANGE, "--acounts", "1"], () => CONFIG, NOW)).to.throw("Unknown option '--acounts'");
      expect(() => parseBackfillArgs([...RANGE, "--stack", "prod"], () => undefined, NOW)).to.throw("the backfill is not enabled in stack prod");
    });

    it("uses the project's only stack file without --stack, and requires --stack when there are several", () => {
      const loaded: string[] = [];
      const load = (stack: string) => (loaded.push(stack), CONFIG);

      expect(parseBackfillArgs(RANGE, load, NOW, [], ["prod"])).to.include({ stack: "prod" });
      expect(() => parseBackfillArgs(RANGE, load, NOW, [], ["dev", "prod"])).to.throw(UsageError, "--stack is required: the project has 2 stacks (dev, prod); name the one whose backfill to start");
      expect(() => parseBackfillArgs(RANGE, load, NOW, [], [])).to.throw(UsageError, "--stack is required: the project has no stack file (Pulumi.<stack>.yaml)");
      expect(parseBackfillArgs([...RANGE, "--stack", "my-org/prod"], load, NOW, [], ["dev", "prod"])).to.include({ stack: "my-org/prod" });
      expect(parseBackfillArgs([...RANGE, "--stack", "my-org/cloudtrail-alerts/dev"], load, NOW, [], ["dev", "prod"])).to.include({ stack: "my-org/cloudtrail-alerts/dev" });
      expect(loaded).to.deep.equal(["prod", "my-org/prod", "my-org/cloudtrail-alerts/dev"]);
      expect(() => parseBackfillArgs([...RANGE, "--stack", "a/b/c/d"], load, NOW, [], ["dev"])).to.throw(
        UsageError,
        `--stack must be a stack name such as dev, my-org/dev or my-org/cloudtrail-alerts/dev (letters, digits, '-', '_', '.'), got "a/b/c/d"`,
      );
    });

    it("exits 2 with the usage when several stacks exist and --stack is missing", async () => {
      const code = await runBackfillCommand(RANGE, deps({ stackNames: () => ["dev", "prod"] }));

      expect(code).to.equal(2);
      expect(err.split("\n")[0]).to.equal("error: --stack is required: the project has 2 stacks (dev, prod); name the one whose backfill to start");
      expect(sfn.calls()).to.have.length(0);
    });

    it("warns when the oldest events are about to age out", () => {
      const warnings: string[] = [];

      parseBackfillArgs(["--start", "2024-03-04T00:00:00Z", "--end", "2024-03-05T00:00:00Z"], () => CONFIG, NOW, warnings);

      expect(warnings).to.deep.equal(["--start is 89.5 days ago: LookupEvents drops events after 90 days, so the oldest windows may age out before the backfill reads them"]);
    });
  });

  describe("--dry-run", () => {
    it("estimates pairs, files, LookupEvents calls and the least time at the configured rate", () => {
      const estimate = estimateBackfill({ accounts: CONFIG.accounts, regions: CONFIG.regions, startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z", eventsPerDay: 10000 }, CONFIG);

      expect(estimate).to.deep.equal({
        startTime: "2024-05-20T10:00:00.000Z",
        endTime: "2024-05-21T10:00:00.000Z",
        pairs: 6,
        windowsPerPair: 288,
        maxFiles: 1728,
        estimatedCalls: 6 * 203,
        minimumCalls: 24,
        secondsPerPair: 101.5,
        secondsTotal: 203,
      });
    });

    it("prints the plan and starts nothing", async () => {
      const code = await runBackfillCommand([...RANGE, "--dry-run", "--accounts", "222222222222", "--regions", "us-east-1,ap-northeast-1"], deps());

      expect(code).to.equal(0);
      expect(sfn.calls()).to.deep.equal([]);
      expect(out).to.equal(
        [
          "Backfill plan (dry run: nothing was started)",
          "  range     2024-05-20T10:00:00.000Z .. 2024-05-21T10:00:00.000Z (widened to whole 5-minute windows; 1d00h00m)",
          "  pairs     2 (1 account x 2 regions), up to 4 at once",
          "            222222222222: us-east-1, ap-northeast-1",
          "  files     at most 576 (288 five-minute windows x 2 pairs; windows without events get no file)",
          "  keys      account trail layout, under AWSLogs/<account>/CloudTrail/<region>/ in the stack's backfill bucket; the first is " +
            logFileKey({ accountId: "222222222222", region: "us-east-1", windowStart: new Date("2024-05-20T10:00:00Z") }),
          "  calls     about 406 LookupEvents calls at 10,000 events per pair and day (--events-per-day), at least 8",
          "  time      at 2 requests/s per pair: at least 1m42s per pair, 1m42s for all pairs (1 wave(s) of 4)",
          "",
        ].join("\n"),
      );
    });
  });

  describe("--dry-run's keys", () => {
    it("names the organization trail layout, with the organization ID after AWSLogs/, the prefix and the adopted bucket", () => {
      const options = { accounts: ["222222222222"], regions: ["ap-northeast-1"], startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z" };
      const line = keysLine(options, { keyLayout: "organization", organizationId: "o-a1b2c3d4e5", prefix: "org-trail", existingBucketName: "org-trail-logs" });

      expect(line).to.match(
        /^ {2}keys {6}organization trail layout, under org-trail\/AWSLogs\/o-a1b2c3d4e5\/<account>\/CloudTrail\/<region>\/ in s3:\/\/org-trail-logs; the first is org-trail\/AWSLogs\/o-a1b2c3d4e5\/222222222222\/CloudTrail\/ap-northeast-1\/2024\/05\/20\/222222222222_CloudTrail_ap-northeast-1_20240520T1000Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
    });

    it("keeps the account layout when the organization ID only limits the reader roles", () => {
      const options = { accounts: ["222222222222"], regions: ["us-east-1"], startTime: "2024-05-20T10:00:00Z", endTime: "2024-05-20T11:00:00Z" };

      expect(keysLine(options, { keyLayout: "account", organizationId: "o-a1b2c3d4e5" })).to.include("under AWSLogs/<account>/CloudTrail/<region>/ in the stack's backfill bucket; the first is AWSLogs/222222222222/");
    });
  });

  describe("starting an execution", () => {
    it("starts the stack's state machine with the pairs' input and prints its ARN and console link", async () => {
      // Prepare
      const executionArn = `${MACHINE.replace(":stateMachine:", ":execution:")}:backfill-20240520T1000-20240521T1000-abcdef`;
      sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date(NOW) });

      // Act
      const code = await runBackfillCommand([...RANGE, "--regions", "us-east-1"], deps());

      // Assess
      expect(code).to.equal(0);
      const calls = sfn.commandCalls(StartExecutionCommand);
      expect(calls).to.have.length(1);
      const input = calls[0].args[0].input;
      expect(input.stateMachineArn).to.equal(MACHINE);
      expect(input.name).to.match(/^backfill-20240520T1000-20240521T1000-[0-9a-f]{6}$/);
      expect(JSON.parse(input.input as string)).to.deep.equal({ accounts: CONFIG.accounts, regions: ["us-east-1"], startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z" });
      expect(out).to.equal(`Started 3 pairs: ${executionArn}\nConsole: ${consoleLink(executionArn)}\nFollow it with --wait next time, or in the console.\n`);
      expect(consoleLink(executionArn)).to.equal(`https://ap-northeast-1.console.aws.amazon.com/states/home?region=ap-northeast-1#/v2/executions/details/${encodeURIComponent(executionArn)}`);
    });

    it("follows the execution with --wait and exits 1 listing the pairs that failed", async () => {
      // Prepare
      const executionArn = `${MACHINE.replace(":stateMachine:", ":execution:")}:run`;
      const mapRunArn = `${MACHINE.replace(":stateMachine:", ":mapRun:")}/Pairs:0f0f`;
      const summary = {
        requested: { startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z" },
        startTime: "2024-05-20T10:00:00.000Z",
        endTime: "2024-05-21T10:00:00.000Z",
        pairs: 2,
        totals: { events: 12345, files: 280, requests: 260, throttled: 3 },
        done: [{ account: "111111111111", region: "us-east-1", invocations: 1, requests: 260, throttled: 3, events: 12345, files: 280, rejected: 0 }],
        failed: [{ account: "222222222222", region: "us-east-1", error: "ReaderRoleAccessDeniedError" }],
      };
      sfn.on(StartExecutionCommand).resolves({ executionArn });
      sfn.on(DescribeExecutionCommand).resolvesOnce({ status: "RUNNING" }).resolves({ status: "SUCCEEDED", output: JSON.stringify(summary) });
      sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn, executionArn, stateMachineArn: MACHINE, startDate: new Date(NOW) }] });
      sfn.on(DescribeMapRunCommand).resolvesOnce({ itemCounts: { pending: 0, running: 2, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, total: 2, resultsWritten: 0 } }).resolves({
        itemCounts: { pending: 0, running: 0, succeeded: 2, failed: 0, timedOut: 0, aborted: 0, total: 2, resultsWritten: 2 },
      });

      // Act
      const code = await runBackfillCommand([...RANGE, "--accounts", "111111111111,222222222222", "--regions", "us-east-1", "--wait"], deps());

      // Assess
      expect(code).to.equal(1);
      expect(sfn.commandCalls(DescribeExecutionCommand)).to.have.length(2);
      expect(sfn.commandCalls(DescribeMapRunCommand).map((c) => c.args[0].input.mapRunArn)).to.deep.equal([mapRunArn, mapRunArn]);
      expect(out.split("\n").slice(2)).to.deep.equal([
        "Backfilled 2024-05-20T10:00:00.000Z .. 2024-05-21T10:00:00.000Z: 1 of 2 pairs done, 12,345 events in 280 files (260 LookupEvents calls, 3 throttled)",
        "  done    111111111111 us-east-1           12,345 events     280 files",
        "  FAILED  222222222222 us-east-1       ReaderRoleAccessDeniedError",
        "Failed pairs: the function's log group has each pair's error (filter by account and region); rerun them with --accounts and --regions.",
        "",
      ]);
    });

    it("lists every pair from the results the Map exported when the execution output lists only some", async () => {
      // Prepare: 150 pairs done; the output lists 100 of them and says where the Map's results are.
      const executionArn = `${MACHINE.replace(":stateMachine:", ":execution:")}:org`;
      const pairs = Array.from({ length: 150 }, (_, i) => ({ account: String(300000000000 + i), region: "us-east-1", status: "DONE", done: true, invocations: 1, requests: 2, throttled: 0, events: 10, files: 1, rejected: 0 }));
      const objects = new Map<string, string>([
        ["org-bucket/TrailBackfillResults/run/manifest.json", JSON.stringify({ DestinationBucket: "org-bucket", MapRunArn: "arn", ResultFiles: { FAILED: [], PENDING: [], SUCCEEDED: [{ Key: "TrailBackfillResults/run/SUCCEEDED_0.json", Size: 1 }] } })],
        ["org-bucket/TrailBackfillResults/run/SUCCEEDED_0.json", JSON.stringify(pairs.map((p, i) => ({ ExecutionArn: `e${i}`, Status: "SUCCEEDED", Input: JSON.stringify({ account: p.account, region: p.region }), Output: JSON.stringify(p) })))],
      ]);
      const regionsAsked: string[] = [];
      const s3 = (region: string) => {
        regionsAsked.push(region);
        return { send: (command: GetObjectCommand) => Promise.resolve({ Body: { transformToString: () => Promise.resolve(objects.get(`${command.input.Bucket}/${command.input.Key}`)) } }) } as unknown as Pick<S3Client, "send">;
      };
      const summary = {
        ...summarizeBackfill({ requested: { startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z" }, startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-21T10:00:00.000Z" }, pairs),
        results: { bucket: "org-bucket", manifestKey: "TrailBackfillResults/run/manifest.json" },
      };
      sfn.on(StartExecutionCommand).resolves({ executionArn });
      sfn.on(DescribeExecutionCommand).resolves({ status: "SUCCEEDED", output: JSON.stringify(summary) });
      sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });

      // Act
      const code = await runBackfillCommand([...RANGE, "--wait"], deps({ s3 }));

      // Assess
      expect(summary.done).to.have.length(100);
      expect(code).to.equal(0);
      expect(regionsAsked).to.deep.equal(["ap-northeast-1"]);
      expect(out).to.include("150 of 150 pairs done, 1,500 events in 150 files");
      expect(out.split("\n").filter((line) => line.startsWith("  done    "))).to.have.length(150);
    });

    it("exits 3 with the error and cause when the execution fails", async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: `${MACHINE.replace(":stateMachine:", ":execution:")}:bad` });
      sfn.on(DescribeExecutionCommand).resolves({ status: "FAILED", error: "InvalidBackfillInputError", cause: "invalid backfill input: accounts: 333333333333 has no reader role" });
      sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });

      const code = await runBackfillCommand([...RANGE, "--wait"], deps());

      expect(code).to.equal(3);
      expect(err).to.equal("Execution FAILED: InvalidBackfillInputError\ninvalid backfill input: accounts: 333333333333 has no reader role\n");
    });

    it("exits 2 naming --state-machine-arn when the stack's outputs cannot be read", async () => {
      const code = await runBackfillCommand(RANGE, deps({ stateMachineArnOf: (stack) => stateMachineArnFromStack(stack, () => { throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" }); }) }));

      expect(code).to.equal(2);
      expect(err).to.equal(
        "error: the Pulumi CLI is not installed, so the state machine ARN cannot be read from the stack's outputs; pass --state-machine-arn (the stack output backfillStateMachineArn)\n",
      );
      expect(sfn.calls()).to.deep.equal([]);
    });
  });

  it("reads the state machine ARN from `pulumi stack output --json`", () => {
    const commands: string[][] = [];
    const arn = stateMachineArnFromStack("dev", (command, args) => {
      commands.push([command, ...args]);
      return JSON.stringify({ alertTopicArn: "arn:aws:sns:ap-northeast-1:111111111111:alerts", backfillStateMachineArn: MACHINE });
    });

    expect(arn).to.equal(MACHINE);
    expect(commands).to.deep.equal([["pulumi", "stack", "output", "--json", "--stack", "dev"]]);
    expect(() => stateMachineArnFromStack("dev", () => "{}")).to.throw("stack dev has no output backfillStateMachineArn");
  });

  it("names executions after their range and formats durations", () => {
    expect(executionName({ startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-21T10:00:00Z" }, () => "abc123")).to.equal("backfill-20240520T1000-20240521T1000-abc123");
    expect([duration(45), duration(702), duration(3723), duration(7 * 86400)]).to.deep.equal(["45s", "11m42s", "1h02m03s", "7d00h00m"]);
  });
});

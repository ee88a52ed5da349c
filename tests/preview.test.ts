/**
 * `npm start` as a newcomer runs it: a separate process, no Pulumi CLI, no AWS credentials.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import { parse, stringify } from "yaml";

import { PROJECT_DIRECTORY } from "./support/engine";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the preview CLI with `args`, like `npm start -- <args>`. */
function preview(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  for (const variable of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
    delete env[variable];
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "preview/main.ts", ...args],
      { cwd: PROJECT_DIRECTORY, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Writes a stack file for the duration of the tests: the dev stack's config with some values replaced. */
function writeStack(name: string, overrides: Record<string, unknown>): string {
  const dev = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  const file = path.join(PROJECT_DIRECTORY, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, stringify({ config: { ...dev.config, ...overrides } }));
  return file;
}

describe("offline preview (npm start)", function () {
  // Eight previews start at once, each compiling the program: on two loaded cores that takes minutes.
  this.timeout(300_000);

  let tree: Run;
  let json: Run;
  const badStacks: Array<[string, Record<string, unknown>, string]> = [
    ["bad-account", { "aws:allowedAccountIds": ["11111111111"] }, 'error: aws:allowedAccountIds[0] must be a 12-digit AWS account ID, got "11111111111"'],
    ["bad-region", { "aws:region": "tokyo-1" }, 'error: aws:region must be an AWS region such as ap-northeast-1, got "tokyo-1"'],
    ["bad-zone", { "cloudtrail-alerts:timeZone": "JST" }, 'error: cloudtrail-alerts:timeZone must be an IANA time zone such as Asia/Tokyo, got "JST"'],
    ["bad-email", { "cloudtrail-alerts:alertEmails": ["security.example.com"] }, 'error: cloudtrail-alerts:alertEmails[0] must be an email address, got "security.example.com"'],
    ["bad-type", { "cloudtrail-alerts:trailLogRetentionInDays": "forever" }, 'error: cloudtrail-alerts:trailLogRetentionInDays must be of type integer, got "forever"'],
    ["undeclared", { "cloudtrail-alerts:alertEmail": "security@example.com" }, 'error: cloudtrail-alerts:alertEmail is set in Pulumi.undeclared.yaml but not declared in Pulumi.yaml, got "security@example.com"'],
  ];
  const badRuns = new Map<string, Run>();

  before(async () => {
    const files = badStacks.map(([name, overrides]) => writeStack(`ci-${name}`, overrides));
    try {
      const runs = await Promise.all([preview([]), preview(["--json"]), ...badStacks.map(([name]) => preview(["--stack", `ci-${name}`]))]);
      [tree, json] = runs as [Run, Run];
      badStacks.forEach(([name], i) => badRuns.set(name, runs[i + 2]));
    } finally {
      files.forEach((file) => fs.rmSync(file, { force: true }));
    }
  });

  it("prints the dev stack as a tree of type and name, nested by parent", () => {
    expect(tree.code, tree.stderr).to.equal(0);
    const lines = tree.stdout.split("\n");
    expect(lines[0]).to.equal('Offline preview of stack "dev" (project cloudtrail-alerts, account 111111111111, region ap-northeast-1).');
    expect(lines).to.include("+ pulumi:pulumi:Stack  cloudtrail-alerts-dev");
    expect(lines).to.include("    + cloudtrail-alerts:index:CloudTrailAlerts  cloudtrail-alerts");
    expect(lines).to.include("        + cloudtrail-alerts:index:AuditTrail  trail");
    expect(lines).to.include("            + aws:cloudtrail/trail:Trail  trail");
    expect(lines).to.include("            + aws:s3/bucket:Bucket  trail-bucket");
    expect(lines).to.include("            + aws:cloudwatch/logGroup:LogGroup  trail-logs");
    expect(lines).to.include("        + cloudtrail-alerts:index:AlertTopic  alerts");
    expect(lines).to.include("            + aws:sns/topic:Topic  alerts");
    expect(lines).to.include("            + aws:sns/topicSubscription:TopicSubscription  alerts-email-security@example.com");
    expect(lines).to.include("        + cloudtrail-alerts:index:BucketCreationAlarm  bucket-creation");
    expect(lines).to.include("            + aws:cloudwatch/logMetricFilter:LogMetricFilter  bucket-creation-filter");
    expect(lines).to.include("            + aws:cloudwatch/metricAlarm:MetricAlarm  bucket-creation-alarm");
    expect(lines).to.include("        + cloudtrail-alerts:index:DownloadThresholdAlert  download-alerts");
    expect(lines).to.include("        + cloudtrail-alerts:index:UserActivityNotifier  activity-hogehoge");
    expect(lines).to.include("        + cloudtrail-alerts:index:UserActivityNotifier  activity-ssm-sessions");
    expect(lines).to.include("        + cloudtrail-alerts:index:TrailBackfill  backfill");
    expect(lines).to.include("            + aws:sfn/stateMachine:StateMachine  backfill");
    expect(lines).to.include("            + aws:s3/bucket:Bucket  backfill-bucket");
  });

  it("counts the resources per type, and the counts match the tree", () => {
    const lines = tree.stdout.split("\n");
    const treeLines = lines.filter((line) => /^\s*\+ /.test(line));
    const total = Number(/^Resources: (\d+) to create$/.exec(lines.find((line) => line.startsWith("Resources:")) ?? "")?.[1]);
    const counts = lines.filter((line) => /^\s+\d+ {2}\S+$/.test(line)).map((line) => line.trim().split(/\s+/) as [string, string]);

    expect(total).to.equal(treeLines.length);
    expect(counts.reduce((sum, [count]) => sum + Number(count), 0)).to.equal(total);
    // Topics: the alert topic and the trail dispatcher's; roles: five functions, the trail's delivery role, the
    // EventBridge forwarder, the state machine and four reader roles.
    expect(Object.fromEntries(counts.map(([count, type]) => [type, Number(count)]))).to.include({
      "aws:cloudtrail/trail:Trail": 1,
      "aws:sns/topic:Topic": 2,
      "aws:iam/role:Role": 12,
      "aws:lambda/function:Function": 5,
      "aws:sfn/stateMachine:StateMachine": 1,
      "pulumi:providers:aws": 3,
      "pulumi:pulumi:Stack": 1,
      "cloudtrail-alerts:index:CloudTrailAlerts": 1,
    });
  });

  it("places each member account's reader role in that account, through a provider assuming the deploy role there", () => {
    const lines = tree.stdout.split("\n");
    expect(lines).to.include("            + aws:iam/role:Role  backfill-reader-111111111111");
    for (const account of ["222222222222", "333333333333", "444444444444"]) {
      expect(lines).to.include(`        + pulumi:providers:aws  backfill-${account}`);
      expect(lines).to.include(`            + aws:iam/role:Role  backfill-reader-${account}  (account ${account}, ap-northeast-1)`);
    }
    const providers = (JSON.parse(json.stdout) as Array<{ type: string; name: string; inputs: Record<string, string> }>).filter((r) => r.type === "pulumi:providers:aws");
    expect(providers.map((p): unknown[] => [p.name, JSON.parse(p.inputs.assumeRoles) as unknown, JSON.parse(p.inputs.allowedAccountIds) as unknown, p.inputs.region])).to.deep.equal(
      ["222222222222", "333333333333", "444444444444"].map((account) => [
        `backfill-${account}`,
        [{ roleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, sessionName: "cloudtrail-alerts-deploy" }],
        [account],
        "ap-northeast-1",
      ]),
    );
  });

  it("prints --json as an array of { urn, type, name, parent, inputs }", () => {
    expect(json.code, json.stderr).to.equal(0);
    const records = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    for (const record of records) {
      expect(Object.keys(record)).to.deep.equal(["urn", "type", "name", "parent", "inputs"]);
    }
    const stack = records.find((r) => r.type === "pulumi:pulumi:Stack")!;
    const alerts = records.find((r) => r.type === "cloudtrail-alerts:index:CloudTrailAlerts")!;
    const topicComponent = records.find((r) => r.type === "cloudtrail-alerts:index:AlertTopic")!;
    const topic = records.find((r) => r.type === "aws:sns/topic:Topic" && r.name === "alerts")!;
    expect(stack.parent).to.equal(null);
    expect(alerts.parent).to.equal(stack.urn);
    expect(topicComponent.parent).to.equal(alerts.urn);
    expect(topic.parent).to.equal(topicComponent.urn);
    expect((topic.inputs as { kmsMasterKeyId: string }).kmsMasterKeyId).to.match(/^arn:aws:kms:ap-northeast-1:111111111111:key\//);
  });

  for (const [name, , message] of badStacks) {
    it(`exits non-zero with one line and creates nothing for ${name}`, () => {
      const run = badRuns.get(name)!;
      expect(run.code).to.equal(1);
      expect(run.stderr.trimEnd().split("\n").filter((line) => !line.startsWith("npm "))).to.deep.equal([message.replace("undeclared.yaml", "ci-undeclared.yaml").replace("Pulumi.undeclared", "Pulumi.ci-undeclared")]);
      expect(run.stdout).to.equal("");
    });
  }

  it("names a stack that has no config file, and refuses unknown flags", async () => {
    const [missing, unknown] = await Promise.all([preview(["--stack", "nosuchstack"]), preview(["--verbose"])]);

    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal(`error: stack "nosuchstack" has no config file; expected ${path.join(PROJECT_DIRECTORY, "Pulumi.nosuchstack.yaml")}\n`);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/^error: Unknown option '--verbose'.*\nusage: npm start -- \[--stack NAME\] \[--json\] \[--out FILE\]\n$/s);
  });
});

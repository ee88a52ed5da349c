/**
 * Every IAM role of the dev stack, simulated over every AWS action on the stack's concrete ARNs, allows what its code
 * (or the AWS service that uses it) calls, and nothing else.
 *
 * What "its code calls" means, per kind of role (never a hand-kept list of actions): the SDK commands recorded by a
 * call ledger (simulation/callLedger.ts) while every function of the stack runs from its archive with the stack's
 * sample traffic (tests/verify/support/functionRuns.ts), here in the `before` hook, so this file needs no other.
 * - Lambda execution roles: the calls of the code the function ships, run with its own environment (lower bound:
 *   nothing the deployed code needs is missing) and in every configuration that changes its calls (upper bound: the
 *   role may do nothing else); plus what Lambda does with the role (its own log group, its dead-letter queue) and
 *   what KMS needs when the code publishes to a topic encrypted with a customer managed key.
 * - Reader roles: the commands the backfill sends with the clients it builds from the reader role's credentials (its
 *   CloudTrail client); those are not the function role's.
 * - The trail's delivery role: what CloudTrail documents it calls to deliver to CloudWatch Logs.
 * - The state machine role: what the definition's states need (Lambda invoke tasks, the Distributed Map's child
 *   executions), read from the deployed definition.
 * - EventBridge forwarding roles: events:PutEvents on the event buses their rules target.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import { AlertTopic, AuditTrail, DownloadThresholdAlert } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import type { RecordedCall } from "../../simulation/callLedger";
import { sampleGetObject } from "../../simulation/downloadEvents";
import { ACTIONS_NEEDING_NO_PERMISSION, allowedForPrincipal } from "../../simulation/leastPrivilege";
import { verifyReport } from "../../simulation/verifyReport";
import { devStack } from "../support/devStack";
import { PROJECT_DIRECTORY, resourcesOf } from "../support/engine";
import { type FunctionRun, runFunctions } from "./support/functionRuns";

type Document = { Statement: Array<Record<string, unknown>> };

const LAMBDA_PLATFORM_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"];
const CLOUDTRAIL_DELIVERY_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"];
/** Clients the backfill builds from a reader role's credentials (its `readerRoleCredentials`). */
const READER_CREDENTIAL_CLIENTS = new Set(["CloudTrailClient"]);

const parse = (text: unknown): Document => JSON.parse(String(text)) as Document;
const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();
const list = (value: unknown): string[] => (Array.isArray(value) ? (value as unknown[]).map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : value === undefined ? [] : [typeof value === "string" ? value : JSON.stringify(value)]);

/** The file under functions/ (its path from the project, e.g. `functions/logDispatch.ts`) that exports a callback factory of this name. */
function moduleExporting(factoryName: string): string {
  const directory = path.join(PROJECT_DIRECTORY, "functions");
  const files = (fs.readdirSync(directory, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && f !== "index.ts").sort();
  for (const file of files) {
    const exported = require(path.join(directory, file)) as Record<string, unknown>;
    if (typeof exported[factoryName] === "function") {
      return path.posix.join("functions", file.split(path.sep).join("/"));
    }
  }
  throw new Error(`no file under functions/ exports ${factoryName}`);
}

/**
 * The dev stack's Lambda code in the configurations that the dev stack does not use but that change which AWS calls
 * it makes: the download counter re-counting on the trail's log group (FilterLogEvents) instead of DynamoDB. A role
 * is compared with every call its code can make, so these run too, on the dev stack's trail.
 */
async function otherConfigurations(trailLogGroupName: string): Promise<RecordedResource[]> {
  const { bucketName, key } = sampleGetObject().requestParameters as { bucketName: string; key: string };
  const trail = new AuditTrail("verify-dev-trail", { existingLogGroupName: trailLogGroupName });
  const alertTopic = new AlertTopic("verify-alerts", {});
  const logsCounter = new DownloadThresholdAlert("verify-logs-counter", { trail, alertTopic, watches: [{ bucket: bucketName, key, threshold: 5 }], source: "logs", counter: "logs" });
  return [...(await resourcesOf(alertTopic)), ...(await resourcesOf(logsCounter))];
}

/** Actions the state machine's states need, read from its Amazon States Language definition. */
function stateMachineActions(definition: Record<string, unknown>): string[] {
  const actions = new Set<string>();
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const state of Object.values(states)) {
      if (state.Type === "Task" && typeof state.Resource === "string") {
        if (/^arn:aws[\w-]*:states:::lambda:invoke/.test(state.Resource)) actions.add("lambda:InvokeFunction");
        else throw new Error(`the proof does not know the permissions of task resource ${state.Resource}`);
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Record<string, unknown>>; ProcessorConfig?: { Mode?: string } } | undefined;
      if (state.Type === "Map" && processor?.ProcessorConfig?.Mode === "DISTRIBUTED") {
        // A Distributed Map runs each item as a child execution of the same state machine, and manages them.
        for (const action of ["states:StartExecution", "states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"]) actions.add(action);
      }
      if (processor?.States) visit(processor.States);
      for (const branch of (state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []) visit(branch.States);
    }
  };
  visit(definition.States as Record<string, Record<string, unknown>>);
  return sorted(actions);
}

describe("least privilege, proven by IAM simulation", function () {
  this.timeout(600_000);
  let resources: RecordedResource[];
  let runs: FunctionRun[];
  let candidateArns: string[];
  let resourcePolicy: (arn: string) => unknown;

  const byType = (type: string) => resources.filter((r) => r.type === type);
  const dependsOn = (resource: RecordedResource, property: string, target: RecordedResource) => (resource.propertyDependencies[property] ?? []).includes(target.urn);

  before(async () => {
    const stack = await devStack();
    resources = stack.resources;
    runs = await runFunctions([...resources, ...(await otherConfigurations(String(stack.outputs.trailLogGroupName)))]);
    const arns = resources.map((r) => r.state.arn).filter((arn): arn is string => typeof arn === "string" && arn.startsWith("arn:"));
    const account = (arn: string) => arn.split(":")[4];
    const derived = [
      // Objects inside and outside the prefixes the policies name.
      ...byType("aws:s3/bucket:Bucket").flatMap((b) => [`${String(b.state.arn)}/AWSLogs/111111111111/CloudTrail/ap-northeast-1/2025/01/01/x.json.gz`, `${String(b.state.arn)}/elsewhere/x`]),
      ...byType("aws:cloudwatch/logGroup:LogGroup").map((g) => `${String(g.state.arn)}:log-stream:stream`),
      ...byType("aws:sfn/stateMachine:StateMachine").flatMap((m) => {
        const [, , , region, acct, , name] = String(m.state.arn).split(":");
        return [`arn:aws:states:${region}:${acct}:execution:${name}/Pairs:child`, `arn:aws:states:${region}:${acct}:execution:${name}:run`];
      }),
      ...["ap-northeast-1", "us-east-1"].map((region) => `arn:aws:events:${region}:111111111111:event-bus/default`),
      // Look-alikes in an account outside the stack.
      "arn:aws:iam::999999999999:role/backfill-reader-999999999999",
      "arn:aws:sns:ap-northeast-1:999999999999:alerts",
    ];
    candidateArns = sorted([...arns, ...derived]).filter((arn) => account(arn) !== undefined);
    const policies = new Map<string, unknown>();
    for (const p of byType("aws:sns/topicPolicy:TopicPolicy")) policies.set(String(p.inputs.arn), parse(p.inputs.policy));
    for (const k of byType("aws:kms/key:Key")) policies.set(String(k.state.arn), parse(k.inputs.policy));
    for (const p of byType("aws:s3/bucketPolicy:BucketPolicy")) policies.set(`arn:aws:s3:::${String(p.inputs.bucket)}`, parse(p.inputs.policy));
    resourcePolicy = (arn) => policies.get(arn) ?? policies.get(arn.split("/")[0]);
  });

  /** What the simulator lets `role` do, as sorted actions, without those AWS authorizes for everyone. */
  async function allowedActions(role: RecordedResource): Promise<{ actions: string[]; on: Map<string, string[]>; actionsTried: number; simulations: number }> {
    const documents = byType("aws:iam/rolePolicy:RolePolicy").filter((p) => dependsOn(p, "role", role)).map((p) => parse(p.inputs.policy));
    const roleArn = String(role.state.arn);
    const result = await allowedForPrincipal({
      principalArn: roleArn,
      accountId: roleArn.split(":")[4],
      identityPolicies: documents,
      resources: candidateArns,
      resourcePolicies: resourcePolicy,
      context: {
        "aws:PrincipalArn": roleArn,
        "aws:PrincipalAccount": roleArn.split(":")[4],
        "aws:PrincipalIsAWSService": "false",
        "aws:SecureTransport": "true",
      },
    });
    const actions = sorted([...result.actions.keys()].filter((a) => !ACTIONS_NEEDING_NO_PERMISSION.has(a)));
    return { actions, on: result.actions, actionsTried: result.actionsTried, simulations: result.simulations };
  }

  /** The calls of every run of the code `fn` ships, in any configuration (upper bound), and of `fn`'s own run (lower bound). */
  function callsOfCode(fn: RecordedResource): { code: RecordedCall[]; own: RecordedCall[] } {
    const own = runs.find((r) => r.fn.urn === fn.urn);
    if (own === undefined) {
      throw new Error(`${fn.name} was not run`);
    }
    return { code: runs.filter((r) => r.codeDigest === own.codeDigest).flatMap((r) => r.calls), own: own.calls };
  }

  /** The reader roles of the backfill, and the function whose role they trust. */
  function readerRoles(): { readers: RecordedResource[]; backfill: RecordedResource } {
    const readers = byType("aws:iam/role:Role").filter((r) => r.name.startsWith("backfill-reader-"));
    const trusted = new Set(readers.map((r) => String((parse(r.inputs.assumeRolePolicy).Statement[0].Principal as { AWS?: string }).AWS)));
    const backfill = byType("aws:lambda/function:Function").filter((f) => byType("aws:iam/role:Role").some((r) => trusted.has(String(r.state.arn)) && dependsOn(f, "role", r)));
    expect(backfill, "the function whose role the reader roles trust").to.have.length(1);
    return { readers, backfill: backfill[0] };
  }

  function record(role: RecordedResource, kind: string, allowed: Awaited<ReturnType<typeof allowedActions>>, needed: string[]) {
    verifyReport.roles.push({ role: role.name, kind, allowed: allowed.actions, needed, actionsTried: allowed.actionsTried, simulations: allowed.simulations });
  }

  it("covers every role of the dev stack", () => {
    const trusted = byType("aws:iam/role:Role").map((r) => list((parse(r.inputs.assumeRolePolicy).Statement[0].Principal as Record<string, unknown>).Service ?? "role").join());
    expect(trusted.sort()).to.deep.equal([
      "cloudtrail.amazonaws.com",
      "events.amazonaws.com",
      "lambda.amazonaws.com",
      "lambda.amazonaws.com",
      "lambda.amazonaws.com",
      "lambda.amazonaws.com",
      "lambda.amazonaws.com",
      "role",
      "role",
      "role",
      "role",
      "states.amazonaws.com",
    ]);
  });

  describe("Lambda execution roles", () => {
    for (const functionName of ["trail-subscription-handler", "download-alerts-handler", "activity-hogehoge-handler", "activity-ssm-sessions-handler", "backfill-function"]) {
      it(`${functionName}: allows exactly what its code and Lambda need`, async () => {
        // Prepare
        const fn = byType("aws:lambda/function:Function").find((f) => f.name === functionName)!;
        const role = byType("aws:iam/role:Role").find((r) => dependsOn(fn, "role", r))!;
        const module = moduleExporting((fn.inputs.tags as Record<string, string>)["cloudtrail-alerts:callback"]);
        // The calls the backfill makes with a reader role's credentials are the reader role's, not its own.
        const ownRole = (c: RecordedCall) => !(fn.urn === readerRoles().backfill.urn && READER_CREDENTIAL_CLIENTS.has(c.client));
        const { code, own } = callsOfCode(fn);
        const moduleCalls = code.filter(ownRole);
        const shipped = own.filter(ownRole);
        expect(moduleCalls, `no calls of ${module} were recorded`).not.to.deep.equal([]);
        expect(shipped, `the code ${functionName} ships made no call when run with its own environment`).not.to.deep.equal([]);

        // Act
        const allowed = await allowedActions(role);

        // Assess
        const publishesTo = (allowed.on.get("sns:Publish") ?? []).map((arn) => byType("aws:sns/topic:Topic").find((t) => t.state.arn === arn));
        const encryptedWithCmk = publishesTo.some((t) => typeof t?.inputs.kmsMasterKeyId === "string" && t.inputs.kmsMasterKeyId.startsWith("arn:"));
        const implied = encryptedWithCmk ? ["kms:Decrypt", "kms:GenerateDataKey"] : [];
        const upper = sorted([...moduleCalls.map((c) => c.action), ...LAMBDA_PLATFORM_ACTIONS, ...implied]);
        const lower = sorted([...shipped.map((c) => c.action), ...LAMBDA_PLATFORM_ACTIONS, ...implied]);
        record(role, `Lambda (${module})`, allowed, upper);
        expect(allowed.actions.filter((a) => !upper.includes(a)), "allowed but never called by the code").to.deep.equal([]);
        expect(lower.filter((a) => !allowed.actions.includes(a)), "called by the shipped code but not allowed").to.deep.equal([]);
      });
    }
  });

  it("reader roles: allow exactly the calls the backfill makes with their credentials", async () => {
    const { readers, backfill } = readerRoles();
    const needed = sorted(callsOfCode(backfill).code.filter((c) => READER_CREDENTIAL_CLIENTS.has(c.client)).map((c) => c.action));
    expect(needed).to.deep.equal(["cloudtrail:LookupEvents"]);
    expect(readers).to.have.length(4);
    for (const role of readers) {
      const allowed = await allowedActions(role);
      record(role, "reader role (trailBackfill's CloudTrail client)", allowed, needed);
      expect(allowed.actions, role.name).to.deep.equal(needed);
      expect(allowed.on.get("cloudtrail:LookupEvents")).to.deep.equal(["*"]);
    }
  });

  it("the trail's delivery role: allows exactly CloudTrail's delivery calls, on its own log group", async () => {
    const role = byType("aws:iam/role:Role").find((r) => r.name === "trail-delivery-role")!;
    const allowed = await allowedActions(role);
    const logGroup = byType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.name === "trail-logs")!;

    record(role, "CloudTrail delivery", allowed, CLOUDTRAIL_DELIVERY_ACTIONS);
    expect(allowed.actions).to.deep.equal(CLOUDTRAIL_DELIVERY_ACTIONS);
    expect(allowed.on.get("logs:PutLogEvents")).to.deep.equal([`${String(logGroup.state.arn)}:log-stream:stream`]);
  });

  it("the state machine role: allows exactly what its definition's states need, on its own function and executions", async () => {
    const machine = byType("aws:sfn/stateMachine:StateMachine")[0];
    const role = byType("aws:iam/role:Role").find((r) => dependsOn(machine, "roleArn", r))!;
    const needed = stateMachineActions(JSON.parse(String(machine.inputs.definition)) as Record<string, unknown>);
    const allowed = await allowedActions(role);

    record(role, "Step Functions (from its definition)", allowed, needed);
    expect(allowed.actions).to.deep.equal(needed);
    expect(allowed.on.get("lambda:InvokeFunction")).to.deep.equal([byType("aws:lambda/function:Function").find((f) => f.name === "backfill-function")!.state.arn]);
  });

  it("EventBridge forwarding roles: allow exactly events:PutEvents on the buses their rules target", async () => {
    const roles = byType("aws:iam/role:Role").filter((r) => parse(r.inputs.assumeRolePolicy).Statement.some((s) => (s.Principal as { Service?: string }).Service === "events.amazonaws.com"));
    expect(roles).to.have.length(1);
    for (const role of roles) {
      const targets = byType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => dependsOn(t, "roleArn", role));
      const buses = sorted(targets.map((t) => String(t.inputs.arn)));
      const allowed = await allowedActions(role);

      record(role, "EventBridge target role", allowed, ["events:PutEvents"]);
      expect(buses.every((arn) => /:event-bus\//.test(arn))).to.equal(true);
      expect(allowed.actions).to.deep.equal(["events:PutEvents"]);
      expect(allowed.on.get("events:PutEvents")).to.deep.equal(buses);
    }
  });
});

/**
 * Every IAM role of the dev stack allows exactly the (action, resource) pairs it needs, and the needs of its Lambda
 * functions are the calls their code really makes.
 *
 * Allowed: simulation/leastPrivilege.ts, the judge behind `npm run verify -- --plan`, on the dev stack's plan as
 * `npm start -- --json` prints it: every action a role's policies allow, on the stack's ARNs (and them in another
 * account and Region) and on a foreign ARN of every resource type the action accepts, simulated with the resources'
 * own policies.
 * Needed (simulation/roleNeeds.ts): for a Lambda role, the calls its room declares (functions/<room>/calls.ts) for the
 * mode the function's environment selects, plus Lambda's own (log group, failure destination) and KMS for encrypted
 * topics; for a reader role, the calls the backfill makes with its credentials; for the trail's delivery role, the
 * state machine role and the EventBridge forwarding role, their definitions read with AWS's documentation.
 * The declarations cannot drift: every function of the stack, and of the configurations that change its calls (the
 * download counter on FilterLogEvents, a notifier without burst grouping, one without its journal), runs from its
 * archive with the stack's sample
 * traffic (tests/verify/support/functionRuns.ts) under a call ledger; the calls each sends must be exactly those its
 * room declares for its mode, on the declared resources.
 * The chat channels' role (a stack with `chat`) needs nothing: Amazon Q Developer in chat applications posts custom
 * notifications and alarm notifications without it (it would only draw alarm graphs with CloudWatch reads, and run
 * members' commands), and its guardrail denies everything (docs/chatChannels.md).
 */
import { expect } from "chai";

import { AlertTopic, AuditTrail, ChatChannels, DownloadThresholdAlert, UserActivityNotifier } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { downloadThresholdCalls } from "../../functions/downloadThreshold/calls";
import { sampleGetObject } from "../../simulation/downloadEvents";
import { declarationDrift, declaredCalls, handlerCallsOf } from "../../simulation/handlerCalls";
import { judgePlan, type PlanJudgement, type RoleJudgement } from "../../simulation/leastPrivilege";
import { PlanIndex } from "../../simulation/planIndex";
import { roleFinding, verifyReport } from "../../simulation/verifyReport";
import { devStack } from "../support/devStack";
import { resourcesOf } from "../support/engine";
import { type FunctionRun, runFunctions } from "./support/functionRuns";
import { npmStartJson, planOf } from "./support/plans";

type Document = { Statement: Array<Record<string, unknown>> };

const parse = (text: unknown): Document => JSON.parse(String(text)) as Document;
const list = (value: unknown): string[] => (Array.isArray(value) ? (value as unknown[]).map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : value === undefined ? [] : [typeof value === "string" ? value : JSON.stringify(value)]);
const pairs = (judgement: RoleJudgement) => judgement.allowed.map((p) => `${p.action} ${p.resource}`).sort();

/**
 * The dev stack's Lambda code in the configurations that the dev stack does not use but that change which AWS calls
 * it makes: the download counter re-counting on the trail's log group (FilterLogEvents) instead of DynamoDB, a
 * notifier with its sent journal but without burst grouping, and one without its journal (so without grouping). They
 * run too, on the dev stack's trail and topic, so that every mode's declaration is checked against its code.
 */
async function otherConfigurations(trailLogGroupName: string): Promise<RecordedResource[]> {
  const { bucketName, key } = sampleGetObject().requestParameters as { bucketName: string; key: string };
  const trail = new AuditTrail("verify-dev-trail", { existingLogGroupName: trailLogGroupName });
  const alertTopic = new AlertTopic("verify-alerts", {});
  const logsCounter = new DownloadThresholdAlert("verify-logs-counter", { trail, alertTopic, watches: [{ bucket: bucketName, key, threshold: 5 }], source: "logs", counter: "logs" });
  const noGrouping = new UserActivityNotifier("verify-no-grouping", { alertTopic, presets: ["ssm-sessions"], grouping: false });
  const noJournal = new UserActivityNotifier("verify-no-journal", { alertTopic, presets: ["ssm-sessions"], deduplicate: false });
  return [...(await resourcesOf(alertTopic)), ...(await resourcesOf(logsCounter)), ...(await resourcesOf(noGrouping)), ...(await resourcesOf(noJournal))];
}

describe("least privilege over every resource, proven by IAM simulation", function () {
  this.timeout(600_000);
  let resources: RecordedResource[];
  let others: RecordedResource[];
  let chat: RecordedResource[];
  let runs: FunctionRun[];
  let judgement: PlanJudgement;
  let otherJudgement: PlanJudgement;

  const byType = (type: string) => resources.filter((r) => r.type === type);
  const dependsOn = (resource: RecordedResource, property: string, target: RecordedResource) => (resource.propertyDependencies[property] ?? []).includes(target.urn);
  const judged = (role: RecordedResource, from = judgement) => {
    const found = from.roles.find((r) => r.role === role.name);
    if (found === undefined) throw new Error(`the judge did not judge role ${role.name}`);
    return found;
  };

  before(async () => {
    const stack = await devStack();
    resources = stack.resources;
    others = await otherConfigurations(String(stack.outputs.trailLogGroupName));
    // The chat channels of a stack with `chat`, on the dev stack's alert topic (they run no code).
    const alertTopic = byType("aws:sns/topic:Topic").find((t) => t.name === "alerts")!;
    chat = await resourcesOf(new ChatChannels("chat", { alertTopicArn: String(alertTopic.state.arn), slack: [{ teamId: "T07EA123LEP", channelId: "C07EZ1ABC23" }] }));
    runs = await runFunctions([...resources, ...others]);
    judgement = await judgePlan(planOf(await npmStartJson(resources)));
    otherJudgement = await judgePlan(planOf(await npmStartJson([...resources, ...others, ...chat])));
  });

  /** Asserts the role allows exactly what it needs, and adds it to the report. */
  function expectExactlyNeeded(role: RoleJudgement): void {
    verifyReport.roles.push(roleFinding(role));
    expect(role.unknowns, `${role.role}: unknown in the plan`).to.deep.equal([]);
    expect(role.extra, `${role.role}: allowed but not needed`).to.deep.equal([]);
    expect(role.missing, `${role.role}: needed but not allowed`).to.deep.equal([]);
    expect(role.evaluated).to.be.at.least(role.needed.length);
  }

  /** The calls `fn`'s room declares for its environment, and where the declaration and its archive's calls disagree. */
  function drift(fn: RecordedResource, declare = handlerCallsOf((fn.inputs.tags as Record<string, string>)["cloudtrail-alerts:callback"])) {
    const run = runs.find((r) => r.fn.urn === fn.urn);
    if (run === undefined || declare === undefined) throw new Error(`${fn.name} was not run, or runs code with no declaration`);
    const where = PlanIndex.placementOf(String(fn.state.arn), { partition: "aws", region: "", account: "" });
    const { mode, calls } = declaredCalls(declare, (fn.inputs.environment as { variables: Record<string, string> }).variables, where);
    const roleArn = String(fn.inputs.role);
    const assumableRoles = byType("aws:iam/role:Role")
      .filter((r) => parse(r.inputs.assumeRolePolicy).Statement.some((s) => list((s.Principal as { AWS?: unknown }).AWS).includes(roleArn)))
      .map((r) => String(r.state.arn));
    return { run, mode, problems: declarationDrift({ room: declare.room, mode, declared: calls, recorded: run.calls, where, assumableRoles }) };
  }

  it("covers every role of the dev stack", () => {
    const trusted = byType("aws:iam/role:Role").map((r) => list((parse(r.inputs.assumeRolePolicy).Statement[0].Principal as Record<string, unknown>).Service ?? "role").join());
    expect(trusted.sort()).to.deep.equal([
      "cloudtrail.amazonaws.com",
      // The notifier's us-east-1 rule and the alarm forwarding from us-east-1, each forwarding to the home bus.
      "events.amazonaws.com",
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
    expect(judgement.roles.map((r) => r.role).sort()).to.deep.equal(byType("aws:iam/role:Role").map((r) => r.name).sort());
    expect(judgement.unknowns).to.deep.equal([]);
  });

  describe("Lambda execution roles", () => {
    for (const functionName of ["trail-subscription-handler", "download-alerts-handler", "activity-hogehoge-handler", "activity-ssm-sessions-handler", "backfill-function"]) {
      it(`${functionName}: allows exactly what its code (in its mode) and Lambda need`, () => {
        // Prepare
        const fn = byType("aws:lambda/function:Function").find((f) => f.name === functionName)!;
        const role = byType("aws:iam/role:Role").find((r) => dependsOn(fn, "role", r))!;

        // Act
        const verdict = judged(role);

        // Assess
        expectExactlyNeeded(verdict);
        expect(verdict.uses).to.have.length(1);
        expect(verdict.uses[0]).to.match(new RegExp(`^Lambda function ${functionName} \\(`));
        expect(verdict.allowed.map((p) => p.action)).to.include.members(["logs:CreateLogStream", "logs:PutLogEvents"]);
        // Lambda keeps failed asynchronous events in the dead-letter queue; a function invoked only synchronously (the
        // backfill's, by its state machine) has none, and no sqs:SendMessage.
        const asynchronous = byType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").some((c) => c.inputs.functionName === fn.state.name);
        expect(verdict.allowed.some((p) => p.action === "sqs:SendMessage"), `sqs:SendMessage for ${functionName}`).to.equal(asynchronous);
        expect(asynchronous).to.equal(functionName !== "backfill-function");
      });

      it(`${functionName}: its room's declaration is what its archive sends in its mode`, () => {
        const fn = byType("aws:lambda/function:Function").find((f) => f.name === functionName)!;
        const { run, problems } = drift(fn);
        expect(run.calls, `no calls of ${functionName} were recorded`).not.to.deep.equal([]);
        expect(problems).to.deep.equal([]);
      });
    }

    it("the download counter's role allows GetItem and UpdateItem on its table and no FilterLogEvents; in logs mode, the reverse", () => {
      const dynamoDb = judged(byType("aws:iam/role:Role").find((r) => r.name === "download-alerts-handler-role")!);
      const logsRole = others.find((r) => r.type === "aws:iam/role:Role" && r.name === "verify-logs-counter-handler-role")!;
      const logs = judged(logsRole, otherJudgement);
      const table = byType("aws:dynamodb/table:Table").find((t) => t.name === "download-alerts-counts")!;
      const logGroup = byType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.name === "trail-logs")!;

      expect(logs.extra).to.deep.equal([]);
      expect(pairs(dynamoDb).filter((p) => p.startsWith("dynamodb:") || p.startsWith("logs:FilterLogEvents"))).to.deep.equal(["GetItem", "UpdateItem"].map((action) => `dynamodb:${action} ${String(table.state.arn)}`));
      expect(pairs(logs).filter((p) => p.startsWith("dynamodb:") || p.startsWith("logs:FilterLogEvents"))).to.deep.equal(
        // The grant's `log-group:<name>:*` also matches the plan's stream pattern of the delivery role: the same log group.
        ["", ":log-stream:x", ":x"].map((suffix) => `logs:FilterLogEvents ${String(logGroup.state.arn)}${suffix}`),
      );
    });

    it("a notifier's role allows UpdateItem on its journal table only with burst grouping, whose events and sweep send it", () => {
      const grouped = judged(byType("aws:iam/role:Role").find((r) => r.name === "activity-hogehoge-handler-role")!);
      const ungrouped = judged(others.find((r) => r.type === "aws:iam/role:Role" && r.name === "verify-no-grouping-handler-role")!, otherJudgement);
      const fn = byType("aws:lambda/function:Function").find((f) => f.name === "activity-hogehoge-handler")!;
      const updates = drift(fn).run.calls.filter((c) => c.command === "UpdateItemCommand");

      expect(pairs(grouped).filter((p) => p.startsWith("dynamodb:")).map((p) => p.split(" ")[0])).to.deep.equal(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
      expect(pairs(ungrouped).filter((p) => p.startsWith("dynamodb:")).map((p) => p.split(" ")[0])).to.deep.equal(["dynamodb:GetItem", "dynamodb:PutItem"]);
      expect(updates, "the notifier's archive sent no UpdateItem").not.to.deep.equal([]);
    });

    const otherModes: Record<string, string> = {
      "verify-logs-counter-handler": "counter: logs",
      "verify-no-grouping-handler": "sent journal: on, burst grouping: off",
      "verify-no-journal-handler": "sent journal: off, burst grouping: off",
    };
    for (const [functionName, expectedMode] of Object.entries(otherModes)) {
      it(`${functionName} (another mode): its room's declaration is what its archive sends, and its role allows exactly that`, () => {
        const fn = others.find((f) => f.type === "aws:lambda/function:Function" && f.name === functionName)!;
        const role = others.find((r) => r.type === "aws:iam/role:Role" && r.name === `${functionName}-role`)!;
        const { run, mode, problems } = drift(fn);
        expect(run.calls).not.to.deep.equal([]);
        expect(mode).to.equal(expectedMode);
        expect(problems).to.deep.equal([]);
        expectExactlyNeeded(judged(role, otherJudgement));
      });
    }

    it("a declaration that drifts from the code is caught: a call left out, a call never sent, another resource", () => {
      // Prepare
      const fn = byType("aws:lambda/function:Function").find((f) => f.name === "download-alerts-handler")!;
      const alter = (change: (calls: ReturnType<typeof downloadThresholdCalls.calls>) => ReturnType<typeof downloadThresholdCalls.calls>) => ({
        ...downloadThresholdCalls,
        calls: (settings: Parameters<typeof downloadThresholdCalls.calls>[0], where: Parameters<typeof downloadThresholdCalls.calls>[1]) => change(downloadThresholdCalls.calls(settings, where)),
      });
      const tableArn = String(byType("aws:dynamodb/table:Table").find((t) => t.name === "download-alerts-counts")!.state.arn);

      // Act
      const leftOut = drift(fn, alter((calls) => calls.filter((c) => c.command !== "UpdateItemCommand"))).problems;
      const neverSent = drift(fn, alter((calls) => [...calls, { client: "DynamoDBClient", command: "PutItemCommand", action: "dynamodb:PutItem", resources: [tableArn] }])).problems;
      const elsewhere = drift(fn, alter((calls) => calls.map((c) => (c.command === "UpdateItemCommand" ? { ...c, resources: [`${tableArn}-other`] } : c)))).problems;
      const wrongAction = drift(fn, alter((calls) => calls.map((c) => (c.command === "UpdateItemCommand" ? { ...c, action: "dynamodb:PutItem" } : c)))).problems;

      // Assess
      expect(leftOut).to.deep.equal([`the code sent DynamoDBClient UpdateItemCommand (dynamodb:UpdateItem) on ${tableArn}, which functions/downloadThreshold/calls.ts (counter: dynamodb) does not declare`]);
      expect(neverSent).to.deep.equal(["functions/downloadThreshold/calls.ts (counter: dynamodb) declares DynamoDBClient PutItemCommand, which the code never sent in this mode"]);
      expect(elsewhere).to.deep.equal([`the code sent UpdateItemCommand on ${tableArn}, outside what functions/downloadThreshold/calls.ts (counter: dynamodb) declares: ${tableArn}-other`]);
      expect(wrongAction).to.deep.equal(["functions/downloadThreshold/calls.ts (counter: dynamodb) declares UpdateItemCommand as dynamodb:PutItem, but it needs dynamodb:UpdateItem"]);
    });
  });

  it("reader roles: allow exactly the calls the backfill makes with their credentials", () => {
    const readers = byType("aws:iam/role:Role").filter((r) => r.name.startsWith("backfill-reader-"));
    expect(readers).to.have.length(4);
    const backfill = byType("aws:lambda/function:Function").find((f) => f.name === "backfill-function")!;
    expect(drift(backfill).run.calls.filter((c) => c.client === "CloudTrailClient").map((c) => c.action)).to.include("cloudtrail:LookupEvents");
    for (const role of readers) {
      const verdict = judged(role);
      expectExactlyNeeded(verdict);
      expect(verdict.needed.map((n) => `${n.action} ${n.resource}`)).to.deep.equal(["cloudtrail:LookupEvents *"]);
      expect(pairs(verdict)).to.deep.equal(["cloudtrail:LookupEvents *"]);
    }
  });

  it("the trail's delivery role: allows exactly CloudTrail's delivery calls, on its own log group", () => {
    const verdict = judged(byType("aws:iam/role:Role").find((r) => r.name === "trail-delivery-role")!);
    const logGroup = byType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.name === "trail-logs")!;

    expectExactlyNeeded(verdict);
    expect(pairs(verdict)).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => `${action} ${String(logGroup.state.arn)}:log-stream:x`));
  });

  it("the state machine role: allows exactly what its definition's states need, on its own function, executions and results", () => {
    const machine = byType("aws:sfn/stateMachine:StateMachine")[0];
    const verdict = judged(byType("aws:iam/role:Role").find((r) => dependsOn(machine, "roleArn", r))!);
    const functionArn = String(byType("aws:lambda/function:Function").find((f) => f.name === "backfill-function")!.state.arn);
    const children = String(machine.state.arn).replace(":stateMachine:", ":execution:");

    expectExactlyNeeded(verdict);
    const results = `${String(byType("aws:s3/bucket:Bucket").find((b) => b.name === "backfill-bucket")!.state.arn)}/TrailBackfillResults/x`;
    expect(pairs(verdict)).to.deep.equal([
      `lambda:InvokeFunction ${functionArn}`,
      ...["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"].map((action) => `${action} ${results}`),
      `states:DescribeExecution ${children}/Pairs:x`,
      `states:RedriveExecution ${children}/Pairs:x`,
      `states:StartExecution ${String(machine.state.arn)}`,
      `states:StopExecution ${children}/Pairs:x`,
    ]);
  });

  it("EventBridge forwarding roles: allow exactly events:PutEvents on the buses their rules target", () => {
    const roles = byType("aws:iam/role:Role").filter((r) => parse(r.inputs.assumeRolePolicy).Statement.some((s) => (s.Principal as { Service?: string }).Service === "events.amazonaws.com"));
    // The notifier's rule in us-east-1 and the alarm forwarding from us-east-1.
    expect(roles.map((r) => r.name).sort()).to.deep.equal(["activity-ssm-sessions-forward-role", "alerts-alarms-us-east-1-role"]);
    for (const role of roles) {
      const buses = byType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => dependsOn(t, "roleArn", role)).map((t) => String(t.inputs.arn));
      const verdict = judged(role);

      expectExactlyNeeded(verdict);
      expect(buses.every((arn) => /:event-bus\//.test(arn))).to.equal(true);
      expect(pairs(verdict)).to.deep.equal([...new Set(buses)].sort().map((bus) => `events:PutEvents ${bus}`));
    }
  });

  it("the chat channels' role (a stack with chat): allows nothing, which is what it needs; reading notifications needs no permission", () => {
    // Prepare
    const role = chat.find((r) => r.type === "aws:iam/role:Role")!;
    const configuration = chat.find((r) => r.type === "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration")!;
    expect(dependsOn(configuration, "iamRoleArn", role)).to.equal(true);

    // Act
    const verdict = judged(role, otherJudgement);

    // Assess: custom notifications and alarm messages are posted without the role; the guardrail caps it at nothing.
    expectExactlyNeeded(verdict);
    expect(verdict.uses).to.deep.equal(["Amazon Q Developer Slack channel chat-slack-T07EA123LEP-C07EZ1ABC23 (posts the topic's notifications)"]);
    expect(verdict.needed).to.deep.equal([]);
    expect(verdict.allowed).to.deep.equal([]);
    expect(verdict.sources).to.have.length(1);
    expect(configuration.inputs.guardrailPolicyArns).to.deep.equal(["arn:aws:iam::aws:policy/AWSDenyAll"]);
  });
});

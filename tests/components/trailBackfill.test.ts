import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic, BACKFILL_MAP_LABEL, TrailBackfill } from "../../components";
import { systemClock } from "../../functions/shared/runtime";
import { NON_RETRYABLE_ERRORS } from "../../functions/trailBackfill/handler";
import { logFileKey } from "../../functions/trailBackfill/logFiles";
import { materializeArchive, withEnvironment } from "../../preview/lambdaArchive";
import type { RecordedResource } from "../../preview/mockCloud";
import { BackfillHarness } from "../../simulation/backfillHarness";
import { policyOf, resourcesOf, single } from "../support/engine";
import { fakeEvent, type FakeEvent, seededRandom } from "../../simulation/fakeCloudTrail";
import { valueOf } from "../support/outputs";
import { logFileRecords } from "../../simulation/s3Server";
import { StateMachineInterpreter } from "../../simulation/stateMachineInterpreter";

const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";
const READERS: Record<string, string> = {
  "111111111111": "arn:aws:iam::111111111111:role/tb-reader-a",
  "222222222222": "arn:aws:iam::222222222222:role/tb-reader-b",
  "333333333333": "arn:aws:iam::333333333333:role/tb-reader-c",
};
const LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"];

type Definition = {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
};

/** Runs `body` with the console's info, warn and error lines collected (the handler's structured logs) instead of printed. */
async function capturingLogs<T>(body: () => Promise<T>): Promise<{ result: T; logs: Array<Record<string, unknown>> }> {
  const logs: Array<Record<string, unknown>> = [];
  const original = { info: console.info, warn: console.warn, error: console.error };
  const collect = (level: string) => (entry: unknown) => logs.push({ level, ...(entry as Record<string, unknown>) });
  Object.assign(console, { info: collect("info"), warn: collect("warn"), error: collect("error") });
  try {
    return { result: await body(), logs };
  } finally {
    Object.assign(console, original);
  }
}

function environmentOf(fn: RecordedResource): Record<string, string> {
  return (fn.inputs.environment as { variables: Record<string, string> }).variables;
}

describe("TrailBackfill", () => {
  let topic: AlertTopic;

  before(() => {
    topic = new AlertTopic("tb-topic", {});
  });

  describe("created bucket, three reader roles", () => {
    let backfill: TrailBackfill;
    let resources: RecordedResource[];
    let definition: Definition;

    before(async () => {
      backfill = new TrailBackfill("tb-created", { alertTopic: topic, maxConcurrency: 25, readerExternalId: "tb-external" });
      for (const [account, arn] of Object.entries(READERS)) {
        backfill.addReaderRole(account, pulumi.output(arn));
      }
      resources = await resourcesOf(backfill);
      definition = JSON.parse(single(resources, "aws:sfn/stateMachine:StateMachine").inputs.definition as string) as Definition;
    });

    it("creates exactly the bucket and its settings, the function, the state machine, its role and two alarms", async () => {
      const urn = await valueOf(backfill.urn);
      const own = resources.filter((r) => r.parent === urn);

      expect(own.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
        "aws:cloudwatch/metricAlarm:MetricAlarm tb-created-executions-failed",
        "aws:cloudwatch/metricAlarm:MetricAlarm tb-created-failed-pairs",
        "aws:iam/role:Role tb-created-state-machine-role",
        "aws:iam/rolePolicy:RolePolicy tb-created-state-machine-policy",
        "aws:s3/bucket:Bucket tb-created-bucket",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls tb-created-bucket-ownership",
        "aws:s3/bucketPolicy:BucketPolicy tb-created-bucket-policy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock tb-created-bucket-public-access",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration tb-created-bucket-encryption",
        "aws:s3/bucketVersioning:BucketVersioning tb-created-bucket-versioning",
        "aws:sfn/stateMachine:StateMachine tb-created",
        "cloudtrail-alerts:lambda:SecureCallbackFunction tb-created-function",
      ]);
      expect(resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.name)).to.deep.equal(["tb-created-function"]);
    });

    it("blocks public access, disables ACLs, encrypts, versions and refuses plain HTTP on the bucket", () => {
      const bucket = single(resources, "aws:s3/bucket:Bucket");
      const arn = bucket.state.arn as string;

      expect(single(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      expect(single(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
      expect(single(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules).to.deep.equal([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: false },
      ]);
      expect(single(resources, "aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).to.deep.equal({ status: "Enabled" });
      expect(policyOf(single(resources, "aws:s3/bucketPolicy:BucketPolicy")).Statement).to.deep.equal([
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
      ]);
    });

    it("lets the function assume exactly the reader roles and write only under AWSLogs/ of its bucket", () => {
      const bucketArn = single(resources, "aws:s3/bucket:Bucket").state.arn as string;
      const statements = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-created-function-policy")).Statement;

      expect(statements.slice(1)).to.deep.equal([
        { Sid: "AssumeReaderRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: Object.values(READERS).sort() },
        { Sid: "WriteLogFiles", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/AWSLogs/*` },
        { Sid: "ReadMapResults", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/TrailBackfillResults/*` },
      ]);
      // Invoked synchronously only: no dead-letter queue to write to.
      expect(statements.slice(0, 1).map((s) => s.Sid)).to.deep.equal(["WriteOwnLogs"]);
    });

    it("runs the function for up to 15 minutes with its settings in the environment", async () => {
      const fn = single(resources, "aws:lambda/function:Function");

      expect(fn.inputs).to.deep.include({ timeout: 900, memorySize: 512, runtime: "nodejs22.x" });
      expect(environmentOf(fn)).to.deep.equal({
        BACKFILL_BUCKET: single(resources, "aws:s3/bucket:Bucket").state.bucket,
        BACKFILL_KEY_PREFIX: "",
        BACKFILL_BUCKET_OWNER: ACCOUNT,
        REQUESTS_PER_SECOND: "2",
        CONCURRENT_REQUESTS_PER_PAIR: "4",
        READER_EXTERNAL_ID: "tb-external",
      });
      expect(await valueOf(backfill.readerRoleArns)).to.deep.equal(READERS);
    });

    it("lets only this state machine and its Map Run's children assume its role, to invoke its function, manage only its own Map Run and export its results", async () => {
      const name = "cloudtrail-alerts-dev-tb-created";
      const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
      const role = single(resources, "aws:iam/role:Role", "tb-created-state-machine-role");

      expect(policyOf(role, "assumeRolePolicy").Statement).to.deep.equal([
        {
          Effect: "Allow",
          Principal: { Service: "states.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": [stateMachineArn, `${stateMachineArn}/${BACKFILL_MAP_LABEL}:*`] } },
        },
      ]);
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-created-state-machine-policy")).Statement).to.deep.equal([
        { Sid: "InvokeBackfillFunction", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: await valueOf(backfill.function.functionArn) },
        { Sid: "StartPairExecutions", Effect: "Allow", Action: "states:StartExecution", Resource: stateMachineArn },
        {
          Sid: "ManageOwnMapRuns",
          Effect: "Allow",
          Action: ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"],
          Resource: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${name}/${BACKFILL_MAP_LABEL}:*`,
        },
        {
          Sid: "ExportMapResults",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
          Resource: `${single(resources, "aws:s3/bucket:Bucket").state.arn as string}/TrailBackfillResults/*`,
        },
      ]);
      const machine = single(resources, "aws:sfn/stateMachine:StateMachine");
      expect(machine.inputs).to.deep.include({ name, type: "STANDARD", roleArn: role.state.arn });
      expect(await valueOf(backfill.stateMachineArn)).to.equal(stateMachineArn);
    });

    it("plans, then fans out over the pairs with a Distributed Map of the configured concurrency", async () => {
      const functionArn = await valueOf(backfill.function.functionArn);
      const plan = definition.States.Plan;
      const map = definition.States.BackfillPairs;

      expect(definition.StartAt).to.equal("Plan");
      expect(plan).to.deep.include({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", OutputPath: "$.Payload", Next: "BackfillPairs" });
      expect(plan.Parameters).to.deep.equal({ FunctionName: functionArn, Payload: { action: "plan", "input.$": "$", readerRoleArns: READERS } });
      expect(map).to.deep.include({ Type: "Map", Label: BACKFILL_MAP_LABEL, ItemsPath: "$.items", MaxConcurrency: 25, ToleratedFailurePercentage: 100, ResultPath: "$.results", Next: "Summarize" });
      expect(map.ResultWriter).to.deep.equal({ Resource: "arn:aws:states:::s3:putObject", Parameters: { Bucket: single(resources, "aws:s3/bucket:Bucket").state.bucket, Prefix: "TrailBackfillResults" } });
      expect((map.ItemProcessor as Record<string, unknown>).ProcessorConfig).to.deep.equal({ Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
      expect(map.ItemSelector).to.deep.equal({
        "account.$": "$$.Map.Item.Value.account",
        "region.$": "$$.Map.Item.Value.region",
        "startTime.$": "$.startTime",
        "endTime.$": "$.endTime",
      });
    });

    it("loops each pair's invocations until done, retrying Lambda and service errors and recording a failed pair", async () => {
      const functionArn = await valueOf(backfill.function.functionArn);
      const states = ((definition.States.BackfillPairs.ItemProcessor as Record<string, unknown>).States ?? {}) as Record<string, Record<string, unknown>>;

      expect(Object.keys(states).sort()).to.deep.equal(["Fetch", "PairDone", "PairDone?", "PairFailed"]);
      expect(states.Fetch).to.deep.include({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", OutputPath: "$.Payload", TimeoutSeconds: 960, Next: "PairDone?" });
      expect(states.Fetch.Parameters).to.deep.equal({ FunctionName: functionArn, Payload: { action: "fetch", "checkpoint.$": "$", readerRoleArns: READERS } });
      expect(states.Fetch.Retry).to.deep.equal([
        { ErrorEquals: [...NON_RETRYABLE_ERRORS], MaxAttempts: 0 },
        { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: "FULL" },
        { ErrorEquals: ["States.ALL"], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 3, MaxDelaySeconds: 300, JitterStrategy: "FULL" },
      ]);
      expect(states.Fetch.Catch).to.deep.equal([{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "PairFailed" }]);
      expect(states["PairDone?"]).to.deep.equal({ Type: "Choice", Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "PairDone" }], Default: "Fetch" });
      expect(states.PairDone).to.deep.equal({ Type: "Succeed" });
      expect(states.PairFailed).to.deep.equal({ Type: "Pass", Parameters: { "account.$": "$.account", "region.$": "$.region", status: "FAILED", "error.$": "$.failure.Error" }, End: true });
      expect(definition.States.Summarize).to.deep.include({ Type: "Task", OutputPath: "$.Payload", End: true });
      expect(definition.States.Plan.Retry).to.deep.equal([{ ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: "FULL" }]);
    });

    it("alarms to the alert topic on failed executions and on executions that end with failed pairs", async () => {
      const topicArn = await valueOf(topic.topicArn);
      const machine = single(resources, "aws:sfn/stateMachine:StateMachine");
      const fn = single(resources, "aws:lambda/function:Function");

      expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "tb-created-executions-failed").inputs).to.deep.include({
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        dimensions: { StateMachineArn: machine.state.arn },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        alarmActions: [topicArn],
      });
      expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "tb-created-failed-pairs").inputs).to.deep.include({
        namespace: "CloudTrailAlerts",
        metricName: "BackfillFailedPairs",
        dimensions: { FunctionName: fn.state.name },
        statistic: "Maximum",
        threshold: 1,
        alarmActions: [topicArn],
      });
    });

    it("gives the function, which only the state machine invokes (synchronously), no async config, dead-letter queue or alarm on one", () => {
      const types = resources.map((r) => r.type);
      expect(types).to.not.include("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      expect(types).to.not.include("aws:sqs/queue:Queue");
      expect(resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => r.name).sort()).to.deep.equal([
        "tb-created-executions-failed",
        "tb-created-failed-pairs",
        "tb-created-function-errors",
      ]);
      expect(backfill.function.deadLetterQueue).to.equal(undefined);
    });

    it("refuses a second reader role for an account, and one added after construction", () => {
      expect(() => backfill.addReaderRole("222222222222", "arn:aws:iam::222222222222:role/other")).to.throw("TrailBackfill.addReaderRole: account 222222222222 already has a reader role");
      expect(() => backfill.addReaderRole("12345", "arn:aws:iam::12345:role/x")).to.throw('accountId must be a 12-digit AWS account ID, got "12345"');
      expect(() => backfill.addReaderRole("555555555555", "arn:aws:iam::555555555555:role/late")).to.throw("added after the program finished constructing resources");
    });

    describe("archive", () => {
      it("ships the handler without the AWS SDK or Pulumi", async () => {
        const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);

        expect(archive.files.map((f) => f.path)).to.deep.equal(["__index.js"]);
        expect(archive.zippedBytes).to.be.at.most(100 * 1024);
      });

      it("runs the state machine with the serialized handler: every event of a pair written once, a denied pair listed as failed", async () => {
        // Prepare: an execution over the last whole hour; account 222222222222 has events, 333333333333's role cannot
        // be assumed. LookupEvents runs at its real 2 requests/s on the system clock.
        const fn = single(resources, "aws:lambda/function:Function");
        const variables = environmentOf(fn);
        const harness = await BackfillHarness.start({ clock: systemClock, roles: [{ arn: READERS["222222222222"], externalId: "tb-external" }], buckets: [variables.BACKFILL_BUCKET] });
        const end = Math.floor(Date.now() / 300_000) * 300_000 - 300_000;
        const start = end - 3_600_000;
        const random = seededRandom(11);
        const events: FakeEvent[] = Array.from({ length: 300 }, (_, i) =>
          fakeEvent({ id: `tb-${String(i).padStart(4, "0")}`, time: start + Math.floor(random() * 3600) * 1000, account: "222222222222", region: "us-east-1" }),
        );
        harness.lookup.setEvents("222222222222", "us-east-1", events);
        const archive = await materializeArchive(fn.inputs.code);
        const functionArn = fn.state.arn as string;

        // Act: each invocation may send requests for 3 seconds, so the pair needs several (checkpoints in between).
        const { result: execution, logs } = await capturingLogs(() =>
          withEnvironment({ ...harness.environment, ...variables }, async () => {
            const handler = archive.loadHandler<unknown, unknown>();
            const interpreter = new StateMachineInterpreter(
              definition,
              (arn, payload) => {
                expect(arn).to.equal(functionArn);
                return handler(payload, { getRemainingTimeInMillis: () => 123_000 });
              },
              { stateMachineArn: await valueOf(backfill.stateMachineArn), putResultObject: harness.resultWriter() },
            );
            return interpreter.start({ accounts: ["222222222222", "333333333333"], regions: ["us-east-1"], startTime: new Date(start).toISOString(), endTime: new Date(end).toISOString() });
          }),
        );
        const objects = await harness.s3.objects(variables.BACKFILL_BUCKET, "AWSLogs/");
        const exported = await harness.s3.objects(variables.BACKFILL_BUCKET, "TrailBackfillResults/");
        await harness.stop();

        // Assess
        const output = execution.output as { done: Array<Record<string, unknown>>; failed: unknown[]; totals: Record<string, number>; pairs: number };
        expect(output.pairs).to.equal(2);
        // The Map exported the pairs' results (a manifest and a file per status) where the summary read them.
        // The denied pair's child caught its error and succeeded with a FAILED status, so there is no FAILED file.
        expect(exported.map((o) => o.key.split("/").pop()).sort()).to.deep.equal(["SUCCEEDED_0.json", "manifest.json"]);
        expect(output).to.deep.include({ doneCount: 1, failedCount: 1, results: { bucket: variables.BACKFILL_BUCKET, manifestKey: exported.find((o) => o.key.endsWith("manifest.json"))!.key } });
        expect(output.failed).to.deep.equal([{ account: "333333333333", region: "us-east-1", error: "ReaderRoleAccessDeniedError" }]);
        expect(output.done).to.have.length(1);
        expect(output.done[0]).to.deep.include({ account: "222222222222", region: "us-east-1", events: 300, files: objects.length });
        const ids = objects.flatMap((o) => logFileRecords(o.bytes).map((r) => r.eventID as string));
        expect(ids.sort()).to.deep.equal(events.map((e) => e.id).sort());
        for (const object of objects) {
          const windowStart = Math.floor(Date.parse(logFileRecords(object.bytes)[0].eventTime as string) / 300_000) * 300_000;
          expect(object.key).to.equal(logFileKey({ accountId: "222222222222", region: "us-east-1", windowStart: new Date(windowStart) }));
          expect(object).to.deep.include({ contentType: "application/json", contentEncoding: "gzip" });
        }
        const pair = execution.children.find((c) => (c.input as { account: string }).account === "222222222222")!;
        expect(pair.invocations).to.be.greaterThan(1);
        // Each invocation costs 7 history events (Task 5, Choice 2), plus 4 for the execution and its end.
        expect(pair.historyEvents).to.equal(4 + 7 * pair.invocations);
        expect(harness.sts.calls.filter((c) => c.outcome === "ok").every((c) => c.externalId === "tb-external" && c.sessionName === "cloudtrail-alerts-backfill")).to.equal(true);
        const failures = logs.filter((l) => l.level === "error");
        expect(failures.map(({ message, action, account, region, error }) => ({ message, action, account, region, error }))).to.deep.equal([
          { message: "backfill step failed", action: "fetch", account: "333333333333", region: "us-east-1", error: "ReaderRoleAccessDeniedError" },
        ]);
        expect(logs.filter((l) => l.message === "backfill invocation finished" && l.account === "222222222222")).to.have.length(pair.invocations);
      });

      it("fails the execution with the input's problems named when the input is invalid", async () => {
        const fn = single(resources, "aws:lambda/function:Function");
        const archive = await materializeArchive(fn.inputs.code);

        const { result: failure, logs } = await capturingLogs(() =>
          withEnvironment({ ...environmentOf(fn), AWS_REGION: REGION, AWS_ACCESS_KEY_ID: "AKIAUNUSED", AWS_SECRET_ACCESS_KEY: "unused" }, async () => {
            const handler = archive.loadHandler<unknown, unknown>();
            const interpreter = new StateMachineInterpreter(definition, (_arn, payload) => handler(payload, { getRemainingTimeInMillis: () => 900_000 }), { putResultObject: () => Promise.resolve() });
            return interpreter.start({ accounts: ["999999999999"], regions: ["us-east-1"], startTime: "2020-01-01T00:00:00Z", endTime: "soon" }).then(
              () => undefined,
              (error: Error & { error: string; cause: string }) => error,
            );
          }),
        );

        expect(failure?.error).to.equal("InvalidBackfillInputError");
        expect(JSON.parse(failure!.cause)).to.deep.include({ errorType: "InvalidBackfillInputError" });
        expect((JSON.parse(failure!.cause) as { errorMessage: string }).errorMessage).to.match(
          /^invalid backfill input: accounts: 999999999999 has no reader role; deployed reader roles are in 111111111111, 222222222222, 333333333333; endTime must be an ISO 8601 time/,
        );
        expect(logs.map(({ level, message, action, error }) => ({ level, message, action, error }))).to.deep.equal([
          { level: "error", message: "backfill step failed", action: "plan", error: "InvalidBackfillInputError" },
        ]);
      });
    });
  });

  describe("adopted bucket with a prefix and a customer managed key", () => {
    it("creates no bucket and writes only under the prefix's AWSLogs/, using the key through S3", async () => {
      // Prepare
      const keyArn = "arn:aws:kms:ap-northeast-1:111111111111:key/0f0f0f0f-1111-2222-3333-444455556666";

      // Act
      const backfill = new TrailBackfill("tb-adopted", {
        alertTopic: topic,
        existingBucketName: "org-trail-logs",
        existingBucketOwner: "999999999999",
        existingBucketKmsKeyArn: keyArn,
        prefix: "/org-trail/",
        requestsPerSecond: 1.5,
        concurrentRequestsPerPair: 6,
      });
      backfill.addReaderRole("111111111111", "arn:aws:iam::111111111111:role/r");
      const resources = await resourcesOf(backfill);

      // Assess
      expect(resources.filter((r) => r.type.startsWith("aws:s3/"))).to.deep.equal([]);
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-adopted-function-policy")).Statement.slice(1)).to.deep.equal([
        { Sid: "AssumeReaderRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: ["arn:aws:iam::111111111111:role/r"] },
        { Sid: "WriteLogFiles", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::org-trail-logs/org-trail/AWSLogs/*" },
        { Sid: "ReadMapResults", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::org-trail-logs/org-trail/TrailBackfillResults/*" },
        { Sid: "EncryptLogFiles", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn, Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } } },
      ]);
      expect(environmentOf(single(resources, "aws:lambda/function:Function"))).to.deep.equal({
        BACKFILL_BUCKET: "org-trail-logs",
        BACKFILL_KEY_PREFIX: "org-trail",
        BACKFILL_BUCKET_OWNER: "999999999999",
        REQUESTS_PER_SECOND: "1.5",
        CONCURRENT_REQUESTS_PER_PAIR: "6",
      });
      expect(backfill.keyPrefix).to.equal("org-trail");
    });
  });

  describe("organization trail key layout", () => {
    it("writes only under AWSLogs/<organization ID>/ of the prefix, and tells the function the organization ID", async () => {
      // Act
      const backfill = new TrailBackfill("tb-org", {
        alertTopic: topic,
        existingBucketName: "org-trail-logs",
        prefix: "org-trail",
        keyLayout: "organization",
        organizationId: "o-a1b2c3d4e5",
      });
      backfill.addReaderRole("222222222222", "arn:aws:iam::222222222222:role/r");
      const resources = await resourcesOf(backfill);

      // Assess
      const statements = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-org-function-policy")).Statement;
      expect(statements.filter((s) => s.Action === "s3:PutObject")).to.deep.equal([
        { Sid: "WriteLogFiles", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::org-trail-logs/org-trail/AWSLogs/o-a1b2c3d4e5/*" },
      ]);
      // The Map's results stay outside AWSLogs/, under the prefix.
      expect(statements.find((s) => s.Sid === "ReadMapResults")?.Resource).to.equal("arn:aws:s3:::org-trail-logs/org-trail/TrailBackfillResults/*");
      expect(environmentOf(single(resources, "aws:lambda/function:Function"))).to.deep.include({ BACKFILL_KEY_PREFIX: "org-trail", BACKFILL_KEY_ORGANIZATION_ID: "o-a1b2c3d4e5" });
      expect(backfill.logFilesFolder).to.equal("org-trail/AWSLogs/o-a1b2c3d4e5/");
    });

    it("keeps the account layout by default: AWSLogs/ without an organization ID, and no organization ID for the function", async () => {
      const backfill = new TrailBackfill("tb-acct", { alertTopic: topic, existingBucketName: "trail-logs", keyLayout: "account" });
      backfill.addReaderRole("222222222222", "arn:aws:iam::222222222222:role/r");
      const resources = await resourcesOf(backfill);

      const statements = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-acct-function-policy")).Statement;
      expect(statements.find((s) => s.Sid === "WriteLogFiles")?.Resource).to.equal("arn:aws:s3:::trail-logs/AWSLogs/*");
      expect(environmentOf(single(resources, "aws:lambda/function:Function"))).not.to.have.property("BACKFILL_KEY_ORGANIZATION_ID");
      expect(backfill.logFilesFolder).to.equal("AWSLogs/");
    });
  });

  describe("without reader roles", () => {
    it("grants no sts:AssumeRole and warns that no account can be read", async () => {
      // Prepare
      const warnings: string[] = [];
      const original = pulumi.log.warn;
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (message: string) => {
        warnings.push(message);
        return Promise.resolve();
      };

      // Act
      let resources: RecordedResource[];
      try {
        resources = await resourcesOf(new TrailBackfill("tb-noreaders", { alertTopic: topic }));
      } finally {
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
      }

      // Assess
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "tb-noreaders-function-policy")).Statement.map((s) => s.Sid)).to.deep.equal(["WriteOwnLogs", "WriteLogFiles", "ReadMapResults"]);
      expect(warnings).to.deep.equal([
        'TrailBackfill "tb-noreaders" has no reader roles: it cannot read any account. Register each account\'s TrailReaderRole with addReaderRole().',
      ]);
    });
  });

  describe("validateArgs", () => {
    const alertTopic = undefined as unknown as AlertTopic;
    const cases: Array<[string, Parameters<typeof TrailBackfill.validateArgs>[1], string]> = [
      ["adopt and create args together", { alertTopic, existingBucketName: "logs-bucket", bucketKmsKeyArn: "arn:aws:kms:x" } as never, "existingBucketName adopts a bucket and cannot be combined with bucketKmsKeyArn; use existingBucketKmsKeyArn"],
      ["an owner without an adopted bucket", { alertTopic, existingBucketOwner: "111111111111" } as never, "existingBucketOwner and existingBucketKmsKeyArn apply only together with existingBucketName"],
      ["a bad bucket name", { alertTopic, existingBucketName: "Logs_Bucket" }, 'existingBucketName must be an S3 bucket name (3-63 lowercase letters, digits, \'.\' and \'-\'), got "Logs_Bucket"'],
      ["a prefix with ..", { alertTopic, prefix: "logs/../x" }, "prefix must be S3 key segments of letters, digits and !_.*'()- separated by '/', got \"logs/../x\""],
      ["a rate above the quota", { alertTopic, requestsPerSecond: 3 }, "requestsPerSecond must be more than 0 and at most 2 (LookupEvents allows 2 requests per second per account and region), got 3"],
      ["a concurrency above Step Functions' limit", { alertTopic, maxConcurrency: 20000 }, "maxConcurrency must be a whole number from 1 to 10000, got 20000"],
      ["too many requests in flight", { alertTopic, concurrentRequestsPerPair: 0 }, "concurrentRequestsPerPair must be a whole number from 1 to 16, got 0"],
      ["a state machine name with spaces", { alertTopic, stateMachineName: "my backfill" }, 'stateMachineName must be 1-80 letters, digits, \'-\' and \'_\', got "my backfill"'],
      ["a short external ID", { alertTopic, readerExternalId: "x" }, 'readerExternalId must be 2-1224 letters, digits and +=,.@:/-_, got "x"'],
      ["the organization layout without an organization ID", { alertTopic, keyLayout: "organization" }, 'keyLayout "organization" needs organizationId, an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits) (the organization trail\'s keys hold it), got undefined'],
      ["the organization layout with a bad organization ID", { alertTopic, keyLayout: "organization", organizationId: "o-A1B2" }, 'keyLayout "organization" needs organizationId, an organization ID such as o-a1b2c3d4e5 (o- and 10 to 32 lowercase letters or digits) (the organization trail\'s keys hold it), got "o-A1B2"'],
      ["an organization ID with the account layout", { alertTopic, organizationId: "o-a1b2c3d4e5" }, 'organizationId "o-a1b2c3d4e5" is used only by keyLayout "organization" (the account layout\'s keys hold no organization ID)'],
      ["an unknown key layout", { alertTopic, keyLayout: "org" as never }, 'keyLayout must be "account" or "organization", got "org"'],
    ];
    for (const [title, args, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => TrailBackfill.validateArgs("v", args)).to.throw(`TrailBackfill "v": ${message}`);
      });
    }
  });
});

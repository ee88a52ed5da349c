import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { expect } from "chai";

import { AlertTopic, archiveContents, SecureCallbackFunction } from "../../components";
import { materializeArchive, withEnvironment } from "../../preview/lambdaArchive";
import { RecordedResource } from "../../preview/mockCloud";
import { policyOf, PROJECT_DIRECTORY, resourcesOf, single } from "../support/engine";
import { FakeSns } from "../../simulation/fakeSns";
import { valueOf } from "../support/outputs";
import { relayCallbackFactory, RelayResult } from "../../simulation/relayCallback";

/** The 100 KB budget of a function archive, zipped as uploaded. */
const ARCHIVE_BUDGET_BYTES = 100 * 1024;

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", name), "utf8"));
}

describe("SecureCallbackFunction", () => {
  let topic: AlertTopic;
  let fn: SecureCallbackFunction<unknown, RelayResult>;
  let resources: RecordedResource[];

  before(async () => {
    topic = new AlertTopic("scf-topic", {});
    fn = new SecureCallbackFunction("scf-relay", {
      description: "relays CloudTrail records to the alert topic",
      callbackFactory: relayCallbackFactory,
      statements: [],
      alertTopic: topic,
      publishesAlerts: true,
      environment: { STAGE: "test" },
    });
    resources = await resourcesOf(fn);
  });

  it("creates exactly its role, policy, log group, dead-letter queue, function, async config and two alarms", () => {
    expect(resources.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "aws:cloudwatch/logGroup:LogGroup scf-relay-logs",
      "aws:cloudwatch/metricAlarm:MetricAlarm scf-relay-dead-letters",
      "aws:cloudwatch/metricAlarm:MetricAlarm scf-relay-errors",
      "aws:iam/role:Role scf-relay-role",
      "aws:iam/rolePolicy:RolePolicy scf-relay-policy",
      "aws:lambda/function:Function scf-relay",
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig scf-relay-async",
      "aws:sqs/queue:Queue scf-relay-dead-letters",
    ]);
  });

  it("never attaches managed policies: the role's only permissions are its inline policy", () => {
    expect(resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
    expect(single(resources, "aws:iam/role:Role").inputs.managedPolicyArns).to.equal(undefined);
  });

  it("lets only the Lambda service assume its role", () => {
    expect(policyOf(single(resources, "aws:iam/role:Role"), "assumeRolePolicy")).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
  });

  it("allows exactly its own logs, its dead-letter queue and publishing to the topic", async () => {
    const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");
    const queue = single(resources, "aws:sqs/queue:Queue");
    const [topicArn, keyArn] = await Promise.all([valueOf(topic.topicArn), valueOf(topic.kmsKeyArn)]);

    expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement).to.deep.equal([
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${String(logGroup.state.arn)}:log-stream:*` },
      { Sid: "KeepFailedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: queue.state.arn },
      { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
      { Sid: "EncryptAlerts", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn },
    ]);
  });

  it("registers its role as a publisher in the topic policy", async () => {
    const topicPolicy = policyOf(single(await resourcesOf(topic), "aws:sns/topicPolicy:TopicPolicy"));
    const roleArn = await valueOf(fn.roleArn);

    expect(topicPolicy.Statement.find((s) => s.Sid === "AllowProjectFunctions")?.Principal).to.deep.equal({ AWS: [roleArn] });
  });

  it("runs nodejs22.x on arm64 with JSON logs in its own log group and its settings in the environment", async () => {
    const fnResource = single(resources, "aws:lambda/function:Function");
    const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");

    expect(fnResource.inputs).to.deep.include({
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 256,
      timeout: 60,
      handler: "__index.handler",
      role: single(resources, "aws:iam/role:Role").state.arn,
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.state.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
      environment: { variables: { STAGE: "test", ALERT_TOPIC_ARN: await valueOf(topic.topicArn) } },
    });
    expect(logGroup.inputs.retentionInDays).to.equal(30);
  });

  it("retries asynchronous invocations twice and keeps failures in an encrypted queue for 14 days", () => {
    const queue = single(resources, "aws:sqs/queue:Queue");
    expect(queue.inputs).to.include({ sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
    expect(single(resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs).to.deep.include({
      functionName: single(resources, "aws:lambda/function:Function").state.name,
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 21600,
      destinationConfig: { onFailure: { destination: queue.state.arn } },
    });
  });

  it("alarms on the first error and on the first dead letter, to the alert topic", async () => {
    const topicArn = await valueOf(topic.topicArn);
    const fnName = String(single(resources, "aws:lambda/function:Function").state.name);
    const logGroupName = String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.name);
    const queueName = String(single(resources, "aws:sqs/queue:Queue").state.name);
    const onFirst = { evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching", alarmActions: [topicArn] };

    expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "scf-relay-errors").inputs).to.deep.equal({
      alarmDescription: `Lambda function ${fnName} (relays CloudTrail records to the alert topic) failed. Its logs are in log group ${logGroupName}; events that still fail after 2 retries are kept in SQS queue ${queueName} for 14 days.`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fnName },
      statistic: "Sum",
      period: 60,
      ...onFirst,
    });
    expect(single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "scf-relay-dead-letters").inputs).to.deep.equal({
      alarmDescription: `Events that Lambda function ${fnName} (relays CloudTrail records to the alert topic) could not process are waiting in SQS queue ${queueName}: alerts may have been missed. Inspect and redrive them within 14 days.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queueName },
      statistic: "Maximum",
      period: 300,
      ...onFirst,
    });
  });

  describe("with rejectedInputAlarm", () => {
    let checked: SecureCallbackFunction<unknown, RelayResult>;
    let checkedResources: RecordedResource[];

    before(async () => {
      checked = new SecureCallbackFunction("scf-checked", {
        description: "relays CloudTrail records",
        callbackFactory: relayCallbackFactory,
        statements: [],
        alertTopic: topic,
        rejectedInputAlarm: { consequence: "the records in it were not relayed" },
      });
      checkedResources = await resourcesOf(checked);
    });

    it("creates exactly the resources of a function without it, plus the rejected-input alarm as its own child", async () => {
      const urn = await valueOf(checked.urn);

      expect(checkedResources.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
        "aws:cloudwatch/logGroup:LogGroup scf-checked-logs",
        "aws:cloudwatch/metricAlarm:MetricAlarm scf-checked-dead-letters",
        "aws:cloudwatch/metricAlarm:MetricAlarm scf-checked-errors",
        "aws:cloudwatch/metricAlarm:MetricAlarm scf-checked-rejected-input",
        "aws:iam/role:Role scf-checked-role",
        "aws:iam/rolePolicy:RolePolicy scf-checked-policy",
        "aws:lambda/function:Function scf-checked",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig scf-checked-async",
        "aws:sqs/queue:Queue scf-checked-dead-letters",
      ]);
      expect(single(checkedResources, "aws:cloudwatch/metricAlarm:MetricAlarm", "scf-checked-rejected-input").parent).to.equal(urn);
    });

    it("alarms on the first RejectedInput of 5 minutes, to the alert topic, saying what is lost and where the reasons are", async () => {
      const fnName = String(single(checkedResources, "aws:lambda/function:Function").state.name);
      const logGroupName = String(single(checkedResources, "aws:cloudwatch/logGroup:LogGroup").state.name);

      expect(single(checkedResources, "aws:cloudwatch/metricAlarm:MetricAlarm", "scf-checked-rejected-input").inputs).to.deep.equal({
        alarmDescription: `Lambda function ${fnName} (relays CloudTrail records) received input it could not decode: the records in it were not relayed. It logs each reason in log group ${logGroupName} (message "input rejected").`,
        namespace: "CloudTrailAlerts",
        metricName: "RejectedInput",
        dimensions: { FunctionName: fnName },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [await valueOf(topic.topicArn)],
      });
      expect(checked.rejectedInputAlarm).to.not.equal(undefined);
      expect(fn.rejectedInputAlarm).to.equal(undefined);
    });
  });

  describe("archive", () => {
    it(`carries no AWS SDK, no Pulumi and nothing not asked for, and stays under ${ARCHIVE_BUDGET_BYTES / 1024} KB zipped`, async () => {
      const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);

      expect(archive.files.map((f) => f.path)).to.deep.equal(["__index.js"]);
      expect(archive.zippedBytes).to.be.at.most(ARCHIVE_BUDGET_BYTES);
    });

    it("serializes the callback so that, loaded from the archive, it handles the sample CloudWatch Logs payload", async () => {
      // Prepare
      const fnResource = single(resources, "aws:lambda/function:Function");
      const variables = (fnResource.inputs.environment as { variables: Record<string, string> }).variables;
      const sns = await FakeSns.start([variables.ALERT_TOPIC_ARN]);
      const archive = await materializeArchive(fnResource.inputs.code);

      // Act
      const result = await withEnvironment({ ...sns.environment, ...variables }, async () =>
        archive.loadHandler<unknown, RelayResult>()(fixture("cloudwatch-logs/subscription-event.json")),
      );
      await sns.stop();

      // Assess
      expect(result).to.deep.equal({ published: 1, rejected: 0 });
      expect(sns.published.map(({ topicArn, subject, message }) => ({ topicArn, subject, message }))).to.deep.equal([
        {
          topicArn: variables.ALERT_TOPIC_ARN,
          subject: "[us-west-2] cloudtrail:DescribeTrails by administrator",
          message:
            "DescribeTrails at 2017-02-08T14:45:46Z\nhttps://us-west-2.console.aws.amazon.com/cloudtrailv2/home?region=us-west-2#/events/e2b23d27-0653-4926-8c3e-43bbe976f725",
        },
      ]);
    });

    it("fails at cold start, naming the variable, when deployed without it", async () => {
      const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);

      expect(() => archive.loadHandler()).to.throw("environment variable ALERT_TOPIC_ARN is not set");
    });

    it("bundles exactly the packages a function asks for, a dependency-free one as just the files require() loads", () => {
      const options = archiveContents(["croner"], PROJECT_DIRECTORY);
      const dependencies = Object.keys((JSON.parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);

      expect(options.extraIncludePaths).to.deep.equal(["node_modules/croner/package.json", "node_modules/croner/LICENSE", "node_modules/croner/dist/croner.cjs"]);
      expect(options.extraIncludePackages).to.deep.equal([]);
      expect(options.extraExcludePackages).to.deep.equal(dependencies);
      expect(options.extraExcludePackages).to.include.members(["@aws-sdk/client-sns", "croner"]);
      // @pulumi/pulumi and @pulumi/aws are peer dependencies, not `dependencies`: Pulumi never copies them in.
      expect(dependencies.filter((dependency) => dependency.startsWith("@pulumi/"))).to.deep.equal([]);
    });

    it("finds those files through a linked node_modules entry too (pnpm, linked installs)", () => {
      // Prepare: a program whose node_modules/croner links to a copy elsewhere.
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "linked-program-"));
      const store = path.join(root, "store", "croner");
      fs.cpSync(path.join(PROJECT_DIRECTORY, "node_modules", "croner"), store, { recursive: true });
      fs.mkdirSync(path.join(root, "program", "node_modules"), { recursive: true });
      fs.symlinkSync(store, path.join(root, "program", "node_modules", "croner"), "dir");
      fs.writeFileSync(path.join(root, "program", "package.json"), JSON.stringify({ dependencies: { croner: "*" } }));

      try {
        // Act
        const options = archiveContents(["croner"], path.join(root, "program"));

        // Assess
        expect(options.extraIncludePaths).to.deep.equal(["node_modules/croner/package.json", "node_modules/croner/LICENSE", "node_modules/croner/dist/croner.cjs"]);
        expect(options.extraIncludePackages).to.deep.equal([]);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });

    it("bundles a package with dependencies whole, leaving Pulumi to add what it depends on", () => {
      const options = archiveContents(["cli-progress"], PROJECT_DIRECTORY);

      expect(options.extraIncludePackages).to.deep.equal(["cli-progress"]);
      expect(options.extraIncludePaths).to.deep.equal([]);
      expect(options.extraExcludePackages).to.not.include("cli-progress");
    });

    it("names a bundled package the program cannot require", () => {
      expect(() => archiveContents(["no-such-package-x"], PROJECT_DIRECTORY)).to.throw('bundledPackages: "no-such-package-x" cannot be required from');
    });
  });

  describe("validateArgs", () => {
    const base = { description: "d", callbackFactory: relayCallbackFactory, statements: [], alertTopic: undefined as unknown as AlertTopic };
    const cases: Array<[string, Partial<ConstructorParameters<typeof SecureCallbackFunction>[1]>, string]> = [
      ["an unsupported runtime", { runtime: "nodejs18.x" as never }, 'runtime must be one of nodejs22.x, nodejs24.x, got "nodejs18.x"'],
      ["too little memory", { memorySizeInMb: 64 }, "memorySizeInMb must be a whole number from 128 to 10240, got 64"],
      ["a timeout over Lambda's 15 minutes", { timeoutInSeconds: 901 }, "timeoutInSeconds must be a whole number from 1 to 900, got 901"],
      ["a retention CloudWatch Logs does not offer", { logRetentionInDays: 10 }, "logRetentionInDays must be one of CloudWatch Logs' retention periods, got 10"],
      ["three retries", { maximumRetryAttempts: 3 }, "maximumRetryAttempts must be 0, 1 or 2, got 3"],
      ["a reserved environment variable", { environment: { AWS_REGION: "x" } }, 'environment key must be a variable name that Lambda does not reserve, got "AWS_REGION"'],
      ["setting the topic variable by hand", { publishesAlerts: true, environment: { ALERT_TOPIC_ARN: "x" } }, "environment.ALERT_TOPIC_ARN is set by publishesAlerts"],
      ["an empty description", { description: " " }, 'description must be a non-empty description of at most 256 characters (Lambda\'s limit), got " "'],
      ["a description longer than Lambda accepts", { description: "x".repeat(257) }, "description must be a non-empty description of at most 256 characters"],
      [
        "a description IAM refuses in the role's description",
        { description: "ダウンロード通知" },
        'description must be Latin-1 text (tab, line breaks, U+0020-U+007E, U+00A1-U+00FF): it also describes the function\'s IAM role, and IAM refuses other characters, got "ダウンロード通知"',
      ],
      ["a rejected-input alarm without its consequence", { rejectedInputAlarm: {} as never }, 'rejectedInputAlarm.consequence is required: what rejected input costs, e.g. "the downloads in it were not counted"'],
      ["an empty consequence", { rejectedInputAlarm: { consequence: "" } }, 'rejectedInputAlarm.consequence must be a non-empty phrase of at most 200 characters, got ""'],
    ];
    it("accepts Latin-1 descriptions, and refuses a Japanese one at construction", () => {
      expect(() => SecureCallbackFunction.validateArgs("v", { ...base, description: "Überwachung der Downloads, café\tÿ" })).not.to.throw();
      expect(() => new SecureCallbackFunction("latin1-refused", { ...base, description: "ダウンロード通知" })).to.throw(
        'SecureCallbackFunction "latin1-refused": description must be Latin-1 text',
      );
    });
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => SecureCallbackFunction.validateArgs("v", { ...base, ...override })).to.throw(`SecureCallbackFunction "v": ${message}`);
      });
    }
  });
});

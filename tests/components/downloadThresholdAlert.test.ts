import * as fs from "fs";
import * as path from "path";

import { runSimulation } from "@cloud-copilot/iam-simulate";
import { expect } from "chai";
import * as fc from "fast-check";

import { AlertTopic, AuditTrail, downloadEventPattern, DownloadThresholdAlert, type DownloadThresholdAlertArgs, LogSubscriptionDispatcher, UserActivityNotifier } from "../../components";
import { DOWNLOAD_COUNTS_TABLE } from "../../functions/downloadThreshold/counterItems";
import type { DownloadThresholdResult } from "../../functions/downloadThreshold/handler";
import { materializeArchive, withEnvironment } from "../../preview/lambdaArchive";
import type { RecordedResource } from "../../preview/mockCloud";
import { asEventBridgeEvent, getObjectRecord } from "../../simulation/downloadEvents";
import { policyOf, resourcesOf, single } from "../support/engine";
import { matchesEventPattern } from "../../simulation/eventPattern";
import { FakeSns } from "../../simulation/fakeSns";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";
const BUCKET = "confidential-reports";
const KEY = "2025/売上報告 Q1.pdf";

/** Two buckets: an exact key and a prefix in one, the whole of the other. */
const SEVERAL_WATCHES = [
  { bucket: BUCKET, key: KEY, threshold: 5 },
  { bucket: BUCKET, keyPrefix: "board/", threshold: 3 },
  { bucket: "hr-records", keyPrefix: "", threshold: 20 },
];
/** The CloudTrail records (the EventBridge `detail`) that are downloads of {@link SEVERAL_WATCHES}. */
const SEVERAL_WATCHES_DETAIL = {
  eventSource: ["s3.amazonaws.com"],
  eventName: ["GetObject"],
  errorCode: [{ exists: false }],
  $or: [{ requestParameters: { bucketName: [BUCKET], key: [KEY, { prefix: "board/" }] } }, { requestParameters: { bucketName: ["hr-records"] } }],
};

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", name), "utf8"));
}

/** A trail and a topic for one test component, under names unique in the run. */
function foundation(name: string, trailArgs: ConstructorParameters<typeof AuditTrail>[1] = {}) {
  return { trail: new AuditTrail(`${name}-trail`, trailArgs), alertTopic: new AlertTopic(`${name}-topic`, {}) };
}

/** What IAM decides for `action` on `resource` when the role has only `policy` (an identity policy, same account). */
async function decide(policy: ReturnType<typeof policyOf>, action: string, resource: string): Promise<string> {
  const response = await runSimulation(
    {
      identityPolicies: [{ name: "function", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: { action, principal: `arn:aws:iam::${ACCOUNT}:role/function`, resource: { accountId: ACCOUNT, resource }, contextVariables: {} },
    },
    {},
  );
  return response.resultType === "error" ? `error: ${JSON.stringify(response.errors)}` : response.overallResult;
}

const typeAndName = (resources: RecordedResource[]) => resources.map((r) => `${r.type} ${r.name}`).sort();
const functionEnvironment = (resources: RecordedResource[]) =>
  (single(resources, "aws:lambda/function:Function").inputs.environment as { variables: Record<string, string> }).variables;

describe("DownloadThresholdAlert", () => {
  describe("with defaults (EventBridge source, DynamoDB counter)", () => {
    let component: DownloadThresholdAlert;
    let trail: AuditTrail;
    let alertTopic: AlertTopic;
    let resources: RecordedResource[];

    before(async () => {
      ({ trail, alertTopic } = foundation("dta-default"));
      component = new DownloadThresholdAlert("dta-default", { trail, alertTopic, watches: [{ bucket: BUCKET, key: KEY, threshold: 5 }] });
      resources = await resourcesOf(component);
    });

    it("creates exactly the table, the function (with its rejected-input alarm), the rule, its target, dead-letter queue and permission", async () => {
      expect(typeAndName(resources)).to.deep.equal([
        "aws:cloudwatch/eventRule:EventRule dta-default-downloads",
        "aws:cloudwatch/eventTarget:EventTarget dta-default-downloads-target",
        "aws:cloudwatch/logGroup:LogGroup dta-default-handler-logs",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-default-downloads-undelivered",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-default-handler-dead-letters",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-default-handler-errors",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-default-handler-rejected-input",
        "aws:dynamodb/table:Table dta-default-counts",
        "aws:iam/role:Role dta-default-handler-role",
        "aws:iam/rolePolicy:RolePolicy dta-default-handler-policy",
        "aws:lambda/function:Function dta-default-handler",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig dta-default-handler-async",
        "aws:lambda/permission:Permission dta-default-invoke-from-rule",
        "aws:sqs/queue:Queue dta-default-downloads-undelivered",
        "aws:sqs/queue:Queue dta-default-handler-dead-letters",
        "aws:sqs/queuePolicy:QueuePolicy dta-default-downloads-undelivered",
        "cloudtrail-alerts:lambda:SecureCallbackFunction dta-default-handler",
      ]);
      const componentUrn = await valueOf(component.urn);
      const direct = resources.filter((r) => r.parent === componentUrn).map((r) => r.name).sort();
      expect(direct).to.deep.equal([
        "dta-default-counts",
        "dta-default-downloads",
        "dta-default-downloads-target",
        "dta-default-downloads-undelivered",
        "dta-default-downloads-undelivered",
        "dta-default-downloads-undelivered",
        "dta-default-handler",
        "dta-default-invoke-from-rule",
      ]);
    });

    it("counts in an on-demand, KMS-encrypted table with the handler's key schema and a TTL", () => {
      const { hashKey, rangeKey, timeToLiveAttribute } = DOWNLOAD_COUNTS_TABLE;
      expect(single(resources, "aws:dynamodb/table:Table").inputs).to.deep.include({
        billingMode: "PAY_PER_REQUEST",
        hashKey: hashKey.name,
        rangeKey: rangeKey.name,
        attributes: [
          { name: "object", type: "S" },
          { name: "entry", type: "S" },
        ],
        ttl: { attributeName: timeToLiveAttribute, enabled: true },
        serverSideEncryption: { enabled: true },
      });
    });

    it("matches successful GetObject data events on the watched object with its EventBridge rule", () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");

      expect(rule.inputs.state).to.equal("ENABLED");
      expect(JSON.parse(String(rule.inputs.eventPattern))).to.deep.equal({
        source: ["aws.s3"],
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: {
          eventSource: ["s3.amazonaws.com"],
          eventName: ["GetObject"],
          errorCode: [{ exists: false }],
          requestParameters: { bucketName: [BUCKET], key: [KEY] },
        },
      });
      expect(matchesEventPattern(JSON.parse(String(rule.inputs.eventPattern)) as Record<string, unknown>, fixture("eventbridge/s3-get-object.json"))).to.equal(true);
    });

    it("lets only its rule invoke the function, and targets the function from the rule", () => {
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");
      const fn = single(resources, "aws:lambda/function:Function");

      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.include({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.state.arn,
      });
      expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget").inputs).to.deep.equal({
        rule: rule.state.name,
        arn: fn.state.arn,
        // EventBridge's defaults, stated: 24 hours, 185 attempts.
        retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: single(resources, "aws:sqs/queue:Queue", "dta-default-downloads-undelivered").state.arn },
      });
    });

    it("keeps the events EventBridge could not deliver in an encrypted queue of the rule's Region for 14 days", () => {
      const queue = single(resources, "aws:sqs/queue:Queue", "dta-default-downloads-undelivered");

      expect(queue.inputs).to.deep.equal({ sqsManagedSseEnabled: true, messageRetentionSeconds: 1209600 });
      expect(String(queue.state.arn)).to.match(new RegExp(`^arn:aws:sqs:${REGION}:${ACCOUNT}:dta-default-downloads-undelivered-`));
      expect(component.ruleTarget?.deadLetterQueue).to.not.equal(undefined);
    });

    it("lets only EventBridge, for its rule, send to the dead-letter queue, and nobody without TLS", async () => {
      // Prepare
      const queue = single(resources, "aws:sqs/queue:Queue", "dta-default-downloads-undelivered");
      const queuePolicy = single(resources, "aws:sqs/queuePolicy:QueuePolicy");
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");
      const policy = policyOf(queuePolicy);
      const send = async (principal: string, context: Record<string, string>) => {
        const response = await runSimulation(
          {
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: policy,
            request: { action: "sqs:SendMessage", principal, resource: { accountId: ACCOUNT, resource: String(queue.state.arn) }, contextVariables: { "aws:SecureTransport": "true", ...context } },
          },
          {},
        );
        return response.resultType === "error" ? `error: ${JSON.stringify(response.errors)}` : response.overallResult;
      };

      // Act
      const decisions = [
        await send("events.amazonaws.com", { "aws:SourceArn": String(rule.state.arn) }),
        await send("events.amazonaws.com", { "aws:SourceArn": `arn:aws:events:${REGION}:${ACCOUNT}:rule/other` }),
        await send(`arn:aws:iam::${ACCOUNT}:role/someone`, { "aws:SourceArn": String(rule.state.arn) }),
        await send("events.amazonaws.com", { "aws:SourceArn": String(rule.state.arn), "aws:SecureTransport": "false" }),
      ];

      // Assess
      expect(queuePolicy.inputs.queueUrl).to.equal(queue.state.url);
      expect(policy.Statement).to.deep.equal([
        {
          Sid: "KeepUndeliveredEvents",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue.state.arn,
          Condition: { ArnEquals: { "aws:SourceArn": rule.state.arn } },
        },
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: [queue.state.arn], Condition: { Bool: { "aws:SecureTransport": "false" } } },
      ]);
      // its rule; another rule; a role of the account; its rule without TLS
      expect(decisions).to.deep.equal(["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ExplicitlyDenied"]);
    });

    it("alarms to the alert topic on the first undelivered event, naming the rule and the queue", async () => {
      const queue = single(resources, "aws:sqs/queue:Queue", "dta-default-downloads-undelivered");
      const rule = single(resources, "aws:cloudwatch/eventRule:EventRule");
      const alarm = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "dta-default-downloads-undelivered");

      expect(alarm.parent).to.equal(await valueOf(component.urn));
      expect(alarm.inputs).to.deep.equal({
        alarmDescription: `Events that EventBridge could not deliver to the target of rule ${String(rule.state.name)} (S3 downloads counted by dta-default) are waiting in SQS queue ${String(queue.state.name)}: alerts may have been missed. Each message's attributes give the error (ERROR_CODE, ERROR_MESSAGE). Fix the cause, then inspect and redrive them within 14 days.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.state.name },
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [await valueOf(alertTopic.topicArn)],
      });
    });

    it("creates the target only once the function's permission and the queue's policy are in place", () => {
      const target = single(resources, "aws:cloudwatch/eventTarget:EventTarget");

      expect(target.dependencies).to.include.members([single(resources, "aws:lambda/permission:Permission").urn, single(resources, "aws:sqs/queuePolicy:QueuePolicy").urn]);
    });

    it("allows the function exactly its logs, its dead-letter queue, publishing to the topic and updating and reading items of its own table", async () => {
      const table = single(resources, "aws:dynamodb/table:Table");
      const [topicArn, keyArn] = await Promise.all([valueOf(alertTopic.topicArn), valueOf(alertTopic.kmsKeyArn)]);

      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement).to.deep.equal([
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.arn)}:log-stream:*` },
        { Sid: "KeepFailedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: single(resources, "aws:sqs/queue:Queue", "dta-default-handler-dead-letters").state.arn },
        { Sid: "PublishAlerts", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
        { Sid: "EncryptAlerts", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn },
        { Sid: "CountDownloads", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: table.state.arn },
      ]);
    });

    it("lets the role, in IAM's evaluation, update and read items of its own table only (no put, delete, scan) and publish only to the topic", async () => {
      const policy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy"));
      const table = String(single(resources, "aws:dynamodb/table:Table").state.arn);
      const topicArn = await valueOf(alertTopic.topicArn);
      const otherTable = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/other`;

      const decisions = await Promise.all(
        ([
          ["dynamodb:UpdateItem", table],
          ["dynamodb:PutItem", table],
          ["dynamodb:DeleteItem", table],
          ["sns:Publish", topicArn],
          ["dynamodb:UpdateItem", otherTable],
          ["dynamodb:GetItem", table],
          ["dynamodb:GetItem", otherTable],
          ["dynamodb:BatchGetItem", table],
          ["dynamodb:Query", table],
          ["dynamodb:Scan", table],
          ["dynamodb:DeleteTable", table],
          ["sns:Publish", `arn:aws:sns:${REGION}:${ACCOUNT}:other`],
          ["logs:FilterLogEvents", await valueOf(trail.logGroupArn)],
          ["s3:GetObject", `arn:aws:s3:::${BUCKET}/${KEY}`],
        ] as const).map(async ([action, resource]) => `${action} ${resource === table ? "own table" : resource}: ${await decide(policy, action, resource)}`),
      );

      expect(decisions).to.deep.equal([
        "dynamodb:UpdateItem own table: Allowed",
        "dynamodb:PutItem own table: ImplicitlyDenied",
        "dynamodb:DeleteItem own table: ImplicitlyDenied",
        `sns:Publish ${topicArn}: Allowed`,
        `dynamodb:UpdateItem ${otherTable}: ImplicitlyDenied`,
        "dynamodb:GetItem own table: Allowed",
        `dynamodb:GetItem ${otherTable}: ImplicitlyDenied`,
        "dynamodb:BatchGetItem own table: ImplicitlyDenied",
        "dynamodb:Query own table: ImplicitlyDenied",
        "dynamodb:Scan own table: ImplicitlyDenied",
        "dynamodb:DeleteTable own table: ImplicitlyDenied",
        `sns:Publish arn:aws:sns:${REGION}:${ACCOUNT}:other: ImplicitlyDenied`,
        `logs:FilterLogEvents ${await valueOf(trail.logGroupArn)}: ImplicitlyDenied`,
        `s3:GetObject arn:aws:s3:::${BUCKET}/${KEY}: ImplicitlyDenied`,
      ]);
    });

    it("registers the function's role as a publisher in the topic policy", async () => {
      const topicPolicy = policyOf(single(await resourcesOf(alertTopic), "aws:sns/topicPolicy:TopicPolicy"));

      expect(topicPolicy.Statement.find((s) => s.Sid === "AllowProjectFunctions")?.Principal).to.deep.equal({ AWS: [await valueOf(component.handler.roleArn)] });
    });

    it("asks the trail to log read-only GetObject data events on exactly the watched object", async () => {
      const trailResource = single(await resourcesOf(trail), "aws:cloudtrail/trail:Trail");

      expect(trailResource.inputs.advancedEventSelectors).to.deep.equal([
        { name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] },
        {
          name: "dta-default: GetObject on watched objects",
          fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
            { field: "eventName", equals: ["GetObject"] },
            { field: "readOnly", equals: ["true"] },
            { field: "resources.ARN", equals: [`arn:aws:s3:::${BUCKET}/${KEY}`] },
          ],
        },
      ]);
    });

    it("hands the function its settings, with the reset defaulting to Monday 01:00 Tokyo time and English alerts", async () => {
      expect(functionEnvironment(resources)).to.deep.equal({
        WATCHED_OBJECTS: JSON.stringify([{ bucket: BUCKET, key: KEY, threshold: 5 }]),
        RESET_SCHEDULE: "0 1 * * 1",
        RESET_TIME_ZONE: "Asia/Tokyo",
        NOTIFY: "every",
        COUNTER: "dynamodb",
        COUNTS_TABLE_NAME: single(resources, "aws:dynamodb/table:Table").state.name,
        ALERT_LANGUAGE: "en",
        ALERT_TIME_ZONE: "Asia/Tokyo",
        ALERT_TOPIC_ARN: await valueOf(alertTopic.topicArn),
      });
      expect(single(resources, "aws:lambda/function:Function").inputs).to.deep.include({ timeout: 60, runtime: "nodejs22.x" });
    });

    it("alarms on the first rejected input through its function, saying that downloads were not counted", async () => {
      const alarm = single(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "dta-default-handler-rejected-input");

      expect(alarm.parent).to.equal(await valueOf(component.handler.urn));
      expect(alarm.inputs).to.deep.include({ namespace: "CloudTrailAlerts", metricName: "RejectedInput", dimensions: { FunctionName: single(resources, "aws:lambda/function:Function").state.name } });
      expect(alarm.inputs.alarmDescription).to.equal(
        `Lambda function ${String(single(resources, "aws:lambda/function:Function").state.name)} (${String(single(resources, "aws:lambda/function:Function").inputs.description)}) received input it could not decode: the downloads in it were not counted. It logs each reason in log group ${String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.name)} (message "input rejected").`,
      );
    });

    describe("archive", () => {
      it("carries the handler and croner only", async () => {
        const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);
        const paths = archive.files.map((f) => f.path);

        expect(paths[0]).to.equal("__index.js");
        expect(paths.slice(1).every((p) => p.startsWith("node_modules/croner/"))).to.equal(true);
        expect(paths).to.include("node_modules/croner/dist/croner.cjs");
        expect(archive.zippedBytes).to.be.at.most(100 * 1024);
      });

      it("serializes the callback so that, loaded from the archive, it counts the sample GetObject event and alerts past the threshold", async () => {
        // Prepare: the table (by the name the function was given) on dynalite, the topic on the fake SNS.
        const variables = functionEnvironment(resources);
        const [db, sns] = await Promise.all([LocalDynamoDb.start(), FakeSns.start([variables.ALERT_TOPIC_ARN])]);
        await db.createCountsTable(variables.COUNTS_TABLE_NAME);
        const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);
        const sample = fixture("eventbridge/s3-get-object.json") as { detail: { eventID: string } };
        const others = [1, 2, 3, 4, 5].map((n) => asEventBridgeEvent(getObjectRecord({ eventID: `other-${n}`, eventTime: `2025-03-03T00:0${n}:00Z` })));

        // Act
        const results = await withEnvironment({ ...db.environment, ...sns.environment, ...variables, AWS_LAMBDA_FUNCTION_NAME: "dta-default-handler" }, async () => {
          const handler = archive.loadHandler<unknown, DownloadThresholdResult>();
          const out: DownloadThresholdResult[] = [];
          for (const event of [...others, sample, sample]) {
            out.push(await handler(event, { getRemainingTimeInMillis: () => 60_000 }));
          }
          return out;
        });
        await Promise.all([db.stop(), sns.stop()]);

        // Assess
        expect(results.map((r) => [r.counted, r.notCounted, r.alerted])).to.deep.equal([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 1], [0, 1, 0]]);
        expect(sns.published.map((p) => p.subject)).to.deep.equal(["S3 object downloaded 6 times (threshold 5): s3://confidential-reports (key in message)"]);
        expect(sns.published[0].message).to.contain("\nWho: alice@example.com (IAM Identity Center user, permission set ReadOnly)\n");
        expect(sns.published[0].message).to.contain(`#/events/${sample.detail.eventID}`);
      });

      it("fails at cold start, naming the variable, when deployed without its settings", async () => {
        const archive = await materializeArchive(single(resources, "aws:lambda/function:Function").inputs.code);

        expect(() => archive.loadHandler()).to.throw("environment variable WATCHED_OBJECTS is not set");
      });
    });
  });

  describe("with source and counter logs (the FilterLogEvents re-count of docs/sourceArticles.md)", () => {
    let trail: AuditTrail;
    let resources: RecordedResource[];

    before(async () => {
      let alertTopic: AlertTopic;
      ({ trail, alertTopic } = foundation("dta-logs"));
      const component = new DownloadThresholdAlert("dta-logs", {
        trail,
        alertTopic,
        watches: [{ bucket: BUCKET, key: 'say "hi" \\ 売上.pdf', threshold: 5 }],
        source: "logs",
        counter: "logs",
        notify: "once",
        language: "ja",
        reset: { schedule: "0 0 1 * *", timeZone: "Europe/Berlin" },
      });
      resources = await resourcesOf(component);
    });

    it("creates a subscription filter and its permission instead of a rule, and no table", () => {
      expect(typeAndName(resources)).to.deep.equal([
        "aws:cloudwatch/logGroup:LogGroup dta-logs-handler-logs",
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter dta-logs-subscription",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-logs-handler-dead-letters",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-logs-handler-errors",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-logs-handler-rejected-input",
        "aws:iam/role:Role dta-logs-handler-role",
        "aws:iam/rolePolicy:RolePolicy dta-logs-handler-policy",
        "aws:lambda/function:Function dta-logs-handler",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig dta-logs-handler-async",
        "aws:lambda/permission:Permission dta-logs-invoke-from-logs",
        "aws:sqs/queue:Queue dta-logs-handler-dead-letters",
        "cloudtrail-alerts:lambda:SecureCallbackFunction dta-logs-handler",
      ]);
    });

    it("filters the trail's log group with a pattern built from the watches, quotes escaped", async () => {
      expect(single(resources, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter").inputs).to.deep.include({
        logGroup: await valueOf(trail.logGroupName),
        destinationArn: single(resources, "aws:lambda/function:Function").state.arn,
        filterPattern:
          '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ($.errorCode NOT EXISTS) && (($.requestParameters.bucketName = "confidential-reports" && ($.requestParameters.key = "say \\"hi\\" \\\\ 売上.pdf"))) }',
      });
    });

    it("lets only CloudWatch Logs, for the trail's log group in this account, invoke the function", async () => {
      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.include({
        action: "lambda:InvokeFunction",
        function: single(resources, "aws:lambda/function:Function").state.name,
        principal: "logs.amazonaws.com",
        sourceArn: `${await valueOf(trail.logGroupArn)}:*`,
        sourceAccount: ACCOUNT,
      });
    });

    it("allows FilterLogEvents on the trail's log group only, and no DynamoDB", async () => {
      const logGroupArn = await valueOf(trail.logGroupArn);
      const statements = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement;

      expect(statements.map((s) => s.Sid)).to.deep.equal(["WriteOwnLogs", "KeepFailedEvents", "PublishAlerts", "EncryptAlerts", "RecountDownloads"]);
      expect(statements[4]).to.deep.equal({ Sid: "RecountDownloads", Effect: "Allow", Action: "logs:FilterLogEvents", Resource: [logGroupArn, `${logGroupArn}:*`] });
    });

    it("lets the role, in IAM's evaluation, run FilterLogEvents on the trail's log group and nothing else of CloudWatch Logs or DynamoDB", async () => {
      const policy = policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy"));
      const logGroupArn = await valueOf(trail.logGroupArn);

      expect(
        await Promise.all([
          decide(policy, "logs:FilterLogEvents", logGroupArn),
          decide(policy, "logs:FilterLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/other`),
          decide(policy, "logs:GetLogEvents", `${logGroupArn}:log-stream:x`),
          decide(policy, "logs:DeleteLogGroup", logGroupArn),
          decide(policy, "dynamodb:UpdateItem", `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/any`),
        ]),
      ).to.deep.equal(["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"]);
    });

    it("gives the function the log group, a 300 s timeout for paging at 5 requests/s, and the reset and language asked for", async () => {
      const variables = functionEnvironment(resources);

      expect(variables).to.deep.include({ COUNTER: "logs", TRAIL_LOG_GROUP_NAME: await valueOf(trail.logGroupName), NOTIFY: "once", ALERT_LANGUAGE: "ja", RESET_SCHEDULE: "0 0 1 * *", RESET_TIME_ZONE: "Europe/Berlin", ALERT_TIME_ZONE: "Europe/Berlin" });
      expect(variables).to.not.have.property("COUNTS_TABLE_NAME");
      expect(single(resources, "aws:lambda/function:Function").inputs.timeout).to.equal(300);
    });
  });

  describe("through a shared LogSubscriptionDispatcher (source: dispatcher)", () => {
    const watches = SEVERAL_WATCHES;
    let component: DownloadThresholdAlert;
    let dispatcher: LogSubscriptionDispatcher;
    let resources: RecordedResource[];

    before(async () => {
      const { trail, alertTopic } = foundation("dta-disp");
      dispatcher = new LogSubscriptionDispatcher("dta-disp-shared", { logGroupName: trail.logGroupName, logGroupArn: trail.logGroupArn, alertTopic });
      new UserActivityNotifier("dta-disp-user", { alertTopic, userNames: ["hogehoge"], source: { type: "dispatcher", dispatcher } });
      component = new DownloadThresholdAlert("dta-disp", { trail, alertTopic, watches, source: { type: "dispatcher", dispatcher } });
      resources = await resourcesOf(component);
    });

    it("creates no rule and no subscription filter of its own: only its dispatch subscription and permission", () => {
      expect(typeAndName(resources)).to.deep.equal([
        "aws:cloudwatch/logGroup:LogGroup dta-disp-handler-logs",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-disp-handler-dead-letters",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-disp-handler-errors",
        "aws:cloudwatch/metricAlarm:MetricAlarm dta-disp-handler-rejected-input",
        "aws:dynamodb/table:Table dta-disp-counts",
        "aws:iam/role:Role dta-disp-handler-role",
        "aws:iam/rolePolicy:RolePolicy dta-disp-handler-policy",
        "aws:lambda/function:Function dta-disp-handler",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig dta-disp-handler-async",
        "aws:lambda/permission:Permission dta-disp-dispatch-permission",
        "aws:sns/topicSubscription:TopicSubscription dta-disp-dispatch",
        "aws:sqs/queue:Queue dta-disp-handler-dead-letters",
        "cloudtrail-alerts:lambda:SecureCallbackFunction dta-disp-handler",
      ]);
      expect([component.rule, component.subscriptionFilter, component.filterPattern, component.eventPattern]).to.deep.equal([undefined, undefined, undefined, undefined]);
    });

    it("lets only the dispatch topic invoke the function, and subscribes it filtered on its own name", async () => {
      const fn = single(resources, "aws:lambda/function:Function");
      const topicArn = await valueOf(dispatcher.topicArn);

      expect(single(resources, "aws:lambda/permission:Permission").inputs).to.deep.equal({ action: "lambda:InvokeFunction", function: fn.state.arn, principal: "sns.amazonaws.com", sourceArn: topicArn });
      expect(single(resources, "aws:sns/topicSubscription:TopicSubscription").inputs).to.deep.equal({
        topic: topicArn,
        protocol: "lambda",
        endpoint: fn.state.arn,
        filterPolicyScope: "MessageAttributes",
        filterPolicy: '{"consumer":["dta-disp"]}',
      });
    });

    it("adds its record pattern to the dispatcher's routes, beside the other consumers', and to its one filter pattern", async () => {
      const dispatcherFn = single(await resourcesOf(dispatcher), "aws:lambda/function:Function");
      const routes = JSON.parse((dispatcherFn.inputs.environment as { variables: Record<string, string> }).variables.DISPATCH_ROUTES) as unknown;

      expect(component.recordPattern).to.deep.equal(SEVERAL_WATCHES_DETAIL);
      expect(routes).to.deep.equal([
        { key: "dta-disp-user", patterns: [{ userIdentity: { userName: ["hogehoge"] }, eventType: ["AwsApiCall", "AwsConsoleSignIn", "AwsConsoleAction"] }] },
        { key: "dta-disp", patterns: [SEVERAL_WATCHES_DETAIL] },
      ]);
      expect(await valueOf(dispatcher.filterPattern)).to.equal(
        '{ (($.userIdentity.userName = "hogehoge") && (($.eventType = "AwsApiCall") || ($.eventType = "AwsConsoleSignIn") || ($.eventType = "AwsConsoleAction"))) || ' +
          '(($.eventSource = "s3.amazonaws.com") && ($.eventName = "GetObject") && ((($.requestParameters.bucketName = "confidential-reports") && (($.requestParameters.key = "2025/売上報告 Q1.pdf") || ($.requestParameters.key = "board/*"))) || ($.requestParameters.bucketName = "hr-records"))) }',
      );
    });

    it("still asks the trail to log GetObject on exactly the watched objects", () => {
      expect(component.dataEventSelectors.map((s) => s.fieldSelectors.at(-1))).to.deep.equal([
        { field: "resources.ARN", equals: [`arn:aws:s3:::${BUCKET}/${KEY}`] },
        { field: "resources.ARN", startsWith: [`arn:aws:s3:::${BUCKET}/board/`, "arn:aws:s3:::hr-records/"] },
      ]);
    });
  });

  describe("with several buckets, prefixes and a customer managed table key", () => {
    const watches = SEVERAL_WATCHES;
    let component: DownloadThresholdAlert;
    let resources: RecordedResource[];
    const tableKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;

    before(async () => {
      component = new DownloadThresholdAlert("dta-multi", { ...foundation("dta-multi"), watches, tableKmsKeyArn: tableKey });
      resources = await resourcesOf(component);
    });

    it("matches each bucket's keys and prefixes with $or, and a whole bucket without a key condition", () => {
      expect(JSON.parse(String(single(resources, "aws:cloudwatch/eventRule:EventRule").inputs.eventPattern))).to.deep.equal({
        source: ["aws.s3"],
        "detail-type": ["AWS API Call via CloudTrail"],
        detail: SEVERAL_WATCHES_DETAIL,
      });
    });

    it("selects exact objects with equals and prefixes with startsWith on resources.ARN", () => {
      expect(component.dataEventSelectors.map((s) => [s.name, s.fieldSelectors.at(-1)])).to.deep.equal([
        ["dta-multi: GetObject on watched objects", { field: "resources.ARN", equals: [`arn:aws:s3:::${BUCKET}/${KEY}`] }],
        ["dta-multi: GetObject under watched prefixes", { field: "resources.ARN", startsWith: [`arn:aws:s3:::${BUCKET}/board/`, "arn:aws:s3:::hr-records/"] }],
      ]);
    });

    it("encrypts the table with the given key and lets the function use it through DynamoDB only", () => {
      expect(single(resources, "aws:dynamodb/table:Table").inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: tableKey });
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement.at(-1)).to.deep.equal({
        Sid: "UseTableKeyThroughDynamoDb",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        Resource: tableKey,
        Condition: { StringEquals: { "kms:ViaService": `dynamodb.${REGION}.amazonaws.com` } },
      });
    });
  });

  it("reports the selectors an adopted trail must log and creates nothing on it", async () => {
    const trail = new AuditTrail("dta-adopted-trail", { existingLogGroupName: "/aws/cloudtrail/organization" });
    const component = new DownloadThresholdAlert("dta-adopted", { trail, alertTopic: new AlertTopic("dta-adopted-topic", {}), watches: [{ bucket: BUCKET, key: KEY, threshold: 5 }] });

    const [selectors, trailResources] = await Promise.all([valueOf(trail.dataEventSelectors), resourcesOf(trail)]);

    expect(selectors).to.deep.equal(component.dataEventSelectors);
    expect(trailResources).to.deep.equal([]);
  });

  describe("EventBridge pattern for keys with special characters", () => {
    const keyCharacters = fc.constantFrom(..."ab*\"\\ +%/?売上報告-.".split(""));
    const keys = fc.string({ unit: keyCharacters, minLength: 1, maxLength: 10 });

    it("matches exactly the watched keys, literally ('*' and '?' are not wildcards), and keys under watched prefixes", () => {
      fc.assert(
        fc.property(fc.uniqueArray(keys, { minLength: 2, maxLength: 6 }), fc.boolean(), (candidates, asPrefix) => {
          const [watched, ...others] = candidates;
          const pattern = JSON.parse(downloadEventPattern([asPrefix ? { bucket: BUCKET, keyPrefix: watched, threshold: 1 } : { bucket: BUCKET, key: watched, threshold: 1 }])) as Record<string, unknown>;
          const event = (key: string, overrides: { bucket?: string; errorCode?: string } = {}) => asEventBridgeEvent(getObjectRecord({ eventID: "e", eventTime: "2025-03-03T01:02:03Z", key, ...overrides }));

          expect(matchesEventPattern(pattern, event(watched))).to.equal(true);
          for (const other of others) {
            expect(matchesEventPattern(pattern, event(other))).to.equal(asPrefix && other.startsWith(watched));
          }
          expect(matchesEventPattern(pattern, event(watched, { bucket: "other-bucket" }))).to.equal(false);
          expect(matchesEventPattern(pattern, event(watched, { errorCode: "AccessDenied" }))).to.equal(false);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("validateArgs", () => {
    const base = (): DownloadThresholdAlertArgs => ({
      trail: undefined as unknown as AuditTrail,
      alertTopic: undefined as unknown as AlertTopic,
      watches: [{ bucket: BUCKET, key: KEY, threshold: 5 }],
    });
    const watch = (fields: Record<string, unknown>) => ({ watches: [fields] as unknown as DownloadThresholdAlertArgs["watches"] });
    const cases: Array<[string, Partial<DownloadThresholdAlertArgs>, string]> = [
      ["no watches", { watches: [] }, "watches must be a non-empty list of { bucket, key | keyPrefix, threshold }, got []"],
      ["a threshold of 0", watch({ bucket: BUCKET, key: KEY, threshold: 0 }), "watches[0].threshold must be a whole number >= 1, got 0"],
      ["a fractional threshold", watch({ bucket: BUCKET, key: KEY, threshold: 2.5 }), "watches[0].threshold must be a whole number >= 1, got 2.5"],
      ["a threshold past the whole numbers a count can hold exactly", watch({ bucket: BUCKET, key: KEY, threshold: 2 ** 53 }), "watches[0].threshold must be a whole number >= 1, got 9007199254740992"],
      ["a missing threshold", watch({ bucket: BUCKET, key: KEY }), "watches[0].threshold is required: a whole number >= 1"],
      ["key and keyPrefix together", watch({ bucket: BUCKET, key: KEY, keyPrefix: "a/", threshold: 1 }), "watches[0] gives both key and keyPrefix; give one"],
      ["neither key nor keyPrefix", watch({ bucket: BUCKET, threshold: 1 }), "watches[0] needs key (one object) or keyPrefix (every object under it)"],
      ["a misspelt field", watch({ bucket: BUCKET, key: KEY, treshold: 1 }), 'watches[0] has unknown field "treshold"; expected bucket, key, keyPrefix, threshold'],
      ["a bucket ARN instead of a name", watch({ bucket: "arn:aws:s3:::confidential-reports", key: KEY, threshold: 1 }), `watches[0].bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.' or '-'), got "arn:aws:s3:::confidential-reports"`],
      ["an empty key", watch({ bucket: BUCKET, key: "", threshold: 1 }), 'watches[0].key must be a non-empty S3 object key of at most 1024 UTF-8 bytes without control characters, got ""'],
      ["a key with a line break", watch({ bucket: BUCKET, key: "a\nb", threshold: 1 }), "watches[0].key must be a non-empty S3 object key of at most 1024 UTF-8 bytes without control characters"],
      ["the same object twice", { watches: [{ bucket: BUCKET, key: KEY, threshold: 1 }, { bucket: BUCKET, key: KEY, threshold: 2 }] }, `watches[1] watches s3://${BUCKET}/${KEY} again (as watches[0]); give each object or prefix once`],
      ["a 6-field schedule", { reset: { schedule: "0 0 1 * * 1" } }, 'reset.schedule must be a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 1 * * 1", got "0 0 1 * * 1"'],
      ["a schedule that never runs", { reset: { schedule: "0 0 30 2 *" } }, 'reset.schedule must be a schedule that runs (this one never does), got "0 0 30 2 *"'],
      ["an unknown reset time zone", { reset: { timeZone: "Tokyo" } }, 'reset.timeZone must be an IANA time zone such as Asia/Tokyo, got "Tokyo"'],
      ["an unknown notify mode", { notify: "always" as never }, 'notify must be "every" or "once", got "always"'],
      ["an unknown source", { source: "s3" as never }, 'source must be "eventbridge" or "logs", got "s3"'],
      ["a dispatcher source of another type", { source: { type: "dispatchr" } as never }, 'source.type must be "dispatcher" (or source "eventbridge" or "logs"), got "dispatchr"'],
      ["a dispatcher source without a dispatcher", { source: { type: "dispatcher", dispatcher: {} } as never }, "source.dispatcher must be a LogSubscriptionDispatcher"],
      ["an unknown counter", { counter: "redis" as never }, 'counter must be "dynamodb" or "logs", got "redis"'],
      ["an unknown language", { language: "fr" as never }, 'language must be "ja" or "en", got "fr"'],
      ["more watches than Lambda's environment holds", { watches: Array.from({ length: 40 }, (_, i) => ({ bucket: BUCKET, key: `reports/2025/quarterly-${i}.pdf`, threshold: 1 })) }, "watches take 3431 bytes in the function's environment; Lambda allows 4 KB in all, so at most 3400 here"],
      ["too many keys for an EventBridge pattern", { watches: Array.from({ length: 11 }, (_, i) => ({ bucket: BUCKET, key: `${"x".repeat(190)}-${i}.pdf`, threshold: 1 })) }, "watches make an EventBridge pattern of 2428 characters; EventBridge accepts 2048 by default"],
      ["too many keys for a subscription filter", { source: "logs", watches: Array.from({ length: 16 }, (_, i) => ({ bucket: BUCKET, key: `reports/2025/quarterly-${i}.pdf`, threshold: 1 })) }, "watches make a subscription filter pattern of 1130 characters; CloudWatch Logs accepts 1024"],
    ];
    for (const [title, override, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => DownloadThresholdAlert.validateArgs("v", { ...base(), ...override })).to.throw(`DownloadThresholdAlert "v": ${message}`);
      });
    }

    it("reports every problem at once", () => {
      expect(() => DownloadThresholdAlert.validateArgs("v", { ...base(), ...watch({ bucket: BUCKET, key: KEY, threshold: 0 }), notify: "always" as never })).to.throw(
        'DownloadThresholdAlert "v": watches[0].threshold must be a whole number >= 1, got 0; notify must be "every" or "once", got "always"',
      );
    });

    it("leaves the filter pattern's length to a dispatcher source, which shortens the one pattern it deploys", () => {
      const dispatcher = Object.create(LogSubscriptionDispatcher.prototype) as LogSubscriptionDispatcher;
      const watches = Array.from({ length: 16 }, (_, i) => ({ bucket: BUCKET, key: `reports/2025/quarterly-${i}.pdf`, threshold: 1 }));

      expect(() => DownloadThresholdAlert.validateArgs("v", { ...base(), watches, source: { type: "dispatcher", dispatcher }, counter: "logs" })).to.not.throw();
      expect(() => DownloadThresholdAlert.validateArgs("v", { ...base(), watches, source: "logs" })).to.throw("subscription filter pattern of 1130 characters");
    });

    it("accepts thresholds past 10,000 (the counter has no cap)", () => {
      for (const threshold of [9_999, 10_000, 1_000_000, Number.MAX_SAFE_INTEGER]) {
        expect(() => DownloadThresholdAlert.validateArgs("v", { ...base(), ...watch({ bucket: BUCKET, key: KEY, threshold }) }), String(threshold)).to.not.throw();
      }
    });

    it("accepts a whole-bucket watch, every option and a reset in another zone", () => {
      expect(() =>
        DownloadThresholdAlert.validateArgs("v", { ...base(), watches: [{ bucket: BUCKET, keyPrefix: "", threshold: 1 }], notify: "once", source: "logs", counter: "logs", language: "ja", timeZone: "UTC", reset: { schedule: "30 2 * * *", timeZone: "America/New_York" } }),
      ).to.not.throw();
    });
  });
});

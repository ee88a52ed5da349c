import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { PublishCommand, type PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import fc from "fast-check";

import { structuredMessage } from "../../functions/chatNotification";
import type { CloudTrailRecord } from "../../functions/shared/cloudtrailEvents";
import { describePrincipal } from "../../functions/shared/readableEvent";
import { dynamoDbSentJournal, SENT_JOURNAL_RETENTION_SECONDS } from "../../functions/sentJournal";
import {
  activityChatNotification,
  formatActivity,
  userActivityHandler,
  type UserActivitySettings,
  userActivitySettingsFromEnvironment,
} from "../../functions/userActivity";
import { eventBridgeEvent, fixture, record, recordFixtureNames, subscriptionPayload } from "../../simulation/fixtures";
import { recordingLogger, recordingMetrics } from "../../simulation/recorders";
import { dynamoDbError, FaultProxy } from "../../simulation/faultProxy";
import { FAKE_AWS_ENVIRONMENT } from "../../simulation/fakeSns";
import { LocalDynamoDb } from "../../simulation/localDynamoDb";

/** Stubs every SNSClient of the process until restored. */
const mockSns = () => mockClient(SNSClient);

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:alerts";
const TOKYO_JA = { timeZone: "Asia/Tokyo", language: "ja" } as const;
const TOKYO_EN = { timeZone: "Asia/Tokyo", language: "en" } as const;
const ssmEvent = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json");
const ssm = ssmEvent.detail;

const SSM_JA = [
  "hogehoge (IAM ユーザー) が ap-northeast-1 で ssm:StartSession を実行しました。",
  "",
  "発生時刻: 2023-04-25 18:47:10 +09:00",
  "リージョン: ap-northeast-1",
  "イベント: ssm.amazonaws.com",
  "イベントネーム: StartSession",
  "ユーザネーム: hogehoge (IAM ユーザー)",
  "接続元IPアドレス: 203.0.113.10",
  "ユーザーエージェント: aws-cli/2.11.8 Python/3.11.3 Darwin/21.4.0 source/arm64 prompt/off command/ssm.start-session",
  "対象リソース: i-0123456789abcdef0",
  "アカウント: 123456789012",
  "CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678",
  "",
  "リクエストパラメータ:",
  "{",
  '  "target": "i-0123456789abcdef0"',
  "}",
].join("\n");

const SSM_EN = [
  "hogehoge (IAM user) called ssm:StartSession in ap-northeast-1.",
  "",
  "Time: 2023-04-25 18:47:10 +09:00",
  "Region: ap-northeast-1",
  "Event source: ssm.amazonaws.com",
  "Event name: StartSession",
  "Principal: hogehoge (IAM user)",
  "Source IP address: 203.0.113.10",
  "User agent: aws-cli/2.11.8 Python/3.11.3 Darwin/21.4.0 source/arm64 prompt/off command/ssm.start-session",
  "Target resource: i-0123456789abcdef0",
  "Account: 123456789012",
  "CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678",
  "",
  "Request parameters:",
  "{",
  '  "target": "i-0123456789abcdef0"',
  "}",
].join("\n");

/** A PutRolePolicy whose policy document (with Japanese text) makes the event far larger than an SNS message. */
function hugeEvent(): CloudTrailRecord {
  const base = record("assumed-role-put-role-policy.json");
  const statements = Array.from({ length: 2500 }, (_, i) => ({ Sid: `許可${i}`, Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::bucket-${i}/データ/*` }));
  return { ...base, requestParameters: { ...base.requestParameters, policyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } };
}

describe("userActivity", () => {
  describe("formatActivity", () => {
    it("writes the SSM StartSession sample in Japanese, as one subscription filter per notifier (docs/sourceArticles.md) did, with the time in Tokyo", () => {
      expect(formatActivity(ssm, TOKYO_JA)).to.deep.equal({ subject: "[ap-northeast-1] ssm:StartSession by hogehoge", message: SSM_JA });
    });

    it("writes it in English", () => {
      expect(formatActivity(ssm, TOKYO_EN)).to.deep.equal({ subject: "[ap-northeast-1] ssm:StartSession by hogehoge", message: SSM_EN });
    });

    it("never shows the session token CloudTrail hid", () => {
      const { subject, message } = formatActivity(ssm, TOKYO_JA);

      expect(`${subject}\n${message}`).to.not.match(/tokenValue|hidden due to security|streamUrl/i);
    });

    for (const name of recordFixtureNames()) {
      for (const options of [TOKYO_JA, TOKYO_EN]) {
        it(`formats ${name} in ${options.language}: a valid subject, a principal line, no undefined, no secrets`, () => {
          const rec = record(name);
          const { subject, message } = formatActivity(rec, options);
          const principalLabel = options.language === "ja" ? "ユーザネーム" : "Principal";

          expect(subject).to.match(/^\[[a-z0-9-]+\] (FAILED )?[a-z0-9-]+:[A-Za-z]+ by [\x20-\x7e]+$/);
          expect(subject.length).to.be.at.most(99);
          expect(message.split("\n")).to.include(`${principalLabel}: ${describePrincipal(rec.userIdentity, options.language)}`);
          expect(message).to.not.match(/undefined|\[object Object\]|HIDDEN_DUE_TO_SECURITY_REASONS|sessionToken/);
        });
      }
    }

    it("says a call failed, with its error code and message, in the subject, summary and an error line", () => {
      const { subject, message } = formatActivity(record("sso-create-user-access-denied.json"), TOKYO_EN);
      const lines = message.split("\n");

      expect(subject).to.equal("[us-east-1] FAILED iam:CreateUser by alice@example.com (AccessDenied)");
      expect(lines[0]).to.equal("alice@example.com (IAM Identity Center user, permission set ReadOnly) tried to call iam:CreateUser in us-east-1, and it failed (AccessDenied).");
      expect(lines).to.include(
        "Error: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.com is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory because no identity-based policy allows the iam:CreateUser action",
      );
    });

    it("writes a failed root console sign-in in Japanese, with MFA and the failure", () => {
      const { subject, message } = formatActivity(record("root-console-login-failure.json"), TOKYO_JA);

      expect(subject).to.equal("[us-east-1] FAILED signin:ConsoleLogin by root");
      expect(message.split("\n").slice(0, 14)).to.deep.equal([
        "root (アカウント 123456789012 のルートユーザー) が AWS マネジメントコンソールへのサインインに失敗しました。",
        "",
        "発生時刻: 2025-01-10 07:04:51 +09:00",
        "リージョン: us-east-1",
        "イベント: signin.amazonaws.com",
        "イベントネーム: ConsoleLogin",
        "ユーザネーム: root (アカウント 123456789012 のルートユーザー)",
        "接続元IPアドレス: 203.0.113.200",
        "ユーザーエージェント: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "対象リソース: -",
        "アカウント: 123456789012",
        "MFA 使用: No",
        "エラー: Failed authentication",
        "CloudTrail: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/c0ffee00-1234-4abc-8def-0123456789ab",
      ]);
    });

    it("keeps Japanese text and drops the parameter value CloudTrail hid", () => {
      const { message } = formatActivity(record("sso-put-parameter-japanese.json"), TOKYO_JA);

      expect(message).to.include("対象リソース: /app/本番/データベース接続");
      expect(message).to.include('"description": "本番環境のデータベース接続文字列(日本語の説明)"');
      expect(message).to.not.include('"value"');
    });

    it("formats a record without userName, sourceIPAddress, userAgent and requestParameters", () => {
      const optional = ["userAgent", "sourceIPAddress", "requestParameters"];
      const rest = Object.fromEntries(Object.entries(ssm).filter(([key]) => !optional.includes(key))) as CloudTrailRecord;
      const bare: CloudTrailRecord = { ...rest, userIdentity: { type: "IAMUser", accountId: "123456789012" } };

      const { subject, message } = formatActivity(bare, TOKYO_EN);

      expect(subject).to.equal("[ap-northeast-1] ssm:StartSession by unknown user (name hidden)");
      expect(message.split("\n").slice(6, 10)).to.deep.equal([
        "Principal: unknown (IAM user, name hidden by CloudTrail)",
        "Source IP address: -",
        "User agent: -",
        "Target resource: -",
      ]);
      expect(message).to.not.include("Request parameters");
    });

    it("keeps a line break in a value from forging lines of the message", () => {
      const forged = { ...ssm, userAgent: "curl/8\nユーザネーム: admin" };

      const lines = formatActivity(forged, TOKYO_JA).message.split("\n");

      expect(lines.filter((line) => line.startsWith("ユーザネーム:"))).to.deep.equal(["ユーザネーム: hogehoge (IAM ユーザー)"]);
      expect(lines).to.include("ユーザーエージェント: curl/8 ユーザネーム: admin");
    });

    for (const options of [TOKYO_JA, TOKYO_EN]) {
      it(`cuts a huge event's request parameters with a visible note, keeping every line and the link (${options.language})`, () => {
        const huge = hugeEvent();
        expect(Buffer.byteLength(JSON.stringify(huge), "utf8")).to.be.greaterThan(262_144);

        const { message } = formatActivity(huge, options);

        expect(Buffer.byteLength(message, "utf8")).to.be.at.most(262_144);
        expect(message).to.not.include("\uFFFD");
        expect(message.split("\n").slice(0, 13).join("\n")).to.equal(formatActivity(record("assumed-role-put-role-policy.json"), options).message.split("\n").slice(0, 13).join("\n"));
        expect(message.split("\n").pop()).to.match(options.language === "ja" ? /^\(長すぎるため以降を省略しました。元の長さは \d+ バイトです。/ : /^\(cut: the rest is too long for a notification; it was \d+ bytes\./);
      });
    }

    it("always gives an ASCII one-line subject of at most 99 characters and a message SNS accepts (property)", () => {
      const anyText = fc.string({ unit: "grapheme", maxLength: 120 });
      fc.assert(
        fc.property(
          fc.record({
            eventName: fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
            eventSource: fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }),
            awsRegion: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
            userIdentity: fc.record({ type: fc.constantFrom("IAMUser", "AssumedRole", "Root", "AWSService", "Unknown"), userName: anyText, arn: anyText, principalId: anyText, invokedBy: anyText }, { requiredKeys: ["type"] }),
            errorCode: fc.option(anyText, { nil: undefined }),
            userAgent: fc.option(anyText, { nil: undefined }),
          }),
          fc.constantFrom(TOKYO_JA, TOKYO_EN),
          (fields, options) => {
            const rec = { ...ssm, ...fields } as CloudTrailRecord;
            const { subject, message } = formatActivity(rec, options);
            expect(subject).to.match(/^[\x21-\x7e][\x20-\x7e]*$/);
            expect(subject.length).to.be.at.most(99);
            expect(Buffer.byteLength(message, "utf8")).to.be.at.most(262_144);
            expect(message).to.not.include("undefined");
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("activityChatNotification", () => {
    it("is an Amazon Q Developer custom notification with the summary, the lines and the link", () => {
      const chat = JSON.parse(activityChatNotification(ssm, TOKYO_JA)) as Record<string, unknown>;

      expect(chat).to.deep.equal({
        version: "1.0",
        source: "custom",
        id: "9a8b7c6d-5e4f-4321-9abc-def012345678",
        content: {
          textType: "client-markdown",
          title: "hogehoge (IAM ユーザー) が ap-northeast-1 で ssm:StartSession を実行しました。",
          description: SSM_JA.split("\n")
            .slice(2, 11)
            .map((line) => line.replace(/^([^:]+): /, "*$1*: "))
            .join("\n"),
          nextSteps: ["CloudTrail: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/9a8b7c6d-5e4f-4321-9abc-def012345678"],
          keywords: ["ap-northeast-1", "ssm:StartSession", "iam-user"],
        },
        metadata: {
          summary: "[ap-northeast-1] ssm:StartSession by hogehoge",
          eventType: "CloudTrailUserActivity",
          relatedResources: ["i-0123456789abcdef0"],
          additionalContext: { eventID: "9a8b7c6d-5e4f-4321-9abc-def012345678" },
        },
      });
    });

    it("fits with the email text into one SNS message, cutting the text for a huge event", () => {
      const huge = hugeEvent();
      const chat = activityChatNotification(huge, TOKYO_JA);

      const document = structuredMessage(formatActivity(huge, TOKYO_JA).message, chat);

      expect(Buffer.byteLength(document, "utf8")).to.be.at.most(262_144);
      expect((JSON.parse(document) as { https: string }).https).to.equal(chat);
    });
  });

  describe("handler", () => {
    // Mocked only while these tests run: mockClient patches every SNSClient of the process.
    let snsMock: ReturnType<typeof mockSns>;
    before(() => {
      snsMock = mockSns();
    });
    const settings: UserActivitySettings = { topicArn: TOPIC_ARN, ...TOKYO_JA, criteria: { userNames: ["hogehoge"] }, chatNotifications: false };
    let logger: ReturnType<typeof recordingLogger>;
    let metrics: ReturnType<typeof recordingMetrics>;

    beforeEach(() => {
      snsMock.reset();
      snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
      logger = recordingLogger();
      metrics = recordingMetrics();
    });
    after(() => snsMock.restore());

    const handler = (overrides: Partial<UserActivitySettings> = {}) =>
      userActivityHandler({ ...settings, ...overrides }, { sns: new SNSClient({ region: "ap-northeast-1" }), logger, metrics });
    const published = (): PublishCommandInput[] => snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);

    it("publishes the SSM sample event from EventBridge with the exact subject and message", async () => {
      // Prepare / Act
      const result = await handler()(ssmEvent);

      // Assess
      expect(result).to.deep.equal({ records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 0 });
      expect(published()).to.deep.equal([{ TopicArn: TOPIC_ARN, Subject: "[ap-northeast-1] ssm:StartSession by hogehoge", Message: SSM_JA }]);
      expect(metrics.counts).to.deep.equal([{ name: "NotificationsPublished", value: 1 }]);
    });

    it("publishes one notification per matching record of a CloudWatch Logs batch, and nothing for the others", async () => {
      // Prepare
      const other = { ...ssm, eventID: "other-user", userIdentity: { type: "IAMUser", userName: "someone-else" } };
      const second = { ...record("create-bucket.json") };
      const payload = subscriptionPayload([ssm, other, second, ssm]);

      // Act
      const result = await handler()(payload);

      // Assess
      expect(result).to.deep.equal({ records: 4, matched: 2, published: 2, alreadySent: 0, rejected: 0 });
      expect(published().map((p) => p.Subject)).to.deep.equal(["[ap-northeast-1] ssm:StartSession by hogehoge", "[ap-northeast-1] s3:CreateBucket by hogehoge"]);
      const expected = formatActivity(second, TOKYO_JA);
      expect(published()[1]).to.deep.equal({ TopicArn: TOPIC_ARN, Subject: expected.subject, Message: expected.message });
    });

    it("publishes nothing for records the criteria do not select", async () => {
      const result = await handler({ criteria: { presets: ["iam-changes"] } })(ssmEvent);

      expect(result).to.deep.equal({ records: 1, matched: 0, published: 0, alreadySent: 0, rejected: 0 });
      expect(published()).to.deep.equal([]);
    });

    it("skips a CONTROL_MESSAGE without counting it as bad input", async () => {
      const result = await handler()(subscriptionPayload([], "CONTROL_MESSAGE"));

      expect(result).to.deep.equal({ records: 0, matched: 0, published: 0, alreadySent: 0, rejected: 0 });
      expect(published()).to.deep.equal([]);
      expect(metrics.counts).to.deep.equal([]);
    });

    it("logs and counts malformed records with their reason and still publishes the rest of the batch", async () => {
      // Prepare
      const payload = subscriptionPayload(["not json", { ...ssm, eventTime: "25/04/2023" }, ssm]);

      // Act
      const result = await handler()(payload);

      // Assess
      expect(result).to.deep.equal({ records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 2 });
      const reasons = logger.lines.filter((l) => l.level === "warn").map((l) => String(l.fields.reason));
      expect(reasons).to.have.length(2);
      expect(reasons[0]).to.match(/^log event message is not JSON: /);
      expect(reasons[1]).to.equal('eventTime "25/04/2023" is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z');
      expect(metrics.counts).to.deep.include({ name: "RejectedInput", value: 2 });
    });

    it("rejects a payload that is not base64 of gzip with a clear reason", async () => {
      const result = await handler()({ awslogs: { data: Buffer.from("plain text").toString("base64") } });

      expect(result.rejected).to.equal(1);
      expect(logger.lines.find((l) => l.level === "warn")?.fields.reason).to.match(/^awslogs\.data is not gzip of UTF-8 text: /);
    });

    it("publishes the other records when one publish fails, then fails the invocation so that Lambda retries", async () => {
      // Prepare
      snsMock.on(PublishCommand, { Subject: "[ap-northeast-1] s3:CreateBucket by hogehoge" }).rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling" }));
      const payload = subscriptionPayload([ssm, record("create-bucket.json")]);

      // Act
      const failure = await handler()(payload).then(
        () => undefined,
        (error: unknown) => error as Error & { failures: unknown },
      );

      // Assess
      expect(failure?.name).to.equal("PublishFailedError");
      expect(failure?.message).to.equal("1 of 2 notifications could not be published; the invocation fails so that Lambda retries it");
      expect(failure?.failures).to.deep.equal([{ eventID: "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", error: "Throttling: Rate exceeded" }]);
      expect(published().map((p) => p.Subject)).to.deep.equal(["[ap-northeast-1] ssm:StartSession by hogehoge", "[ap-northeast-1] s3:CreateBucket by hogehoge"]);
      expect(metrics.counts).to.deep.equal([
        { name: "NotificationsPublished", value: 1 },
        { name: "NotificationsFailed", value: 1 },
      ]);
    });

    it("sends the chat notification to HTTPS subscribers and the text to everyone else when chat is on", async () => {
      await handler({ chatNotifications: true })(ssmEvent);

      const [input] = published();
      expect(input).to.include({ TopicArn: TOPIC_ARN, Subject: "[ap-northeast-1] ssm:StartSession by hogehoge", MessageStructure: "json" });
      expect(JSON.parse(input.Message ?? "")).to.deep.equal({ default: SSM_JA, https: activityChatNotification(ssm, TOKYO_JA) });
    });

    it("handles the same record delivered through EventBridge from another Region", async () => {
      const fromUsEast1 = eventBridgeEvent({ ...record("create-bucket.json"), awsRegion: "us-east-1" });

      await handler()(fromUsEast1);

      expect(published().map((p) => p.Subject)).to.deep.equal(["[us-east-1] s3:CreateBucket by hogehoge"]);
    });

    it("without a sent journal, notifies a redelivered record again (at least once)", async () => {
      // Prepare / Act
      await handler()(ssmEvent);
      const again = await handler()(ssmEvent);

      // Assess
      expect(again).to.deep.equal({ records: 1, matched: 1, published: 1, alreadySent: 0, rejected: 0 });
      expect(published()).to.have.length(2);
    });

    describe("with a sent journal (DynamoDB on dynalite)", () => {
      const createBucket = record("create-bucket.json");
      const batch = subscriptionPayload([ssm, createBucket]);
      let db: LocalDynamoDb;
      let tableName: string;

      before(async () => {
        db = await LocalDynamoDb.start();
      });
      after(() => db.stop());
      beforeEach(async () => {
        tableName = await db.createSentJournalTable();
      });

      /** A handler in a fresh execution environment (new clients), with the journal on `table` through `dynamodb`. */
      const journaled = (table = tableName, dynamodb: DynamoDBClient = db.client()) =>
        userActivityHandler(settings, { sns: new SNSClient({ region: "ap-northeast-1" }), logger, metrics, journal: dynamoDbSentJournal(dynamodb, table) });
      const journaledIds = async () => ((await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? []).map((item) => item.eventID.S).sort();

      it("retried after one publish failed, publishes only the record that failed", async () => {
        // Prepare: the CreateBucket notification fails in the first attempt only.
        snsMock.on(PublishCommand, { Subject: "[ap-northeast-1] s3:CreateBucket by hogehoge" }).rejectsOnce(Object.assign(new Error("Internal error"), { name: "InternalError" })).resolves({ MessageId: "m-2" });

        // Act
        const first = await journaled()(batch).then(
          () => undefined,
          (error: Error) => error,
        );
        const retry = await journaled()(batch);

        // Assess
        expect(first?.name).to.equal("PublishFailedError");
        expect(retry).to.deep.equal({ records: 2, matched: 2, published: 1, alreadySent: 1, rejected: 0 });
        expect(published().map((p) => p.Subject)).to.deep.equal([
          "[ap-northeast-1] ssm:StartSession by hogehoge",
          "[ap-northeast-1] s3:CreateBucket by hogehoge",
          "[ap-northeast-1] s3:CreateBucket by hogehoge",
        ]);
        expect(metrics.counts).to.deep.include({ name: "NotificationsAlreadySent", value: 1 });
        expect(logger.lines.find((l) => l.message === "records notified before skipped")?.fields).to.deep.equal({ eventIDs: [ssm.eventID] });
        expect(await journaledIds()).to.deep.equal([ssm.eventID, createBucket.eventID].sort());
      });

      it("notifies nothing for a payload delivered again, and keeps each entry for 7 days", async () => {
        // Prepare
        const before = Math.floor(Date.now() / 1000);
        await journaled()(batch);

        // Act
        const again = await journaled()(batch);

        // Assess
        expect(again).to.deep.equal({ records: 2, matched: 2, published: 0, alreadySent: 2, rejected: 0 });
        expect(published()).to.have.length(2);
        expect(metrics.counts).to.deep.equal([
          { name: "NotificationsPublished", value: 2 },
          { name: "NotificationsAlreadySent", value: 2 },
        ]);
        const items = (await db.client().send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
        for (const item of items) {
          expect(Number(item.expiresAt.N) - before).to.be.within(SENT_JOURNAL_RETENTION_SECONDS, SENT_JOURNAL_RETENTION_SECONDS + 5);
        }
      });

      it("fails the invocation without publishing anything when the journal cannot be read", async () => {
        // Prepare: the journal's table does not exist.
        const handlerWithoutTable = journaled("no-such-table");

        // Act
        const failure = await handlerWithoutTable(batch).then(
          () => undefined,
          (error: Error) => error,
        );

        // Assess
        expect(failure?.name).to.equal("SentJournalUnavailableError");
        expect(failure?.message).to.match(/^the sent journal could not be read \(ResourceNotFoundException: .+\); nothing was published, the invocation fails so that Lambda retries it$/);
        expect(published()).to.deep.equal([]);
        expect(logger.lines.filter((l) => l.level === "error").map((l) => l.message)).to.deep.equal(["sent journal not readable; nothing published, the invocation fails so that Lambda retries it"]);
      });

      it("succeeds and counts SentJournalWriteFailed when a notification went out but could not be recorded", async () => {
        // Prepare: DynamoDB refuses every PutItem (as without the permission); reads go through.
        const proxy = await FaultProxy.start(db.endpoint);
        proxy.inject = (request) => (request.target.endsWith(".PutItem") ? dynamoDbError("AccessDeniedException") : undefined);
        const proxied = new DynamoDBClient({
          endpoint: proxy.endpoint,
          region: FAKE_AWS_ENVIRONMENT.AWS_REGION,
          credentials: { accessKeyId: FAKE_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
        });

        // Act
        const result = await journaled(tableName, proxied)(batch).finally(() => proxy.stop());

        // Assess
        expect(result).to.deep.equal({ records: 2, matched: 2, published: 2, alreadySent: 0, rejected: 0 });
        expect(proxy.count((r) => r.injected === "AccessDeniedException")).to.equal(2);
        expect(metrics.counts).to.deep.equal([
          { name: "NotificationsPublished", value: 2 },
          { name: "SentJournalWriteFailed", value: 2 },
        ]);
        expect(logger.lines.filter((l) => l.level === "error").map((l) => [l.message, l.fields.eventID]).sort()).to.deep.equal(
          [
            ["notification sent but not recorded in the sent journal; a retry or redelivery may notify it again", ssm.eventID],
            ["notification sent but not recorded in the sent journal; a retry or redelivery may notify it again", createBucket.eventID],
          ].sort(),
        );
        expect(await journaledIds()).to.deep.equal([]);
      });
    });
  });

  describe("userActivitySettingsFromEnvironment", () => {
    const env = {
      ALERT_TOPIC_ARN: TOPIC_ARN,
      ACTIVITY_TIME_ZONE: "Asia/Tokyo",
      ACTIVITY_LANGUAGE: "ja",
      ACTIVITY_CRITERIA: '{"presets":["ssm-sessions"]}',
      ACTIVITY_CHAT_NOTIFICATIONS: "true",
    };

    it("reads every setting", () => {
      expect(userActivitySettingsFromEnvironment(env)).to.deep.equal({
        topicArn: TOPIC_ARN,
        timeZone: "Asia/Tokyo",
        language: "ja",
        criteria: { presets: ["ssm-sessions"] },
        chatNotifications: true,
      });
    });

    it("reads the sent journal's table when the function has one", () => {
      expect(userActivitySettingsFromEnvironment({ ...env, ACTIVITY_SENT_TABLE: "activity-sent-1234567" }).sentTableName).to.equal("activity-sent-1234567");
    });

    const cases: Array<[string, Record<string, string>, string]> = [
      ["a missing variable", { ACTIVITY_TIME_ZONE: "" }, "environment variable ACTIVITY_TIME_ZONE is not set"],
      ["an unknown time zone", { ACTIVITY_TIME_ZONE: "Mars/Olympus" }, 'environment variable ACTIVITY_TIME_ZONE must be an IANA time zone, got "Mars/Olympus"'],
      ["an unknown language", { ACTIVITY_LANGUAGE: "fr" }, 'environment variable ACTIVITY_LANGUAGE must be "ja" or "en", got "fr"'],
      ["criteria that are not JSON", { ACTIVITY_CRITERIA: "{" }, "environment variable ACTIVITY_CRITERIA must be JSON"],
      ["invalid criteria", { ACTIVITY_CRITERIA: '{"presets":["ssh"]}' }, 'environment variable ACTIVITY_CRITERIA is invalid: ACTIVITY_CRITERIA.presets[0] must be one of ssm-sessions, console-sign-in, iam-changes, bucket-creation, got "ssh"'],
      ["a chat flag that is not a boolean", { ACTIVITY_CHAT_NOTIFICATIONS: "yes" }, 'environment variable ACTIVITY_CHAT_NOTIFICATIONS must be "true" or "false", got "yes"'],
    ];
    for (const [title, override, message] of cases) {
      it(`fails at cold start on ${title}, naming the variable`, () => {
        expect(() => userActivitySettingsFromEnvironment({ ...env, ...override })).to.throw(message);
      });
    }
  });
});

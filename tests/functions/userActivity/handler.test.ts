import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { PublishCommand, type PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";

import { activityChatNotification, formatActivity } from "../../../functions/userActivity/format";
import { userActivityHandler } from "../../../functions/userActivity/handler";
import { dynamoDbSentJournal, SENT_JOURNAL_RETENTION_SECONDS } from "../../../functions/userActivity/sentJournal";
import type { UserActivitySettings } from "../../../functions/userActivity/settings";
import { eventBridgeEvent, record, subscriptionPayload } from "../../../simulation/fixtures";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";
import { dynamoDbError, FaultProxy } from "../../../simulation/faultProxy";
import { FAKE_AWS_ENVIRONMENT } from "../../../simulation/fakeSns";
import { LocalDynamoDb } from "../../../simulation/localDynamoDb";
import { ssm, ssmEvent, SSM_JA, TOKYO_JA, TOPIC_ARN } from "./samples";

/** Stubs every SNSClient of the process until restored. */
const mockSns = () => mockClient(SNSClient);

describe("userActivity", () => {
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
});

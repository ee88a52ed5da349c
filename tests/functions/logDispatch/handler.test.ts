import { createHash } from "crypto";

import { PublishCommand, type PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";

import { type CloudTrailRecord, decodeCloudTrailPayload, readSubscriptionData } from "../../../functions/shared/cloudtrailEvents";
import { logDispatchHandler } from "../../../functions/logDispatch/handler";
import type { DispatchRoute } from "../../../functions/logDispatch/settings";
import { fixture, record, subscriptionPayload } from "../../../simulation/fixtures";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";

/** Stubs every SNSClient of the process until restored. */
const mockSns = () => mockClient(SNSClient);

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:dispatch";
const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;
const routes: DispatchRoute[] = [
  { key: "activity-hogehoge", patterns: [{ userIdentity: { userName: ["hogehoge"] } }] },
  { key: "activity-ssm", patterns: [{ eventSource: ["ssm.amazonaws.com"], eventName: ["StartSession"] }] },
  { key: "activity-root", patterns: [{ userIdentity: { type: ["Root"] } }] },
];

/** What a consumer decodes from one forwarded SNS message, as Lambda delivers it. */
function asSnsDelivery(message: string): unknown {
  return { Records: [{ EventSource: "aws:sns", EventVersion: "1.0", Sns: { Type: "Notification", MessageId: "m-1", TopicArn: TOPIC_ARN, Message: message } }] };
}

describe("logDispatch", () => {
  // Mocked only while these tests run: mockClient patches every SNSClient of the process.
  let snsMock: ReturnType<typeof mockSns>;
  before(() => {
    snsMock = mockSns();
  });
  let logger: ReturnType<typeof recordingLogger>;
  let metrics: ReturnType<typeof recordingMetrics>;

  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
    logger = recordingLogger();
    metrics = recordingMetrics();
  });
  after(() => snsMock.restore());

  const handler = () => logDispatchHandler({ topicArn: TOPIC_ARN, routes }, { sns: new SNSClient({ region: "ap-northeast-1" }), logger, metrics });
  const published = (): PublishCommandInput[] => snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);

  it("forwards to each consumer exactly the log events its patterns select, tagged with its key", async () => {
    // Prepare
    const createBucket = record("create-bucket.json");
    const root = record("root-console-login-failure.json");
    const payload = subscriptionPayload([ssm, createBucket, root, record("federated-user-list-buckets.json")]);
    const original = readSubscriptionData(payload.awslogs.data);

    // Act
    const result = await handler()(payload);

    // Assess
    expect(result).to.deep.equal({ logEvents: 4, forwarded: { "activity-hogehoge": 2, "activity-ssm": 1, "activity-root": 1 }, messages: 3, rejected: 0 });
    const byKey: Record<string, string[]> = Object.fromEntries(
      published().map((input): [string, string[]] => {
        expect(input.TopicArn).to.equal(TOPIC_ARN);
        return [input.MessageAttributes?.consumer?.StringValue ?? "", decodeCloudTrailPayload(asSnsDelivery(input.Message ?? "")).records.map((r) => r.eventID)];
      }),
    );
    expect(byKey).to.deep.equal({
      "activity-hogehoge": [ssm.eventID, createBucket.eventID],
      "activity-ssm": [ssm.eventID],
      "activity-root": [root.eventID],
    });
    const forwarded = readSubscriptionData((JSON.parse(published()[0].Message ?? "") as { awslogs: { data: string } }).awslogs.data);
    expect("message" in forwarded && "message" in original && forwarded.message.logEvents).to.deep.equal("message" in original ? original.message.logEvents.slice(0, 2) : []);
    expect("message" in forwarded && forwarded.message.logGroup).to.equal("/aws/cloudtrail/test-trail");
  });

  it("publishes nothing for a batch no consumer wants", async () => {
    const result = await handler()(subscriptionPayload([record("federated-user-list-buckets.json")]));

    expect(result).to.deep.equal({ logEvents: 1, forwarded: {}, messages: 0, rejected: 0 });
    expect(published()).to.deep.equal([]);
  });

  it("skips a CONTROL_MESSAGE", async () => {
    const result = await handler()(subscriptionPayload([], "CONTROL_MESSAGE"));

    expect(result).to.deep.equal({ logEvents: 0, forwarded: {}, messages: 0, rejected: 0 });
    expect(published()).to.deep.equal([]);
  });

  it("logs and counts bad log events with their reason and forwards the rest", async () => {
    const result = await handler()(subscriptionPayload(["{", { eventName: "x" }, ssm]));

    expect(result).to.deep.include({ forwarded: { "activity-hogehoge": 1, "activity-ssm": 1 }, rejected: 2 });
    const reasons = logger.lines.filter((l) => l.level === "warn").map((l) => String(l.fields.reason));
    expect(reasons).to.have.length(2);
    expect(reasons[0]).to.match(/^log event message is not JSON: /);
    expect(reasons[1]).to.equal("record has no eventID");
    expect(metrics.counts).to.deep.equal([{ name: "RejectedInput", value: 2 }]);
  });

  it("rejects a payload that is not a subscription batch", async () => {
    const result = await handler()({ hello: "world" });

    expect(result.rejected).to.equal(1);
    expect(logger.lines[0].fields.reason).to.equal("awslogs.data is not base64");
  });

  it("splits a consumer's share into messages SNS accepts", async () => {
    // Prepare: 300 records with ~3 KB of incompressible (hash-generated) text each: ~900 KB that gzip cannot shrink.
    const noise = (i: number) => Array.from({ length: 72 }, (_, k) => createHash("sha256").update(`${i}-${k}`).digest("base64")).join("");
    const noisy = Array.from({ length: 300 }, (_, i) => ({ ...ssm, eventID: `e-${i}`, userAgent: noise(i) }));

    // Act
    const result = await handler()(subscriptionPayload(noisy));

    // Assess
    const messages = published().filter((p) => p.MessageAttributes?.consumer?.StringValue === "activity-ssm");
    expect(messages.length).to.be.greaterThan(1);
    for (const message of messages) {
      expect(Buffer.byteLength(message.Message ?? "", "utf8")).to.be.at.most(256 * 1024 - 2048);
    }
    const ids = messages.flatMap((m) => decodeCloudTrailPayload(asSnsDelivery(m.Message ?? "")).records.map((r) => r.eventID));
    expect(ids).to.deep.equal(noisy.map((r) => r.eventID));
    expect(result.forwarded["activity-ssm"]).to.equal(300);
  });

  it("still forwards to the other consumers when one publish fails, then fails for a retry", async () => {
    snsMock.on(PublishCommand, { MessageAttributes: { consumer: { DataType: "String", StringValue: "activity-ssm" } } }).rejects(Object.assign(new Error("boom"), { name: "InternalError" }));

    const failure = await handler()(subscriptionPayload([ssm])).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

    expect(failure?.name).to.equal("ForwardFailedError");
    expect(failure?.message).to.equal("1 forwarded batches could not be published (activity-ssm: InternalError: boom); the invocation fails so that Lambda retries it");
    expect(published().map((p) => p.MessageAttributes?.consumer?.StringValue).sort()).to.deep.equal(["activity-hogehoge", "activity-ssm"]);
    expect(metrics.counts).to.deep.equal([{ name: "ForwardsFailed", value: 1 }]);
  });

  describe("SNS deliveries decoded by consumers", () => {
    it("reject a message that is not a forwarded subscription payload, naming the SNS message", () => {
      expect(decodeCloudTrailPayload(asSnsDelivery("hello"))).to.deep.equal({
        source: "logs",
        control: false,
        records: [],
        rejected: [{ source: "logs", reason: "SNS message is not a forwarded CloudWatch Logs subscription payload", id: "m-1" }],
      });
    });
  });
});

import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";

import { expect } from "chai";

import { cloudTrailConsoleLink, cloudTrailRecordProblem, consoleLinkOf, decodeCloudTrailPayload } from "../../../functions/shared/cloudtrailEvents";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", name), "utf8")) as Record<string, unknown>;
}

/** A CloudWatch Logs subscription payload as Lambda receives it. */
function subscription(message: unknown, encode: (json: string) => Buffer = (json) => gzipSync(Buffer.from(json, "utf8"))): unknown {
  return { awslogs: { data: encode(JSON.stringify(message)).toString("base64") } };
}

function dataMessage(messages: string[]): Record<string, unknown> {
  return {
    messageType: "DATA_MESSAGE",
    owner: "111111111111",
    logGroup: "/aws/cloudtrail/t",
    logStream: "111111111111_CloudTrail_ap-northeast-1",
    subscriptionFilters: ["f"],
    logEvents: messages.map((message, i) => ({ id: `id-${i}`, timestamp: 0, message })),
  };
}

describe("cloudtrailEvents", () => {
  const getObject = fixture("cloudtrail/s3-get-object.json");

  it("decodes the sample CloudWatch Logs subscription payload into its one record", () => {
    // Prepare
    const decoded = fixture("cloudwatch-logs/subscription-decoded.json") as { logEvents: Array<{ message: string }> };

    // Act
    const payload = decodeCloudTrailPayload(fixture("cloudwatch-logs/subscription-event.json"));

    // Assess
    expect(payload).to.deep.equal({ source: "logs", control: false, records: [JSON.parse(decoded.logEvents[0].message)], rejected: [] });
  });

  it("decodes the sample EventBridge event's detail", () => {
    const event = fixture("eventbridge/ssm-start-session.json");
    expect(decodeCloudTrailPayload(event)).to.deep.equal({ source: "eventbridge", control: false, records: [event.detail], rejected: [] });
  });

  it("reads Japanese and spaces in keys as UTF-8", () => {
    const payload = decodeCloudTrailPayload(subscription(dataMessage([JSON.stringify(getObject)])));
    expect((payload.records[0].requestParameters as { key: string }).key).to.equal("2025/売上報告 Q1.pdf");
  });

  it("skips a CONTROL_MESSAGE without rejecting anything", () => {
    expect(decodeCloudTrailPayload(subscription({ messageType: "CONTROL_MESSAGE", logEvents: [{ id: "", timestamp: 0, message: "CWL CONTROL MESSAGE: Checking health of destination Lambda." }] }))).to.deep.equal({
      source: "logs",
      control: true,
      records: [],
      rejected: [],
    });
  });

  it("keeps the good records of a batch and names each bad one with its reason", () => {
    const good = JSON.stringify(getObject);
    const payload = decodeCloudTrailPayload(subscription(dataMessage([good, "{not json", JSON.stringify({ ...getObject, userIdentity: undefined }), good])));

    expect(payload.records).to.have.length(2);
    expect(payload.rejected.map((r) => [r.id, r.reason.split(":")[0]])).to.deep.equal([
      ["id-1", "log event message is not JSON"],
      ["id-2", "record has no userIdentity"],
    ]);
  });

  const undecodable: Array<[string, unknown, string]> = [
    ["not base64", { awslogs: { data: "!!not base64!!" } }, "awslogs.data is not base64"],
    ["base64 of something that is not gzip", { awslogs: { data: Buffer.from("plain text").toString("base64") } }, "awslogs.data is not gzip of UTF-8 text"],
    ["gzip of invalid UTF-8", { awslogs: { data: gzipSync(Buffer.from([0xff, 0xfe, 0x7b])).toString("base64") } }, "awslogs.data is not gzip of UTF-8 text"],
    ["gzip of text that is not JSON", subscription("x", () => gzipSync(Buffer.from("not json"))), "awslogs.data does not hold JSON"],
    ["an unknown messageType", subscription({ messageType: "OTHER" }), 'messageType "OTHER" is neither DATA_MESSAGE nor CONTROL_MESSAGE'],
    ["an EventBridge event of another detail-type", { "detail-type": "EC2 Instance State-change Notification", detail: {} }, 'detail-type "EC2 Instance State-change Notification" does not carry a CloudTrail record'],
    ["neither shape", { hello: "world" }, "payload is neither a CloudWatch Logs subscription batch nor an EventBridge event"],
  ];
  for (const [title, event, reason] of undecodable) {
    it(`rejects ${title} with its reason, without throwing`, () => {
      const payload = decodeCloudTrailPayload(event);
      expect(payload.records).to.deep.equal([]);
      expect(payload.rejected).to.have.length(1);
      expect(payload.rejected[0].reason.startsWith(reason)).to.equal(true, payload.rejected[0].reason);
    });
  }

  describe("cloudTrailRecordProblem", () => {
    const cases: Array<[string, unknown, string | undefined]> = [
      ["a complete record", getObject, undefined],
      ["null optional fields", { ...getObject, requestParameters: null, responseElements: null, sourceIPAddress: undefined }, undefined],
      ["no eventID", { ...getObject, eventID: undefined }, "record has no eventID"],
      ["no eventTime", { ...getObject, eventTime: undefined }, "record has no eventTime"],
      ["an eventTime in another format", { ...getObject, eventTime: "2025/03/03 01:02:03" }, 'eventTime "2025/03/03 01:02:03" is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z'],
      ["requestParameters that are a string", { ...getObject, requestParameters: "x" }, "requestParameters is neither an object nor null"],
      ["an array", [getObject], "record is an array, not an object"],
      ["an eventTime on 30 February", { ...getObject, eventTime: "2025-02-30T10:00:00Z" }, 'eventTime "2025-02-30T10:00:00Z" is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z'],
      ["an eventTime at hour 24", { ...getObject, eventTime: "2025-03-03T24:00:00Z" }, 'eventTime "2025-03-03T24:00:00Z" is not an ISO 8601 UTC time such as 2023-04-25T09:47:10Z'],
      ["an eventTime with fractional seconds", { ...getObject, eventTime: "2025-03-03T01:02:03.123456Z" }, undefined],
      ["a key with emoji (surrogate pairs)", { ...getObject, requestParameters: { bucketName: "b", key: "📈/𠮷.pdf" } }, undefined],
      ["a lone surrogate in a nested value", { ...getObject, requestParameters: { bucketName: "b", key: "a\ud800" } }, "$.requestParameters.key holds a lone UTF-16 surrogate, which is not Unicode text"],
      ["an AWS service event's identity, which has no type", { ...getObject, userIdentity: { accountId: "123456789012", invokedBy: "AWS Internal" } }, undefined],
      ["no userIdentity", { ...getObject, userIdentity: undefined }, "record has no userIdentity"],
      ["a userIdentity that is a string", { ...getObject, userIdentity: "alice" }, "userIdentity is string, not an object"],
      [
        "a CloudTrail Insights event",
        { eventVersion: "1.07", eventTime: "2019-10-15T21:13:00Z", awsRegion: "us-east-1", eventID: "EXAMPLE-9b6f-45f8-bc6b-9b41c052ebc7", eventType: "AwsCloudTrailInsight", eventCategory: "Insight", insightDetails: { state: "Start", eventSource: "ssm.amazonaws.com", eventName: "UpdateInstanceAssociationStatus" } },
        "record is a CloudTrail Insights event (unusual API activity), not a record of a call",
      ],
      ["a lone low surrogate in a field name", { ...getObject, additionalEventData: { "x\udc00": 1 } }, "$.additionalEventData.x\udc00 holds a lone UTF-16 surrogate, which is not Unicode text"],
    ];
    for (const [title, record, problem] of cases) {
      it(`${problem === undefined ? "accepts" : "rejects"} ${title}`, () => {
        expect(cloudTrailRecordProblem(record)).to.equal(problem);
      });
    }
  });

  it("gives no console link to a record without an event ID or Region", () => {
    expect(consoleLinkOf({ awsRegion: "us-east-1" })).to.equal(undefined);
    expect(consoleLinkOf({ awsRegion: "us-east-1", eventID: 42 })).to.equal(undefined);
    expect(consoleLinkOf({ eventID: "e-1", awsRegion: " " })).to.equal(undefined);
    expect(consoleLinkOf({ awsRegion: "us-east-1", eventID: "e-1" })).to.equal("https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/e-1");
  });

  it("links to the event in the console of the region it was recorded in", () => {
    expect(cloudTrailConsoleLink({ awsRegion: "ap-northeast-1", eventID: "7c3f9a2e-1b4d-4e8f-9a0b-1c2d3e4f5a6b" })).to.equal(
      "https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/7c3f9a2e-1b4d-4e8f-9a0b-1c2d3e4f5a6b",
    );
  });
});

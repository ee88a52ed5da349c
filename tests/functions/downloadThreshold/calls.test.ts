/**
 * The download threshold room's declaration of its AWS calls: per counter, exactly the commands its code constructs,
 * on the resources its settings name. (tests/verify/leastPrivilege.test.ts checks it against the calls its archive
 * sends in both modes.)
 */
import { expect } from "chai";

import { downloadThresholdCalls } from "../../../functions/downloadThreshold/calls";
import type { DownloadThresholdSettings } from "../../../functions/downloadThreshold/settings";
import { commandsConstructedBy } from "../../support/sourceCommands";

const WHERE = { partition: "aws", region: "ap-northeast-1", account: "111111111111" };
const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";

function settings(counter: DownloadThresholdSettings["counter"]): DownloadThresholdSettings {
  return { watches: [{ bucket: "reports", key: "q1.pdf", threshold: 5 }], reset: { schedule: "0 1 * * 1", timeZone: "Asia/Tokyo" }, notify: "every", counter, language: "ja", timeZone: "Asia/Tokyo", topicArn: TOPIC_ARN };
}

describe("download threshold calls", () => {
  it("in DynamoDB mode: UpdateItem and GetItem on the counts table, and publishing alerts", () => {
    // Prepare
    const dynamodb = settings({ kind: "dynamodb", tableName: "counts" });

    // Act
    const calls = downloadThresholdCalls.calls(dynamodb, WHERE);

    // Assess
    expect(downloadThresholdCalls.mode(dynamodb)).to.equal("counter: dynamodb");
    expect(calls).to.deep.equal([
      { client: "DynamoDBClient", command: "UpdateItemCommand", action: "dynamodb:UpdateItem", resources: ["arn:aws:dynamodb:ap-northeast-1:111111111111:table/counts"] },
      { client: "DynamoDBClient", command: "GetItemCommand", action: "dynamodb:GetItem", resources: ["arn:aws:dynamodb:ap-northeast-1:111111111111:table/counts"] },
      { client: "SNSClient", command: "PublishCommand", action: "sns:Publish", resources: [TOPIC_ARN] },
    ]);
  });

  it("in logs mode: FilterLogEvents on the trail's log group (both spellings of its ARN), and publishing alerts", () => {
    const logs = settings({ kind: "logs", logGroupName: "/aws/cloudtrail/trail" });

    const calls = downloadThresholdCalls.calls(logs, WHERE);

    expect(downloadThresholdCalls.mode(logs)).to.equal("counter: logs");
    expect(calls).to.deep.equal([
      {
        client: "CloudWatchLogsClient",
        command: "FilterLogEventsCommand",
        action: "logs:FilterLogEvents",
        resources: ["arn:aws:logs:ap-northeast-1:111111111111:log-group:/aws/cloudtrail/trail", "arn:aws:logs:ap-northeast-1:111111111111:log-group:/aws/cloudtrail/trail:*"],
      },
      { client: "SNSClient", command: "PublishCommand", action: "sns:Publish", resources: [TOPIC_ARN] },
    ]);
  });

  it("declares, over its modes, exactly the commands the room's code constructs", () => {
    const declared = [settings({ kind: "dynamodb", tableName: "t" }), settings({ kind: "logs", logGroupName: "g" })].flatMap((s) => downloadThresholdCalls.calls(s, WHERE).map((c) => c.command));

    expect([...new Set(declared)].sort()).to.deep.equal(commandsConstructedBy("downloadThreshold"));
  });
});

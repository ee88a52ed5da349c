/**
 * The user activity room's declaration of its AWS calls: with and without the sent journal and burst grouping, exactly the commands its
 * code constructs, on the resources its settings name. (tests/verify/leastPrivilege.test.ts checks it against the
 * calls its archive sends in both modes.)
 */
import { expect } from "chai";

import { DEFAULT_BURST_SETTINGS } from "../../../functions/userActivity/bursts";
import { userActivityCalls } from "../../../functions/userActivity/calls";
import type { UserActivitySettings } from "../../../functions/userActivity/settings";
import { commandsConstructedBy } from "../../support/sourceCommands";

const WHERE = { partition: "aws", region: "ap-northeast-1", account: "111111111111" };
const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";

function settings(sentTableName?: string, grouping = false): UserActivitySettings {
  return {
    topicArn: TOPIC_ARN,
    criteria: { userNames: ["hogehoge"] },
    chatNotifications: false,
    timeZone: "Asia/Tokyo",
    language: "ja",
    ...(sentTableName === undefined ? {} : { sentTableName }),
    ...(grouping ? { burst: DEFAULT_BURST_SETTINGS } : {}),
  };
}

describe("user activity calls", () => {
  it("with the sent journal: GetItem and PutItem on its table, and publishing", () => {
    const calls = userActivityCalls.calls(settings("sent"), WHERE);

    expect(userActivityCalls.mode(settings("sent"))).to.equal("sent journal: on, burst grouping: off");
    expect(calls.map((c) => [c.command, c.action, ...c.resources])).to.deep.equal([
      ["GetItemCommand", "dynamodb:GetItem", "arn:aws:dynamodb:ap-northeast-1:111111111111:table/sent"],
      ["PutItemCommand", "dynamodb:PutItem", "arn:aws:dynamodb:ap-northeast-1:111111111111:table/sent"],
      ["PublishCommand", "sns:Publish", TOPIC_ARN],
    ]);
  });

  it("with burst grouping: UpdateItem on the journal's table as well (its bursts and the scheduled sweep)", () => {
    const calls = userActivityCalls.calls(settings("sent", true), WHERE);

    expect(userActivityCalls.mode(settings("sent", true))).to.equal("sent journal: on, burst grouping: on");
    expect(calls.map((c) => [c.command, c.action, ...c.resources])).to.deep.equal([
      ["GetItemCommand", "dynamodb:GetItem", "arn:aws:dynamodb:ap-northeast-1:111111111111:table/sent"],
      ["PutItemCommand", "dynamodb:PutItem", "arn:aws:dynamodb:ap-northeast-1:111111111111:table/sent"],
      ["UpdateItemCommand", "dynamodb:UpdateItem", "arn:aws:dynamodb:ap-northeast-1:111111111111:table/sent"],
      ["PublishCommand", "sns:Publish", TOPIC_ARN],
    ]);
  });

  it("without it: publishing only", () => {
    expect(userActivityCalls.mode(settings())).to.equal("sent journal: off, burst grouping: off");
    expect(userActivityCalls.calls(settings(), WHERE)).to.deep.equal([{ client: "SNSClient", command: "PublishCommand", action: "sns:Publish", resources: [TOPIC_ARN] }]);
  });

  it("declares, over its modes, exactly the commands the room's code constructs", () => {
    const declared = [settings("sent", true), settings("sent"), settings()].flatMap((s) => userActivityCalls.calls(s, WHERE).map((c) => c.command));

    expect([...new Set(declared)].sort()).to.deep.equal(commandsConstructedBy("userActivity"));
  });
});

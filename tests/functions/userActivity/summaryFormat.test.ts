import { expect } from "chai";

import type { BurstSummary, OverflowSummary } from "../../../functions/userActivity/bursts";
import { formatSummary, summaryChatNotification } from "../../../functions/userActivity/summaryFormat";
import { iamUser } from "../../../simulation/activityBursts";
import { TOKYO_EN, TOKYO_JA } from "./samples";

const burst: BurstSummary = {
  kind: "burst",
  identity: iamUser("alice"),
  eventSource: "ec2.amazonaws.com",
  eventName: "AuthorizeSecurityGroupIngress",
  count: 37,
  firstTime: "2025-05-14T01:00:03Z",
  lastTime: "2025-05-14T01:04:51Z",
  samples: [
    { eventID: "e-1", eventTime: "2025-05-14T01:00:03Z", awsRegion: "ap-northeast-1", target: "sg-0123" },
    { eventID: "e-37", eventTime: "2025-05-14T01:04:51Z", awsRegion: "ap-northeast-1" },
  ],
  opener: { eventID: "e-0", eventTime: "2025-05-14T01:00:02Z" },
};

const overflow: OverflowSummary = {
  kind: "overflow",
  count: 12,
  hourStart: Date.UTC(2025, 4, 14, 1),
  maxMessagesPerHour: 100,
  samples: [{ eventID: "o-1", eventTime: "2025-05-14T01:40:00Z", awsRegion: "us-east-1" }],
};

describe("userActivity summaryFormat", () => {
  it("writes a burst's summary in English: how many more, who, between when, the first and last of them and the rest", () => {
    expect(formatSummary(burst, TOKYO_EN)).to.deep.equal({
      subject: "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +37 more",
      message: [
        "and 37 more ec2:AuthorizeSecurityGroupIngress calls by alice (IAM user), between 2025-05-14 10:00:03 +09:00 and 2025-05-14 10:04:51 +09:00.",
        "",
        "The first one was notified at 2025-05-14 10:00:02 +09:00; these were counted, not sent one by one.",
        "",
        "Counted: 37",
        "First of them: 2025-05-14 10:00:03 +09:00, ap-northeast-1, sg-0123 (https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/e-1)",
        "Last of them: 2025-05-14 10:04:51 +09:00, ap-northeast-1 (https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/e-37)",
        "All of them in CloudTrail Event history: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events?EventName=AuthorizeSecurityGroupIngress",
      ].join("\n"),
    });
  });

  it("writes it in Japanese, with the same ASCII subject", () => {
    const alert = formatSummary(burst, TOKYO_JA);

    expect(alert.subject).to.equal("[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +37 more");
    expect(alert.message.split("\n").slice(0, 5)).to.deep.equal([
      "alice (IAM ユーザー) による ec2:AuthorizeSecurityGroupIngress がさらに 37 件ありました (2025-05-14 10:00:03 +09:00 から 2025-05-14 10:04:51 +09:00 まで)。",
      "",
      "最初の 1 件は 2025-05-14 10:00:02 +09:00 に通知済みです。以降は個別に送らず件数のみ数えました。",
      "",
      "件数: 37",
    ]);
  });

  it("keeps the count in a subject shortened to SNS's 99 characters", () => {
    const long = { ...burst, identity: iamUser("a-very-long-user-name-that-goes-on-and-on-and-on"), eventName: "AuthorizeSecurityGroupIngressWithAnExtremelyLongName" };
    const { subject } = formatSummary(long, TOKYO_EN);

    expect(subject.length).to.be.at.most(99);
    expect(subject.endsWith("... +37 more")).to.equal(true);
  });

  it("shows one sample once when the first and last are the same event", () => {
    const single = { ...burst, count: 1, samples: [burst.samples[0]] };

    expect(formatSummary(single, TOKYO_EN).message).to.not.include("Last of them");
  });

  it("writes what the hourly cap held back, with the hour and the limit", () => {
    expect(formatSummary(overflow, TOKYO_EN)).to.deep.equal({
      subject: "cloudtrail-alerts: 12 more matching events (limit 100 messages per hour)",
      message: [
        "The notifier reached its limit of 100 messages per hour between 2025-05-14 10:00:00 +09:00 and 2025-05-14 11:00:00 +09:00: 12 more matching events were counted, not sent one by one.",
        "",
        "Counted: 12",
        "First of them: 2025-05-14 10:40:00 +09:00, us-east-1 (https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/o-1)",
        "All of them in CloudTrail Event history: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events",
      ].join("\n"),
    });
  });

  it("writes the chat notification of a summary", () => {
    const chat = JSON.parse(summaryChatNotification(burst, TOKYO_EN)) as { content: { title: string; description: string; keywords: string[] }; metadata: { eventType: string; summary: string } };

    expect(chat.content.title).to.equal(formatSummary(burst, TOKYO_EN).message.split("\n")[0]);
    expect(chat.content.description.split("\n")[1]).to.equal("Counted: 37");
    expect(chat.content.keywords).to.deep.equal(["ec2:AuthorizeSecurityGroupIngress", "+37"]);
    expect(chat.metadata).to.deep.include({ eventType: "CloudTrailUserActivitySummary", summary: "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +37 more" });
    expect((JSON.parse(summaryChatNotification(overflow, TOKYO_EN)) as { metadata: { eventType: string } }).metadata.eventType).to.equal("CloudTrailUserActivityOverflow");
  });
});

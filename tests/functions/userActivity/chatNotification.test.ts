/**
 * What each kind of subscriber of the alert topic receives from one notifier publish, through the loopback SNS: the
 * chat channels (Amazon Q Developer in chat applications, an HTTPS subscriber) the custom notification, email the
 * readable text.
 */
import { expect } from "chai";

import { userActivityHandler } from "../../../functions/userActivity/handler";
import type { UserActivitySettings } from "../../../functions/userActivity/settings";
import { deliveredBody, FakeSns } from "../../../simulation/fakeSns";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";
import { ssmEvent, SSM_JA, TOKYO_JA, TOPIC_ARN } from "./samples";

describe("userActivity chat notifications, as SNS delivers them", () => {
  let sns: FakeSns;
  before(async () => {
    sns = await FakeSns.start([TOPIC_ARN]);
  });
  after(() => sns.stop());
  beforeEach(() => sns.published.splice(0));

  const settings: UserActivitySettings = { topicArn: TOPIC_ARN, ...TOKYO_JA, criteria: { userNames: ["hogehoge"] }, chatNotifications: false };
  const notify = (chatNotifications: boolean) =>
    userActivityHandler({ ...settings, chatNotifications }, { sns: sns.client(), logger: recordingLogger(), metrics: recordingMetrics() })(ssmEvent);

  it("with chat on: the chat channels get the custom notification, email the readable text", async () => {
    // Prepare / Act
    await notify(true);

    // Assess
    expect(sns.published).to.have.length(1);
    const [published] = sns.published;
    expect(deliveredBody(published, "email")).to.equal(SSM_JA);
    const chat = JSON.parse(deliveredBody(published, "https")) as { version: string; source: string; content: { textType: string; title: string; description: string } };
    expect(chat).to.deep.include({ version: "1.0", source: "custom" });
    expect(chat.content.title).to.include("ssm:StartSession");
    expect(chat.content.description).to.include("hogehoge");
    // Email never sees the chat JSON, and the chat channel never the email text.
    expect(deliveredBody(published, "email")).not.to.include('"source":"custom"');
    expect(deliveredBody(published, "https")).not.to.equal(SSM_JA);
  });

  it("with chat off: every subscriber gets the readable text, which Amazon Q Developer does not post", async () => {
    await notify(false);

    const [published] = sns.published;
    expect(published.messageStructure).to.equal(undefined);
    expect(deliveredBody(published, "email")).to.equal(SSM_JA);
    expect(deliveredBody(published, "https")).to.equal(SSM_JA);
    expect(() => JSON.parse(deliveredBody(published, "https")) as unknown).to.throw(SyntaxError);
  });
});

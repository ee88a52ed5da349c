/**
 * The client-side tally counts calls and throttled attempts: inside the SDK's retry loop on an SDK client (so the
 * throttles the SDK retries on its own count too), and from the errors of a plain `send`.
 */
import { PublishCommand } from "@aws-sdk/client-sns";
import { expect } from "chai";

import { newTally, tallied } from "../../simulation/clientTally";
import { FakeSns } from "../../simulation/fakeSns";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";

describe("client tally", () => {
  it("counts throttled attempts the SDK retried on its own, and the calls the code sent", async () => {
    // Prepare
    const sns = await FakeSns.start([TOPIC_ARN]);
    const client = sns.client();
    const tally = newTally();
    const counted = tallied(client, tally);
    sns.failNext(2, "Throttling");

    // Act
    try {
      await counted.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: "m" }));
      await counted.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: "n" }));
    } finally {
      client.destroy();
      await sns.stop();
    }

    // Assess
    expect(tally).to.deep.equal({ calls: 2, throttled: 2 });
    expect(sns.published).to.have.length(2);
  });

  it("counts the throttling errors a plain send throws, and not other errors", async () => {
    const errors = [Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }), Object.assign(new Error("no"), { name: "AccessDeniedException" })];
    const tally = newTally();
    const counted = tallied({ send: () => Promise.reject(errors.shift()!) }, tally);

    await Promise.allSettled([counted.send(), counted.send()]);

    expect(tally).to.deep.equal({ calls: 2, throttled: 1 });
  });
});

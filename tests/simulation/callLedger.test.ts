/**
 * The call ledger records each SDK command with the IAM action it needs and the scope it was sent in, only while
 * installed.
 */
import { PublishCommand } from "@aws-sdk/client-sns";
import { expect } from "chai";

import { CallLedger, iamActionOf } from "../../simulation/callLedger";
import { FakeSns } from "../../simulation/fakeSns";

const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:alerts";

describe("CallLedger", () => {
  it("names the IAM action of a command, also where it is not named after the operation", () => {
    expect(iamActionOf("SNSClient", "PublishCommand")).to.equal("sns:Publish");
    expect(iamActionOf("S3Client", "HeadObjectCommand")).to.equal("s3:GetObject");
    expect(iamActionOf("S3Client", "ListObjectsV2Command")).to.equal("s3:ListBucket");
    expect(() => iamActionOf("EC2Client", "DescribeInstancesCommand")).to.throw("the call ledger does not know the IAM prefix of EC2Client");
  });

  it("records the commands sent while installed, each in the scope it was sent from", async () => {
    // Prepare
    const sns = await FakeSns.start([TOPIC_ARN]);
    const client = sns.client();
    const ledger = new CallLedger();
    const publish = () => client.send(new PublishCommand({ TopicArn: TOPIC_ARN, Message: "m" }));

    // Act
    const restore = ledger.install();
    try {
      await ledger.attribute("function-a", async () => {
        await new Promise((resolve) => setImmediate(resolve));
        await publish();
      });
      await publish();
    } finally {
      restore();
    }
    await publish();
    client.destroy();
    await sns.stop();

    // Assess
    expect(ledger.calls).to.deep.equal([
      { action: "sns:Publish", client: "SNSClient", command: "PublishCommand", scope: "function-a" },
      { action: "sns:Publish", client: "SNSClient", command: "PublishCommand" },
    ]);
    expect(ledger.callsOf("function-a")).to.have.length(1);
    expect(sns.published).to.have.length(3);
  });
});

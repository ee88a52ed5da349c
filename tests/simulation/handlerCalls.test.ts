/**
 * The handler rooms' declarations are found by callback factory; a recorded call's resource is read from its input;
 * IAM-style patterns match as IAM matches them.
 */
import { expect } from "chai";

import { globMatches, HANDLER_CALLS, handlerCallsOf, resourceOfCall } from "../../simulation/handlerCalls";

const WHERE = { partition: "aws", region: "ap-northeast-1", account: "111111111111" };

describe("handler calls", () => {
  it("has one declaration per handler room, found by its callback factory", () => {
    expect(HANDLER_CALLS.map((h) => [h.room, h.factory])).to.deep.equal([
      ["downloadThreshold", "downloadThresholdCallbackFactory"],
      ["userActivity", "userActivityCallbackFactory"],
      ["logDispatch", "logDispatchCallbackFactory"],
      ["trailBackfill", "trailBackfillCallbackFactory"],
    ]);
    expect(handlerCallsOf("userActivityCallbackFactory")?.room).to.equal("userActivity");
    expect(handlerCallsOf("someoneElsesFactory")).to.equal(undefined);
  });

  it("reads the resource of a recorded call from its input, in the function's placement", () => {
    const call = (client: string, command: string, target: Record<string, string>) => resourceOfCall({ client, command, action: "", target }, WHERE);

    expect(call("DynamoDBClient", "UpdateItemCommand", { TableName: "counts" })).to.equal("arn:aws:dynamodb:ap-northeast-1:111111111111:table/counts");
    expect(call("SNSClient", "PublishCommand", { TopicArn: "arn:aws:sns:x:1:t" })).to.equal("arn:aws:sns:x:1:t");
    expect(call("S3Client", "PutObjectCommand", { Bucket: "b", Key: "AWSLogs/1/x.json.gz" })).to.equal("arn:aws:s3:::b/AWSLogs/1/x.json.gz");
    expect(call("CloudWatchLogsClient", "FilterLogEventsCommand", { logGroupName: "/aws/trail" })).to.equal("arn:aws:logs:ap-northeast-1:111111111111:log-group:/aws/trail");
    expect(call("STSClient", "AssumeRoleCommand", { RoleArn: "arn:aws:iam::2:role/r" })).to.equal("arn:aws:iam::2:role/r");
    expect(call("CloudTrailClient", "LookupEventsCommand", {})).to.equal("*");
    expect(call("DynamoDBClient", "UpdateItemCommand", {})).to.equal(undefined);
  });

  it("matches IAM-style patterns: `*` any characters (slashes too), `?` one, the rest literally", () => {
    expect(globMatches("arn:aws:s3:::b/AWSLogs/*", "arn:aws:s3:::b/AWSLogs/1/x.json.gz")).to.equal(true);
    expect(globMatches("arn:aws:s3:::b/AWSLogs/*", "arn:aws:s3:::b/elsewhere")).to.equal(false);
    expect(globMatches("arn:aws:logs:r:1:log-group:g:log-stream:?", "arn:aws:logs:r:1:log-group:g:log-stream:x")).to.equal(true);
    expect(globMatches("table/a.b", "table/aXb")).to.equal(false);
  });
});

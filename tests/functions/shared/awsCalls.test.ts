/**
 * The vocabulary of the handlers' call declarations builds ARNs in the function's partition, Region and account.
 */
import { expect } from "chai";

import { awsCall, regionalArn, s3Arn } from "../../../functions/shared/awsCalls";

const WHERE = { partition: "aws-cn", region: "cn-north-1", account: "111111111111" };

describe("awsCalls", () => {
  it("builds regional and S3 ARNs where the function runs", () => {
    expect(regionalArn(WHERE, "dynamodb", "table/counts")).to.equal("arn:aws-cn:dynamodb:cn-north-1:111111111111:table/counts");
    expect(s3Arn(WHERE, "bucket/AWSLogs/*")).to.equal("arn:aws-cn:s3:::bucket/AWSLogs/*");
  });

  it("declares a call on the function's own credentials", () => {
    expect(awsCall("SNSClient", "PublishCommand", "sns:Publish", ["arn:t"])).to.deep.equal({ client: "SNSClient", command: "PublishCommand", action: "sns:Publish", resources: ["arn:t"] });
  });
});

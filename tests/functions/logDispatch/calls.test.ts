/**
 * The log dispatcher's declaration of its AWS calls: publishing to its dispatch topic, exactly the commands its code
 * constructs. (tests/verify/leastPrivilege.test.ts checks it against the calls its archive sends.)
 */
import { expect } from "chai";

import { logDispatchCalls } from "../../../functions/logDispatch/calls";
import { commandsConstructedBy } from "../../support/sourceCommands";

const WHERE = { partition: "aws", region: "ap-northeast-1", account: "111111111111" };
const TOPIC_ARN = "arn:aws:sns:ap-northeast-1:111111111111:dispatch";

describe("log dispatch calls", () => {
  it("publishes to the dispatch topic, the commands its code constructs", () => {
    const calls = logDispatchCalls.calls({ topicArn: TOPIC_ARN, routes: [] }, WHERE);

    expect(logDispatchCalls.mode({ topicArn: TOPIC_ARN, routes: [] })).to.equal("dispatch");
    expect(calls).to.deep.equal([{ client: "SNSClient", command: "PublishCommand", action: "sns:Publish", resources: [TOPIC_ARN] }]);
    expect(calls.map((c) => c.command)).to.deep.equal(commandsConstructedBy("logDispatch"));
  });
});

import { expect } from "chai";

import { packPayloads, shrinkRecord } from "../../../functions/logDispatch/payload";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { fixture } from "../../../simulation/fixtures";

const ssm = fixture<{ detail: CloudTrailRecord }>("eventbridge/ssm-start-session.json").detail;

describe("logDispatch payload", () => {
  it("cuts the longest values of a record too large for SNS, keeping identifying fields whole", () => {
    // Prepare
    const big = { ...ssm, requestParameters: { target: "i-0123456789abcdef0", document: "文".repeat(300_000) }, userAgent: "x".repeat(2000) };

    // Act
    const shrunk = shrinkRecord(big, 100_000);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(shrunk), "utf8")).to.be.at.most(100_000);
    expect(shrunk).to.deep.include({ eventID: ssm.eventID, eventTime: ssm.eventTime, userIdentity: ssm.userIdentity, userAgent: "x".repeat(2000) });
    expect((shrunk?.requestParameters as { target: string; document: string }).target).to.equal("i-0123456789abcdef0");
    expect((shrunk?.requestParameters as { document: string }).document).to.match(/^文{1024,} \.\.\.\[cut \d+ characters to forward\]$/);
    expect(shrinkRecord({ ...ssm, many: Array.from({ length: 50_000 }, (_, i) => i) }, 1000)).to.equal(undefined);
  });

  it("reports a single log event too large to forward instead of failing the batch", () => {
    const envelope = { messageType: "DATA_MESSAGE" as const, logEvents: [] };
    const big = { id: "1", timestamp: 1, message: "x".repeat(100) };

    expect(packPayloads(envelope, [big], 50)).to.deep.equal({ payloads: [], tooLarge: [big] });
  });
});

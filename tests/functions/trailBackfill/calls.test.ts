/**
 * The backfill's declaration of its AWS calls: assuming the reader roles that trust it, LookupEvents with their
 * credentials, log files under `<prefix>/AWSLogs/`; exactly the commands its code constructs.
 * (tests/verify/leastPrivilege.test.ts checks it against the calls its archive sends.)
 */
import { expect } from "chai";

import { ROLES_TRUSTING_THE_FUNCTION } from "../../../functions/shared/awsCalls";
import { trailBackfillCalls } from "../../../functions/trailBackfill/calls";
import type { TrailBackfillSettings } from "../../../functions/trailBackfill/settings";
import { commandsConstructedBy } from "../../support/sourceCommands";

const WHERE = { partition: "aws", region: "ap-northeast-1", account: "111111111111" };

const settings = (prefix: string): TrailBackfillSettings => ({ bucket: "backfill", prefix, requestsPerSecond: 2, concurrentRequests: 4 });

describe("trail backfill calls", () => {
  it("assumes the roles that trust it, looks events up with their credentials, writes under AWSLogs/", () => {
    expect(trailBackfillCalls.calls(settings(""), WHERE)).to.deep.equal([
      { client: "STSClient", command: "AssumeRoleCommand", action: "sts:AssumeRole", resources: [ROLES_TRUSTING_THE_FUNCTION] },
      { client: "CloudTrailClient", command: "LookupEventsCommand", action: "cloudtrail:LookupEvents", resources: ["*"], credentials: "assumed-role" },
      { client: "S3Client", command: "PutObjectCommand", action: "s3:PutObject", resources: ["arn:aws:s3:::backfill/AWSLogs/*"] },
    ]);
  });

  it("writes under its key prefix when it has one", () => {
    expect(trailBackfillCalls.calls(settings("org/backfill"), WHERE)[2].resources).to.deep.equal(["arn:aws:s3:::backfill/org/backfill/AWSLogs/*"]);
  });

  it("declares exactly the commands the room's code constructs", () => {
    expect(trailBackfillCalls.calls(settings(""), WHERE).map((c) => c.command).sort()).to.deep.equal(commandsConstructedBy("trailBackfill"));
  });
});

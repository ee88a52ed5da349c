/**
 * The backfill's declaration of its AWS calls: assuming the reader roles that trust it, LookupEvents with their
 * credentials, log files under `<prefix>/AWSLogs/`, the Map's exported results; exactly the commands its code constructs.
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
  it("assumes the roles that trust it, looks events up with their credentials, writes under AWSLogs/, reads the Map's results", () => {
    expect(trailBackfillCalls.calls(settings(""), WHERE)).to.deep.equal([
      { client: "STSClient", command: "AssumeRoleCommand", action: "sts:AssumeRole", resources: [ROLES_TRUSTING_THE_FUNCTION] },
      { client: "CloudTrailClient", command: "LookupEventsCommand", action: "cloudtrail:LookupEvents", resources: ["*"], credentials: "assumed-role" },
      { client: "S3Client", command: "PutObjectCommand", action: "s3:PutObject", resources: ["arn:aws:s3:::backfill/AWSLogs/*"] },
      { client: "S3Client", command: "GetObjectCommand", action: "s3:GetObject", resources: ["arn:aws:s3:::backfill/TrailBackfillResults/*"] },
    ]);
  });

  it("writes under its key prefix when it has one", () => {
    const calls = trailBackfillCalls.calls(settings("org/backfill"), WHERE);
    expect(calls[2].resources).to.deep.equal(["arn:aws:s3:::backfill/org/backfill/AWSLogs/*"]);
    expect(calls[3].resources).to.deep.equal(["arn:aws:s3:::backfill/org/backfill/TrailBackfillResults/*"]);
  });

  it("writes only under the organization ID in the organization trail layout", () => {
    const calls = trailBackfillCalls.calls({ ...settings("org-trail"), organizationId: "o-a1b2c3d4e5" }, WHERE);
    expect(calls[2].resources).to.deep.equal(["arn:aws:s3:::backfill/org-trail/AWSLogs/o-a1b2c3d4e5/*"]);
    expect(trailBackfillCalls.calls({ ...settings(""), organizationId: "o-a1b2c3d4e5" }, WHERE)[2].resources).to.deep.equal(["arn:aws:s3:::backfill/AWSLogs/o-a1b2c3d4e5/*"]);
  });

  it("declares exactly the commands the room's code constructs", () => {
    expect(trailBackfillCalls.calls(settings(""), WHERE).map((c) => c.command).sort()).to.deep.equal(commandsConstructedBy("trailBackfill"));
  });
});

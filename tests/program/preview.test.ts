/**
 * The dev stack as `npm start -- --json` prints it (evaluated in its own process: Pulumi's runtime allows one program
 * per process): the backfill's resources, and each account's reader role placed in that account by its provider.
 */
import { execFileSync } from "child_process";

import { expect } from "chai";

import { PROJECT_DIRECTORY } from "../support/engine";

interface PreviewRecord {
  type: string;
  name: string;
  parent: string | null;
  placement: { account: string; region: string } | null;
  inputs: Record<string, unknown>;
}

describe("offline preview of the dev stack: backfill", () => {
  let records: PreviewRecord[];

  before(function () {
    this.timeout(60_000);
    const output = execFileSync(process.execPath, ["-r", "ts-node/register", "preview/main.ts", "--json"], {
      cwd: PROJECT_DIRECTORY,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      encoding: "utf8",
    });
    records = JSON.parse(output) as PreviewRecord[];
  });

  it("creates one provider per member account, assuming OrganizationAccountAccessRole there and allowed only there", () => {
    const providers = records.filter((r) => r.type === "pulumi:providers:aws");

    expect(providers.map((p) => p.name)).to.deep.equal(["backfill-222222222222", "backfill-333333333333", "backfill-444444444444"]);
    for (const provider of providers) {
      // Pulumi hands provider settings over as JSON text.
      const account = provider.name.slice("backfill-".length);
      expect(JSON.parse(provider.inputs.assumeRoles as string)).to.deep.equal([{ roleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, sessionName: "cloudtrail-alerts-deploy" }]);
      expect(JSON.parse(provider.inputs.allowedAccountIds as string)).to.deep.equal([account]);
      expect(provider.inputs.region).to.equal("ap-northeast-1");
    }
  });

  it("places each account's reader role in that account, the stack's own without assuming anything", () => {
    const roles = records.filter((r) => r.type === "aws:iam/role:Role" && r.name.startsWith("backfill-reader-"));

    expect(roles.map((r) => [r.name, r.placement?.account])).to.deep.equal([
      ["backfill-reader-111111111111", "111111111111"],
      ["backfill-reader-222222222222", "222222222222"],
      ["backfill-reader-333333333333", "333333333333"],
      ["backfill-reader-444444444444", "444444444444"],
    ]);
  });

  it("shows the state machine, the function and the bucket of the backfill", () => {
    const names = records.map((r) => `${r.type} ${r.name}`);

    expect(names).to.include.members([
      "cloudtrail-alerts:index:TrailBackfill backfill",
      "aws:sfn/stateMachine:StateMachine backfill",
      "aws:lambda/function:Function backfill-function",
      "aws:s3/bucket:Bucket backfill-bucket",
    ]);
  });
});

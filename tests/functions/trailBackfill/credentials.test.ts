import type { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { expect } from "chai";

import { READER_SESSION_NAME, readerCloudTrailClients, readerRoleCredentials } from "../../../functions/trailBackfill/credentials";
import { serviceError } from "../../../simulation/fakeCloudTrail";

const ROLE = "arn:aws:iam::222222222222:role/backfill-reader";

/** An STS stand-in: answers AssumeRole with credentials expiring after `lifetimeMs`, or with `refusal`. */
function fakeSts(p: { lifetimeMs?: number; refusal?: Error; credentials?: Record<string, unknown> } = {}) {
  const calls: Array<AssumeRoleCommand["input"]> = [];
  const sts = {
    send: (command: AssumeRoleCommand) => {
      calls.push(command.input);
      if (p.refusal !== undefined) return Promise.reject(p.refusal);
      const credentials = p.credentials ?? {
        AccessKeyId: `ASIA${calls.length}`,
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(Date.now() + (p.lifetimeMs ?? 3_600_000)),
      };
      return Promise.resolve({ Credentials: credentials });
    },
  } as unknown as Pick<STSClient, "send">;
  return { sts, calls };
}

describe("trailBackfill credentials", () => {
  it("assumes the reader role for an hour with the external ID, and reuses the credentials until shortly before they expire", async () => {
    // Prepare
    const fresh = fakeSts();
    const expiring = fakeSts({ lifetimeMs: 4 * 60_000 });
    const fromFresh = readerRoleCredentials(fresh.sts, ROLE, "tb-external", READER_SESSION_NAME);
    const fromExpiring = readerRoleCredentials(expiring.sts, ROLE, undefined, READER_SESSION_NAME);

    // Act
    const [a, b] = [await fromFresh(), await fromFresh()];
    const [c, d] = [await fromExpiring(), await fromExpiring()];

    // Assess
    expect(fresh.calls).to.deep.equal([{ RoleArn: ROLE, RoleSessionName: "cloudtrail-alerts-backfill", DurationSeconds: 3600, ExternalId: "tb-external" }]);
    expect(b).to.equal(a);
    expect(expiring.calls).to.have.length(2);
    expect(expiring.calls[0]).not.to.have.property("ExternalId");
    expect(d.accessKeyId).not.to.equal(c.accessKeyId);
  });

  it("names the role and says what to check when the role cannot be assumed", async () => {
    const { sts } = fakeSts({ refusal: serviceError("AccessDenied", "User is not authorized to perform sts:AssumeRole") });

    const error = await readerRoleCredentials(sts, ROLE, "x", READER_SESSION_NAME)().then(
      () => expect.fail("expected an error"),
      (e: Error) => e,
    );

    expect(error.name).to.equal("ReaderRoleAccessDeniedError");
    expect(error.message).to.equal(
      `cannot assume ${ROLE}: User is not authorized to perform sts:AssumeRole. Deploy the stack so the role trusts this function (and check the external ID and organization condition).`,
    );
  });

  it("refuses an AssumeRole answer without credentials, and passes other STS errors through", async () => {
    const empty = fakeSts({ credentials: { AccessKeyId: "ASIA1" } });
    const outage = serviceError("ServiceUnavailable", "try later", 503);

    const errors = await Promise.all(
      [readerRoleCredentials(empty.sts, ROLE, undefined, READER_SESSION_NAME), readerRoleCredentials(fakeSts({ refusal: outage }).sts, ROLE, undefined, READER_SESSION_NAME)].map((provider) =>
        provider().then(
          () => undefined,
          (e: Error) => e,
        ),
      ),
    );

    expect(errors[0]?.message).to.equal("AssumeRole returned no credentials");
    expect(errors[1]).to.equal(outage);
  });

  it("builds one LookupEvents client per role and region, assuming each role once, and fails before building one for a refused role", async () => {
    // Prepare
    const { sts, calls } = fakeSts();
    const clientFor = readerCloudTrailClients(sts, "tb-external");
    const refused = readerCloudTrailClients(fakeSts({ refusal: serviceError("AccessDenied", "no") }).sts, undefined);

    // Act
    const east = await clientFor(ROLE, "us-east-1");
    const eastAgain = await clientFor(ROLE, "us-east-1");
    const tokyo = await clientFor(ROLE, "ap-northeast-1");
    const error = await refused(ROLE, "us-east-1").then(
      () => undefined,
      (e: Error) => e,
    );

    // Assess
    expect(eastAgain).to.equal(east);
    expect(tokyo).not.to.equal(east);
    expect(await tokyo.config.region()).to.equal("ap-northeast-1");
    expect(tokyo.config.maxAttempts).to.be.a("function");
    expect(await tokyo.config.maxAttempts()).to.equal(1);
    expect(calls.map((c) => c.ExternalId)).to.deep.equal(["tb-external"]);
    expect(error?.name).to.equal("ReaderRoleAccessDeniedError");
  });
});

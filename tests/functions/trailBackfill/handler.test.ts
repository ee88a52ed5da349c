import type { PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";

import { hasErrorName } from "../../../functions/shared/runtime";
import type { PairCheckpoint } from "../../../functions/trailBackfill/checkpoint";
import { type BackfillHandlerDependencies, handleBackfillEvent, INVOCATION_SAFETY_MS, trailBackfillCallbackFactory } from "../../../functions/trailBackfill/handler";
import { withEnvironment } from "../../../preview/lambdaArchive";
import { fakeEvent, LookupEventsFake } from "../../../simulation/fakeCloudTrail";
import { recordingLogger, recordingMetrics } from "../../../simulation/recorders";
import { seededRandom, VirtualClock } from "../../../simulation/virtualClock";
import { fromEnvironment, toEnvironment } from "../../../functions/trailBackfill/settings";

const NOW = Date.parse("2024-06-01T00:00:00Z");

/** Dependencies for steps that must not reach AWS. */
function offline(overrides: Partial<BackfillHandlerDependencies> = {}): BackfillHandlerDependencies {
  return {
    cloudTrailFor: () => Promise.reject(new Error("unused")),
    s3: { send: () => Promise.reject(new Error("unused")) },
    remainingTimeInMillis: 0,
    clock: { now: () => NOW, sleep: () => Promise.resolve() },
    logger: recordingLogger(),
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail("expected an error"),
    (error: Error) => error,
  );
}

describe("trailBackfill handler", () => {
  const roles = { "111111111111": "arn:aws:iam::111111111111:role/r1", "222222222222": "arn:aws:iam::222222222222:role/r2" };
  const valid = { accounts: ["111111111111", "222222222222"], regions: ["us-east-1", "ap-northeast-1"], startTime: "2024-05-20T10:02:00Z", endTime: "2024-05-20T11:58:30+00:00" };

  it("dispatches plan, fetch and summarize from the state machine's payloads", async () => {
    const plan = (await handleBackfillEvent({ action: "plan", input: valid, readerRoleArns: roles }, { bucket: "b" }, { cloudTrailFor: () => Promise.reject(new Error("unused")), s3: { send: () => Promise.reject(new Error("unused")) }, remainingTimeInMillis: 0, clock: { now: () => NOW, sleep: () => Promise.resolve() } })) as { items: unknown[] };

    expect(plan.items).to.have.length(4);
    await handleBackfillEvent({ action: "dance" }, { bucket: "b" }, { cloudTrailFor: () => Promise.reject(new Error("unused")), s3: { send: () => Promise.reject(new Error("unused")) }, remainingTimeInMillis: 0 }).then(
      () => expect.fail("expected an error"),
      (error: Error) => expect(error.message).to.equal('unknown action "dance"; expected plan, fetch or summarize'),
    );
  });

  it("fetch: pages the pair with its reader role's client and stops sending the safety margin before Lambda's deadline", async () => {
    // Prepare: 3,000 events in the hour, far more than 5 seconds of requests can read.
    const clock = new VirtualClock(NOW);
    const fake = new LookupEventsFake({ clock });
    const start = Date.parse("2024-05-20T10:00:00Z");
    fake.setEvents("222222222222", "us-east-1", Array.from({ length: 3000 }, (_, i) => fakeEvent({ id: `h-${i}`, time: start + i * 1000, account: "222222222222", region: "us-east-1" })));
    const clientsFor: string[] = [];
    const puts: PutObjectCommand[] = [];
    const item = { account: "222222222222", region: "us-east-1", roleArn: roles["222222222222"], startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-20T11:00:00.000Z" };

    // Act
    const output = (await clock.run(() =>
      handleBackfillEvent({ action: "fetch", checkpoint: item }, { bucket: "b", prefix: "p" }, {
        ...offline(),
        clock,
        random: seededRandom(1),
        cloudTrailFor: (roleArn, region) => (clientsFor.push(`${roleArn} ${region}`), Promise.resolve(fake.client("222222222222", "us-east-1"))),
        s3: { send: (command: PutObjectCommand) => (puts.push(command), Promise.resolve({})) },
        remainingTimeInMillis: INVOCATION_SAFETY_MS + 5000,
      }),
    )) as PairCheckpoint;

    // Assess
    expect(clientsFor).to.deep.equal([`${roles["222222222222"]} us-east-1`]);
    expect(output.done).to.equal(false);
    expect(fake.received.every((r) => r.at < NOW + 5000)).to.equal(true);
    expect(output.stats).to.deep.include({ invocations: 1, requests: fake.received.length });
    expect(puts.every((p) => p.input.Bucket === "b" && p.input.Key!.startsWith("p/AWSLogs/222222222222/CloudTrail/us-east-1/"))).to.equal(true);
  });

  it("fetch: writes every file of the pair under the organization ID its environment gives (the organization trail layout)", async () => {
    // Prepare: 40 events over an hour, read in one invocation.
    const clock = new VirtualClock(NOW);
    const fake = new LookupEventsFake({ clock });
    const start = Date.parse("2024-05-20T10:00:00Z");
    fake.setEvents("222222222222", "us-east-1", Array.from({ length: 40 }, (_, i) => fakeEvent({ id: `o-${i}`, time: start + i * 90_000, account: "222222222222", region: "us-east-1" })));
    const puts: PutObjectCommand[] = [];
    const item = { account: "222222222222", region: "us-east-1", roleArn: roles["222222222222"], startTime: "2024-05-20T10:00:00.000Z", endTime: "2024-05-20T11:00:00.000Z" };
    const settings = fromEnvironment(toEnvironment({ bucket: "org-logs", prefix: "org-trail", organizationId: "o-a1b2c3d4e5", requestsPerSecond: 2, concurrentRequests: 4 }));

    // Act
    const output = (await clock.run(() =>
      handleBackfillEvent({ action: "fetch", checkpoint: item }, settings, {
        ...offline(),
        clock,
        random: seededRandom(1),
        cloudTrailFor: () => Promise.resolve(fake.client("222222222222", "us-east-1")),
        s3: { send: (command: PutObjectCommand) => (puts.push(command), Promise.resolve({})) },
        remainingTimeInMillis: 600_000,
      }),
    )) as PairCheckpoint;

    // Assess
    expect(output.done).to.equal(true);
    expect(puts).to.have.length(12);
    for (const put of puts) {
      expect(put.input.Bucket).to.equal("org-logs");
      expect(put.input.Key).to.match(/^org-trail\/AWSLogs\/o-a1b2c3d4e5\/222222222222\/CloudTrail\/us-east-1\/2024\/05\/20\/222222222222_CloudTrail_us-east-1_20240520T10[0-5][05]Z_[A-Za-z0-9]{16}\.json\.gz$/);
    }
  });

  it("summarize: reports the failed pairs as a metric and logs the totals", async () => {
    // Prepare
    const metrics = recordingMetrics();
    const logger = recordingLogger();
    const results = [
      { account: "111111111111", region: "us-east-1", status: "DONE", done: true, invocations: 1, requests: 5, throttled: 0, events: 200, files: 3, rejected: 0 },
      { account: "222222222222", region: "us-east-1", status: "FAILED", error: "NoProgressError" },
    ];

    // Act
    await handleBackfillEvent({ action: "summarize", plan: {}, results }, { bucket: "b" }, offline({ metrics, logger }));

    // Assess
    expect(metrics.counts).to.deep.equal([{ name: "BackfillFailedPairs", value: 1 }]);
    expect(logger.lines).to.deep.equal([{ level: "info", message: "backfill finished", fields: { pairs: 2, failed: 1, events: 200, files: 3, requests: 5, throttled: 0 } }]);
  });

  it("plan: knows only the reader roles given as ARN strings", async () => {
    const error = await failure(handleBackfillEvent({ action: "plan", input: valid, readerRoleArns: { "111111111111": roles["111111111111"], "222222222222": 42 } }, { bucket: "b" }, offline()));

    expect(error.name).to.equal("InvalidBackfillInputError");
    expect(error.message).to.equal("invalid backfill input: accounts: 222222222222 has no reader role; deployed reader roles are in 111111111111");
  });

  it("refuses a payload that is not a step, showing what it got", async () => {
    const error = await failure(handleBackfillEvent(["plan"], { bucket: "b" }, offline()));

    expect(error.name).to.equal("InvalidBackfillInputError");
    expect(error.message).to.equal('expected { action: "plan" | "fetch" | "summarize", ... }, got ["plan"]');
  });

  it("fails at cold start with InvalidEnvironmentError when the function was deployed without its bucket", async () => {
    const error = await withEnvironment({ BACKFILL_BUCKET: "" }, () => Promise.resolve().then(() => trailBackfillCallbackFactory())).then(
      () => expect.fail("expected an error"),
      (e: Error) => e,
    );

    expect(hasErrorName(error, "InvalidEnvironmentError")).to.equal(true);
    expect(error.message).to.equal("environment variable BACKFILL_BUCKET is not set; the function was deployed without it");
  });
});

/**
 * Burst grouping on dynalite and the fake SNS, through the real handler: a simulated `terraform apply`, two principals
 * interleaved, Lambda retries in the middle, the hourly cap, and the summary sent by the next event or by the sweep.
 */
import { expect } from "chai";

import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { BURST_SWEEP_EVENT, burstKey, DEFAULT_BURST_SETTINGS, isBurstSweepEvent } from "../../../functions/userActivity/bursts";
import { applyBurst, type BurstHarness, type Delivery, iamUser, seededRandom, startBurstHarness } from "../../../simulation/activityBursts";
import { eventBridgeEvent, subscriptionPayload } from "../../../simulation/fixtures";

const START = Date.UTC(2025, 4, 14, 1, 0, 0); // 10:00 in Tokyo
const MINUTE = 60_000;

/** Delivers each record as its own EventBridge invocation, the clock at the record's time plus `lagMs`. */
async function deliverEach(harness: BurstHarness, records: readonly CloudTrailRecord[], lagMs = 500): Promise<{ published: number; counted: number; heldBack: number; failedAttempts: number }> {
  const totals = { published: 0, counted: 0, heldBack: 0, failedAttempts: 0 };
  for (const record of records) {
    harness.clock.set(Date.parse(record.eventTime) + lagMs);
    const delivery = await harness.invoke(eventBridgeEvent(record));
    expect(delivery.result, delivery.errors.join("; ")).to.not.equal(undefined);
    totals.published += delivery.result?.published ?? 0;
    totals.counted += delivery.result?.counted ?? 0;
    totals.heldBack += delivery.result?.heldBack ?? 0;
    totals.failedAttempts += delivery.errors.length;
  }
  return totals;
}

/** The number after "Counted: " in a summary. */
function countedIn(message: string): number {
  return Number(/^Counted: (\d+)$/m.exec(message)?.[1]);
}

describe("userActivity bursts", function () {
  this.timeout(120_000);
  let harness: BurstHarness | undefined;

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("sends a simulated apply of 500 calls by one principal within 2 minutes as 2 messages: the first call, then 'and 499 more'", async () => {
    // Prepare
    harness = await startBurstHarness({ criteria: { userNames: ["alice"] }, burst: DEFAULT_BURST_SETTINGS, start: START });
    const apply = applyBurst({ user: "alice", count: 500, start: START, spanMs: 2 * MINUTE, random: seededRandom(1) });

    // Act
    const totals = await deliverEach(harness, apply);
    const beforeSweep = harness.sns.published.length;
    harness.clock.set(START + 6 * MINUTE);
    const sweep = await harness.sweep();

    // Assess
    expect(totals).to.deep.equal({ published: 1, counted: 499, heldBack: 0, failedAttempts: 0 });
    expect(beforeSweep).to.equal(1);
    expect(sweep.result?.summaries).to.equal(1);
    const messages = harness.sns.published;
    expect(messages.length).to.be.at.most(3);
    expect(messages).to.have.length(2);
    expect(messages[0].subject).to.equal("[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice");
    expect(messages[0].message).to.include(`#/events/${apply[0].eventID}`);
    expect(messages[1].subject).to.equal("[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +499 more");
    expect(messages[1].message.split("\n")[0]).to.equal(
      `and 499 more ec2:AuthorizeSecurityGroupIngress calls by alice (IAM user), between 2025-05-14 10:00:00 +09:00 and 2025-05-14 10:01:59 +09:00.`,
    );
    expect(countedIn(messages[1].message)).to.equal(499);
    expect(messages[1].message).to.include(`#/events/${apply[1].eventID})`);
    expect(messages[1].message).to.include(`#/events/${apply[499].eventID})`);
    expect(messages[1].message).to.include("All of them in CloudTrail Event history: https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events?EventName=AuthorizeSecurityGroupIngress");
    // Every one of the 500 calls is in a message or in the summary's total.
    expect(totals.published + countedIn(messages[1].message)).to.equal(500);

    // A second sweep has nothing left to send.
    harness.clock.set(START + 7 * MINUTE);
    expect((await harness.sweep()).result?.summaries).to.equal(0);
    expect(harness.sns.published).to.have.length(2);
  });

  it("keeps two principals interleaved in separate groups, each with its own notification and summary", async () => {
    // Prepare
    harness = await startBurstHarness({ criteria: { userNames: ["alice", "bob"] }, burst: DEFAULT_BURST_SETTINGS, start: START });
    const random = seededRandom(2);
    const both = [...applyBurst({ user: "alice", count: 120, start: START, spanMs: 2 * MINUTE, random }), ...applyBurst({ user: "bob", count: 80, start: START, spanMs: 2 * MINUTE, random })];
    both.sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventID.localeCompare(b.eventID));

    // Act
    const totals = await deliverEach(harness, both);
    harness.clock.set(START + 6 * MINUTE);
    await harness.sweep();

    // Assess
    expect(totals).to.deep.equal({ published: 2, counted: 198, heldBack: 0, failedAttempts: 0 });
    const subjects = harness.sns.published.map((m) => m.subject).sort();
    expect(subjects).to.deep.equal([
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +119 more",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by bob",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by bob +79 more",
    ]);
    expect(burstKey(both.find((r) => r.userIdentity.userName === "alice")!)).to.not.equal(burstKey(both.find((r) => r.userIdentity.userName === "bob")!));
  });

  it("counts every event exactly once across Lambda retries in the middle of a burst (DynamoDB and SNS failures, a redelivered batch)", async () => {
    // Prepare: alice's apply as CloudWatch Logs batches of 50, bob's first call in the middle of the fifth batch.
    harness = await startBurstHarness({ criteria: { userNames: ["alice", "bob"] }, burst: DEFAULT_BURST_SETTINGS, start: START });
    const alice = applyBurst({ user: "alice", count: 400, start: START, spanMs: 2 * MINUTE, random: seededRandom(3) });
    const bob = applyBurst({ user: "bob", count: 1, start: START + MINUTE, spanMs: 1, random: seededRandom(4) })[0];
    const batches = Array.from({ length: 8 }, (_, i) => alice.slice(i * 50, (i + 1) * 50));
    batches[4].splice(25, 0, bob);
    const deliveries: Delivery[] = [];

    // Act
    for (const [i, batch] of batches.entries()) {
      harness.clock.set(Date.parse(batch[batch.length - 1].eventTime) + 1000);
      if (i === 2) harness.failNext("UpdateItemCommand", 1, 20); // the 21st count of the batch fails: the invocation fails and is retried
      if (i === 4) harness.failNext("PublishCommand"); // bob's notification fails: the invocation fails and is retried
      deliveries.push(await harness.invoke(subscriptionPayload(batch)));
    }
    const redelivered = await harness.invoke(subscriptionPayload(batches[3])); // CloudWatch Logs delivers a batch again
    harness.clock.set(START + 6 * MINUTE);
    await harness.sweep();

    // Assess
    expect(deliveries.map((d) => d.attempts)).to.deep.equal([1, 1, 2, 1, 2, 1, 1, 1]);
    expect(deliveries[2].errors[0]).to.match(/^InternalServerError: injected failure of UpdateItemCommand/);
    expect(deliveries[2].result).to.deep.include({ matched: 50, alreadySent: 20, counted: 30 });
    expect(deliveries[4].errors[0]).to.match(/^PublishFailedError: 1 of 1 notifications could not be published/);
    expect(redelivered.result).to.deep.include({ matched: 50, alreadySent: 50, published: 0, counted: 0 });
    // A retried attempt skips what the failed one counted and journaled: those show as already sent.
    const sum = (field: "counted" | "published" | "alreadySent") => deliveries.reduce((total, d) => total + (d.result?.[field] ?? 0), 0);
    expect(sum("counted") + sum("published") + sum("alreadySent")).to.equal(401);
    expect(sum("alreadySent")).to.be.greaterThan(0);
    const messages = harness.sns.published;
    expect(messages.map((m) => m.subject).sort()).to.deep.equal([
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +399 more",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by bob",
    ]);
    expect(sum("published")).to.equal(2);
    // The 401 events: alice's first call and bob's notified, the other 399 in alice's summary, none twice.
    expect(countedIn(messages.find((m) => m.subject?.endsWith("+399 more"))!.message)).to.equal(399);
  });

  it("sends a closed window's summary with the key's next event, which then opens the next window", async () => {
    // Prepare
    harness = await startBurstHarness({ criteria: { userNames: ["alice"] }, burst: { windowSeconds: 60, maxMessagesPerHour: 100 }, start: START });
    const [first, second, third, late] = applyBurst({ user: "alice", count: 4, start: START, spanMs: 20_000, random: seededRandom(5) });

    // Act
    await deliverEach(harness, [first, second, third]);
    const later = { ...late, eventTime: new Date(START + 3 * MINUTE).toISOString().replace(/\.\d+Z$/, "Z") };
    const totals = await deliverEach(harness, [later]);

    // Assess
    expect(totals).to.deep.include({ published: 1, counted: 0 });
    expect(harness.sns.published.map((m) => m.subject)).to.deep.equal([
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice +2 more",
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice",
    ]);
    expect(harness.sns.published[2].message).to.include(`#/events/${later.eventID}`);
    harness.clock.set(START + 10 * MINUTE);
    expect((await harness.sweep()).result?.summaries).to.equal(0);
  });

  it("caps messages per hour and summarises what the cap held back once the hour is over", async () => {
    // Prepare: ten different calls (ten keys) in one hour, at most 3 messages an hour.
    harness = await startBurstHarness({ criteria: { userNames: ["alice"] }, burst: { windowSeconds: 300, maxMessagesPerHour: 3 }, start: START });
    const calls = applyBurst({ user: "alice", count: 10, start: START, spanMs: 10 * MINUTE, random: seededRandom(6), eventName: (i) => `CreateTags${i}` });

    // Act
    const totals = await deliverEach(harness, calls);
    harness.clock.set(START + 20 * MINUTE);
    const early = await harness.sweep();
    harness.clock.set(START + 62 * MINUTE);
    const afterHour = await harness.sweep();

    // Assess
    expect(totals).to.deep.equal({ published: 3, counted: 0, heldBack: 7, failedAttempts: 0 });
    expect(early.result?.summaries).to.equal(0);
    expect(afterHour.result?.summaries).to.equal(1);
    const overflow = harness.sns.published[3];
    expect(overflow.subject).to.equal("cloudtrail-alerts: 7 more matching events (limit 3 messages per hour)");
    expect(overflow.message.split("\n")[0]).to.equal(
      "The notifier reached its limit of 3 messages per hour between 2025-05-14 10:00:00 +09:00 and 2025-05-14 11:00:00 +09:00: 7 more matching events were counted, not sent one by one.",
    );
    expect(countedIn(overflow.message)).to.equal(7);
    expect(overflow.message).to.include(`#/events/${calls[3].eventID})`);
    expect(overflow.message).to.include(`#/events/${calls[9].eventID})`);
    expect(totals.published + countedIn(overflow.message)).to.equal(10);
    harness.clock.set(START + 64 * MINUTE);
    expect((await harness.sweep()).result?.summaries).to.equal(0);
  });

  it("counts a summary the cap holds back into the hour's overflow", async () => {
    // Prepare: one message an hour; alice's burst takes it, so the burst's summary is held back too.
    harness = await startBurstHarness({ criteria: { userNames: ["alice"] }, burst: { windowSeconds: 60, maxMessagesPerHour: 1 }, start: START });
    const burst = applyBurst({ user: "alice", count: 20, start: START, spanMs: 30_000, random: seededRandom(8) });

    // Act
    await deliverEach(harness, burst);
    harness.clock.set(START + 2 * MINUTE);
    const sweep = await harness.sweep();
    harness.clock.set(START + 62 * MINUTE);
    await harness.sweep();

    // Assess
    expect(sweep.result?.summaries).to.equal(0);
    expect(harness.sns.published.map((m) => m.subject)).to.deep.equal([
      "[ap-northeast-1] ec2:AuthorizeSecurityGroupIngress by alice",
      "cloudtrail-alerts: 19 more matching events (limit 1 message per hour)",
    ]);
  });

  it("notifies every matching event when grouping is off, and a sweep then does nothing", async () => {
    harness = await startBurstHarness({ criteria: { userNames: ["alice"] }, start: START });
    const totals = await deliverEach(harness, applyBurst({ user: "alice", count: 5, start: START, spanMs: 10_000, random: seededRandom(9) }));
    const sweep = await harness.sweep();

    expect(totals).to.deep.equal({ published: 5, counted: 0, heldBack: 0, failedAttempts: 0 });
    expect(sweep.result).to.deep.equal({ records: 0, matched: 0, published: 0, alreadySent: 0, rejected: 0, summaries: 0 });
  });

  describe("burstKey and the sweep's input", () => {
    const base = applyBurst({ user: "alice", count: 1, start: START, spanMs: 1, random: seededRandom(10) })[0];

    it("groups by principal, event source and event name, and nothing else", () => {
      expect(burstKey({ ...base, eventID: "other", awsRegion: "us-east-1" })).to.equal(burstKey(base));
      expect(burstKey({ ...base, eventName: "RevokeSecurityGroupIngress" })).to.not.equal(burstKey(base));
      expect(burstKey({ ...base, eventSource: "ec2-other.amazonaws.com" })).to.not.equal(burstKey(base));
      expect(burstKey({ ...base, userIdentity: iamUser("bob") })).to.not.equal(burstKey(base));
      expect(burstKey(base)).to.match(/^burst#[0-9a-f]{64}$/);
    });

    it("tells the sweep's input from CloudTrail payloads", () => {
      expect(isBurstSweepEvent({ ...BURST_SWEEP_EVENT })).to.equal(true);
      expect(isBurstSweepEvent(eventBridgeEvent(base))).to.equal(false);
      expect(isBurstSweepEvent(null)).to.equal(false);
    });
  });
});

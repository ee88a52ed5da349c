/**
 * The LookupEvents fake enforces what the backfill's tests rely on; if it did not, those tests could pass against
 * behaviour the real API does not have.
 */
import { LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { expect } from "chai";

import { BackfillHarness } from "../../simulation/backfillHarness";
import { fakeEvent, LookupEventsFake, type LookupRequest } from "../../simulation/fakeCloudTrail";
import { VirtualClock } from "../../simulation/virtualClock";

const NOW = Date.parse("2024-06-01T00:00:00Z");
const ACCOUNT = "222222222222";
const REGION = "us-east-1";
const T = Date.parse("2024-05-20T10:00:00Z");
const seconds = (ms: number) => ms / 1000;

describe("LookupEvents fake", () => {
  let clock: VirtualClock;
  let fake: LookupEventsFake;

  beforeEach(() => {
    clock = new VirtualClock(NOW);
    fake = new LookupEventsFake({ clock });
    // 120 events, one a second from T, and one more exactly at T + 120 s.
    fake.setEvents(ACCOUNT, REGION, [
      ...Array.from({ length: 120 }, (_, i) => fakeEvent({ id: `e-${String(i).padStart(3, "0")}`, time: T + i * 1000, account: ACCOUNT, region: REGION, name: i % 2 === 0 ? "GetObject" : "PutObject" })),
      fakeEvent({ id: "e-end", time: T + 120_000, account: ACCOUNT, region: REGION }),
    ]);
  });

  const lookup = (request: LookupRequest) => {
    clock.advance(1000);
    return fake.lookup(ACCOUNT, REGION, request);
  };
  const failure = (request: LookupRequest) =>
    lookup(request).then(
      () => "ok",
      (error: Error) => error.name,
    );

  it("pages 50 events at most, newest first, with both bounds inclusive", async () => {
    const range = { StartTime: seconds(T + 10_000), EndTime: seconds(T + 120_000) };
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await lookup({ ...range, ...(token === undefined ? {} : { NextToken: token }) });
      expect(page.Events.length).to.be.at.most(50);
      ids.push(...page.Events.map((e) => e.EventId as string));
      token = page.NextToken;
    } while (token !== undefined);

    expect(ids).to.have.length(111);
    expect(ids[0]).to.equal("e-end");
    expect(ids.at(-1)).to.equal("e-010");
    expect(ids.slice(1)).to.deep.equal(Array.from({ length: 110 }, (_, i) => `e-${String(119 - i).padStart(3, "0")}`));
  });

  it("refuses more than 50 a page, two lookup attributes, an inverted range and a start older than 90 days", async () => {
    expect(await failure({ MaxResults: 51 })).to.equal("InvalidMaxResultsException");
    expect(await failure({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "GetObject" }, { AttributeKey: "Username", AttributeValue: "alice" }] })).to.equal("InvalidLookupAttributesException");
    expect(await failure({ StartTime: seconds(T + 1000), EndTime: seconds(T) })).to.equal("InvalidTimeRangeException");
    expect(await failure({ StartTime: seconds(NOW - 91 * 86_400_000) })).to.equal("InvalidTimeRangeException");
  });

  it("filters by one lookup attribute", async () => {
    const page = await lookup({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "PutObject" }], StartTime: seconds(T), EndTime: seconds(T + 9000) });

    expect(page.Events.map((e) => e.EventId)).to.deep.equal(["e-009", "e-007", "e-005", "e-003", "e-001"]);
  });

  it("accepts a NextToken only with the same parameters and before it expires", async () => {
    const first = await lookup({ StartTime: seconds(T), EndTime: seconds(T + 120_000) });

    expect(await failure({ StartTime: seconds(T + 1000), EndTime: seconds(T + 120_000), NextToken: first.NextToken })).to.equal("InvalidNextTokenException");
    const again = await lookup({ StartTime: seconds(T), EndTime: seconds(T + 120_000) });
    clock.advance(16 * 60_000);
    expect(await failure({ StartTime: seconds(T), EndTime: seconds(T + 120_000), NextToken: again.NextToken })).to.equal("InvalidNextTokenException");
  });

  it("allows 2 requests per second per account and region, with a burst of 2, and throttles the rest", async () => {
    const at = (offsetMs: number, account = ACCOUNT) =>
      clock.run(async () => {
        await clock.sleep(offsetMs);
        return fake.lookup(account, REGION, {}).then(
          () => "ok",
          (error: Error) => error.name,
        );
      });

    expect([await at(0), await at(0), await at(0), await at(0, "333333333333")]).to.deep.equal(["ok", "ok", "ThrottlingException", "ok"]);
    expect([await at(499), await at(1)]).to.deep.equal(["ThrottlingException", "ok"]);
  });

  it("speaks the JSON 1.1 protocol to a real SDK client: dates, CloudTrailEvent as JSON text, errors by name", async () => {
    // Prepare
    const role = `arn:aws:iam::${ACCOUNT}:role/reader`;
    const harness = await BackfillHarness.start({ clock, roles: [{ arn: role }], buckets: ["fake-test-bucket"] });
    harness.lookup.setEvents(ACCOUNT, REGION, [fakeEvent({ id: "wire-1", time: T, account: ACCOUNT, region: REGION })]);
    const client = harness.cloudTrailClient(role, REGION);

    // Act
    const page = await clock.run(() => client.send(new LookupEventsCommand({ StartTime: new Date(T), EndTime: new Date(T) })));
    const refused = await clock.run(() => client.send(new LookupEventsCommand({ MaxResults: 99 }))).then(
      () => undefined,
      (error: Error) => error.name,
    );
    await harness.stop();

    // Assess
    expect(page.Events?.map((e) => [e.EventId, e.EventTime?.toISOString()])).to.deep.equal([["wire-1", "2024-05-20T10:00:00.000Z"]]);
    expect(JSON.parse(page.Events?.[0].CloudTrailEvent as string)).to.deep.include({ eventID: "wire-1", eventTime: "2024-05-20T10:00:00Z", awsRegion: REGION, recipientAccountId: ACCOUNT });
    expect(refused).to.equal("InvalidMaxResultsException");
  });
});

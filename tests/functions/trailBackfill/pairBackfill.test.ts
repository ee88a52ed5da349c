import type { PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";

import type { Logger } from "../../../functions/shared/runtime";
import { LOOKBACK_MS } from "../../../functions/trailBackfill/awsFacts";
import { decodePairInput, type PairCheckpoint, type PairDone } from "../../../functions/trailBackfill/checkpoint";
import { logFileKey } from "../../../functions/trailBackfill/logFiles";
import { backfillPair, type PairBackfillDependencies, type PairBackfillSettings } from "../../../functions/trailBackfill/pairBackfill";
import { WINDOW_MS } from "../../../functions/shared/timeIntervals";
import { BackfillHarness } from "../../../simulation/backfillHarness";
import { type FakeEvent, fakeEvent, generatedStore, LookupEventsFake, type ReceivedRequest, seededRandom } from "../../../simulation/fakeCloudTrail";
import { recordingMetrics } from "../../../simulation/recorders";
import { logFileRecords } from "../../../simulation/s3Server";
import { VirtualClock } from "../../../simulation/virtualClock";

const NOW = Date.parse("2024-06-01T00:00:00Z");
const ACCOUNT = "222222222222";
const REGION = "us-east-1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/backfill-reader`;
const EXTERNAL_ID = "tb-external-id";
const BUCKET = "tb-backfill-bucket";
const START = Date.parse("2024-05-20T10:00:00Z");
const END = Date.parse("2024-05-20T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The events of the pair: 400 spread over the range and around it, 120 in one second (so that a second continues
 * across pages), and events exactly on window boundaries, at the range start (in) and at the range end (out).
 */
function scenarioEvents(): FakeEvent[] {
  const random = seededRandom(42);
  const events: FakeEvent[] = [];
  const add = (time: number) => events.push(fakeEvent({ id: `evt-${String(events.length).padStart(5, "0")}`, time, account: ACCOUNT, region: REGION }));
  for (let i = 0; i < 400; i++) {
    add(START - 600_000 + Math.floor(random() * 8400) * 1000);
  }
  for (let i = 0; i < 120; i++) {
    add(Date.parse("2024-05-20T11:17:42Z"));
  }
  for (const boundary of ["10:00:00", "10:05:00", "10:05:00", "10:10:00", "11:55:00", "12:00:00"]) {
    add(Date.parse(`2024-05-20T${boundary}Z`));
  }
  return events;
}

const inRange = (events: FakeEvent[], start = START, end = END) => events.filter((e) => e.time >= start && e.time < end);

interface Stored {
  keys: string[];
  bytes: Map<string, Buffer>;
  /** Event ID -> the keys of the files holding it. */
  filesOf: Map<string, string[]>;
}

async function stored(harness: BackfillHarness, prefix: string): Promise<Stored> {
  const objects = await harness.s3.objects(BUCKET, prefix);
  const filesOf = new Map<string, string[]>();
  for (const object of objects) {
    for (const record of logFileRecords(object.bytes)) {
      const id = record.eventID as string;
      filesOf.set(id, [...(filesOf.get(id) ?? []), object.key]);
    }
  }
  return { keys: objects.map((o) => o.key), bytes: new Map(objects.map((o) => [o.key, o.bytes])), filesOf };
}

describe("trailBackfill backfillPair", () => {
  let clock: VirtualClock;
  let harness: BackfillHarness;
  let events: FakeEvent[];

  before(async () => {
    clock = new VirtualClock(NOW);
    harness = await BackfillHarness.start({ clock, roles: [{ arn: ROLE, externalId: EXTERNAL_ID }], buckets: [BUCKET] });
    events = scenarioEvents();
    harness.lookup.setEvents(ACCOUNT, REGION, events);
  });

  after(async () => {
    await harness.stop();
  });

  beforeEach(() => {
    harness.lookup.received.length = 0;
    harness.lookup.onRequest = undefined;
    harness.lookup.resetQuota();
  });

  function item(start = START, end = END) {
    return { account: ACCOUNT, region: REGION, roleArn: ROLE, startTime: iso(start), endTime: iso(end) };
  }

  function settings(prefix: string): PairBackfillSettings {
    return { bucket: BUCKET, prefix };
  }

  function deps(overrides: Partial<PairBackfillDependencies> = {}): PairBackfillDependencies {
    return {
      cloudTrail: harness.cloudTrailClient(ROLE, REGION, EXTERNAL_ID),
      s3: harness.s3Client(),
      clock,
      stopAt: clock.now() + 15 * 60_000,
      logger: silent,
      random: seededRandom(7),
      ...overrides,
    };
  }

  /** Runs invocations like the state machine does (each input is the previous output as JSON) until the pair is done. */
  async function untilDone(input: unknown, prefix: string, makeDeps: () => PairBackfillDependencies): Promise<{ result: PairDone; checkpoints: PairCheckpoint[] }> {
    const checkpoints: PairCheckpoint[] = [];
    let payload: unknown = input;
    for (let i = 0; i < 100; i++) {
      const output = await clock.run(() => backfillPair(decodePairInput(payload), settings(prefix), makeDeps()));
      payload = JSON.parse(JSON.stringify(output)) as unknown;
      if (output.done) {
        return { result: output, checkpoints };
      }
      checkpoints.push(output);
    }
    throw new Error("the pair did not finish in 100 invocations");
  }

  describe("one invocation over the whole range", () => {
    let result: PairDone;
    let files: Stored;
    let requests: ReceivedRequest[];

    before(async () => {
      harness.lookup.received.length = 0;
      ({ result } = await untilDone(item(), "clean", () => deps()));
      files = await stored(harness, "clean/");
      requests = [...harness.lookup.received];
    });

    it("writes every event in range exactly once, and nothing outside it", () => {
      const expected = inRange(events).map((e) => e.id).sort();

      expect([...files.filesOf.keys()].sort()).to.deep.equal(expected);
      expect([...files.filesOf.values()].filter((keys) => keys.length !== 1)).to.deep.equal([]);
      expect(result).to.deep.include({ account: ACCOUNT, region: REGION, status: "DONE", done: true, events: expected.length, rejected: 0 });
    });

    it("writes one native CloudTrail file per 5-minute window with events, under CloudTrail's key layout", () => {
      const windows = [...new Set(inRange(events).map((e) => Math.floor(e.time / WINDOW_MS) * WINDOW_MS))].sort((a, b) => a - b);

      expect(files.keys).to.deep.equal(windows.map((w) => logFileKey({ prefix: "clean", accountId: ACCOUNT, region: REGION, windowStart: new Date(w) })).sort());
      expect(result.files).to.equal(windows.length);
      for (const key of files.keys) {
        expect(key).to.match(/^clean\/AWSLogs\/222222222222\/CloudTrail\/us-east-1\/2024\/05\/20\/222222222222_CloudTrail_us-east-1_20240520T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/);
      }
    });

    it("puts each event in the file of its window, as the CloudTrailEvent object LookupEvents returned, oldest first", () => {
      const byId = new Map(events.map((e) => [e.id, e]));
      for (const [key, bytes] of files.bytes) {
        const records = logFileRecords(bytes);
        const window = Math.floor(byId.get(records[0].eventID as string)!.time / WINDOW_MS) * WINDOW_MS;

        expect(key).to.equal(logFileKey({ prefix: "clean", accountId: ACCOUNT, region: REGION, windowStart: new Date(window) }));
        for (const record of records) {
          const original = byId.get(record.eventID as string)!;
          expect(Math.floor(original.time / WINDOW_MS) * WINDOW_MS).to.equal(window);
          expect(record).to.deep.equal(JSON.parse(original.json));
        }
        const times = records.map((r) => Date.parse(r.eventTime as string));
        expect(times).to.deep.equal([...times].sort((a, b) => a - b));
      }
    });

    it("puts events exactly on a window boundary in the later window's file only", () => {
      const atBoundary = events.filter((e) => e.time === Date.parse("2024-05-20T10:05:00Z"));
      const expectedKey = logFileKey({ prefix: "clean", accountId: ACCOUNT, region: REGION, windowStart: new Date("2024-05-20T10:05:00Z") });

      expect(atBoundary).to.have.length(2);
      for (const event of atBoundary) {
        expect(files.filesOf.get(event.id)).to.deep.equal([expectedKey]);
      }
      expect(files.filesOf.has(events.find((e) => e.time === START)!.id)).to.equal(true);
      expect(files.filesOf.has(events.find((e) => e.time === END)!.id)).to.equal(false);
    });

    it("asks for 50 events a page within the range and stays at 2 requests per second", () => {
      expect(requests.every((r) => r.outcome === "ok" && r.returned <= 50 && r.startTime! >= START && r.endTime! <= END)).to.equal(true);
      requests.forEach((r, i) => i > 0 && expect(r.at - requests[i - 1].at).to.be.at.least(500));
      expect(result.requests).to.equal(requests.length);
    });
  });

  it("writes byte-identical objects under the same keys when the same range runs again", async () => {
    // Prepare
    await untilDone(item(), "rerun", () => deps());
    const first = await stored(harness, "rerun/");

    // Act
    await untilDone(item(), "rerun", () => deps());
    const second = await stored(harness, "rerun/");

    // Assess
    expect(second.keys).to.deep.equal(first.keys);
    for (const key of first.keys) {
      expect(second.bytes.get(key)!.equals(first.bytes.get(key)!), key).to.equal(true);
    }
  });

  it("resumes from checkpoints when invocations stop at their deadline, with the same files as one run", async () => {
    // Prepare
    await untilDone(item(), "whole", () => deps());
    const whole = await stored(harness, "whole/");

    // Act: each invocation may send requests for 4 seconds only.
    const { result, checkpoints } = await untilDone(item(), "resumed", () => deps({ stopAt: clock.now() + 2000 }));
    const resumed = await stored(harness, "resumed/");

    // Assess
    expect(checkpoints.length).to.be.at.least(1);
    for (const checkpoint of checkpoints) {
      expect(checkpoint.remaining.length).to.be.greaterThan(0);
      for (const [start, end] of checkpoint.remaining) {
        expect(Date.parse(start) % WINDOW_MS).to.equal(0);
        expect(Date.parse(end) % WINDOW_MS).to.equal(0);
      }
    }
    expect(result.invocations).to.equal(checkpoints.length + 1);
    expect(resumed.keys.map((k) => k.replace("resumed/", ""))).to.deep.equal(whole.keys.map((k) => k.replace("whole/", "")));
    for (const key of whole.keys) {
      expect(resumed.bytes.get(key.replace("whole/", "resumed/"))!.equals(whole.bytes.get(key)!)).to.equal(true);
    }
    expect([...resumed.filesOf.values()].every((keys) => keys.length === 1)).to.equal(true);
  });

  it("counts the events each invocation wrote and the pair once done, for the operations dashboard", async () => {
    // Prepare: invocations of 2 seconds, so that the pair takes several.
    const metrics = recordingMetrics();

    // Act
    const { result, checkpoints } = await untilDone(item(), "metered", () => deps({ stopAt: clock.now() + 2000, metrics }));

    // Assess: one BackfillEventsWritten per invocation, adding up to the pair's events; BackfillPairsDone once.
    const named = (name: string) => metrics.counts.filter((c) => c.name === name);
    expect(named("BackfillEventsWritten")).to.have.length(checkpoints.length + 1);
    expect(named("BackfillEventsWritten").reduce((sum, c) => sum + c.value, 0)).to.equal(result.events);
    expect(result.events).to.equal(inRange(events).length);
    expect(named("BackfillPairsDone")).to.deep.equal([{ name: "BackfillPairsDone", value: 1 }]);
    expect(named("LookupEventsThrottled")).to.have.length(checkpoints.length + 1);
  });

  it("loses and duplicates nothing when a run is killed mid-page and retried from the last checkpoint", async () => {
    // Prepare: a first invocation that stops early leaves a checkpoint.
    const checkpoint = JSON.parse(JSON.stringify(await clock.run(() => backfillPair(decodePairInput(item()), settings("killed"), deps({ stopAt: clock.now() + 3000 }))))) as unknown;
    const abort = new AbortController();
    let requests = 0;
    harness.lookup.onRequest = () => {
      requests += 1;
      if (requests === 5) {
        abort.abort(new Error("Lambda killed the invocation"));
      }
    };

    // Act: the second invocation dies while a LookupEvents request is on the wire; Step Functions retries it with the
    // same checkpoint.
    const killed = await clock.run(() => backfillPair(decodePairInput(checkpoint), settings("killed"), deps({ signal: abort.signal }))).then(
      () => undefined,
      (error: Error) => error,
    );
    harness.lookup.onRequest = undefined;
    const { result } = await untilDone(checkpoint, "killed", () => deps());
    const files = await stored(harness, "killed/");

    // Assess
    expect(killed?.name).to.equal("AbortError");
    expect([...files.filesOf.keys()].sort()).to.deep.equal(inRange(events).map((e) => e.id).sort());
    expect([...files.filesOf.values()].every((keys) => keys.length === 1)).to.equal(true);
    expect(result.events).to.equal(inRange(events).length);
  });

  it("backs off for everyone when another caller uses the quota, then writes every event once", async () => {
    // Prepare: another tool takes the whole quota for a while, twice.
    let requests = 0;
    harness.lookup.onRequest = () => {
      requests += 1;
      if (requests === 3 || requests === 8) {
        harness.lookup.consume(ACCOUNT, REGION, 4);
      }
    };

    // Act
    const { result } = await untilDone(item(), "throttled", () => deps());
    const files = await stored(harness, "throttled/");

    // Assess
    const received = harness.lookup.requestsOf(ACCOUNT, REGION);
    const throttled = received.map((r, i) => ({ r, i })).filter(({ r }) => r.outcome === "throttled");
    expect(throttled.length).to.be.greaterThan(0);
    expect(result.throttled).to.equal(throttled.length);
    for (const { r, i } of throttled) {
      // The next request of any chain waits for the backoff (at least half of 1 s).
      expect(received[i + 1].at - r.at).to.be.at.least(500);
    }
    expect([...files.filesOf.keys()].sort()).to.deep.equal(inRange(events).map((e) => e.id).sort());
    expect([...files.filesOf.values()].every((keys) => keys.length === 1)).to.equal(true);
  });

  it("queries again from where it got to when a NextToken is refused", async () => {
    // Prepare
    let requests = 0;
    harness.lookup.onRequest = () => {
      requests += 1;
      if (requests === 6) {
        harness.lookup.expireTokens();
      }
    };

    // Act
    const { result } = await untilDone(item(), "token", () => deps());
    const files = await stored(harness, "token/");

    // Assess
    expect(harness.lookup.received.some((r) => r.error === "InvalidNextTokenException")).to.equal(true);
    expect([...files.filesOf.keys()].sort()).to.deep.equal(inRange(events).map((e) => e.id).sort());
    expect([...files.filesOf.values()].every((keys) => keys.length === 1)).to.equal(true);
    expect(result.events).to.equal(inRange(events).length);
  });

  it("retries transient service errors and counts them", async () => {
    // Prepare
    harness.lookup.failNext(ACCOUNT, REGION, 2, "InternalFailure", 500);

    // Act
    const { result } = await untilDone(item(), "transient", () => deps());

    // Assess
    expect(harness.lookup.received.filter((r) => r.error === "InternalFailure")).to.have.length(2);
    expect(result.events).to.equal(inRange(events).length);
  });

  it("fails the pair, naming the account and region, when LookupEvents is denied", async () => {
    harness.lookup.failNext(ACCOUNT, REGION, 1, "AccessDeniedException", 400);

    const error = await clock.run(() => backfillPair(decodePairInput(item()), settings("denied"), deps())).then(
      () => undefined,
      (e: Error) => e,
    );

    expect(error?.name).to.equal("LookupEventsAccessDeniedError");
    expect(error?.message).to.match(/^LookupEvents in 222222222222 us-east-1 was refused with AccessDeniedException: injected failure\./);
  });

  it("refuses to start when the reader role cannot be assumed", async () => {
    const error = await clock
      .run(() => backfillPair(decodePairInput(item()), settings("norole"), deps({ cloudTrail: harness.cloudTrailClient(ROLE, REGION, "wrong-external-id") })))
      .then(
        () => undefined,
        (e: Error) => e,
      );

    expect(error?.name).to.equal("ReaderRoleAccessDeniedError");
    expect(error?.message).to.contain(`cannot assume ${ROLE}`);
    expect(harness.sts.calls.at(-1)).to.deep.equal({ roleArn: ROLE, sessionName: "cloudtrail-alerts-backfill", externalId: "wrong-external-id", durationSeconds: 3600, outcome: "denied" });
  });

  it("gives the pair up after three invocations in a row that could write nothing", async () => {
    // Prepare: another tool keeps the whole quota busy.
    harness.lookup.consume(ACCOUNT, REGION, 1000);
    harness.lookup.onRequest = () => harness.lookup.consume(ACCOUNT, REGION, 1000);
    let payload: unknown = item();

    // Act
    const outputs: unknown[] = [];
    let failure: Error | undefined;
    for (let i = 0; i < 3 && failure === undefined; i++) {
      await clock.run(() => backfillPair(decodePairInput(payload), settings("stalled"), deps({ stopAt: clock.now() + 20_000 }))).then(
        (output) => {
          outputs.push(output);
          payload = JSON.parse(JSON.stringify(output)) as unknown;
        },
        (e: Error) => (failure = e),
      );
    }

    // Assess
    expect(outputs.map((o) => (o as PairCheckpoint).stalled)).to.deep.equal([1, 2]);
    expect(failure?.name).to.equal("NoProgressError");
    expect(failure?.message).to.match(/^222222222222 us-east-1: 3 invocations in a row wrote nothing \(\d+ throttled requests so far\)/);
  });

  it("never asks for events older than 90 days", async () => {
    // Prepare: a clock at which the first 20 minutes of the range have aged out of LookupEvents (the fake refuses a
    // StartTime older than 90 days).
    const late = new VirtualClock(START + LOOKBACK_MS + 20 * 60_000);
    const fake = new LookupEventsFake({ clock: late });
    fake.setEvents(ACCOUNT, REGION, events);

    // Act
    const output = (await late.run(() =>
      backfillPair(decodePairInput(item()), settings("aged"), { ...deps(), clock: late, stopAt: late.now() + 600_000, cloudTrail: fake.client(ACCOUNT, REGION), s3: harness.s3Client(late) }),
    )) as PairDone;
    const files = await stored(harness, "aged/");

    // Assess
    const available = late.now() - LOOKBACK_MS;
    expect(fake.received.every((r) => r.outcome === "ok" && r.startTime! >= available)).to.equal(true);
    expect([...files.filesOf.keys()].sort()).to.deep.equal(inRange(events, available + 60_000).map((e) => e.id).sort());
    expect(output.status).to.equal("DONE");
  });

  it("skips and counts events LookupEvents returns without a usable CloudTrailEvent", async () => {
    // Prepare
    const fake = new LookupEventsFake({ clock });
    const good = fakeEvent({ id: "good-1", time: START + 1000, account: ACCOUNT, region: REGION });
    fake.setEvents(ACCOUNT, REGION, [good, { ...good, id: "bad-1", json: "{not json" }, { ...good, id: "bad-2", json: '"a string"' }]);

    // Act
    const output = (await clock.run(() => backfillPair(decodePairInput(item()), settings("rejected"), { ...deps(), cloudTrail: fake.client(ACCOUNT, REGION) }))) as PairDone;
    const files = await stored(harness, "rejected/");

    // Assess
    expect(output).to.deep.include({ events: 1, files: 1, rejected: 2 });
    expect([...files.filesOf.keys()]).to.deep.equal(["good-1"]);
  });

  it("writes every window once when pages complete several windows while other chains are still writing", async () => {
    // Prepare: sparse events (a page spans several windows) and S3 answering each put after half a second, so that
    // chains finish reading windows while another chain is still writing the ones it took.
    const fake = new LookupEventsFake({ clock, latencyMs: 50 });
    const random = seededRandom(2);
    const sparse = Array.from({ length: 300 }, (_, i) => fakeEvent({ id: `sparse-${String(i).padStart(3, "0")}`, time: START + Math.floor(random() * 7200) * 1000, account: ACCOUNT, region: REGION }));
    fake.setEvents(ACCOUNT, REGION, sparse);
    const writes = new Map<string, number>();
    const slowS3 = {
      send: async (command: PutObjectCommand) => {
        await clock.sleep(500);
        for (const record of logFileRecords(command.input.Body as Buffer)) {
          writes.set(record.eventID as string, (writes.get(record.eventID as string) ?? 0) + 1);
        }
        return {};
      },
    } as unknown as PairBackfillDependencies["s3"];

    // Act
    const output = (await clock.run(() => backfillPair(decodePairInput(item()), settings("slow"), { ...deps(), cloudTrail: fake.client(ACCOUNT, REGION), s3: slowS3 }))) as PairDone;

    // Assess
    expect(output).to.deep.include({ done: true, events: 300 });
    expect([...writes.keys()].sort()).to.deep.equal(sparse.map((e) => e.id).sort());
    expect([...writes.values()].every((n) => n === 1)).to.equal(true);
  });

  it("keeps a pair at 95% or more of 2 requests/s when each call takes a second, with concurrent sub-ranges", async () => {
    // Prepare: 20,000 bursty events over 3 hours, LookupEvents answering in 1 s.
    const fake = new LookupEventsFake({ clock, latencyMs: 1000 });
    const start = START;
    const end = START + 3 * 3600_000;
    fake.setEvents(ACCOUNT, REGION, generatedStore({ account: ACCOUNT, region: REGION, pairTag: 9, start, end, count: 20_000, seed: 3 }));
    const began = clock.now();

    // Act
    const output = (await clock.run(() =>
      backfillPair(decodePairInput(item(start, end)), settings("latency"), { ...deps(), cloudTrail: fake.client(ACCOUNT, REGION), stopAt: clock.now() + 3_600_000 }),
    )) as PairDone;
    const elapsed = (clock.now() - began) / 1000;

    // Assess
    expect(output.events).to.equal(20_000);
    expect(output.throttled).to.equal(0);
    expect(output.requests / elapsed).to.be.at.least(1.9);
    // 400 pages hold the 20,000 events: sub-ranges and their splits may cost at most 1% more.
    expect(output.requests).to.be.at.most(404);
  });

  it("asks for no event on a sub-range's newer bound: events on a window boundary belong to the newer window", async () => {
    // Prepare: 60 events exactly at the start of each 5-minute window of an hour, and 60 at the range's end (outside).
    const fake = new LookupEventsFake({ clock, latencyMs: 1000 });
    const end = START + 3600_000;
    const boundaryEvents: FakeEvent[] = [];
    for (let at = START; at <= end; at += WINDOW_MS) {
      for (let i = 0; i < 60; i++) {
        boundaryEvents.push(fakeEvent({ id: `edge-${at}-${i}`, time: at, account: ACCOUNT, region: REGION }));
      }
    }
    fake.setEvents(ACCOUNT, REGION, boundaryEvents);

    // Act: 4 sub-ranges of 3 windows, each ending on a boundary that holds 60 events of the next.
    const output = (await clock.run(() =>
      backfillPair(decodePairInput(item(START, end)), settings("edges"), { ...deps(), cloudTrail: fake.client(ACCOUNT, REGION), stopAt: clock.now() + 3_600_000 }),
    )) as PairDone;

    // Assess: each sub-range holds 180 events, 4 pages; reading its bound's 60 events too would take 5.
    expect(output.events).to.equal(720);
    expect(fake.received.filter((r) => r.outcome === "ok").reduce((sum, r) => sum + r.returned, 0)).to.equal(720);
    expect(output.requests).to.equal(16);
  });

  it("stops between windows before each deadline, so that 5-minute invocations read at most 3% more pages than the range holds", async () => {
    // Prepare: 40,000 bursty events over 6 hours at 1 s a call: 800 pages, more than one 5-minute invocation reads.
    const fake = new LookupEventsFake({ clock, latencyMs: 1000 });
    const start = START;
    const end = START + 6 * 3600_000;
    fake.setEvents(ACCOUNT, REGION, generatedStore({ account: ACCOUNT, region: REGION, pairTag: 8, start, end, count: 40_000, seed: 5 }));

    // Act: invocations of 5 minutes.
    const { result, checkpoints } = await untilDone(item(start, end), "drain", () => ({ ...deps(), cloudTrail: fake.client(ACCOUNT, REGION), stopAt: clock.now() + 300_000 }));

    // Assess
    expect(checkpoints.length).to.be.at.least(1);
    expect(result.events).to.equal(40_000);
    // Invocations this short end every few hundred pages; each stops between windows and re-reads little.
    expect(result.requests).to.be.at.most(824);
  });
});

/**
 * Burst grouping for the UserActivityNotifier: the first matching event of a key (principal, event source, event name)
 * is notified at once; the key's further events within a window are counted, and one summary ("and 37 more ...")
 * follows when the window has closed. Messages per notifier per clock hour are capped; what is over the cap is counted
 * and summarised once the hour is over. Every matching event ends up in a message or in a summary's total.
 *
 * State, in the notifier's own DynamoDB table (the sent journal's), one item each:
 * - `burst#<digest of the key>`: the key's current window (`windowStart`, `windowEnd`, the `opener` event notified at
 *   once), the `suppressed` count, the first and last counted events (times and samples), and a flush lease.
 * - `burst-cap#<hour>`: messages sent in that hour, and the `overflow` count (with samples) of what the cap held back.
 * - `burst-index`: the set of items that may hold counts not yet summarised, for the sweep.
 *
 * Every change is one conditional UpdateItem on one item: a count is added only while its window is open
 * (`windowEnd > now`), a window opens only when none is open and nothing is left to summarise, and a summary is sent
 * by whoever holds the item's flush lease, which it takes only while the count it read is still the item's. So
 * concurrent invocations never lose or double a count, and a window's counts are summarised once.
 *
 * Who sends a summary: a scheduled sweep (every minute) for every window that has closed, and any event of the same
 * key that arrives after its window closed (it sends the summary, then opens the next window). The sweep is needed: a
 * burst usually ends in silence (a `terraform apply` finishes), so no next event would come to send it.
 */
import { createHash, randomUUID } from "crypto";

import { ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";

import type { CloudTrailRecord, UserIdentity } from "../shared/cloudtrailEvents";
import { describeTarget } from "../shared/readableEvent";
import { type Clock, hasErrorName, namedError } from "../shared/runtime";
import { SENT_JOURNAL_RETENTION_SECONDS, SENT_JOURNAL_TABLE } from "./sentJournal";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** How events are grouped. */
export interface BurstSettings {
  /** Seconds after a key's first event during which its further events are counted instead of sent. */
  windowSeconds: number;
  /** Messages (notifications and summaries) a notifier sends per clock hour; what is over is summarised after it. */
  maxMessagesPerHour: number;
}

/** The defaults: a 5-minute window, 100 messages an hour. */
export const DEFAULT_BURST_SETTINGS: BurstSettings = { windowSeconds: 300, maxMessagesPerHour: 100 };

/** One counted event, as a summary shows it. */
export interface BurstSample {
  eventID: string;
  eventTime: string;
  awsRegion: string;
  target?: string;
}

/** A closed window's events that were counted, not sent. */
export interface BurstSummary {
  kind: "burst";
  identity: UserIdentity;
  eventSource: string;
  eventName: string;
  /** Events counted. */
  count: number;
  /** Event times of the first and last event counted. */
  firstTime: string;
  lastTime: string;
  /** The first and the last event counted (one when they are the same). */
  samples: BurstSample[];
  /** The event notified at once, which opened the window. */
  opener: { eventID: string; eventTime: string };
}

/** Messages the hourly cap held back. */
export interface OverflowSummary {
  kind: "overflow";
  /** Events (notifications, or events of summaries) not sent. */
  count: number;
  /** The clock hour, in milliseconds since the epoch. */
  hourStart: number;
  maxMessagesPerHour: number;
  samples: BurstSample[];
}

/** What to do with one matching event. */
export type Admission = "notify" | "counted" | "overflow";

/** What a sweep did. */
export interface SweepResult {
  summaries: number;
  overflowSummaries: number;
  /** Items of the index looked at. */
  checked: number;
}

/** Burst grouping on its table. */
export interface BurstGate {
  /**
   * Decides what becomes of a matching event not notified before: `notify` (send it now; the hourly cap admitted it),
   * `counted` (in its key's open window) or `overflow` (over the hourly cap). A closed window of the same key that still
   * holds counts is summarised first, through `publish`.
   */
  admit(record: CloudTrailRecord): Promise<Admission>;
  /** Sends the summaries that are due: closed windows, and the overflow of past hours. */
  sweep(): Promise<SweepResult>;
}

/** Sends one summary (throws when it could not be sent). */
export type PublishSummary = (summary: BurstSummary | OverflowSummary) => Promise<void>;

/** The input of the scheduled rule that runs the sweep (the function tells it from CloudTrail payloads by this). */
export const BURST_SWEEP_EVENT = { "cloudtrail-alerts": "burst-sweep" } as const;

/** True when `event` is the scheduled sweep's input. */
export function isBurstSweepEvent(event: unknown): boolean {
  return typeof event === "object" && event !== null && (event as Record<string, unknown>)["cloudtrail-alerts"] === BURST_SWEEP_EVENT["cloudtrail-alerts"];
}

/** Raised when the key's state kept changing under the invocation; Lambda retries it (nothing was lost). */
export const BURST_CONTENDED_ERROR = "BurstStateContendedError";

const INDEX_KEY = "burst-index";
const HOUR_MS = 3_600_000;
/** How long a flush lease lasts: longer than one publish, short enough for the next sweep to take over. */
const LEASE_MS = 60_000;
/** Past hours are summarised this long after they end, when no invocation can still be counting into them. */
const HOUR_GRACE_MS = 60_000;
const MAX_ATTEMPTS = 5;

type Item = Record<string, AttributeValue>;

/** The key a record's burst is grouped by: its principal, event source and event name. */
export function burstKey(record: CloudTrailRecord): string {
  const identity = record.userIdentity ?? { type: "Unknown" };
  const principal = identity.arn ?? `${identity.type}:${identity.principalId ?? identity.userName ?? identity.accountId ?? ""}`;
  return `burst#${createHash("sha256").update(JSON.stringify([principal, record.eventSource, record.eventName])).digest("hex")}`;
}

function sampleOf(record: CloudTrailRecord): string {
  const target = describeTarget(record);
  return JSON.stringify({ eventID: record.eventID, eventTime: record.eventTime, awsRegion: record.awsRegion, ...(target === undefined ? {} : { target }) });
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const s = (value: string): AttributeValue => ({ S: value });
const num = (item: Item | undefined, name: string): number | undefined => (item?.[name]?.N === undefined ? undefined : Number(item[name].N));
const str = (item: Item | undefined, name: string): string | undefined => item?.[name]?.S;

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || hasErrorName(error, "ConditionalCheckFailedException");
}

/** Samples stored as JSON strings, without repeats. */
function samplesOf(...stored: Array<string | undefined>): BurstSample[] {
  const unique = [...new Set(stored.filter((v): v is string => v !== undefined))];
  return unique.map((json) => JSON.parse(json) as BurstSample);
}

/** The summary of a group item's counts. */
function burstSummaryOf(item: Item): BurstSummary {
  return {
    kind: "burst",
    identity: JSON.parse(str(item, "identity") ?? '{"type":"Unknown"}') as UserIdentity,
    eventSource: str(item, "eventSource") ?? "",
    eventName: str(item, "eventName") ?? "",
    count: num(item, "suppressed") ?? 0,
    firstTime: str(item, "firstTime") ?? "",
    lastTime: str(item, "lastTime") ?? "",
    samples: samplesOf(str(item, "firstSample"), str(item, "lastSample")),
    opener: { eventID: str(item, "opener") ?? "", eventTime: str(item, "openerTime") ?? "" },
  };
}

/** One conditional update: its expressions, values and names. */
interface UpdateInput {
  set: string;
  condition?: string;
  values: Item;
  names?: Record<string, string>;
}

/** The table, as burst grouping uses it: one item at a time, by key. */
interface BurstStore {
  /** One conditional update; false when its condition does not hold, the updated attributes with `returnNew`. */
  update(itemKey: string, input: UpdateInput, returnNew?: boolean): Promise<Item | false>;
  /** A strongly consistent read of one item. */
  read(itemKey: string): Promise<Item | undefined>;
}

/** What every step of burst grouping works with. */
interface BurstContext {
  store: BurstStore;
  settings: BurstSettings;
  publish: PublishSummary;
  clock: Clock;
}

/** The store on a table of {@link SENT_JOURNAL_TABLE}'s schema: `GetItem` and `UpdateItem` only. */
function dynamoDbBurstStore(dynamodb: Pick<DynamoDBClient, "send">, tableName: string): BurstStore {
  const key = (value: string) => ({ [SENT_JOURNAL_TABLE.hashKey.name]: s(value) });
  return {
    async update(itemKey, input, returnNew = false) {
      try {
        const result = await dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(itemKey),
            UpdateExpression: input.set,
            ...(input.condition === undefined ? {} : { ConditionExpression: input.condition }),
            ExpressionAttributeValues: input.values,
            ...(input.names === undefined ? {} : { ExpressionAttributeNames: input.names }),
            ...(returnNew ? { ReturnValues: "UPDATED_NEW" as const } : {}),
          }),
        );
        return result.Attributes ?? {};
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
    async read(itemKey) {
      return (await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key(itemKey), ConsistentRead: true }))).Item;
    },
  };
}

/** The TTL attribute's value for an item written now. */
function expiresAt(clock: Clock): AttributeValue {
  return n(Math.floor(clock.now() / 1000) + SENT_JOURNAL_RETENTION_SECONDS);
}

/** Adds an item to the sweep's index (idempotent). */
async function index(ctx: BurstContext, itemKey: string): Promise<void> {
  await ctx.store.update(INDEX_KEY, { set: "ADD #keys :key", values: { ":key": { SS: [itemKey] } }, names: { "#keys": "keys" } });
}

/** The hourly cap's item of the hour `ms` falls in. */
function capKeyOf(ms: number): string {
  return `burst-cap#${ms - (ms % HOUR_MS)}`;
}

/** Takes one message of this hour's cap; false when the cap is reached. */
async function takeMessage(ctx: BurstContext): Promise<boolean> {
  const result = await ctx.store.update(capKeyOf(ctx.clock.now()), {
    set: "ADD sent :one SET expiresAt = :expires",
    condition: "attribute_not_exists(sent) OR sent < :max",
    values: { ":one": n(1), ":max": n(ctx.settings.maxMessagesPerHour), ":expires": expiresAt(ctx.clock) },
  });
  return result !== false;
}

/** Counts `count` events over this hour's cap (with a sample when it is one event). */
async function overflow(ctx: BurstContext, count: number, sample?: string): Promise<void> {
  const capKey = capKeyOf(ctx.clock.now());
  const samples = sample === undefined ? "" : ", firstSample = if_not_exists(firstSample, :sample), lastSample = :sample";
  const values = { ":count": n(count), ":expires": expiresAt(ctx.clock), ...(sample === undefined ? {} : { ":sample": s(sample) }) };
  const result = await ctx.store.update(capKey, { set: `ADD overflow :count SET expiresAt = :expires${samples}`, values }, true);
  if (result !== false && num(result, "overflow") === count) {
    await index(ctx, capKey);
  }
}

/** Sends a summary if the hourly cap has room (true); otherwise counts its events as overflow (false). */
async function deliver(ctx: BurstContext, summary: BurstSummary): Promise<boolean> {
  if (await takeMessage(ctx)) {
    await ctx.publish(summary);
    return true;
  }
  await overflow(ctx, summary.count);
  return false;
}

/** Takes an item's flush lease, under `condition` (over what was read); the lease's token, or false. */
async function lease(ctx: BurstContext, itemKey: string, condition: string, values: Item): Promise<string | false> {
  const token = randomUUID();
  const now = ctx.clock.now();
  const claimed = await ctx.store.update(itemKey, {
    set: "SET claimToken = :token, claimUntil = :until",
    condition: `${condition} AND (attribute_not_exists(claimUntil) OR claimUntil < :now)`,
    values: { ...values, ":token": s(token), ":until": n(now + LEASE_MS), ":now": n(now) },
  });
  return claimed === false ? false : token;
}

/**
 * Summarises a closed window's counts and zeroes them, under the item's flush lease (taken only while the count is
 * still the one read). "busy" when another invocation holds the lease or the item changed.
 */
async function flushGroup(ctx: BurstContext, itemKey: string, item: Item): Promise<"sent" | "held back" | "busy"> {
  const token = await lease(ctx, itemKey, "windowEnd = :end AND suppressed = :seen", { ":end": item.windowEnd, ":seen": item.suppressed });
  if (token === false) {
    return "busy";
  }
  const sent = await deliver(ctx, burstSummaryOf(item));
  await ctx.store.update(itemKey, {
    set: "SET suppressed = :zero REMOVE claimToken, claimUntil, firstTime, lastTime, firstSample, lastSample",
    condition: "claimToken = :token",
    values: { ":zero": n(0), ":token": s(token) },
  });
  return sent ? "sent" : "held back";
}

/** Counts the event in its key's open window (not when it opened that window itself); false when none is open. */
async function count(ctx: BurstContext, itemKey: string, record: CloudTrailRecord): Promise<boolean> {
  const result = await ctx.store.update(
    itemKey,
    {
      set: "ADD suppressed :one SET firstTime = if_not_exists(firstTime, :time), lastTime = :time, firstSample = if_not_exists(firstSample, :sample), lastSample = :sample, expiresAt = :expires",
      condition: "windowEnd > :now AND opener <> :id",
      values: { ":one": n(1), ":time": s(record.eventTime), ":sample": s(sampleOf(record)), ":expires": expiresAt(ctx.clock), ":now": n(ctx.clock.now()), ":id": s(record.eventID) },
    },
    true,
  );
  if (result === false) return false;
  if (num(result, "suppressed") === 1) {
    await index(ctx, itemKey);
  }
  return true;
}

/** Opens a window with this event as its opener; false when a window is open or counts wait for their summary. */
async function open(ctx: BurstContext, itemKey: string, record: CloudTrailRecord): Promise<boolean> {
  const now = ctx.clock.now();
  const result = await ctx.store.update(itemKey, {
    set: "SET windowStart = :now, windowEnd = :end, opener = :id, openerTime = :time, suppressed = :zero, #identity = :identity, eventSource = :source, eventName = :name, expiresAt = :expires REMOVE firstTime, lastTime, firstSample, lastSample",
    condition: "attribute_not_exists(windowEnd) OR (windowEnd <= :now AND suppressed = :zero)",
    values: {
      ":now": n(now),
      ":end": n(now + ctx.settings.windowSeconds * 1000),
      ":id": s(record.eventID),
      ":time": s(record.eventTime),
      ":zero": n(0),
      ":identity": s(JSON.stringify(record.userIdentity ?? { type: "Unknown" })),
      ":source": s(record.eventSource),
      ":name": s(record.eventName),
      ":expires": expiresAt(ctx.clock),
    },
    names: { "#identity": "identity" },
  });
  return result !== false;
}

/** A notification goes out if the hourly cap admits it; otherwise the event is overflow. */
async function notifyOrOverflow(ctx: BurstContext, record: CloudTrailRecord): Promise<Admission> {
  if (await takeMessage(ctx)) return "notify";
  await overflow(ctx, 1, sampleOf(record));
  return "overflow";
}

/** See {@link BurstGate.admit}: count into the open window, or open one (summarising a closed one first). */
async function admit(ctx: BurstContext, record: CloudTrailRecord): Promise<Admission> {
  const itemKey = burstKey(record);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await count(ctx, itemKey, record)) return "counted";
    const item = await ctx.store.read(itemKey);
    const windowEnd = num(item, "windowEnd");
    if (windowEnd !== undefined && windowEnd > ctx.clock.now()) {
      // The window is open: this event opened it (a retry, or a redelivery) or another invocation just did.
      if (str(item, "opener") === record.eventID) return notifyOrOverflow(ctx, record);
      continue;
    }
    if (item !== undefined && (num(item, "suppressed") ?? 0) > 0) {
      if ((await flushGroup(ctx, itemKey, item)) === "busy") await ctx.clock.sleep(100 * (attempt + 1));
      continue;
    }
    if (await open(ctx, itemKey, record)) return notifyOrOverflow(ctx, record);
  }
  throw namedError(BURST_CONTENDED_ERROR, `the burst state of ${itemKey} kept changing during ${MAX_ATTEMPTS} attempts; the invocation fails so that Lambda retries it`, { itemKey });
}

/** Summarises a past hour's overflow, once, under the item's lease; true when a summary was sent. */
async function flushOverflow(ctx: BurstContext, capKey: string, item: Item): Promise<boolean> {
  const total = num(item, "overflow") ?? 0;
  const done = num(item, "overflowSent") ?? 0;
  if (total <= done) return false;
  const token = await lease(ctx, capKey, "overflow = :total", { ":total": n(total) });
  if (token === false) return false;
  const samples = samplesOf(str(item, "firstSample"), str(item, "lastSample"));
  await ctx.publish({ kind: "overflow", count: total - done, hourStart: Number(capKey.split("#")[1]), maxMessagesPerHour: ctx.settings.maxMessagesPerHour, samples });
  await ctx.store.update(capKey, { set: "SET overflowSent = :total REMOVE claimToken, claimUntil", condition: "claimToken = :token", values: { ":total": n(total), ":token": s(token) } });
  return true;
}

/**
 * Removes an item the sweep found with nothing left to summarise from the index, then reads it again and puts it
 * back if an event counted into it meanwhile (its own index entry may have come before the removal).
 */
async function unindex(ctx: BurstContext, itemKey: string, pending: (item: Item | undefined) => boolean): Promise<void> {
  await ctx.store.update(INDEX_KEY, { set: "DELETE #keys :key", values: { ":key": { SS: [itemKey] } }, names: { "#keys": "keys" } });
  if (pending(await ctx.store.read(itemKey))) {
    await index(ctx, itemKey);
  }
}

/** The sweep's work on one indexed item: an hour's overflow, or a key's window. */
async function sweepOne(ctx: BurstContext, itemKey: string, result: SweepResult): Promise<void> {
  const item = await ctx.store.read(itemKey);
  const now = ctx.clock.now();
  if (itemKey.startsWith("burst-cap#")) {
    if (now < Number(itemKey.split("#")[1]) + HOUR_MS + HOUR_GRACE_MS) return;
    if (item !== undefined && (await flushOverflow(ctx, itemKey, item))) result.overflowSummaries += 1;
    const after = await ctx.store.read(itemKey);
    if ((num(after, "overflow") ?? 0) <= (num(after, "overflowSent") ?? 0)) await unindex(ctx, itemKey, () => false);
    return;
  }
  if ((num(item, "windowEnd") ?? 0) > now) return;
  if (item !== undefined && (num(item, "suppressed") ?? 0) > 0) {
    if ((await flushGroup(ctx, itemKey, item)) === "sent") result.summaries += 1;
    return;
  }
  await unindex(ctx, itemKey, (latest) => (num(latest, "suppressed") ?? 0) > 0);
}

/** See {@link BurstGate.sweep}. */
async function sweep(ctx: BurstContext): Promise<SweepResult> {
  const keys = (await ctx.store.read(INDEX_KEY))?.keys?.SS ?? [];
  const result: SweepResult = { summaries: 0, overflowSummaries: 0, checked: keys.length };
  for (const itemKey of keys.sort()) {
    await sweepOne(ctx, itemKey, result);
  }
  return result;
}

/**
 * Burst grouping on a DynamoDB table of {@link SENT_JOURNAL_TABLE}'s schema. Needs `dynamodb:GetItem` and
 * `dynamodb:UpdateItem` on the table; `publish` sends summaries.
 */
export function dynamoDbBurstGate(dynamodb: Pick<DynamoDBClient, "send">, tableName: string, settings: BurstSettings, publish: PublishSummary, clock: Clock): BurstGate {
  const ctx: BurstContext = { store: dynamoDbBurstStore(dynamodb, tableName), settings, publish, clock };
  return { admit: (record) => admit(ctx, record), sweep: () => sweep(ctx) };
}

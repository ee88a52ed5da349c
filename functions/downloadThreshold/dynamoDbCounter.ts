/**
 * The recommended counter: a small counter item per (object, window) and a small event item per download, so that
 * every write stays within one write unit (1 KB) whatever the count, and the count has no cap. Layout and requests:
 * counterItems.ts; the crash windows and how each is closed: docs/downloadThresholdAlert.md.
 */
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

import { assertIsError, namedError, systemClock, type Clock, type Logger } from "../shared/runtime";
import {
  claimRefusal,
  claimRequest,
  counterKey,
  countRequest,
  digestOfEntry,
  entriesOf,
  entryName,
  eventDigest,
  eventKey,
  expiresAt,
  legacyAttribute,
  legacyPosition,
  numberAttribute,
  positionReadRequest,
  settleRequest,
  type AlertState,
  type Item,
} from "./counterItems";
import type { CountingWindow } from "./countingWindow";
import type { CountingAttempt, CountResult, DownloadCounter } from "./downloadCounter";
import { entryReleases, type EntryReleases } from "./entryReleases";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Entries a count request removes at most, besides adding its own. */
export const MAX_RELEASES_PER_COUNT = 16;
/**
 * Other downloads' entries a counter item may hold before a delivery reads some of their event items to release the
 * entries of those settled (the entries an environment left when Lambda retired it). About 20 bytes each.
 */
export const ENTRIES_BEFORE_CLEANUP = 16;
/** Event items read at most per cleanup (eventually consistent: half a read unit each). */
export const CLEANUP_READS = 4;

/** Options of the DynamoDB counter. */
export interface DynamoDbCounterOptions {
  /** The clock leases are compared with (the handler's). @default the system clock */
  clock?: Clock;
  /** Where a failed cleanup read is reported. @default nothing is reported */
  logger?: Logger;
  /** What this execution environment knows about entries that can go. @default an empty memory */
  releases?: EntryReleases;
}

/** A download this environment claimed and counted (or took over), until it is settled. */
interface Held {
  owner: string;
  counter: string;
  entry: string;
  /** Other downloads' entries the counter item held when this one was counted. */
  others: Map<string, number>;
}

const textOf = (key: Item): string => JSON.stringify(key);

/** Returns the item a failed condition carries (ReturnValuesOnConditionCheckFailure), or rethrows anything else. */
function conditionFailedItem(error: unknown, request: string): Item {
  assertIsError(error);
  if (error.name !== "ConditionalCheckFailedException") {
    throw error;
  }
  const item = (error as { Item?: Item }).Item;
  if (item === undefined) {
    throw namedError("UnexpectedResponseError", `${request} failed its condition without returning the item (ReturnValuesOnConditionCheckFailure)`);
  }
  return item;
}

/** What the counter's steps share: its client and table, its clock, and what this environment holds and knows. */
interface Counter {
  dynamodb: Pick<DynamoDBClient, "send">;
  tableName: string;
  clock: Clock;
  logger: Logger | undefined;
  releases: EntryReleases;
  /** Downloads counted (or taken over) and not settled yet, by their event item's key as text. */
  held: Map<string, Held>;
}

/** Step 1: claims the event item; returns it as it was (undefined when new), or the answer for a refused claim. */
async function claim(counter: Counter, key: Item, window: CountingWindow, attempt: CountingAttempt, eventID: string): Promise<{ old: Item | undefined } | CountResult> {
  const request = claimRequest(counter.tableName, key, { owner: attempt.owner, leaseEndsAt: attempt.leaseEndsAt, now: counter.clock.now(), expiresAt: expiresAt(window) });
  try {
    return { old: (await counter.dynamodb.send(new UpdateItemCommand(request))).Attributes };
  } catch (error) {
    const refusal = claimRefusal(conditionFailedItem(error, "claiming the event item"));
    if ("recorded" in refusal) {
      return { counted: false, reason: `download counted before (a redelivery; alert ${refusal.recorded})` };
    }
    throw namedError("DownloadInProgressError", `event ${eventID} is being counted by invocation ${refusal.heldBy} until ${new Date(refusal.until).toISOString()}; Lambda retries it later`, {
      heldBy: refusal.heldBy,
      until: refusal.until,
    });
  }
}

/** Step 2: counts on the counter item; returns the position, whether an earlier attempt had counted it, and the item. */
async function countOn(
  counter: Counter,
  download: WatchedDownload,
  window: CountingWindow,
  entry: string,
): Promise<{ position: number; earlier: "entry" | "legacy" | undefined; item: Item }> {
  const key = counterKey(download, window);
  const removals = counter.releases.due(textOf(key), MAX_RELEASES_PER_COUNT).filter((name) => name !== entry);
  const legacy = legacyAttribute(download.record.eventID);
  try {
    const item = (await counter.dynamodb.send(new UpdateItemCommand(countRequest(counter.tableName, key, { entry, legacy, releases: removals, window })))).Attributes ?? {};
    const position = numberAttribute(item, entry);
    if (position === undefined || position !== numberAttribute(item, "downloads")) {
      throw namedError("UnexpectedResponseError", `counting ${download.bucket}/${download.key} returned entry ${String(item[entry]?.N)} and count ${String(item.downloads?.N)}; they must be equal`);
    }
    counter.releases.removed(textOf(key), removals);
    return { position, earlier: undefined, item };
  } catch (error) {
    const item = conditionFailedItem(error, "counting on the counter item");
    const earlier = numberAttribute(item, entry);
    if (earlier !== undefined) {
      return { position: earlier, earlier: "entry", item };
    }
    const old = numberAttribute(item, legacy);
    if (old === undefined) {
      throw namedError("UnexpectedResponseError", `counting ${download.bucket}/${download.key} failed its condition, but the item holds neither ${entry} nor ${legacy}`);
    }
    return { position: old, earlier: "legacy", item };
  }
}

/** Step 3: records the state of a download this environment holds, and notes its entry for release. */
async function record(counter: Counter, key: Item, hold: Held, position: number, state: AlertState): Promise<void> {
  try {
    await counter.dynamodb.send(new UpdateItemCommand(settleRequest(counter.tableName, key, { owner: hold.owner, position, state })));
  } catch (error) {
    assertIsError(error);
    throw error.name === "ConditionalCheckFailedException" ? namedError("ClaimLostError", `the claim on the download at position ${position} passed to another invocation before it was settled`) : error;
  }
  counter.releases.add(hold.counter, [hold.entry]);
}

/** Reads a few event items of other entries; notes those whose event items hold their positions for release. */
async function cleanUp(counter: Counter, window: CountingWindow, hold: Held): Promise<void> {
  if (hold.others.size <= ENTRIES_BEFORE_CLEANUP) {
    return;
  }
  const released: string[] = [];
  for (const name of counter.releases.toCheck(hold.counter, hold.others, counter.clock.now(), CLEANUP_READS)) {
    try {
      const found = await counter.dynamodb.send(new GetItemCommand(positionReadRequest(counter.tableName, eventKey(digestOfEntry(name) ?? "", window))));
      if (numberAttribute(found.Item, "position") !== undefined) {
        released.push(name);
      }
    } catch (error) {
      assertIsError(error);
      // The entry stays until a later delivery reads it; counting is not affected.
      counter.logger?.warn("counter entry not checked; a later delivery checks it", { entry: name, error: error.name, reason: error.message });
    }
  }
  counter.releases.add(hold.counter, released);
}

/** Counts one download: claim, then count (unless the claim says it was counted), keeping it held until settled. */
async function countDownload(counter: Counter, download: WatchedDownload, window: CountingWindow, attempt: CountingAttempt): Promise<CountResult> {
  const digest = eventDigest(download);
  const key = eventKey(digest, window);
  const claimed = await claim(counter, key, window, attempt, download.record.eventID);
  if ("counted" in claimed) {
    return claimed;
  }
  const entry = entryName(digest);
  const hold: Held = { owner: attempt.owner, counter: textOf(counterKey(download, window)), entry, others: new Map() };
  const pendingPosition = numberAttribute(claimed.old, "position");
  if (pendingPosition !== undefined) {
    // Taken over from an invocation whose publishing failed: the event item holds the position.
    counter.held.set(textOf(key), hold);
    return { counted: false, reason: "download counted before; its alert is pending", unsettled: { count: pendingPosition } };
  }
  const { position, earlier, item } = await countOn(counter, download, window, entry);
  hold.others = entriesOf(item);
  hold.others.delete(entry);
  if (earlier === "legacy") {
    const { position: legacyCount, pending } = legacyPosition(position);
    if (!pending) {
      // Counted and settled by the earlier counter: record it so that later deliveries stop at the claim.
      await record(counter, key, hold, legacyCount, "none");
      return { counted: false, reason: "download counted before by the earlier counter" };
    }
    counter.held.set(textOf(key), hold);
    return { counted: false, reason: "download counted before by the earlier counter; its alert is pending", unsettled: { count: legacyCount } };
  }
  counter.held.set(textOf(key), hold);
  // An entry found under a claim taken over is an earlier attempt's count; under a new claim, this attempt's own
  // (the SDK retried a count request that DynamoDB had applied).
  if (earlier === "entry" && claimed.old !== undefined) {
    return { counted: false, reason: "download counted by an earlier attempt that did not record its alert", unsettled: { count: position } };
  }
  return { counted: true, count: position };
}

/** Settles a download this environment holds, then cleans up the counter item if it holds too many entries. */
async function settleDownload(counter: Counter, download: WatchedDownload, window: CountingWindow, count: number, state: AlertState): Promise<void> {
  const key = eventKey(eventDigest(download), window);
  const hold = counter.held.get(textOf(key));
  if (hold === undefined) {
    throw namedError("UnexpectedCallError", `settle called for ${download.record.eventID} at position ${count}, which this counter did not count`);
  }
  counter.held.delete(textOf(key));
  await record(counter, key, hold, count, state);
  await cleanUp(counter, window, hold);
}

/**
 * The recommended counter. Per download, three conditional UpdateItems of one write unit each:
 * 1. claim the download's event item (fails for a download counted before: a redelivery, one write unit);
 * 2. count on the counter item: increment `downloads` and set the download's entry to the new count, unless the entry
 *    exists (then its value is the position an earlier attempt got); DynamoDB applies updates of one item one at a
 *    time, so concurrent downloads get distinct positions and exactly one sees the threshold crossed;
 * 3. after the alert (if due) is published, settle: record position and alert state on the event item.
 * The entry is removed by this environment's next count on the same counter item, in that write.
 */
export function dynamoDbDownloadCounter(dynamodb: Pick<DynamoDBClient, "send">, tableName: string, options: DynamoDbCounterOptions = {}): DownloadCounter {
  const { clock = systemClock, logger, releases = entryReleases() } = options;
  const counter: Counter = { dynamodb, tableName, clock, logger, releases, held: new Map() };
  return {
    count: (download, window, attempt) => countDownload(counter, download, window, attempt),
    settle: (download, window, count, state) => settleDownload(counter, download, window, count, state),
  };
}

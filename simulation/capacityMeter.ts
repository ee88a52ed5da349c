/**
 * What a DynamoDB client's calls consume, in DynamoDB's own units: each response's `ConsumedCapacity` (the caller asks
 * for it with `ReturnConsumedCapacity: "TOTAL"`; dynalite computes it as DynamoDB documents: writes by the larger of
 * the item before and after, per started KB; reads per started 4 KB, halved when eventually consistent). A write whose
 * condition fails consumes capacity too, but DynamoDB reports none in the error; the meter charges what AWS documents
 * for it ("If the item does not currently exist in the table, DynamoDB consumes one write capacity unit. If the item
 * does exist, the number of write capacity units consumed depends on the size of the item",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalWrites.ReturnConsumedCapacity),
 * from the item the failed condition returned (ReturnValuesOnConditionCheckFailure), or one unit without it.
 */
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";

type Item = Record<string, AttributeValue>;

/** Units and calls, in all and per group (see {@link meteredDynamoDb}'s `groupOf`). */
export interface CapacityTotals {
  calls: number;
  writeUnits: number;
  readUnits: number;
  /** Writes whose condition failed (charged as documented, see the module comment). */
  failedConditions: number;
  writeUnitsByGroup: Record<string, number>;
}

const WRITES = ["PutItem", "UpdateItem", "DeleteItem"];
const READS = ["GetItem"];

/** Write units DynamoDB charges for a failed conditional write on `existing` (dynalite's item size rule). */
function failedWriteUnits(existing: Item | undefined): number {
  if (existing === undefined) {
    return 1;
  }
  const db = require("dynalite/db") as { capacityUnits(item: Item, isRead: boolean, isConsistent: boolean): number };
  return Math.max(1, db.capacityUnits(existing, false, true));
}

/** A fresh, empty tally. */
export function emptyTotals(): CapacityTotals {
  return { calls: 0, writeUnits: 0, readUnits: 0, failedConditions: 0, writeUnitsByGroup: {} };
}

/** `after` minus `before`. */
export function difference(after: CapacityTotals, before: CapacityTotals): CapacityTotals {
  const groups = new Set([...Object.keys(after.writeUnitsByGroup), ...Object.keys(before.writeUnitsByGroup)]);
  return {
    calls: after.calls - before.calls,
    writeUnits: after.writeUnits - before.writeUnits,
    readUnits: after.readUnits - before.readUnits,
    failedConditions: after.failedConditions - before.failedConditions,
    writeUnitsByGroup: Object.fromEntries([...groups].map((g) => [g, (after.writeUnitsByGroup[g] ?? 0) - (before.writeUnitsByGroup[g] ?? 0)])),
  };
}

/**
 * Wraps `client` so that every call's units are added to `totals`; `groupOf` names the group of a write from its
 * command input (for example counter item or event item). A read or write that answers without `ConsumedCapacity`
 * fails the call: the counter must ask for it on every request.
 */
export function meteredDynamoDb<C extends Pick<DynamoDBClient, "send">>(
  client: C,
  totals: CapacityTotals = emptyTotals(),
  groupOf: (input: { Key?: Item; Item?: Item }) => string = () => "table",
): { client: C; totals: CapacityTotals } {
  const add = (kind: string, input: { Key?: Item; Item?: Item }, units: number) => {
    if (WRITES.includes(kind)) {
      totals.writeUnits += units;
      const group = groupOf(input);
      totals.writeUnitsByGroup[group] = (totals.writeUnitsByGroup[group] ?? 0) + units;
    } else if (READS.includes(kind)) {
      totals.readUnits += units;
    }
  };
  const send = async (command: { input: { Key?: Item; Item?: Item } }, ...rest: unknown[]) => {
    const kind = command.constructor.name.replace(/Command$/, "");
    totals.calls += 1;
    try {
      const response = (await (client.send as (c: unknown, ...r: unknown[]) => Promise<{ ConsumedCapacity?: { CapacityUnits?: number } }>)(command, ...rest));
      const units = response.ConsumedCapacity?.CapacityUnits;
      if ((WRITES.includes(kind) || READS.includes(kind)) && units === undefined) {
        throw new Error(`${kind} answered without ConsumedCapacity: pass ReturnConsumedCapacity: "TOTAL"`);
      }
      add(kind, command.input, units ?? 0);
      return response;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") {
        totals.failedConditions += 1;
        add(kind, command.input, failedWriteUnits((error as { Item?: Item }).Item));
      }
      throw error;
    }
  };
  return { client: { send } as unknown as C, totals };
}

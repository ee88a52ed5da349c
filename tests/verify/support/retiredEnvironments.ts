/**
 * The download counter's table as Lambda leaves it after scaling in: execution environments it retired left the
 * entries of downloads they had settled on the counter item (each environment removes its own with its next count on
 * the item, and a retired one has no next count). A delivery that finds more than `ENTRIES_BEFORE_CLEANUP` of them
 * reads their event items (GetItem) to release them. The proof runs the counter on such a table, so that its calls
 * include that read, which its role must allow.
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";

import { counterKey, entryName, eventDigest, eventKey, expiresAt } from "../../../functions/downloadThreshold/counterItems";
import { windowCalculator } from "../../../functions/downloadThreshold/countingWindow";
import { ENTRIES_BEFORE_CLEANUP } from "../../../functions/downloadThreshold/dynamoDbCounter";
import { fromEnvironment } from "../../../functions/downloadThreshold/settings";
import type { CloudTrailRecord } from "../../../functions/shared/cloudtrailEvents";
import { getObjectRecord } from "../../../simulation/downloadEvents";
import type { LocalDynamoDb } from "../../../simulation/localDynamoDb";

/**
 * For a download counter on DynamoDB (the function's `factory` and `variables` say), writes the counter item of the
 * first download of `traffic` as retired environments leave it: one more settled download's entry than the cleanup
 * threshold, each with its settled event item. Other functions and the logs counter are left alone.
 */
export async function leaveRetiredEnvironmentEntries(db: LocalDynamoDb, factory: string, variables: Record<string, string>, traffic: CloudTrailRecord[]): Promise<void> {
  if (factory !== "downloadThresholdCallbackFactory") {
    return;
  }
  const settings = fromEnvironment(variables);
  const first = traffic.find((record) => record.eventName === "GetObject");
  if (settings.counter.kind !== "dynamodb" || first === undefined) {
    return;
  }
  const { tableName } = settings.counter;
  const bucket = String(first.requestParameters?.bucketName);
  const key = String(first.requestParameters?.key);
  const window = windowCalculator(settings.reset)(new Date(first.eventTime));
  const downloads = Array.from({ length: ENTRIES_BEFORE_CLEANUP + 1 }, (_, i) => ({
    bucket,
    key,
    threshold: 1,
    record: getObjectRecord({ eventID: `verify-retired-${i + 1}`, eventTime: first.eventTime, bucket, key }),
  }));
  const client = db.client();
  const ttl = { expiresAt: { N: String(expiresAt(window)) } };
  for (const [i, download] of downloads.entries()) {
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...eventKey(eventDigest(download), window), position: { N: String(i + 1) }, alert: { S: "none" }, ...ttl } }));
  }
  const entries = Object.fromEntries(downloads.map((download, i) => [entryName(eventDigest(download)), { N: String(i + 1) }]));
  await client.send(
    new PutItemCommand({ TableName: tableName, Item: { ...counterKey(downloads[0], window), downloads: { N: String(downloads.length) }, ...entries, windowEnd: { S: window.end.toISOString() }, ...ttl } }),
  );
  client.destroy();
}

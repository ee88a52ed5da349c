/**
 * DynamoDB on loopback: dynalite (a DynamoDB API server) in-process on 127.0.0.1, a free port, tables in memory.
 * Tables are created with the key schemas the components deploy (`DOWNLOAD_COUNTS_TABLE`, `SENT_JOURNAL_TABLE`).
 * dynalite predates `ReturnValuesOnConditionCheckFailure` (2023); {@link LocalDynamoDb.start} teaches it to DynamoDB's
 * rules: a write whose condition fails returns the item as it was, read under the same item lock as the condition.
 */
import type * as http from "http";
import type { AddressInfo } from "net";

import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

import { DOWNLOAD_COUNTS_TABLE } from "../functions/downloadThreshold/counterItems";
import { SENT_JOURNAL_TABLE } from "../functions/userActivity/sentJournal";
import { FAKE_AWS_ENVIRONMENT } from "./fakeSns";

type Dynalite = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => http.Server;

let tables = 0;

type ConditionCheck = (data: { ReturnValuesOnConditionCheckFailure?: string }, existing: unknown) => { body: Record<string, unknown> } | null | undefined;

let conditionFailuresReturnItems = false;

/**
 * Makes dynalite accept `ReturnValuesOnConditionCheckFailure` on PutItem, UpdateItem and DeleteItem and, with
 * `ALL_OLD`, put the existing item in the ConditionalCheckFailedException (field `Item`), as DynamoDB does.
 */
function returnItemsOnConditionFailures(): void {
  if (conditionFailuresReturnItems) {
    return;
  }
  conditionFailuresReturnItems = true;
  for (const action of ["putItem", "updateItem", "deleteItem"]) {
    (require(`dynalite/validations/${action}`) as { types: Record<string, unknown> }).types.ReturnValuesOnConditionCheckFailure = { type: "String", enum: ["ALL_OLD", "NONE"] };
  }
  const db = require("dynalite/db") as { checkConditional: ConditionCheck };
  const check = db.checkConditional;
  db.checkConditional = (data, existing) => {
    const failure = check(data, existing);
    if (failure && data.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && existing) {
      failure.body.Item = existing;
    }
    return failure;
  };
}

export class LocalDynamoDb {
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<LocalDynamoDb> {
    returnItemsOnConditionFailures();
    const dynalite = require("dynalite") as Dynalite;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new LocalDynamoDb(server);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Environment that points SDK clients created from scratch (`new DynamoDBClient({})`) here. */
  get environment(): Record<string, string> {
    return { ...FAKE_AWS_ENVIRONMENT, AWS_ENDPOINT_URL_DYNAMODB: this.endpoint };
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({
      endpoint: this.endpoint,
      region: FAKE_AWS_ENVIRONMENT.AWS_REGION,
      credentials: { accessKeyId: FAKE_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: FAKE_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
    });
  }

  /** Creates a counter table (a fresh name unless given) with the deployed key schema; returns its name. */
  async createCountsTable(name = `download-counts-${++tables}`): Promise<string> {
    const { hashKey, rangeKey } = DOWNLOAD_COUNTS_TABLE;
    const client = this.client();
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: hashKey.name, KeyType: "HASH" },
          { AttributeName: rangeKey.name, KeyType: "RANGE" },
        ],
        AttributeDefinitions: [hashKey, rangeKey].map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type })),
      }),
    );
    client.destroy();
    return name;
  }

  /** Creates a sent journal table (a fresh name unless given) with the deployed key schema; returns its name. */
  async createSentJournalTable(name = `sent-journal-${++tables}`): Promise<string> {
    const { hashKey } = SENT_JOURNAL_TABLE;
    const client = this.client();
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: hashKey.name, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: hashKey.name, AttributeType: hashKey.type }],
      }),
    );
    client.destroy();
    return name;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}

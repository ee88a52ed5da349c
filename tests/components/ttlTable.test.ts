import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { TtlTable } from "../../components";
import type { RecordedResource } from "../../preview/mockCloud";
import { resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";
const TABLE_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;

/** A component to hang the table on, as a component's constructor would. */
const host = (name: string, opts: pulumi.ComponentResourceOptions = {}) => new pulumi.ComponentResource("test:index:Host", name, {}, opts);

describe("TtlTable", () => {
  describe("with a partition key only and the AWS managed key", () => {
    let parent: pulumi.ComponentResource;
    let table: TtlTable;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("ttl-journal");
      table = new TtlTable("ttl-journal-sent", { hashKey: { name: "eventID", type: "S" }, timeToLiveAttribute: "expiresAt" }, { parent });
      resources = await resourcesOf(parent);
    });

    it("creates one on-demand table, encrypted, with its time-to-live attribute, as a child of the parent", async () => {
      expect(resources.map((r) => `${r.type} ${r.name}`)).to.deep.equal(["aws:dynamodb/table:Table ttl-journal-sent"]);
      expect(resources[0].parent).to.equal(await valueOf(parent.urn));
      expect(resources[0].inputs).to.deep.equal({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "eventID",
        attributes: [{ name: "eventID", type: "S" }],
        ttl: { attributeName: "expiresAt", enabled: true },
        serverSideEncryption: { enabled: true },
      });
      expect(await valueOf(table.table.urn)).to.equal(resources[0].urn);
      expect(table.kmsKeyArn).to.equal(undefined);
    });

    it("grants the given actions on this table only, and no key statement", async () => {
      const statements = await valueOf(pulumi.output(table.grant("RememberSentNotifications", ["dynamodb:GetItem", "dynamodb:PutItem"])));

      expect(statements).to.deep.equal([
        { Sid: "RememberSentNotifications", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: single(resources, "aws:dynamodb/table:Table").state.arn },
      ]);
    });
  });

  describe("with a sort key and a customer managed key", () => {
    let parent: pulumi.ComponentResource;
    let table: TtlTable;
    let resources: RecordedResource[];

    before(async () => {
      parent = host("ttl-counts");
      table = new TtlTable(
        "ttl-counts-table",
        { hashKey: { name: "object", type: "S" }, rangeKey: { name: "entry", type: "S" }, timeToLiveAttribute: "expiresAt", kmsKeyArn: TABLE_KEY },
        { parent },
      );
      resources = await resourcesOf(parent);
    });

    it("declares both key attributes and encrypts with the given key", () => {
      expect(single(resources, "aws:dynamodb/table:Table", "ttl-counts-table").inputs).to.deep.equal({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "object",
        rangeKey: "entry",
        attributes: [
          { name: "object", type: "S" },
          { name: "entry", type: "S" },
        ],
        ttl: { attributeName: "expiresAt", enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: TABLE_KEY },
      });
      expect(table.kmsKeyArn).to.equal(TABLE_KEY);
    });

    it("grants the actions on the table and the key's use through DynamoDB in the table's Region only", async () => {
      const statements = await valueOf(pulumi.output(table.grant("CountDownloads", "dynamodb:UpdateItem")));

      expect(statements).to.deep.equal([
        { Sid: "CountDownloads", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: single(resources, "aws:dynamodb/table:Table").state.arn },
        {
          Sid: "UseTableKeyThroughDynamoDb",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
          Resource: TABLE_KEY,
          Condition: { StringEquals: { "kms:ViaService": `dynamodb.${REGION}.amazonaws.com` } },
        },
      ]);
    });
  });

  it("scopes the key to DynamoDB in the Region of the parent's provider", async () => {
    const region = "eu-west-1";
    const parent = host("ttl-elsewhere", { providers: [new aws.Provider("ttl-elsewhere-provider", { region })] });
    const table = new TtlTable("ttl-elsewhere-table", { hashKey: { name: "id", type: "S" }, timeToLiveAttribute: "expiresAt", kmsKeyArn: TABLE_KEY }, { parent });

    const [statements, resources] = await Promise.all([valueOf(pulumi.output(table.grant("UseTable", "dynamodb:GetItem"))), resourcesOf(parent)]);

    expect(single(resources, "aws:dynamodb/table:Table").placement?.region).to.equal(region);
    expect(statements[1].Condition).to.deep.equal({ StringEquals: { "kms:ViaService": `dynamodb.${region}.amazonaws.com` } });
  });
});

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { awsEnvironment } from "./awsEnvironment";
import { tableKeyThroughDynamoDb, type PolicyStatement } from "./policy";

/** A key attribute of a table: its name and DynamoDB scalar type (`S` string, `N` number, `B` binary). */
export interface TableKeyAttribute {
  name: string;
  type: "S" | "N" | "B";
}

/** The schema and encryption of a {@link TtlTable}. */
export interface TtlTableArgs {
  /** The partition key. */
  hashKey: TableKeyAttribute;
  /** The sort key. @default - none: items are identified by the partition key alone */
  rangeKey?: TableKeyAttribute;
  /**
   * The number attribute that holds each item's expiry, in seconds since the epoch; DynamoDB deletes expired items
   * (within a few days, at no cost). See https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
   */
  timeToLiveAttribute: string;
  /**
   * KMS key (ARN) that encrypts the table; {@link TtlTable.grant} then grants its use through DynamoDB only.
   * See https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
   * @default - the AWS managed key `aws/dynamodb` (its use is recorded in CloudTrail, unlike the AWS owned key)
   */
  kmsKeyArn?: pulumi.Input<string>;
}

/**
 * A DynamoDB table of short-lived items, as the components' counter and journal tables are: on-demand capacity (no
 * capacity to plan for bursts of events), a time-to-live attribute so that DynamoDB deletes items once they are no
 * longer needed, and encryption with a KMS key whose use CloudTrail records. The table is `name`, a child of
 * `opts.parent`. {@link grant} gives a function the statements it needs on it (aws-cdk-lib's `table.grant`).
 */
export class TtlTable {
  readonly table: aws.dynamodb.Table;
  /** The customer managed key that encrypts the table; undefined for the AWS managed key. */
  readonly kmsKeyArn?: pulumi.Input<string>;
  private readonly parent: pulumi.Resource;

  constructor(name: string, args: TtlTableArgs, opts: { parent: pulumi.Resource }) {
    const { hashKey, rangeKey, timeToLiveAttribute, kmsKeyArn } = args;
    this.parent = opts.parent;
    this.kmsKeyArn = kmsKeyArn;
    this.table = new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: hashKey.name,
        ...(rangeKey === undefined ? {} : { rangeKey: rangeKey.name }),
        attributes: (rangeKey === undefined ? [hashKey] : [hashKey, rangeKey]).map(({ name: attribute, type }) => ({ name: attribute, type })),
        // Items are only needed for a while; DynamoDB deletes them after.
        ttl: { attributeName: timeToLiveAttribute, enabled: true },
        // Items name what the alerts are about: encrypt with a KMS key whose use CloudTrail records (override: kmsKeyArn).
        serverSideEncryption: kmsKeyArn === undefined ? { enabled: true } : { enabled: true, kmsKeyArn },
      },
      { parent: opts.parent },
    );
  }

  /**
   * The identity-policy statements that let a function call `actions` on this table only and, when the table has a
   * customer managed key, use that key through DynamoDB in the table's Region only (`kms:ViaService`).
   */
  grant(sid: string, actions: string | string[]): PolicyStatement[] {
    const statements: PolicyStatement[] = [{ Sid: sid, Effect: "Allow", Action: actions, Resource: this.table.arn }];
    if (this.kmsKeyArn !== undefined) {
      statements.push(tableKeyThroughDynamoDb(this.kmsKeyArn, awsEnvironment(this.parent).region));
    }
    return statements;
  }
}

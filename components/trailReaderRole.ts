import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { policyDocument, PolicyStatement } from "./policy";
import { argProblems } from "./validation";

/** A role ARN (any partition). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export interface TrailReaderRoleArgs {
  /**
   * ARN of the only principal allowed to assume this role: the backfill function's execution role
   * (`TrailBackfill.functionRoleArn`).
   */
  trustedRoleArn: pulumi.Input<string>;
  /**
   * An external ID the caller must present (`sts:ExternalId`). It is not a secret; it guards against the confused
   * deputy when a third party operates the backfill. See
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html
   * @default - no external ID condition
   */
  externalId?: pulumi.Input<string>;
  /**
   * Organization ID (`o-...`): the caller must belong to it (`aws:PrincipalOrgID`), so even a misconfigured trust can
   * only ever be used from inside the organisation. See
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
   * @default - no organization condition
   */
  organizationId?: pulumi.Input<string>;
  /**
   * Name of the role (1-64 letters, digits and `+=,.@_-`).
   * @default - the Pulumi name with a random suffix
   */
  roleName?: string;
}

/**
 * The role TrailBackfill assumes in one account to re-fetch its CloudTrail events: it allows only
 * `cloudtrail:LookupEvents` and trusts only the backfill function's role (optionally only with an external ID and only
 * from inside the organisation). Create one per account with a provider for that account.
 */
export class TrailReaderRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: TrailReaderRoleArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:TrailReaderRole", name, {}, opts);
    TrailReaderRole.validateArgs(name, args);
    const { trustedRoleArn, externalId, organizationId, roleName } = args;

    this.role = new aws.iam.Role(
      name,
      {
        ...(roleName === undefined ? {} : { name: roleName }),
        description: "Lets the cloudtrail-alerts backfill read this account's CloudTrail event history (LookupEvents only)",
        assumeRolePolicy: policyDocument([TrailReaderRole.trustStatement({ trustedRoleArn, externalId, organizationId })]),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.id, policy: policyDocument(TrailReaderRole.permissionStatements()) }, { parent: this });
    this.roleArn = this.role.arn;

    this.registerOutputs({ role: this.role, roleArn: this.roleArn });
  }

  /** The trust statement: only `trustedRoleArn`, with the external ID and organization conditions when given. */
  static trustStatement(p: Pick<TrailReaderRoleArgs, "trustedRoleArn" | "externalId" | "organizationId">): PolicyStatement {
    const conditions: Record<string, pulumi.Input<string>> = {
      ...(p.externalId === undefined ? {} : { "sts:ExternalId": p.externalId }),
      ...(p.organizationId === undefined ? {} : { "aws:PrincipalOrgID": p.organizationId }),
    };
    return {
      Sid: "TrustBackfillFunction",
      Effect: "Allow",
      Principal: { AWS: p.trustedRoleArn },
      Action: "sts:AssumeRole",
      ...(Object.keys(conditions).length === 0 ? {} : { Condition: { StringEquals: conditions } }),
    };
  }

  /** What the role may do: look up CloudTrail events, nothing else. */
  static permissionStatements(): PolicyStatement[] {
    return [
      {
        Sid: "LookupEvents",
        Effect: "Allow",
        Action: "cloudtrail:LookupEvents",
        // LookupEvents supports no resource-level permissions: AWS accepts only "*" for it (Service Authorization
        // Reference, AWS CloudTrail, "Resource types" column is empty), so nothing narrower can be written here.
        Resource: "*",
      },
    ];
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: TrailReaderRoleArgs): void {
    argProblems(`TrailReaderRole "${name}"`)
      .check("trustedRoleArn", args.trustedRoleArn, (v: string) => ROLE_ARN.test(v), "an IAM role ARN such as arn:aws:iam::111111111111:role/backfill")
      .check("externalId", args.externalId, (v: string) => /^[\w+=,.@:/-]{2,1224}$/.test(v), "2-1224 letters, digits and +=,.@:/-_")
      .check("organizationId", args.organizationId, (v: string) => /^o-[a-z0-9]{10,32}$/.test(v), "an organization ID such as o-a1b2c3d4e5")
      .check("roleName", args.roleName, (v: string) => /^[\w+=,.@-]{1,64}$/.test(v), "1-64 letters, digits and +=,.@_-")
      .throwIfAny();
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { adoptionProblems, adoptOrCreate, type Adoption } from "./adoptable";
import { awsEnvironment } from "./awsEnvironment";
import { Contributions } from "./contributions";
import { createLockedBucket } from "./lockedBucket";
import { policyDocument, serviceTrustPolicy } from "./policy";
import { argProblems, isLogRetention, isNonEmptyString } from "./validation";

/** One condition of an advanced event selector, as in CloudTrail's `AdvancedFieldSelector`. */
export interface FieldSelector {
  field: string;
  equals?: string[];
  startsWith?: string[];
  endsWith?: string[];
  notEquals?: string[];
  notStartsWith?: string[];
  notEndsWith?: string[];
}

/**
 * A CloudTrail advanced event selector: which data events a trail logs.
 * See https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedEventSelector.html
 */
export interface AdvancedEventSelector {
  name: string;
  fieldSelectors: FieldSelector[];
}

/** CloudTrail's quota on the values of all conditions across a trail's advanced event selectors. */
export const MAX_SELECTOR_VALUES = 500;

/** Creates a trail with its bucket, log group and delivery role. */
export interface AuditTrailCreateArgs {
  existingLogGroupName?: never;
  /**
   * Name of the trail (3-128 letters, digits, `.`, `_` or `-`). The bucket policy and delivery role refer to the
   * trail by ARN before it exists, so the name is fixed rather than auto-generated.
   * @default - `${project}-${stack}-${name}`
   */
  trailName?: string;
  /**
   * Days CloudWatch Logs keeps the trail's events. The S3 copy is kept until you delete it.
   * See https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
   * @default 365
   */
  logRetentionInDays?: number;
  /**
   * KMS key ARN for the log group. Its key policy must allow `logs.<region>.amazonaws.com`.
   * @default - CloudWatch Logs' own encryption at rest
   */
  logGroupKmsKeyArn?: pulumi.Input<string>;
  /**
   * KMS key ARN for the log files in S3 (SSE-KMS). Its key policy must allow CloudTrail to use it.
   * See https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
   * @default - SSE-S3 (AES-256), CloudTrail's default
   */
  bucketKmsKeyArn?: pulumi.Input<string>;
}

/**
 * Adopts an existing trail (for example the organisation trail) through the CloudWatch Logs group it delivers to.
 * Nothing is created; data events other components need are reported as warnings to configure on that trail.
 */
export interface AuditTrailAdoptArgs {
  /** Name of the CloudWatch Logs group the existing trail delivers to. It must exist: preview looks it up. */
  existingLogGroupName: pulumi.Input<string>;
  trailName?: never;
  logRetentionInDays?: never;
  logGroupKmsKeyArn?: never;
  bucketKmsKeyArn?: never;
}

/** Create a trail, or adopt one by its log group: never both. */
export type AuditTrailArgs = AuditTrailCreateArgs | AuditTrailAdoptArgs;

/** AuditTrail's create-or-adopt arguments. */
const AUDIT_TRAIL_ADOPTION: Adoption<"existingLogGroupName"> = {
  existing: "existingLogGroupName",
  resource: "trail",
  createOnly: ["trailName", "logRetentionInDays", "logGroupKmsKeyArn", "bucketKmsKeyArn"],
};

/** The trail adopted (its log group) or created. */
interface TrailParts {
  logGroupName: pulumi.Output<string>;
  logGroupArn: pulumi.Output<string>;
  trailArn?: pulumi.Output<string>;
  bucketName?: pulumi.Output<string>;
}

/**
 * The CloudTrail trail alerts are computed from, and the CloudWatch Logs group it delivers to.
 *
 * Created: a multi-region trail with log file validation and global service events; an S3 bucket with public
 * access blocked, default encryption, ACLs disabled, versioning and a TLS-only policy that lets CloudTrail write
 * only under `AWSLogs/<account>/` and only for this trail; a log group with retention; and a delivery role limited
 * to `logs:CreateLogStream` and `logs:PutLogEvents` on that group. Adopted: nothing is created.
 *
 * The bucket is not force-destroyed: `pulumi destroy` stops at a bucket that still holds log files, so audit logs
 * never disappear with a stack by accident. Empty it yourself first if you really mean to delete them.
 */
export class AuditTrail extends pulumi.ComponentResource {
  /** Name of the CloudWatch Logs group that receives the trail's events. */
  readonly logGroupName: pulumi.Output<string>;
  /** ARN of that log group (without the `:*` suffix). */
  readonly logGroupArn: pulumi.Output<string>;
  /** ARN of the created trail; undefined when a trail was adopted. */
  readonly trailArn?: pulumi.Output<string>;
  /** Name of the created log bucket; undefined when a trail was adopted. */
  readonly bucketName?: pulumi.Output<string>;
  /** Data-event selectors other components asked for (applied to a created trail, reported for an adopted one). */
  readonly dataEventSelectors: pulumi.Output<AdvancedEventSelector[]>;
  /** True when an existing trail was adopted. */
  readonly adopted: boolean;

  private readonly selectors: Contributions<AdvancedEventSelector>;
  // The management-events selector every created trail has holds one value.
  private selectorValues = 1;

  constructor(name: string, args: AuditTrailArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("cloudtrail-alerts:index:AuditTrail", name, {}, opts);
    AuditTrail.validateArgs(name, args);
    this.selectors = new Contributions<AdvancedEventSelector>(`AuditTrail "${name}" data event selectors`);
    this.dataEventSelectors = this.selectors.all;
    this.adopted = args.existingLogGroupName !== undefined;

    const parts: TrailParts = adoptOrCreate(args, AUDIT_TRAIL_ADOPTION, {
      adopt: (adopted) => this.adoptTrail(name, adopted),
      create: (created) => this.createTrail(name, created),
    });
    this.logGroupName = parts.logGroupName;
    this.logGroupArn = parts.logGroupArn;
    this.trailArn = parts.trailArn;
    this.bucketName = parts.bucketName;

    this.registerOutputs({
      logGroupName: this.logGroupName,
      logGroupArn: this.logGroupArn,
      trailArn: this.trailArn,
      bucketName: this.bucketName,
      dataEventSelectors: this.dataEventSelectors,
      adopted: this.adopted,
    });
  }

  /**
   * Asks the trail to log the data events described by `selectors` (for example S3 `GetObject` on watched objects).
   * Call it while constructing resources. A created trail logs them; for an adopted trail they are reported.
   */
  addDataEventSelectors(selectors: AdvancedEventSelector[]): void {
    for (const selector of selectors) {
      const categories = selector.fieldSelectors.find((f) => f.field === "eventCategory")?.equals ?? [];
      if (categories.length !== 1 || categories[0] !== "Data") {
        throw new Error(`AuditTrail: selector ${JSON.stringify(selector.name)} must have eventCategory equal to ["Data"]`);
      }
      this.selectorValues += countValues(selector);
      if (this.selectorValues > MAX_SELECTOR_VALUES) {
        throw new Error(
          `AuditTrail: the data event selectors would hold ${this.selectorValues} condition values; CloudTrail allows ` +
            `${MAX_SELECTOR_VALUES} per trail. Watch key prefixes instead of many single keys.`,
        );
      }
      this.selectors.add(selector);
    }
  }

  /** Looks up the adopted trail's log group; the selectors other components ask for are reported, not applied. */
  private adoptTrail(name: string, args: AuditTrailAdoptArgs): TrailParts {
    const existing = aws.cloudwatch.getLogGroupOutput({ name: args.existingLogGroupName }, { parent: this });
    this.dataEventSelectors.apply((selectors) => {
      if (selectors.length > 0) {
        void pulumi.log.warn(
          `AuditTrail "${name}" adopts an existing trail, which this stack does not modify. For the alerts to see ` +
            `the data events they need, add these advanced event selectors to the trail that delivers to that log ` +
            `group: ${JSON.stringify(selectors)}`,
          this,
        );
      }
    });
    return { logGroupName: existing.name, logGroupArn: existing.arn };
  }

  private createTrail(name: string, args: AuditTrailCreateArgs): TrailParts {
    const { logRetentionInDays = 365, logGroupKmsKeyArn, bucketKmsKeyArn } = args;
    const trailName = args.trailName ?? `${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
    const env = awsEnvironment(this);
    // The trail's ARN is needed by the bucket policy and the role's trust policy before the trail exists (the trail
    // waits for both), so it is composed from its fixed name, as AWS's own examples do.
    const trailArn = pulumi.interpolate`arn:${env.partition}:cloudtrail:${env.region}:${env.accountId}:trail/${trailName}`;

    const { bucket, policy: bucketPolicy } = createLockedBucket(name, this, {
      ...(bucketKmsKeyArn === undefined ? {} : { kmsKeyArn: bucketKmsKeyArn }),
      grants: (bucketArn) => [
        {
          Sid: "AWSCloudTrailAclCheck",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:GetBucketAcl",
          Resource: bucketArn,
          Condition: { StringEquals: { "aws:SourceArn": trailArn } },
        },
        {
          Sid: "AWSCloudTrailWrite",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: pulumi.interpolate`${bucketArn}/AWSLogs/${env.accountId}/*`,
          Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
        },
      ],
    });

    const { logGroup, deliveryRole, deliveryPolicy } = this.createLogDelivery(name, trailName, trailArn, { logRetentionInDays, logGroupKmsKeyArn });

    const managementEvents: AdvancedEventSelector = {
      name: "Management events",
      fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }],
    };
    const trail = new aws.cloudtrail.Trail(
      name,
      {
        name: trailName,
        s3BucketName: bucket.id,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        cloudWatchLogsGroupArn: pulumi.interpolate`${logGroup.arn}:*`,
        cloudWatchLogsRoleArn: deliveryRole.arn,
        advancedEventSelectors: this.dataEventSelectors.apply((selectors) =>
          [managementEvents, ...selectors].map(toTrailSelector),
        ),
      },
      // CloudTrail tests bucket access and the delivery role when the trail is created.
      { parent: this, dependsOn: [bucketPolicy, deliveryPolicy] },
    );

    return { logGroupName: logGroup.name, logGroupArn: logGroup.arn, trailArn: trail.arn, bucketName: bucket.id };
  }

  /** The trail's log group, and the role (with its policy) CloudTrail delivers events to it with. */
  private createLogDelivery(
    name: string,
    trailName: string,
    trailArn: pulumi.Output<string>,
    options: { logRetentionInDays: number; logGroupKmsKeyArn?: pulumi.Input<string> },
  ): { logGroup: aws.cloudwatch.LogGroup; deliveryRole: aws.iam.Role; deliveryPolicy: aws.iam.RolePolicy } {
    const { logRetentionInDays, logGroupKmsKeyArn } = options;
    const child = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/cloudtrail/${trailName}`,
        retentionInDays: logRetentionInDays,
        ...(logGroupKmsKeyArn === undefined ? {} : { kmsKeyId: logGroupKmsKeyArn }),
      },
      child,
    );
    const deliveryRole = new aws.iam.Role(
      `${name}-delivery-role`,
      {
        description: `Lets CloudTrail trail ${trailName} deliver events to CloudWatch Logs`,
        // Only CloudTrail acting for this trail may assume the role (confused-deputy protection).
        assumeRolePolicy: serviceTrustPolicy("cloudtrail.amazonaws.com", { StringEquals: { "aws:SourceArn": trailArn } }),
      },
      child,
    );
    const deliveryPolicy = new aws.iam.RolePolicy(
      `${name}-delivery-policy`,
      {
        role: deliveryRole.id,
        policy: policyDocument([
          {
            Sid: "DeliverTrailEvents",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${logGroup.arn}:log-stream:*`,
          },
        ]),
      },
      child,
    );
    return { logGroup, deliveryRole, deliveryPolicy };
  }

  /** Checks the arguments; throws one error naming every bad argument and the value received. */
  static validateArgs(name: string, args: AuditTrailArgs): void {
    const checker = argProblems(`AuditTrail "${name}"`);
    adoptionProblems(args, AUDIT_TRAIL_ADOPTION).forEach((problem) => checker.fail(problem));
    checker
      .check("existingLogGroupName", args.existingLogGroupName, isNonEmptyString, "a log group name")
      .check("trailName", args.trailName, (v: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/.test(v), "3-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
      .check("logRetentionInDays", args.logRetentionInDays, isLogRetention, "one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)")
      .throwIfAny();
  }
}

function countValues(selector: AdvancedEventSelector): number {
  return selector.fieldSelectors.reduce(
    (sum, f) =>
      sum +
      [f.equals, f.startsWith, f.endsWith, f.notEquals, f.notStartsWith, f.notEndsWith].reduce(
        (n, values) => n + (values?.length ?? 0),
        0,
      ),
    0,
  );
}

function toTrailSelector(selector: AdvancedEventSelector): aws.types.input.cloudtrail.TrailAdvancedEventSelector {
  return {
    name: selector.name,
    fieldSelectors: selector.fieldSelectors.map((f) => ({
      field: f.field,
      ...(f.equals ? { equals: f.equals } : {}),
      ...(f.startsWith ? { startsWiths: f.startsWith } : {}),
      ...(f.endsWith ? { endsWiths: f.endsWith } : {}),
      ...(f.notEquals ? { notEquals: f.notEquals } : {}),
      ...(f.notStartsWith ? { notStartsWiths: f.notStartsWith } : {}),
      ...(f.notEndsWith ? { notEndsWiths: f.notEndsWith } : {}),
    })),
  };
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { denyInsecureTransport, policyDocument, PolicyStatement } from "./policy";

/** What {@link createLockedBucket} created. */
export interface LockedBucket {
  bucket: aws.s3.Bucket;
  policy: aws.s3.BucketPolicy;
}

/**
 * Creates `${name}-bucket` locked down as this project's guarantees require, with its settings as children of
 * `parent`: public access blocked, ACLs disabled (the bucket owner owns every object), default encryption (SSE-S3, or
 * SSE-KMS with `kmsKeyArn`), versioning (an overwritten or deleted object stays recoverable), and a policy that denies
 * every request without TLS besides the `grants` the owner adds.
 */
export function createLockedBucket(
  name: string,
  parent: pulumi.Resource,
  options: { kmsKeyArn?: pulumi.Input<string>; grants?: (bucketArn: pulumi.Output<string>) => pulumi.Input<PolicyStatement>[] } = {},
): LockedBucket {
  const { kmsKeyArn, grants = () => [] } = options;
  const child = { parent };
  const bucket = new aws.s3.Bucket(`${name}-bucket`, {}, child);
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${name}-bucket-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    child,
  );
  new aws.s3.BucketOwnershipControls(`${name}-bucket-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-bucket-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: kmsKeyArn === undefined ? { sseAlgorithm: "AES256" } : { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn },
          bucketKeyEnabled: kmsKeyArn !== undefined,
        },
      ],
    },
    child,
  );
  new aws.s3.BucketVersioning(`${name}-bucket-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
  const policy = new aws.s3.BucketPolicy(
    `${name}-bucket-policy`,
    { bucket: bucket.id, policy: policyDocument([...grants(bucket.arn), denyInsecureTransport("s3", [bucket.arn, pulumi.interpolate`${bucket.arn}/*`])]) },
    // S3 rejects a bucket policy while the public access block is being written; order them.
    { parent, dependsOn: [publicAccessBlock] },
  );
  return { bucket, policy };
}

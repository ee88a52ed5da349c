import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The account, region and partition a component's resources are created in, looked up once. */
export interface AwsEnvironment {
  accountId: pulumi.Output<string>;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
}

/** Looks up the account, region and partition of the provider that `parent` uses. */
export function awsEnvironment(parent: pulumi.Resource): AwsEnvironment {
  const opts = { parent };
  return {
    accountId: aws.getCallerIdentityOutput({}, opts).accountId,
    region: aws.getRegionOutput({}, opts).region,
    partition: aws.getPartitionOutput({}, opts).partition,
  };
}

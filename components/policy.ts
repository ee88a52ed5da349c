import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One IAM policy statement; values may be Outputs (ARNs of resources created in the same program). */
export type PolicyStatement = aws.iam.PolicyStatement;

/** Serializes statements into an IAM policy document (JSON), resolving every Output they contain. */
export function policyDocument(statements: pulumi.Input<pulumi.Input<PolicyStatement>[]>): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** A trust policy that lets one AWS service assume a role, optionally only on behalf of the given source. */
export function serviceTrustPolicy(
  service: string,
  condition?: pulumi.Input<Record<string, pulumi.Input<Record<string, pulumi.Input<string>>>>>,
): pulumi.Output<string> {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      ...(condition === undefined ? {} : { Condition: condition }),
    },
  ]);
}

/**
 * A statement that denies every request made without TLS. A Deny can only take access away, so its
 * wildcard action is the narrowest safe form: it must cover every action the resource accepts.
 */
export function denyInsecureTransport(
  servicePrefix: string,
  resources: pulumi.Input<pulumi.Input<string>[]>,
): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: `${servicePrefix}:*`,
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Use of a customer managed key that encrypts a DynamoDB table, through DynamoDB only (`kms:ViaService`): what a
 * function reading or writing the table needs when the table is encrypted with that key.
 */
export function tableKeyThroughDynamoDb(keyArn: pulumi.Input<string>, region: pulumi.Input<string>): PolicyStatement {
  return {
    Sid: "UseTableKeyThroughDynamoDb",
    Effect: "Allow",
    Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
    Resource: keyArn,
    Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`dynamodb.${region}.amazonaws.com` } },
  };
}

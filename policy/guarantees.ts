/**
 * The guarantees cloudtrail-alerts keeps, as Pulumi CrossGuard policies: encrypted topics and queues, DynamoDB tables
 * encrypted with a KMS key whose use CloudTrail records, buckets with
 * public access blocked, default encryption and a TLS-only policy, IAM without wildcards or managed policies, Lambda
 * functions with their own role and an explicit runtime, Lambda permissions scoped by `sourceArn`, and log groups
 * with retention. They apply to any stack, not only this project's.
 */
import type { Policies, PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

/** The runtimes the project's functions may use (both bundle AWS SDK v3). */
export const ALLOWED_LAMBDA_RUNTIMES = ["nodejs22.x", "nodejs24.x"];

interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: string | { AWS?: string | string[]; Service?: string | string[] };
  Condition?: Record<string, Record<string, unknown>>;
}

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(text) : value === undefined ? [] : [text(value)]);

/** Inputs of these types hold IAM policy documents. */
const POLICY_INPUTS: Record<string, string[]> = {
  "aws:iam/role:Role": ["assumeRolePolicy"],
  "aws:iam/rolePolicy:RolePolicy": ["policy"],
  "aws:iam/policy:Policy": ["policy"],
  "aws:s3/bucketPolicy:BucketPolicy": ["policy"],
  "aws:sns/topicPolicy:TopicPolicy": ["policy"],
  "aws:sqs/queuePolicy:QueuePolicy": ["policy"],
  "aws:kms/key:Key": ["policy"],
  "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ["policy"],
};

function statementsOf(type: string, props: Record<string, unknown>): Array<{ input: string; statement: Statement }> {
  return (POLICY_INPUTS[type] ?? []).flatMap((input) => {
    const value = props[input];
    const document = (typeof value === "string" ? JSON.parse(value) : value) as { Statement?: Statement | Statement[] } | undefined;
    if (!document?.Statement) {
      return [];
    }
    return (Array.isArray(document.Statement) ? document.Statement : [document.Statement]).map((statement) => ({ input, statement }));
  });
}

/**
 * Why an Allow statement is acceptable although it uses a wildcard, or undefined when it is not. AWS leaves no
 * narrower choice in exactly these cases.
 */
export function wildcardJustification(type: string, statement: Statement): string | undefined {
  const actions = list(statement.Action);
  const resources = list(statement.Resource);
  const rootPrincipal = list(typeof statement.Principal === "object" ? statement.Principal.AWS : undefined).every((p) => /^arn:aws[\w-]*:iam::\d{12}:root$/.test(p));
  if (type === "aws:kms/key:Key" && actions.every((a) => a === "kms:*") && typeof statement.Principal === "object" && statement.Principal.AWS !== undefined && rootPrincipal) {
    return "a key policy delegating the key to IAM policies of its own account (AWS's default key policy statement)";
  }
  if (type === "aws:kms/key:Key" && !actions.some((a) => a.includes("*"))) {
    return 'in a key policy "Resource": "*" means the key itself';
  }
  if (actions.length > 0 && actions.every((a) => a === "cloudtrail:LookupEvents") && resources.every((r) => r === "*")) {
    return "cloudtrail:LookupEvents supports no resource-level permissions";
  }
  return undefined;
}

/** The wildcard problems of one Allow statement, if any. */
export function wildcardProblems(type: string, statement: Statement): string[] {
  if (statement.Effect !== "Allow" || wildcardJustification(type, statement) !== undefined) {
    return [];
  }
  const problems: string[] = [];
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
    problems.push("allows through NotAction or NotResource");
  }
  for (const action of list(statement.Action).filter((a) => a.includes("*"))) {
    problems.push(`allows the wildcard action ${action}`);
  }
  // In a key policy "Resource": "*" means the key itself.
  if (list(statement.Resource).includes("*") && type !== "aws:kms/key:Key") {
    problems.push('allows on "Resource": "*"');
  }
  const principal = statement.Principal;
  if (principal === "*" || (typeof principal === "object" && list(principal.AWS).includes("*"))) {
    problems.push("allows any principal");
  }
  return problems;
}

function byType(resources: PolicyResource[], type: string): PolicyResource[] {
  return resources.filter((r) => r.type === type);
}

/** The resources `resource`'s input `property` was computed from (works in previews, where ARNs are unknown). */
function dependenciesOf(resource: PolicyResource, property: string): PolicyResource[] {
  return resource.propertyDependencies[property] ?? [];
}

/** The resources of `type` whose input `property` refers to `target`. */
function referring(resources: PolicyResource[], type: string, property: string, target: PolicyResource): PolicyResource[] {
  return byType(resources, type).filter((r) => dependenciesOf(r, property).some((d) => d.urn === target.urn));
}

export const guarantees: Policies = [
  {
    name: "sns-topic-encrypted",
    description: "SNS topics are encrypted at rest with KMS.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type === "aws:sns/topic:Topic" && !args.props.kmsMasterKeyId) {
        report("the topic has no kmsMasterKeyId: messages are stored unencrypted");
      }
    },
  },
  {
    name: "sqs-queue-encrypted",
    description: "SQS queues are encrypted at rest (SQS-managed keys or KMS).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type === "aws:sqs/queue:Queue" && args.props.sqsManagedSseEnabled !== true && !args.props.kmsMasterKeyId) {
        report("the queue sets neither sqsManagedSseEnabled nor kmsMasterKeyId");
      }
    },
  },
  {
    name: "dynamodb-table-kms",
    description: "DynamoDB tables are encrypted with a KMS key whose use CloudTrail records (aws/dynamodb or a customer managed key), not the AWS owned key.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      const encryption = args.props.serverSideEncryption as { enabled?: unknown } | undefined;
      if (args.type === "aws:dynamodb/table:Table" && encryption?.enabled !== true) {
        report("the table uses the AWS owned key, whose use no CloudTrail log shows: set serverSideEncryption.enabled (aws/dynamodb, or kmsKeyArn for your own key)");
      }
    },
  },
  {
    name: "iam-no-wildcards",
    description: 'IAM, bucket, topic, queue and key policies allow no wildcard action, no "Resource": "*" and no public principal, except where AWS allows nothing narrower.',
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      for (const { input, statement } of statementsOf(args.type, args.props)) {
        for (const problem of wildcardProblems(args.type, statement)) {
          report(`${input}: statement ${statement.Sid ?? JSON.stringify(statement)} ${problem}`);
        }
      }
    },
  },
  {
    name: "iam-no-managed-policies",
    description: "Roles carry only their own inline policies; no managed policy is attached.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment"].includes(args.type)) {
        report(`attaches the managed policy ${String(args.props.policyArn)}`);
      }
      if (args.type === "aws:iam/role:Role" && list(args.props.managedPolicyArns).length > 0) {
        report(`the role lists managed policies ${list(args.props.managedPolicyArns).join(", ")}`);
      }
    },
  },
  {
    name: "lambda-explicit-runtime",
    description: `Lambda functions name their runtime (${ALLOWED_LAMBDA_RUNTIMES.join(" or ")}) and an execution role.`,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type !== "aws:lambda/function:Function") {
        return;
      }
      if (!ALLOWED_LAMBDA_RUNTIMES.includes(String(args.props.runtime))) {
        report(`runtime ${JSON.stringify(args.props.runtime)} is not one of ${ALLOWED_LAMBDA_RUNTIMES.join(", ")}`);
      }
      if (!args.props.role) {
        report("the function has no execution role");
      }
    },
  },
  {
    name: "lambda-own-role",
    description: "Every Lambda function has its own execution role, created in the stack and trusted only by Lambda.",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const functions = byType(args.resources, "aws:lambda/function:Function");
      for (const fn of functions) {
        const role = dependenciesOf(fn, "role").find((r) => r.type === "aws:iam/role:Role");
        if (!role) {
          report(`function ${fn.name} uses a role that is not created in this stack: ${String(fn.props.role)}`, fn.urn);
          continue;
        }
        const sharing = functions.filter((other) => other !== fn && dependenciesOf(other, "role").some((r) => r.urn === role.urn));
        if (sharing.length > 0) {
          report(`function ${fn.name} shares its role ${role.name} with ${sharing.map((f) => f.name).join(", ")}`, fn.urn);
        }
        const trusted = statementsOf(role.type, role.props).flatMap(({ statement }) => list(typeof statement.Principal === "object" ? statement.Principal.Service : undefined));
        if (trusted.length !== 1 || trusted[0] !== "lambda.amazonaws.com") {
          report(`function ${fn.name}'s role ${role.name} is trusted by ${JSON.stringify(trusted)}, not only lambda.amazonaws.com`, fn.urn);
        }
      }
    },
  },
  {
    name: "lambda-permission-source-arn",
    description: "Lambda permissions name the one source (rule, log group, topic, bucket) that may invoke the function.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type === "aws:lambda/permission:Permission" && !args.props.sourceArn) {
        report(`lets ${String(args.props.principal)} invoke the function from any source: set sourceArn`);
      }
    },
  },
  {
    name: "log-group-retention",
    description: "CloudWatch Logs groups expire their events.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type === "aws:cloudwatch/logGroup:LogGroup" && !(Number(args.props.retentionInDays) > 0)) {
        report("the log group keeps events forever: set retentionInDays");
      }
    },
  },
  {
    name: "s3-bucket-locked-down",
    description: "S3 buckets block public access, have default encryption, and deny requests without TLS.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      for (const bucket of byType(args.resources, "aws:s3/bucket:Bucket")) {
        const blocks = referring(args.resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket", bucket);
        if (!blocks.some((block) => ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((flag) => block.props[flag] === true))) {
          report(`bucket ${bucket.name} does not block all four kinds of public access`, bucket.urn);
        }
        if (referring(args.resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "bucket", bucket).length === 0) {
          report(`bucket ${bucket.name} has no default encryption configuration`, bucket.urn);
        }
        const policy = referring(args.resources, "aws:s3/bucketPolicy:BucketPolicy", "bucket", bucket)[0];
        const tlsOnly = policy
          ? statementsOf(policy.type, policy.props).some(
              ({ statement }) =>
                statement.Effect === "Deny" &&
                list(statement.Action).includes("s3:*") &&
                String((statement.Condition?.Bool)?.["aws:SecureTransport"]) === "false" &&
                list(statement.Resource).some((r) => r.endsWith("/*")) &&
                list(statement.Resource).some((r) => !r.endsWith("/*")),
            )
          : false;
        if (!tlsOnly) {
          report(`bucket ${bucket.name} has no policy denying s3:* on the bucket and its objects without TLS`, bucket.urn);
        }
      }
    },
  },
];

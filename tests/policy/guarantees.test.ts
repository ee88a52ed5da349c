/**
 * Each policy of the pack catches a deliberately weakened resource, and passes the project's own components.
 */
import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic, AuditTrail, SecureCallbackFunction } from "../../components";
import { guarantees, wildcardJustification, wildcardProblems } from "../../policy/guarantees";
import { checkPolicies, Violation } from "../../preview/policyCheck";
import { resourcesOf } from "../support/engine";
import { verifyReport } from "../../simulation/verifyReport";
import { relayCallbackFactory } from "../../simulation/relayCallback";

/** A component holding hand-made resources, so the test can collect exactly them. */
class Weakened extends pulumi.ComponentResource {
  constructor(name: string, build: (parent: pulumi.Resource) => void) {
    super("cloudtrail-alerts:test:Weakened", name, {}, {});
    build(this);
    this.registerOutputs({});
  }
}

/** Violations the pack reports on what `component` created; each counts as a weakened resource caught. */
async function violationsOf(component: pulumi.Resource): Promise<Array<Omit<Violation, "urn" | "type">>> {
  const violations = await checkPolicies(guarantees, await resourcesOf(component));
  for (const violation of violations) {
    caughtWeakened.set(violation.policy, (caughtWeakened.get(violation.policy) ?? 0) + 1);
  }
  return violations.map(({ policy, name, message }) => ({ policy, name, message }));
}

const caughtWeakened = new Map<string, number>();

describe("policy pack", () => {
  after(() => {
    for (const [policy, caught] of caughtWeakened) {
      verifyReport.policyPack.push({ policy, devStackViolations: 0, caughtWeakened: caught });
    }
  });

  it("passes the project's own topic, trail and function", async () => {
    // Prepare
    const topic = new AlertTopic("pp-ok-topic", {});
    const trail = new AuditTrail("pp-ok-trail", {});
    const fn = new SecureCallbackFunction("pp-ok-fn", { description: "ok", callbackFactory: relayCallbackFactory, statements: [], alertTopic: topic, publishesAlerts: true });

    // Act
    const resources = [...(await resourcesOf(topic)), ...(await resourcesOf(trail)), ...(await resourcesOf(fn))];

    // Assess
    expect(await checkPolicies(guarantees, resources)).to.deep.equal([]);
  });

  it("catches an unencrypted topic and queue, a table on the AWS owned key, a log group kept forever and an unscoped Lambda permission", async () => {
    const weak = new Weakened("pp-weak-basic", (parent) => {
      new aws.sns.Topic("pp-plain-topic", {}, { parent });
      new aws.sqs.Queue("pp-plain-queue", {}, { parent });
      new aws.dynamodb.Table("pp-owned-key-table", { billingMode: "PAY_PER_REQUEST", hashKey: "id", attributes: [{ name: "id", type: "S" }] }, { parent });
      new aws.cloudwatch.LogGroup("pp-forever-logs", {}, { parent });
      new aws.lambda.Permission("pp-any-source", { action: "lambda:InvokeFunction", function: "fn", principal: "events.amazonaws.com" }, { parent });
    });

    expect(await violationsOf(weak)).to.deep.equal([
      { policy: "sns-topic-encrypted", name: "pp-plain-topic", message: "the topic has no kmsMasterKeyId: messages are stored unencrypted" },
      { policy: "sqs-queue-encrypted", name: "pp-plain-queue", message: "the queue sets neither sqsManagedSseEnabled nor kmsMasterKeyId" },
      {
        policy: "dynamodb-table-kms",
        name: "pp-owned-key-table",
        message: "the table uses the AWS owned key, whose use no CloudTrail log shows: set serverSideEncryption.enabled (aws/dynamodb, or kmsKeyArn for your own key)",
      },
      { policy: "lambda-permission-source-arn", name: "pp-any-source", message: "lets events.amazonaws.com invoke the function from any source: set sourceArn" },
      { policy: "log-group-retention", name: "pp-forever-logs", message: "the log group keeps events forever: set retentionInDays" },
    ]);
  });

  it("catches wildcard grants and managed policies", async () => {
    const weak = new Weakened("pp-weak-iam", (parent) => {
      const role = new aws.iam.Role("pp-broad-role", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }) }, { parent });
      new aws.iam.RolePolicy(
        "pp-broad-policy",
        { role: role.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: "s3:*", Resource: "*" }] }) },
        { parent },
      );
      new aws.iam.RolePolicyAttachment("pp-full-access", { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" }, { parent });
    });

    expect(await violationsOf(weak)).to.deep.equal([
      { policy: "iam-no-wildcards", name: "pp-broad-policy", message: "policy: statement Everything allows the wildcard action s3:*" },
      { policy: "iam-no-wildcards", name: "pp-broad-policy", message: 'policy: statement Everything allows on "Resource": "*"' },
      { policy: "iam-no-managed-policies", name: "pp-full-access", message: "attaches the managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess" },
    ]);
  });

  it("catches a bucket without public access block, encryption or TLS-only policy", async () => {
    const weak = new Weakened("pp-weak-bucket", (parent) => {
      new aws.s3.Bucket("pp-open-bucket", {}, { parent });
    });

    expect(await violationsOf(weak)).to.deep.equal([
      { policy: "s3-bucket-locked-down", name: "pp-open-bucket", message: "bucket pp-open-bucket does not block all four kinds of public access" },
      { policy: "s3-bucket-locked-down", name: "pp-open-bucket", message: "bucket pp-open-bucket has no default encryption configuration" },
      { policy: "s3-bucket-locked-down", name: "pp-open-bucket", message: "bucket pp-open-bucket has no policy denying s3:* on the bucket and its objects without TLS" },
    ]);
  });

  it("catches a function on an old runtime whose role other functions share", async () => {
    const weak = new Weakened("pp-weak-fn", (parent) => {
      const role = new aws.iam.Role("pp-shared-role", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com", "ec2.amazonaws.com"] }, Action: "sts:AssumeRole" }] }) }, { parent });
      for (const name of ["pp-old-a", "pp-old-b"]) {
        new aws.lambda.Function(name, { role: role.arn, runtime: "nodejs18.x", handler: "index.handler", code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = async () => 1;") }) }, { parent });
      }
    });

    const violations = await violationsOf(weak);
    expect(violations.filter((v) => v.policy === "lambda-explicit-runtime")).to.deep.equal([
      { policy: "lambda-explicit-runtime", name: "pp-old-a", message: 'runtime "nodejs18.x" is not one of nodejs22.x, nodejs24.x' },
      { policy: "lambda-explicit-runtime", name: "pp-old-b", message: 'runtime "nodejs18.x" is not one of nodejs22.x, nodejs24.x' },
    ]);
    expect(violations.filter((v) => v.policy === "lambda-own-role").map((v) => v.message)).to.deep.equal([
      "function pp-old-a shares its role pp-shared-role with pp-old-b",
      'function pp-old-a\'s role pp-shared-role is trusted by ["lambda.amazonaws.com","ec2.amazonaws.com"], not only lambda.amazonaws.com',
      "function pp-old-b shares its role pp-shared-role with pp-old-a",
      'function pp-old-b\'s role pp-shared-role is trusted by ["lambda.amazonaws.com","ec2.amazonaws.com"], not only lambda.amazonaws.com',
    ]);
  });

  describe("wildcards AWS leaves no way around", () => {
    it("accepts the key policy's delegation to the account root, and LookupEvents on any resource", () => {
      expect(wildcardJustification("aws:kms/key:Key", { Effect: "Allow", Principal: { AWS: "arn:aws:iam::111111111111:root" }, Action: "kms:*", Resource: "*" })).to.be.a("string");
      expect(wildcardJustification("aws:iam/rolePolicy:RolePolicy", { Effect: "Allow", Action: "cloudtrail:LookupEvents", Resource: "*" })).to.be.a("string");
    });

    it("refuses kms:* for anyone but the account root, and LookupEvents bundled with other actions", () => {
      expect(wildcardProblems("aws:kms/key:Key", { Effect: "Allow", Principal: { AWS: "arn:aws:iam::111111111111:role/admin" }, Action: "kms:*", Resource: "*" })).to.deep.equal(["allows the wildcard action kms:*"]);
      expect(wildcardProblems("aws:iam/rolePolicy:RolePolicy", { Effect: "Allow", Action: ["cloudtrail:LookupEvents", "s3:GetObject"], Resource: "*" })).to.deep.equal(['allows on "Resource": "*"']);
      expect(wildcardProblems("aws:s3/bucketPolicy:BucketPolicy", { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" })).to.deep.equal(["allows any principal"]);
    });
  });
});

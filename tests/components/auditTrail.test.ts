import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { AdvancedEventSelector, AuditTrail } from "../../components";
import { policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const ACCOUNT = "111111111111";
const REGION = "ap-northeast-1";

function s3ReadSelector(name: string, arns: string[]): AdvancedEventSelector {
  return {
    name,
    fieldSelectors: [
      { field: "eventCategory", equals: ["Data"] },
      { field: "resources.type", equals: ["AWS::S3::Object"] },
      { field: "eventName", equals: ["GetObject"] },
      { field: "resources.ARN", equals: arns },
    ],
  };
}

describe("AuditTrail", () => {
  describe("created", () => {
    const trailName = "cloudtrail-alerts-dev-atr-created";
    const trailArn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trailName}`;
    let trail: AuditTrail;
    let resources: Awaited<ReturnType<typeof resourcesOf>>;

    before(async () => {
      trail = new AuditTrail("atr-created", {});
      trail.addDataEventSelectors([s3ReadSelector("watched objects", ["arn:aws:s3:::reports/q1.pdf"])]);
      resources = await resourcesOf(trail);
    });

    it("creates the trail, its bucket with four protections, the log group and the delivery role, as children", async () => {
      expect(resources.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
        "aws:cloudtrail/trail:Trail atr-created",
        "aws:cloudwatch/logGroup:LogGroup atr-created-logs",
        "aws:iam/role:Role atr-created-delivery-role",
        "aws:iam/rolePolicy:RolePolicy atr-created-delivery-policy",
        "aws:s3/bucket:Bucket atr-created-bucket",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls atr-created-bucket-ownership",
        "aws:s3/bucketPolicy:BucketPolicy atr-created-bucket-policy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock atr-created-bucket-public-access",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration atr-created-bucket-encryption",
        "aws:s3/bucketVersioning:BucketVersioning atr-created-bucket-versioning",
      ]);
      const urn = await valueOf(trail.urn);
      expect(resources.every((r) => r.parent === urn)).to.equal(true);
      expect(trail.adopted).to.equal(false);
    });

    it("makes a multi-region trail with log file validation and global service events, delivering to the log group", () => {
      const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup");
      expect(single(resources, "aws:cloudtrail/trail:Trail").inputs).to.deep.include({
        name: trailName,
        s3BucketName: single(resources, "aws:s3/bucket:Bucket").state.bucket,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        cloudWatchLogsGroupArn: `${String(logGroup.state.arn)}:*`,
        cloudWatchLogsRoleArn: single(resources, "aws:iam/role:Role").state.arn,
      });
      expect(logGroup.inputs).to.deep.equal({ name: `/aws/cloudtrail/${trailName}`, retentionInDays: 365 });
    });

    it("logs all management events plus exactly the data events other components asked for", () => {
      expect(single(resources, "aws:cloudtrail/trail:Trail").inputs.advancedEventSelectors).to.deep.equal([
        { name: "Management events", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] },
        {
          name: "watched objects",
          fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
            { field: "eventName", equals: ["GetObject"] },
            { field: "resources.ARN", equals: ["arn:aws:s3:::reports/q1.pdf"] },
          ],
        },
      ]);
    });

    it("blocks public access, disables ACLs, encrypts by default and keeps versions", () => {
      const bucket = single(resources, "aws:s3/bucket:Bucket").state.bucket;
      expect(single(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).to.deep.equal({
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(single(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs).to.deep.equal({ bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
      expect(single(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs).to.deep.equal({
        bucket,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: false }],
      });
      expect(single(resources, "aws:s3/bucketVersioning:BucketVersioning").inputs).to.deep.equal({ bucket, versioningConfiguration: { status: "Enabled" } });
    });

    it("lets only this trail write, only under AWSLogs/<account>/, and denies plain HTTP", () => {
      const bucketArn = String(single(resources, "aws:s3/bucket:Bucket").state.arn);
      expect(policyOf(single(resources, "aws:s3/bucketPolicy:BucketPolicy")).Statement).to.deep.equal([
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
          Resource: `${bucketArn}/AWSLogs/${ACCOUNT}/*`,
          Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
        },
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn, `${bucketArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    });

    it("lets only CloudTrail, acting for this trail, assume the delivery role, which may only write to its log group", () => {
      const logGroupArn = String(single(resources, "aws:cloudwatch/logGroup:LogGroup").state.arn);
      expect(policyOf(single(resources, "aws:iam/role:Role"), "assumeRolePolicy").Statement).to.deep.equal([
        {
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceArn": trailArn } },
        },
      ]);
      expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy")).Statement).to.deep.equal([
        { Sid: "DeliverTrailEvents", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:log-stream:*` },
      ]);
    });

    it("exposes the log group by name and ARN, and the trail's ARN", async () => {
      expect(await valueOf(trail.logGroupName)).to.equal(`/aws/cloudtrail/${trailName}`);
      expect(await valueOf(trail.logGroupArn)).to.equal(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/cloudtrail/${trailName}`);
      expect(await valueOf(trail.trailArn!)).to.equal(trailArn);
    });
  });

  it("encrypts log files with a caller key and the log group with another when given", async () => {
    const bucketKey = "arn:aws:kms:ap-northeast-1:111111111111:key/11111111-2222-3333-4444-555555555555";
    const logsKey = "arn:aws:kms:ap-northeast-1:111111111111:key/66666666-7777-8888-9999-000000000000";
    const resources = await resourcesOf(new AuditTrail("atr-kms", { bucketKmsKeyArn: bucketKey, logGroupKmsKeyArn: logsKey, logRetentionInDays: 90, trailName: "org-audit" }));

    expect(single(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules).to.deep.equal([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: bucketKey }, bucketKeyEnabled: true },
    ]);
    expect(single(resources, "aws:cloudwatch/logGroup:LogGroup").inputs).to.deep.equal({ name: "/aws/cloudtrail/org-audit", retentionInDays: 90, kmsKeyId: logsKey });
  });

  describe("adopted", () => {
    it("creates nothing and exposes the existing log group, looked up by name", async () => {
      const trail = new AuditTrail("atr-adopted", { existingLogGroupName: "aws-controltower/CloudTrailLogs" });

      expect(await resourcesOf(trail)).to.deep.equal([]);
      expect(trail.adopted).to.equal(true);
      expect(trail.trailArn).to.equal(undefined);
      expect(await valueOf(trail.logGroupName)).to.equal("aws-controltower/CloudTrailLogs");
      expect(await valueOf(trail.logGroupArn)).to.equal(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:aws-controltower/CloudTrailLogs`);
    });

    it("reports the data events the existing trail must log, since it cannot change that trail", async () => {
      // Prepare
      const warnings: string[] = [];
      const original = pulumi.log.warn;
      (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (message: string) => {
        warnings.push(message);
        return Promise.resolve();
      };
      const selector = s3ReadSelector("watched", ["arn:aws:s3:::reports/q1.pdf"]);

      // Act
      try {
        const trail = new AuditTrail("atr-adopted-selectors", { existingLogGroupName: "org-trail" });
        trail.addDataEventSelectors([selector]);
        expect(await valueOf(trail.dataEventSelectors)).to.deep.equal([selector]);
      } finally {
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
      }

      // Assess
      expect(warnings).to.deep.equal([
        'AuditTrail "atr-adopted-selectors" adopts an existing trail, which this stack does not modify. For the alerts to see ' +
          "the data events they need, add these advanced event selectors to the trail that delivers to that log group: " +
          JSON.stringify([selector]),
      ]);
    });
  });

  describe("addDataEventSelectors", () => {
    it("refuses a selector that is not for data events", () => {
      const trail = new AuditTrail("atr-not-data", {});
      expect(() => trail.addDataEventSelectors([{ name: "mgmt", fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }] }])).to.throw(
        'AuditTrail: selector "mgmt" must have eventCategory equal to ["Data"]',
      );
    });

    it("refuses selectors beyond CloudTrail's 500 condition values per trail", () => {
      const trail = new AuditTrail("atr-too-many", {});
      // The management selector holds 1 value; each S3 selector 3 plus its ARNs: 1 + 3 + 496 = 500 fits exactly.
      const arns = Array.from({ length: 496 }, (_, i) => `arn:aws:s3:::b/k${i}`);
      trail.addDataEventSelectors([s3ReadSelector("fits", arns)]);
      expect(() => trail.addDataEventSelectors([s3ReadSelector("one more", ["arn:aws:s3:::b/x"])])).to.throw(
        "AuditTrail: the data event selectors would hold 504 condition values; CloudTrail allows 500 per trail.",
      );
    });
  });

  describe("validateArgs", () => {
    const cases: Array<[string, Parameters<typeof AuditTrail.validateArgs>[1], string]> = [
      ["adopt and create args together", { existingLogGroupName: "g", logRetentionInDays: 30 } as never, "existingLogGroupName adopts a trail and cannot be combined with logRetentionInDays"],
      ["an empty log group name", { existingLogGroupName: "" }, 'existingLogGroupName must be a log group name, got ""'],
      ["a retention CloudWatch Logs does not offer", { logRetentionInDays: 100 }, "logRetentionInDays must be one of CloudWatch Logs' retention periods"],
      ["a trail name CloudTrail refuses", { trailName: "my trail" }, 'trailName must be 3-128 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit, got "my trail"'],
    ];
    for (const [title, args, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => AuditTrail.validateArgs("v", args)).to.throw(`AuditTrail "v": ${message}`);
      });
    }
  });
});

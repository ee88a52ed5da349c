/**
 * CloudTrailAlerts' arguments are the stack config: the same values pass or fail alike, with the same messages, as in
 * Pulumi.<stack>.yaml. What it creates from the dev stack's config is checked as the dev stack (tests/stack.test.ts,
 * tests/componentPackage.test.ts); one instance per stack, so these tests create none.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { backfillProviderRole, CloudTrailAlerts, type CloudTrailAlertsArgs, trailBackfillArgs } from "../../components/cloudTrailAlerts";
import { configArgs, loadStackConfig, type RawConfig, StackConfigError } from "../../stackConfig";
import { TrailBackfill } from "../../components/trailBackfill";
import { devStack } from "../support/devStack";
import { devConfig } from "../support/stackConfig";

/** The dev stack's config as CloudTrailAlerts' arguments, with some arguments replaced. */
function devArgs(overrides: Record<string, unknown> = {}): CloudTrailAlertsArgs {
  return { ...configArgs(devConfig()), ...overrides };
}

/** What `run` throws; fails the test when it throws nothing or something other than a StackConfigError. */
function configErrorOf(run: () => unknown): StackConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

const dev = devConfig();
const stackKeys = ["aws:region", "aws:allowedAccountIds"];

describe("CloudTrailAlerts", () => {
  it("reads the dev stack's arguments into the config the stack reads from Pulumi.dev.yaml", () => {
    expect(CloudTrailAlerts.stackConfigOf(devArgs(), dev, stackKeys)).to.deep.equal(loadStackConfig(dev, stackKeys));
  });

  it("applies Pulumi.yaml's defaults to the arguments it is not given", () => {
    const config = CloudTrailAlerts.stackConfigOf({}, dev, stackKeys);

    expect(config).to.deep.include({ timeZone: "UTC", language: "en", functionLogRetentionInDays: 30, bucketCreationEventNames: ["CreateBucket"], userActivityNotifiers: [] });
    expect(config.trail).to.deep.equal({ logRetentionInDays: 365 });
    expect(config.alertTopic).to.deep.equal({ emailAddresses: [] });
    expect(config.downloadAlerts).to.equal(undefined);
    expect(config.backfill).to.equal(undefined);
    expect(config.dashboard).to.equal(true);
  });

  // The same bad value, once as the stack config has it (text) and once as an argument (a value of the SDK's type).
  const bad: Array<[title: string, key: string, text: string, value: unknown]> = [
    ["a time zone that does not exist", "timeZone", "JST", "JST"],
    ["a language it does not speak", "language", "fr", "fr"],
    ["an address without @", "alertEmails", '["security.example.com"]', ["security.example.com"]],
    ["a fractional retention", "trailLogRetentionInDays", "3.5", 3.5],
    ["a retention CloudWatch Logs does not offer", "functionLogRetentionInDays", "31", 31],
    ["a log group ARN where a name is expected", "existingTrailLogGroupName", "arn:aws:logs:ap-northeast-1:111111111111:log-group:org-trail:*", "arn:aws:logs:ap-northeast-1:111111111111:log-group:org-trail:*"],
    ["a threshold of 0", "downloadAlerts", '{"watches":[{"bucket":"b","key":"k","threshold":0}]}', { watches: [{ bucket: "b", key: "k", threshold: 0 }] }],
    ["a notifier name with capitals", "userActivityNotifiers", '{"Ops":{"userNames":["ops"]}}', { Ops: { userNames: ["ops"] } }],
    ["a notifier without criteria", "userActivityNotifiers", '{"ops":{"source":"logs"}}', { ops: { source: "logs" } }],
    ["a short backfill account", "backfill", '{"enabled":true,"accounts":["12345"],"regions":["us-east-1"]}', { enabled: true, accounts: ["12345"], regions: ["us-east-1"] }],
    [
      "the organization key layout without an organization ID",
      "backfill",
      '{"enabled":true,"accounts":["111111111111"],"regions":["us-east-1"],"keyLayout":"organization"}',
      { enabled: true, accounts: ["111111111111"], regions: ["us-east-1"], keyLayout: "organization" },
    ],
    ["a dashboard flag that is not a boolean", "dashboard", "yes", "yes"],
    ["a preview role name with a slash", "backfill", '{"enabled":true,"accounts":["111111111111"],"regions":["us-east-1"],"previewRoleName":"a/b"}', { enabled: true, accounts: ["111111111111"], regions: ["us-east-1"], previewRoleName: "a/b" }],
  ];
  for (const [title, key, text, value] of bad) {
    it(`refuses ${title} as the stack config does, naming cloudtrail-alerts:${key} and the value`, () => {
      // Prepare
      const raw: RawConfig = (k) => (k === `cloudtrail-alerts:${key}` ? text : dev(k));

      // Act
      const fromConfig = configErrorOf(() => loadStackConfig(raw, stackKeys));
      const fromArgs = configErrorOf(() => CloudTrailAlerts.stackConfigOf(devArgs({ [key]: value }), dev, stackKeys));

      // Assess
      expect(fromArgs.message).to.equal(fromConfig.message);
      expect(fromArgs.key).to.equal(fromConfig.key);
      expect(fromArgs.key.startsWith(`cloudtrail-alerts:${key}`)).to.equal(true, fromArgs.key);
    });
  }

  it("refuses an argument that is not a config key, and one given as an Output, naming it", () => {
    const unknown = configErrorOf(() => CloudTrailAlerts.stackConfigOf({ ...devArgs(), alertEmail: "a@example.com" } as CloudTrailAlertsArgs, dev, stackKeys));
    const output = configErrorOf(() => CloudTrailAlerts.stackConfigOf(devArgs({ timeZone: pulumi.output("UTC") }), dev, stackKeys));

    expect(unknown.key).to.equal("cloudtrail-alerts:alertEmail");
    expect(unknown.message).to.match(/^cloudtrail-alerts:alertEmail is not a key of the stack config; the keys are timeZone, language, alertEmails, /);
    expect(output.message).to.equal("cloudtrail-alerts:timeZone must be a plain value, not an Output (it decides which resources are created)");
  });

  it("reads aws:region and aws:allowedAccountIds from the AWS provider's config, with the stack's rules", () => {
    const error = configErrorOf(() => CloudTrailAlerts.stackConfigOf(devArgs(), (k) => (k === "aws:region" ? "tokyo-1" : dev(k)), stackKeys));

    expect(error.message).to.equal('aws:region must be an AWS region such as ap-northeast-1, got "tokyo-1"');
  });

  it("is the dev stack's only component at the top, holding every other component of the stack", async () => {
    const { resources } = await devStack();
    const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
    const top = resources.filter((r) => r.parent === stack.urn);
    const alerts = top.find((r) => r.type === "cloudtrail-alerts:index:CloudTrailAlerts")!;

    expect(top.map((r) => `${r.type} ${r.name}`)).to.deep.equal(["cloudtrail-alerts:index:CloudTrailAlerts cloudtrail-alerts"]);
    expect(resources.filter((r) => r.parent === alerts.urn && !r.custom).map((r) => r.name).sort()).to.deep.equal([
      "activity-hogehoge",
      "activity-ssm-sessions",
      "alerts",
      "backfill",
      "backfill-reader-111111111111",
      "backfill-reader-222222222222",
      "backfill-reader-333333333333",
      "backfill-reader-444444444444",
      "bucket-creation",
      "download-alerts",
      "operations",
      "trail",
      "trail-subscription",
    ]);
  });

  it("keeps the physical names the stack's resources had at the top of the stack: its children carry aliases there", async () => {
    // The offline engine names an aliased resource after its former URN, as Pulumi keeps an aliased resource's
    // physical name; these are the names `npm start` printed before CloudTrailAlerts existed.
    const { resources } = await devStack();
    const nameOf = (type: string, name: string) => resources.find((r) => r.type === type && r.name === name)!.state;

    expect(nameOf("aws:sns/topic:Topic", "alerts").name).to.equal("alerts-0319346");
    expect(nameOf("aws:s3/bucket:Bucket", "trail-bucket").bucket).to.equal("trail-bucket-2da1d5d");
    expect(nameOf("aws:s3/bucket:Bucket", "backfill-bucket").bucket).to.equal("backfill-bucket-702b6d5");
    expect(nameOf("aws:iam/role:Role", "backfill-reader-222222222222").name).to.equal("backfill-reader-222222222222-0c46180");
  });

  describe("trailBackfillArgs", () => {
    const backfill = (fields: Record<string, unknown>) => CloudTrailAlerts.stackConfigOf(devArgs({ backfill: { enabled: true, accounts: ["111111111111"], regions: ["us-east-1"], ...fields } }), dev, stackKeys).backfill!;

    it("gives TrailBackfill the organization layout with the backfill's organization ID", () => {
      expect(trailBackfillArgs(backfill({ keyLayout: "organization", organizationId: "o-a1b2c3d4e5", prefix: "org-trail" }), 30)).to.deep.equal({
        maxConcurrency: 40,
        requestsPerSecond: 2,
        functionLogRetentionInDays: 30,
        prefix: "org-trail",
        keyLayout: "organization",
        organizationId: "o-a1b2c3d4e5",
      });
    });

    it("keeps the account layout by default, the organization ID limiting only the reader roles", () => {
      const args = trailBackfillArgs(backfill({ organizationId: "o-a1b2c3d4e5" }), 30);

      expect(args).not.to.have.any.keys("keyLayout", "organizationId");
      expect(() => TrailBackfill.validateArgs("backfill", { alertTopic: undefined as never, ...args })).not.to.throw();
    });
  });

  describe("backfillProviderRole", () => {
    it("assumes the deploy role, in a preview too when no preview role is set", () => {
      expect(backfillProviderRole({ deployRoleName: "OrganizationAccountAccessRole" }, true)).to.deep.equal({ roleName: "OrganizationAccountAccessRole", sessionName: "cloudtrail-alerts-deploy" });
      expect(backfillProviderRole({ deployRoleName: "Deploy", previewRoleName: "Preview" }, false)).to.deep.equal({ roleName: "Deploy", sessionName: "cloudtrail-alerts-deploy" });
    });

    it("assumes the read-only preview role in a preview when one is set", () => {
      expect(backfillProviderRole({ deployRoleName: "Deploy", previewRoleName: "Preview" }, true)).to.deep.equal({ roleName: "Preview", sessionName: "cloudtrail-alerts-preview" });
    });
  });
});

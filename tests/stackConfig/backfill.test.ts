import { expect } from "chai";

import { loadStackFiles } from "../../preview/stackFiles";
import { loadStackConfig, type RawConfig, StackConfigError } from "../../stackConfig";
import { PROJECT_DIRECTORY } from "../support/engine";

const devConfig = () => loadStackFiles(PROJECT_DIRECTORY, "dev").config;

/** The dev stack's config with `cloudtrail-alerts:backfill` replaced. */
function withBackfill(backfill: unknown, overrides: Record<string, string> = {}): RawConfig {
  const config: Record<string, string> = { ...devConfig(), "cloudtrail-alerts:backfill": JSON.stringify(backfill), ...overrides };
  return (key) => config[key];
}

const enabled = { enabled: true, accounts: ["111111111111", "222222222222"], regions: ["us-east-1"] };

describe("stack config: cloudtrail-alerts:backfill", () => {
  it("reads the dev stack: four accounts, three regions, the organization and external ID", () => {
    const config = loadStackConfig((key) => devConfig()[key]);

    expect(config.backfill).to.deep.equal({
      accounts: ["111111111111", "222222222222", "333333333333", "444444444444"],
      stackAccountId: "111111111111",
      deployRoleName: "OrganizationAccountAccessRole",
      regions: ["us-east-1", "ap-northeast-1", "ap-northeast-3"],
      organizationId: "o-exampleorg1",
      externalId: "cloudtrail-alerts-dev-backfill",
      maxConcurrency: 40,
      requestsPerSecond: 2,
      keyLayout: "account",
    });
  });

  it("is disabled by default (Pulumi.yaml's default) and when enabled is false", () => {
    const defaults = loadStackFiles(PROJECT_DIRECTORY, "dev").config;
    const withoutKey: Record<string, string> = { ...defaults, "cloudtrail-alerts:backfill": '{"enabled":false}' };

    expect(loadStackConfig((key) => withoutKey[key]).backfill).to.equal(undefined);
    expect(loadStackConfig(withBackfill({ ...enabled, enabled: false })).backfill).to.equal(undefined);
  });

  it("applies the defaults of optional fields", () => {
    expect(loadStackConfig(withBackfill(enabled)).backfill).to.deep.equal({
      accounts: ["111111111111", "222222222222"],
      stackAccountId: "111111111111",
      deployRoleName: "OrganizationAccountAccessRole",
      regions: ["us-east-1"],
      maxConcurrency: 40,
      requestsPerSecond: 2,
      keyLayout: "account",
    });
  });

  it("reads the organization trail key layout, with the organization ID its keys hold", () => {
    const backfill = loadStackConfig(withBackfill({ ...enabled, keyLayout: "organization", organizationId: "o-a1b2c3d4e5", prefix: "org-trail" })).backfill;

    expect(backfill).to.deep.include({ keyLayout: "organization", organizationId: "o-a1b2c3d4e5", prefix: "org-trail" });
    expect(loadStackConfig(withBackfill({ ...enabled, keyLayout: "account" })).backfill).to.deep.include({ keyLayout: "account" });
  });

  const cases: Array<[string, unknown, Record<string, string>, string, string]> = [
    ["a short account ID", { ...enabled, accounts: ["111111111111", "12345"] }, {}, "cloudtrail-alerts:backfill.accounts[1]", 'cloudtrail-alerts:backfill.accounts[1] must be a 12-digit AWS account ID, got "12345"'],
    ["a duplicate account", { ...enabled, accounts: ["111111111111", "222222222222", "222222222222"] }, {}, "cloudtrail-alerts:backfill.accounts[2]", 'cloudtrail-alerts:backfill.accounts[2] "222222222222" is listed twice'],
    ["no accounts", { enabled: true, regions: ["us-east-1"] }, {}, "cloudtrail-alerts:backfill.accounts", "cloudtrail-alerts:backfill.accounts must be a non-empty list of 12-digit AWS account IDs, got undefined"],
    ["a region that does not exist", { ...enabled, regions: ["us-east-1", "tokyo-1"] }, {}, "cloudtrail-alerts:backfill.regions[1]", 'cloudtrail-alerts:backfill.regions[1] must be an AWS region such as us-east-1, got "tokyo-1"'],
    ["a rate above the quota", { ...enabled, requestsPerSecond: 5 }, {}, "cloudtrail-alerts:backfill.requestsPerSecond", "cloudtrail-alerts:backfill.requestsPerSecond must be more than 0 and at most 2 (LookupEvents allows 2 requests per second per account and region), got 5"],
    ["a fractional concurrency", { ...enabled, maxConcurrency: 2.5 }, {}, "cloudtrail-alerts:backfill.maxConcurrency", "cloudtrail-alerts:backfill.maxConcurrency must be a whole number from 1 to 10000, got 2.5"],
    ["a malformed organization ID", { ...enabled, organizationId: "myorg" }, {}, "cloudtrail-alerts:backfill.organizationId", 'cloudtrail-alerts:backfill.organizationId must be an organization ID such as o-a1b2c3d4e5, got "myorg"'],
    [
      "the organization key layout without an organization ID",
      { ...enabled, keyLayout: "organization" },
      {},
      "cloudtrail-alerts:backfill.organizationId",
      'cloudtrail-alerts:backfill.keyLayout "organization" needs cloudtrail-alerts:backfill.organizationId (an organization ID such as o-a1b2c3d4e5, which the organization trail\'s keys hold), which is not set',
    ],
    ["an unknown key layout", { ...enabled, keyLayout: "org", organizationId: "o-a1b2c3d4e5" }, {}, "cloudtrail-alerts:backfill.keyLayout", 'cloudtrail-alerts:backfill.keyLayout must be "account" or "organization", got "org"'],
    ["a key layout that is not a string", { ...enabled, keyLayout: true }, {}, "cloudtrail-alerts:backfill.keyLayout", 'cloudtrail-alerts:backfill.keyLayout must be "account" or "organization", got true'],
    ["a deploy role name with a slash", { ...enabled, deployRoleName: "admin/role" }, {}, "cloudtrail-alerts:backfill.deployRoleName", 'cloudtrail-alerts:backfill.deployRoleName must be an IAM role name such as OrganizationAccountAccessRole, got "admin/role"'],
    ["enabled as a string", { ...enabled, enabled: "yes" }, {}, "cloudtrail-alerts:backfill.enabled", 'cloudtrail-alerts:backfill.enabled must be true or false, got "yes"'],
    ["an unknown field", { ...enabled, account: "111111111111" }, {}, "cloudtrail-alerts:backfill.account", 'cloudtrail-alerts:backfill has unknown field "account"; its fields are enabled, accounts, regions, deployRoleName, organizationId, externalId, maxConcurrency, requestsPerSecond, existingBucketName, prefix, previewRoleName, keyLayout'],
    ["a list instead of an object", ["111111111111"], {}, "cloudtrail-alerts:backfill", 'cloudtrail-alerts:backfill must be an object such as { enabled: true, accounts: [...], regions: [...] }, got ["111111111111"]'],
    [
      "no single stack account",
      enabled,
      { "aws:allowedAccountIds": '["111111111111","222222222222"]' },
      "aws:allowedAccountIds",
      'aws:allowedAccountIds must name exactly the stack\'s account when cloudtrail-alerts:backfill.enabled is true (that account\'s reader role is created without assuming a role), got ["111111111111","222222222222"]',
    ],
  ];
  for (const [title, backfill, overrides, key, message] of cases) {
    it(`refuses ${title}, naming the key`, () => {
      // Act
      let error: unknown;
      try {
        loadStackConfig(withBackfill(backfill, overrides));
      } catch (thrown) {
        error = thrown;
      }

      // Assess
      expect(error).to.be.instanceOf(StackConfigError);
      expect(error).to.deep.include({ key, message });
    });
  }
});

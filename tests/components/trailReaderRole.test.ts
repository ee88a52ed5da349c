import { expect } from "chai";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { TrailReaderRole } from "../../components";
import { policyOf, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

const FUNCTION_ROLE = "arn:aws:iam::111111111111:role/backfill-function-role-1234567";
const LOOKUP_ONLY = [{ Sid: "LookupEvents", Effect: "Allow", Action: "cloudtrail:LookupEvents", Resource: "*" }];

describe("TrailReaderRole", () => {
  describe("one per account, through a provider that assumes the deploy role there", () => {
    const accounts = ["222222222222", "333333333333", "444444444444"];
    let roles: TrailReaderRole[];

    before(() => {
      roles = accounts.map((account) => {
        const provider = new aws.Provider(`trr-provider-${account}`, {
          region: "ap-northeast-1",
          allowedAccountIds: [account],
          assumeRoles: [{ roleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, sessionName: "cloudtrail-alerts-deploy" }],
        });
        return new TrailReaderRole(`trr-${account}`, { trustedRoleArn: pulumi.output(FUNCTION_ROLE), externalId: "trr-external", organizationId: "o-exampleorg1" }, { provider });
      });
    });

    it("creates the role and its policy in each account, and nothing else", async () => {
      for (const [i, account] of accounts.entries()) {
        // Act
        const resources = await resourcesOf(roles[i]);

        // Assess
        expect(resources.map((r) => `${r.type} ${r.name}`)).to.deep.equal([`aws:iam/role:Role trr-${account}`, `aws:iam/rolePolicy:RolePolicy trr-${account}-policy`]);
        expect(resources.map((r) => r.placement?.account)).to.deep.equal([account, account]);
        expect(await valueOf(roles[i].roleArn)).to.match(new RegExp(`^arn:aws:iam::${account}:role/trr-${account}-[0-9a-f]{7}$`));
      }
    });

    it("trusts only the backfill function's role, with the external ID and only from inside the organisation", async () => {
      for (const role of roles) {
        const iamRole = single(await resourcesOf(role), "aws:iam/role:Role");

        expect(policyOf(iamRole, "assumeRolePolicy")).to.deep.equal({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "TrustBackfillFunction",
              Effect: "Allow",
              Principal: { AWS: FUNCTION_ROLE },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": "trr-external", "aws:PrincipalOrgID": "o-exampleorg1" } },
            },
          ],
        });
      }
    });

    it("allows cloudtrail:LookupEvents and nothing else, attaching no managed policy", async () => {
      for (const role of roles) {
        const resources = await resourcesOf(role);

        expect(policyOf(single(resources, "aws:iam/rolePolicy:RolePolicy"))).to.deep.equal({ Version: "2012-10-17", Statement: LOOKUP_ONLY });
        expect(single(resources, "aws:iam/rolePolicy:RolePolicy").inputs.role).to.equal(single(resources, "aws:iam/role:Role").state.name);
        expect(single(resources, "aws:iam/role:Role").inputs.managedPolicyArns).to.equal(undefined);
      }
    });
  });

  it("trusts the function's role without conditions when no external ID or organization is given, under a fixed name when asked", async () => {
    const role = new TrailReaderRole("trr-plain", { trustedRoleArn: FUNCTION_ROLE, roleName: "cloudtrail-backfill-reader" });
    const iamRole = single(await resourcesOf(role), "aws:iam/role:Role");

    expect(policyOf(iamRole, "assumeRolePolicy").Statement).to.deep.equal([
      { Sid: "TrustBackfillFunction", Effect: "Allow", Principal: { AWS: FUNCTION_ROLE }, Action: "sts:AssumeRole" },
    ]);
    expect(await valueOf(role.roleArn)).to.equal("arn:aws:iam::111111111111:role/cloudtrail-backfill-reader");
  });

  describe("validateArgs", () => {
    const cases: Array<[string, Parameters<typeof TrailReaderRole.validateArgs>[1], string]> = [
      ["a trusted principal that is not a role ARN", { trustedRoleArn: "arn:aws:iam::111111111111:user/alice" }, 'trustedRoleArn must be an IAM role ARN such as arn:aws:iam::111111111111:role/backfill, got "arn:aws:iam::111111111111:user/alice"'],
      ["a malformed organization ID", { trustedRoleArn: FUNCTION_ROLE, organizationId: "org-1" }, 'organizationId must be an organization ID such as o-a1b2c3d4e5, got "org-1"'],
      ["a one-character external ID", { trustedRoleArn: FUNCTION_ROLE, externalId: "x" }, 'externalId must be 2-1224 letters, digits and +=,.@:/-_, got "x"'],
      ["a role name with spaces", { trustedRoleArn: FUNCTION_ROLE, roleName: "backfill reader" }, 'roleName must be 1-64 letters, digits and +=,.@_-, got "backfill reader"'],
    ];
    for (const [title, args, message] of cases) {
      it(`rejects ${title}`, () => {
        expect(() => TrailReaderRole.validateArgs("v", args)).to.throw(`TrailReaderRole "v": ${message}`);
      });
    }
  });
});

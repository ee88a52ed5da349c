/**
 * A plan of inputs only still tells physical names and ARNs: an auto-named resource by the one auto-name of its
 * logical name that other resources use, its ARN where they use it (in the account it is in), a key by what its
 * siblings name; the home account and Region from the config or from the ARNs the plan names most.
 */
import { expect } from "chai";

import { type Plan, type PlanResource } from "../../simulation/plan";
import { PlanIndex } from "../../simulation/planIndex";

const resource = (type: string, name: string, inputs: Record<string, unknown> = {}, parent?: string): PlanResource => ({ urn: `urn:${type}::${name}`, type, name, inputs, ...(parent === undefined ? {} : { parent }) });
const plan = (resources: PlanResource[], config: Record<string, unknown> = {}): Plan => ({ shape: "npm start --json", resources, config });

describe("PlanIndex", () => {
  it("finds an auto-named resource's name and ARN where other resources refer to it", () => {
    const role = resource("aws:iam/role:Role", "reader");
    const index = new PlanIndex(plan([role, resource("aws:lambda/function:Function", "f", { role: "arn:aws:iam::222222222222:role/reader-0a1b2c3" }), resource("aws:iam/rolePolicy:RolePolicy", "p", { role: "reader-0a1b2c3" })]));

    expect(index.physicalName(role)).to.equal("reader-0a1b2c3");
    expect(index.arnOf(role)).to.equal("arn:aws:iam::222222222222:role/reader-0a1b2c3");
  });

  it("builds an ARN in the home account and Region when nothing names it, and has none when the name is ambiguous", () => {
    const table = resource("aws:dynamodb/table:Table", "counts");
    const index = new PlanIndex(plan([table, resource("aws:lambda/function:Function", "f", { environment: { variables: { TABLE: "counts-0a1b2c3" } } })], { "aws:region": "eu-west-1", "aws:allowedAccountIds": '["333333333333"]' }));
    const ambiguous = new PlanIndex(plan([table, resource("x:y:Z", "z", { a: "counts-0a1b2c3", b: "counts-0a1b2c4" })]));

    expect(index.home).to.deep.equal({ partition: "aws", region: "eu-west-1", account: "333333333333" });
    expect(index.arnOf(table)).to.equal("arn:aws:dynamodb:eu-west-1:333333333333:table/counts-0a1b2c3");
    expect(ambiguous.arnOf(table)).to.equal(undefined);
  });

  it("links a key to the key ARN its siblings name", () => {
    const keyA = resource("aws:kms/key:Key", "a-key", {}, "urn:a");
    const keyB = resource("aws:kms/key:Key", "b-key", {}, "urn:b");
    const index = new PlanIndex(
      plan([
        keyA,
        keyB,
        resource("aws:sns/topic:Topic", "a", { kmsMasterKeyId: "arn:aws:kms:ap-northeast-1:111111111111:key/aaaa-1" }, "urn:a"),
        resource("aws:sns/topic:Topic", "b", { kmsMasterKeyId: "arn:aws:kms:ap-northeast-1:111111111111:key/bbbb-2" }, "urn:b"),
      ]),
    );

    expect([index.arnOf(keyA), index.arnOf(keyB)]).to.deep.equal(["arn:aws:kms:ap-northeast-1:111111111111:key/aaaa-1", "arn:aws:kms:ap-northeast-1:111111111111:key/bbbb-2"]);
  });
});

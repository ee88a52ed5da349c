/**
 * The judge on small plans: every action a policy allows is tried on the plan's ARNs and on foreign ARNs of each
 * resource type; a grant is counted without its conditions; `NotAction` allows everything else; a resource policy
 * can grant on its own; a role nothing uses, or a policy the plan does not know, is unknown.
 */
import { expect } from "chai";

import { instanceOf, judgePlan, passes } from "../../simulation/leastPrivilege";
import { type Plan } from "../../simulation/plan";

const ACCOUNT = "111111111111";
const BUS = `arn:aws:events:ap-northeast-1:${ACCOUNT}:event-bus/default`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/forward-1a2b3c4`;

/** A forwarding role (EventBridge target to the home bus) with `statements` as its policy. */
function forwardingPlan(statements: Array<Record<string, unknown>>, extra: Plan["resources"] = []): Plan {
  const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole" }] };
  return {
    shape: "npm start --json",
    config: {},
    resources: [
      { urn: "urn:role", type: "aws:iam/role:Role", name: "forward", inputs: { assumeRolePolicy: JSON.stringify(trust) } },
      { urn: "urn:policy", type: "aws:iam/rolePolicy:RolePolicy", name: "forward-policy", inputs: { role: "forward-1a2b3c4", policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } },
      { urn: "urn:target", type: "aws:cloudwatch/eventTarget:EventTarget", name: "target", inputs: { arn: BUS, roleArn: ROLE_ARN, rule: "r" } },
      ...extra,
    ],
  };
}

const PUT_EVENTS = { Effect: "Allow", Action: "events:PutEvents", Resource: BUS };

describe("least privilege judge", function () {
  this.timeout(60_000);

  it("passes a role that allows exactly its need, counting every pair it tried", async () => {
    const judgement = await judgePlan(forwardingPlan([PUT_EVENTS]));

    expect(passes(judgement)).to.equal(true);
    const [role] = judgement.roles;
    expect(role.allowed).to.deep.equal([{ action: "events:PutEvents", resource: BUS }]);
    expect(role.needed.map((n) => [n.action, n.resource])).to.deep.equal([["events:PutEvents", BUS]]);
    // The bus, it in another account and Region, and a foreign bus of each of PutEvents' two resource types.
    expect(role.evaluated).to.equal(5);
  });

  it("names a grant on a foreign resource of the action's type (another account, Region and name)", async () => {
    const role = (await judgePlan(forwardingPlan([{ Effect: "Allow", Action: "events:PutEvents", Resource: "*" }]))).roles[0];

    expect(role.extra.map((p) => p.resource)).to.deep.equal([
      `arn:aws:events:ap-northeast-1:999999999999:event-bus/default`,
      `arn:aws:events:eu-west-3:${ACCOUNT}:event-bus/default`,
      "arn:aws:events:eu-west-3:999999999999:event-bus/foreign-eventbusname",
      "arn:aws:events:eu-west-3:999999999999:event-busv2/foreign-eventbusname/foreign-opaqueid",
    ]);
    expect(role.missing).to.deep.equal([]);
  });

  it("counts a grant without its conditions, and NotAction as every other action", async () => {
    const conditioned = (await judgePlan(forwardingPlan([PUT_EVENTS, { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*", Condition: { StringEquals: { "aws:RequestedRegion": "nowhere" } } }]))).roles[0];
    const notAction = (await judgePlan(forwardingPlan([PUT_EVENTS, { Effect: "Allow", NotAction: ["events:*", "iam:*", "sts:*"], Resource: `arn:aws:sqs:ap-northeast-1:${ACCOUNT}:q` }]))).roles[0];

    expect(conditioned.extra.map((p) => `${p.action} ${p.resource}`)).to.deep.equal(["sqs:SendMessage arn:aws:sqs:eu-west-3:999999999999:foreign-queuename"]);
    expect(notAction.extra.length).to.be.greaterThan(10);
    expect(notAction.extra.every((p) => p.resource === `arn:aws:sqs:ap-northeast-1:${ACCOUNT}:q` && p.action.startsWith("sqs:"))).to.equal(true);
  });

  it("names a need its policies do not allow, and judges an explicit deny", async () => {
    const denied = (await judgePlan(forwardingPlan([PUT_EVENTS, { Effect: "Deny", Action: "events:*", Resource: "*" }]))).roles[0];

    expect(denied.allowed).to.deep.equal([]);
    expect(denied.missing.map((n) => `${n.action} ${n.resource}`)).to.deep.equal([`events:PutEvents ${BUS}`]);
  });

  it("counts what a resource policy grants the role on its own resource", async () => {
    const topic = `arn:aws:sns:ap-northeast-1:${ACCOUNT}:t`;
    const topicPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: ROLE_ARN }, Action: "sns:Publish", Resource: topic }] };
    const role = (await judgePlan(forwardingPlan([PUT_EVENTS], [{ urn: "urn:tp", type: "aws:sns/topicPolicy:TopicPolicy", name: "tp", inputs: { arn: topic, policy: JSON.stringify(topicPolicy) } }]))).roles[0];

    expect(role.extra).to.deep.equal([{ action: "sns:Publish", resource: topic }]);
  });

  it("reports a policy the plan does not know, and a role nothing uses, as unknown", async () => {
    const unknownPolicy = forwardingPlan([PUT_EVENTS]);
    unknownPolicy.resources[1].inputs.policy = undefined;
    const unused = forwardingPlan([PUT_EVENTS]);
    unused.resources.splice(2, 1);

    const [a, b] = await Promise.all([judgePlan(unknownPolicy), judgePlan(unused)]);

    expect(passes(a)).to.equal(false);
    expect(a.roles[0].unknowns).to.deep.equal(["role policy forward-policy is unknown in the plan (an output not resolved yet)"]);
    expect(b.roles[0].unknowns).to.deep.equal(["nothing in the plan uses role forward, so what it needs is unknown"]);
    expect(b.roles[0].extra).to.deep.equal([{ action: "events:PutEvents", resource: BUS }]);
  });

  it("tries a pattern as a concrete resource: wildcard Region and account elsewhere, other wildcards x", () => {
    const foreign = { region: "eu-west-3", account: "999999999999" };
    expect(instanceOf("arn:aws:dynamodb:*:*:table/*", foreign)).to.equal("arn:aws:dynamodb:eu-west-3:999999999999:table/x");
    expect(instanceOf("arn:aws:s3:::other-bucket/*", foreign)).to.equal("arn:aws:s3:::other-bucket/x");
    expect(instanceOf("*", foreign)).to.equal("*");
  });
});

/**
 * Plans of both shapes read alike; values a plan does not know are recognised as unknown; JSON held in strings is
 * opened up when looking for references.
 */
import { expect } from "chai";

import { isUnknown, parsePlan, previewPlanOf, stringsIn, UNKNOWN_SENTINEL } from "../../simulation/plan";

const ROLE_URN = "urn:pulumi:dev::p::aws:iam/role:Role::r";

describe("plan", () => {
  it("reads `npm start -- --json` (an array) and `pulumi preview --json` (steps with newState) alike", () => {
    // Prepare
    const inputs = { assumeRolePolicy: "{}" };
    const npmStart = [{ urn: ROLE_URN, type: "aws:iam/role:Role", name: "r", parent: null, inputs }];
    const preview = { config: { "aws:region": "eu-west-1", "aws:secret": { secure: "x", value: "[secret]" } }, steps: [{ op: "same", urn: ROLE_URN, newState: { urn: ROLE_URN, type: "aws:iam/role:Role", inputs, outputs: { arn: "arn:aws:iam::1:role/r" } } }, { op: "delete", urn: "x" }] };

    // Act
    const fromNpm = parsePlan(JSON.stringify(npmStart));
    const fromPreview = parsePlan(JSON.stringify(preview));

    // Assess
    expect(fromNpm).to.deep.equal({ shape: "npm start --json", resources: [{ urn: ROLE_URN, type: "aws:iam/role:Role", name: "r", inputs }], config: {} });
    expect(fromPreview).to.deep.equal({
      shape: "pulumi preview --json",
      resources: [{ urn: ROLE_URN, type: "aws:iam/role:Role", name: "r", inputs, outputs: { arn: "arn:aws:iam::1:role/r" } }],
      config: { "aws:region": "eu-west-1", "aws:secret": "[secret]" },
    });
  });

  it("refuses what is not a plan, saying why", () => {
    expect(() => parsePlan("not json")).to.throw(/^the plan is not JSON: /);
    expect(() => parsePlan("{}")).to.throw("the plan is neither the output of `npm start -- --json` (an array of resources) nor of `pulumi preview --json` (an object with steps)");
    expect(() => parsePlan('[{"type":"x"}]')).to.throw('element 0 is not a resource: it needs a "urn" and a "type"');
  });

  it("knows unknown values: missing, Pulumi's sentinel (whole or inside), a hidden secret", () => {
    expect([undefined, null, UNKNOWN_SENTINEL, `arn:aws:sns:x:1:${UNKNOWN_SENTINEL}`, "[secret]"].map(isUnknown)).to.deep.equal([true, true, true, true, true]);
    expect(["", "arn:aws:sns:x:1:t", 0].map(isUnknown)).to.deep.equal([false, false, false]);
  });

  it("finds strings inside JSON documents held in strings", () => {
    expect(stringsIn({ policy: JSON.stringify({ Statement: [{ Resource: ["arn:a", "arn:b"] }] }), name: "n", n: 1 })).to.deep.equal(["arn:a", "arn:b", "n"]);
  });

  it("writes the preview shape of recorded resources in URN order, with auto-names, naming outputs and no code", () => {
    const resources = [
      { urn: "urn:b", type: "aws:lambda/function:Function", custom: true, inputs: { role: "arn:r", code: { archive: {} } }, state: { name: "f-1234567", arn: "arn:f", role: "arn:r" } },
      { urn: "urn:a", type: "aws:iam/role:Role", custom: true, parent: "urn:p", inputs: { assumeRolePolicy: "{}" }, state: { name: "r-1234567", arn: "arn:r" } },
      { urn: "urn:c", type: "aws:cloudwatch/metricAlarm:MetricAlarm", custom: true, inputs: {}, state: {} },
    ];

    const plan = previewPlanOf(resources, { "aws:region": "ap-northeast-1", "p:key": "secret" }, ["p:key"]);

    expect(plan).to.deep.equal({
      config: { "aws:region": "ap-northeast-1", "p:key": "[secret]" },
      steps: [
        { op: "same", urn: "urn:a", newState: { urn: "urn:a", custom: true, type: "aws:iam/role:Role", inputs: { name: "r-1234567", assumeRolePolicy: "{}" }, outputs: { arn: "arn:r", name: "r-1234567" }, parent: "urn:p" } },
        { op: "same", urn: "urn:b", newState: { urn: "urn:b", custom: true, type: "aws:lambda/function:Function", inputs: { name: "f-1234567", role: "arn:r" }, outputs: { arn: "arn:f", name: "f-1234567" } } },
      ],
      changeSummary: { same: 2 },
    });
  });
});

/**
 * The stack with `securityAlarms: all`, previewed as `npm start -- --stack NAME --json` would print it (a separate
 * process): 14 metric filters with Security Hub's documented patterns on the trail's log group and 14 alarms, each
 * notifying the alert topic.
 */
import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";
import { parse, stringify } from "yaml";

import { fixture } from "../simulation/fixtures";
import { PROJECT_DIRECTORY } from "./support/engine";
import { previewJson } from "./support/previewProcess";

interface PreviewedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  inputs: Record<string, unknown>;
}

const STACK = "ci-security-alarms";

describe("a stack with securityAlarms: all (offline preview)", function () {
  this.timeout(120_000);
  let resources: PreviewedResource[];

  before(async () => {
    const dev = parse(fs.readFileSync(path.join(PROJECT_DIRECTORY, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const file = path.join(PROJECT_DIRECTORY, `Pulumi.${STACK}.yaml`);
    // The dashboard off too: this stack also proves that `dashboard: false` leaves it out.
    fs.writeFileSync(file, stringify({ config: { ...dev.config, "cloudtrail-alerts:securityAlarms": "all", "cloudtrail-alerts:dashboard": false } }));
    try {
      const run = await previewJson(STACK);
      expect(run.code, run.stderr).to.equal(0);
      resources = JSON.parse(run.stdout) as PreviewedResource[];
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("previews 14 metric filters with the documented patterns on the trail's log group, and the bucket creation filter", () => {
    const documented = fixture<{ controls: Array<{ filterPattern: string }> }>("awsdocs/securityhub-cloudwatch-controls.json").controls.map((c) => c.filterPattern);
    const filters = resources.filter((r) => r.type === "aws:cloudwatch/logMetricFilter:LogMetricFilter");
    const security = filters.filter((r) => r.name.startsWith("security-alarms-"));
    expect(security).to.have.length(14);
    expect(security.map((r) => r.inputs.pattern).sort()).to.deep.equal([...documented].sort());
    const trailLogs = resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name === "trail-logs");
    expect(trailLogs?.inputs.name).to.match(/^\/aws\/cloudtrail\//);
    expect(new Set(security.map((r) => r.inputs.logGroupName))).to.deep.equal(new Set([trailLogs?.inputs.name]));
    expect(filters.map((r) => r.name).filter((name) => !name.startsWith("security-alarms-"))).to.deep.equal(["bucket-creation-filter"]);
  });

  it("previews 14 alarms, each notifying the alert topic", () => {
    const topic = resources.find((r) => r.type === "aws:sns/topic:Topic" && r.name === "alerts");
    expect(topic).to.not.equal(undefined);
    const alarms = resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name.startsWith("security-alarms-"));
    expect(alarms).to.have.length(14);
    const alertTopicArns = new Set(alarms.map((r) => JSON.stringify(r.inputs.alarmActions)));
    expect(alertTopicArns.size).to.equal(1);
    const [topicArn] = alarms[0].inputs.alarmActions as string[];
    expect(topicArn).to.match(/^arn:aws:sns:ap-northeast-1:111111111111:alerts/);
  });

  it("previews no dashboard with cloudtrail-alerts:dashboard false (the dev stack, which leaves it on, has one)", () => {
    expect(resources.filter((r) => r.type === "aws:cloudwatch/dashboard:Dashboard" || r.type === "cloudtrail-alerts:index:OperationsDashboard")).to.deep.equal([]);
    expect(resources.some((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")).to.equal(true);
  });
});

import * as path from "path";

import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic, dashboardBody, type DashboardMetric, type DashboardSpec, type DashboardWidget, MAX_WATCH_GRAPHS, OperationsDashboard } from "../../components";
import { watchDimension } from "../../functions/downloadThreshold/watchMetric";
import { embeddedMetricSink, METRIC_NAMESPACE } from "../../functions/shared/runtime";
import type { RecordedResource } from "../../preview/mockCloud";
import { AWS_PUBLISHED_METRICS, handlerMetrics } from "../../simulation/handlerMetrics";
import { devStack } from "../support/devStack";
import { PROJECT_DIRECTORY, resourcesOf, single } from "../support/engine";
import { valueOf } from "../support/outputs";

/** The metric lines of a body: namespace, name, dimensions and options. */
function metricsOf(body: { widgets: DashboardWidget[] }): Array<{ namespace: string; name: string; dimensions: Record<string, string>; options: Record<string, unknown>; widget: string }> {
  return body.widgets
    .filter((w) => w.type === "metric")
    .flatMap((w) =>
      (w.properties.metrics as DashboardMetric[]).map((line) => {
        const [namespace, name, ...rest] = line;
        const options = (typeof rest.at(-1) === "object" ? rest.pop() : {}) as Record<string, unknown>;
        const pairs = rest.filter((part): part is string => typeof part === "string");
        expect(pairs, "dimension names and values are strings").to.have.length(rest.length);
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
        return { namespace, name, dimensions, options, widget: String(w.properties.title) };
      }),
    );
}

/** The room (`functions/<room>/`) whose handler a Lambda of the stack runs, from its callback tag. */
function roomOf(fn: RecordedResource): string {
  const factory = (fn.inputs.tags as Record<string, string>)["cloudtrail-alerts:callback"];
  for (const room of ["downloadThreshold", "userActivity", "logDispatch", "trailBackfill"]) {
    const handler = require(path.join(PROJECT_DIRECTORY, "functions", room, "handler.ts")) as Record<string, unknown>;
    if (typeof handler[factory] === "function") return room;
  }
  throw new Error(`no handler room exports ${factory}`);
}

const SPEC: DashboardSpec = {
  title: "t",
  region: "ap-northeast-1",
  alertTopicName: "alerts",
  downloads: [{ functionName: "dl", watches: [{ bucket: "b", key: "k", threshold: 5 }, { bucket: "b", keyPrefix: "p/", threshold: 2 }] }],
  notifiers: [{ label: "n", functionName: "nf" }],
  functions: [
    { label: "d", functionName: "dl", countsRejectedInput: true },
    { label: "n", functionName: "nf", countsRejectedInput: true },
    { label: "b", functionName: "bf", countsRejectedInput: false },
  ],
  queues: [{ label: "q", queueName: "q1", region: "us-east-1" }],
  backfill: { functionName: "bf", stateMachineArn: "arn:aws:states:ap-northeast-1:111111111111:stateMachine:m" },
};

describe("OperationsDashboard", () => {
  describe("dashboardBody", () => {
    it("draws each watch's highest count against its threshold, one graph per watch, three to a row", () => {
      const body = dashboardBody(SPEC);
      const watches = body.widgets.filter((w) => String(w.properties.title).startsWith("Downloads of"));

      expect(watches.map((w) => [w.properties.title, w.x, w.y, w.width, (w.properties.annotations as { horizontal: unknown[] }).horizontal])).to.deep.equal([
        ["Downloads of s3://b/k (highest count in the window)", 0, 2, 8, [{ label: "threshold 5: more alerts", value: 5 }]],
        ["Downloads of s3://b/p/* (highest count in the window)", 8, 2, 8, [{ label: "threshold 2: more alerts", value: 2 }]],
      ]);
      expect(metricsOf({ widgets: watches })).to.deep.equal([
        { namespace: "CloudTrailAlerts", name: "DownloadCount", dimensions: { FunctionName: "dl", Watch: "s3://b/k" }, options: { stat: "Maximum", label: "s3://b/k" }, widget: watches[0].properties.title },
        { namespace: "CloudTrailAlerts", name: "DownloadCount", dimensions: { FunctionName: "dl", Watch: "s3://b/p/*" }, options: { stat: "Maximum", label: "s3://b/p/*" }, widget: watches[1].properties.title },
      ]);
    });

    it("lays out a title, then every graph within CloudWatch's 24 columns without overlaps", () => {
      const body = dashboardBody(SPEC);
      expect(body.widgets[0]).to.deep.include({ type: "text", x: 0, y: 0, width: 24, height: 2 });
      expect(body.widgets.map((w) => w.properties.title).filter(Boolean)).to.deep.equal([
        "Downloads of s3://b/k (highest count in the window)",
        "Downloads of s3://b/p/* (highest count in the window)",
        "Alerts and notifications sent",
        "Rejected input (logged with its reason, never retried)",
        "Dead-letter queues (messages waiting)",
        "Errors and throttles per function",
        "Backfill: pairs done and failed",
        "Backfill: events written",
      ]);
      const cells = new Set<string>();
      for (const w of body.widgets) {
        expect(w.x + w.width, String(w.properties.title)).to.be.at.most(24);
        for (let x = w.x; x < w.x + w.width; x++) for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`), `overlap at ${x},${y}`).to.equal(false);
          cells.add(`${x},${y}`);
        }
      }
    });

    it("shows rejected input only for handlers that count it, and each queue in its own Region", () => {
      const lines = metricsOf(dashboardBody(SPEC));
      expect(lines.filter((l) => l.name === "RejectedInput").map((l) => l.dimensions.FunctionName)).to.deep.equal(["dl", "nf"]);
      expect(lines.filter((l) => l.namespace === "AWS/SQS").map((l) => [l.dimensions.QueueName, l.options.region])).to.deep.equal([["q1", "us-east-1"]]);
    });

    it(`puts watches beyond ${MAX_WATCH_GRAPHS} in one graph, and draws no backfill without one`, () => {
      const many = Array.from({ length: MAX_WATCH_GRAPHS + 3 }, (_, i) => ({ bucket: "b", key: `k${i}`, threshold: 1 }));
      const body = dashboardBody({ ...SPEC, downloads: [{ functionName: "dl", watches: many }], backfill: undefined });
      const titles = body.widgets.map((w) => (typeof w.properties.title === "string" ? w.properties.title : ""));
      expect(titles.filter((t) => t.startsWith("Downloads of"))).to.have.length(MAX_WATCH_GRAPHS + 1);
      expect(titles).to.include("Downloads of 3 more watches");
      expect(titles.filter((t) => t.startsWith("Backfill"))).to.deep.equal([]);
    });
  });

  describe("component", () => {
    it("creates one dashboard named after the project and stack, as its child", async () => {
      const topic = new AlertTopic("od-topic", {});
      const dashboard = new OperationsDashboard("od-small", { alertTopic: topic });
      const resources = await resourcesOf(dashboard);

      expect(resources.map((r) => `${r.type} ${r.name}`)).to.deep.equal(["aws:cloudwatch/dashboard:Dashboard od-small"]);
      expect(single(resources, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardName).to.equal("cloudtrail-alerts-dev");
      expect(await valueOf(dashboard.spec)).to.deep.include({ title: "cloudtrail-alerts (stack dev)", region: "ap-northeast-1", downloads: [], notifiers: [], functions: [], queues: [] });
    });

    it("refuses a dashboard name CloudWatch would not take", () => {
      expect(() => OperationsDashboard.validateArgs("od", { alertTopic: undefined as unknown as AlertTopic, dashboardName: "has space" })).to.throw(
        'OperationsDashboard "od": dashboardName must be 1-255 letters, digits, \'-\' and \'_\', got "has space"; alertTopic must be an AlertTopic',
      );
      expect(() => OperationsDashboard.validateArgs("od", { alertTopic: pulumi.output(undefined) as unknown as AlertTopic })).to.throw("alertTopic must be an AlertTopic");
    });
  });

  describe("the dev stack's dashboard, checked against what handlers and AWS emit", () => {
    let resources: RecordedResource[];
    let lines: ReturnType<typeof metricsOf>;
    const byType = (type: string) => resources.filter((r) => r.type === type);

    before(async () => {
      ({ resources } = await devStack());
      lines = metricsOf(JSON.parse(String(single(resources, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody)) as { widgets: DashboardWidget[] });
    });

    it("shows only metrics of the handler's own room (or functions/shared/) with the dimensions it writes, for functions of the stack", () => {
      const written = handlerMetrics(PROJECT_DIRECTORY);
      const functions = byType("aws:lambda/function:Function");
      const problems: string[] = [];
      for (const line of lines.filter((l) => l.namespace === METRIC_NAMESPACE)) {
        const fn = functions.find((f) => f.state.name === line.dimensions.FunctionName);
        if (fn === undefined) {
          problems.push(`${line.name}: FunctionName ${line.dimensions.FunctionName} is no function of the stack`);
          continue;
        }
        const room = roomOf(fn);
        const extra = Object.keys(line.dimensions).filter((d) => d !== "FunctionName").sort();
        const writers = written.filter((m) => m.name === line.name && JSON.stringify(m.dimensions) === JSON.stringify(extra) && (m.at.startsWith(`functions/${room}/`) || m.at.startsWith("functions/shared/")));
        if (writers.length === 0) problems.push(`${line.name} ${JSON.stringify(line.dimensions)}: no code of functions/${room}/ or functions/shared/ writes it with these dimensions`);
      }
      expect(problems).to.deep.equal([]);
      expect(lines.filter((l) => l.namespace === METRIC_NAMESPACE).length).to.be.greaterThan(10);
    });

    it("gives every handler metric the FunctionName dimension the Embedded Metric Format document carries", () => {
      const written: string[] = [];
      embeddedMetricSink("f", (line) => written.push(line)).count("DownloadCount", 3, { Watch: "s3://b/k" });
      const document = JSON.parse(written[0]) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } };
      expect(document._aws.CloudWatchMetrics).to.deep.equal([{ Namespace: METRIC_NAMESPACE, Dimensions: [["FunctionName", "Watch"]], Metrics: [{ Name: "DownloadCount", Unit: "Count" }] }]);
    });

    it("draws the configured watch with its threshold and its Watch dimension as the handler writes it", () => {
      const watchLines = lines.filter((l) => l.name === "DownloadCount");
      expect(watchLines.map((l) => l.dimensions.Watch)).to.deep.equal([watchDimension({ bucket: "confidential-reports", key: "2025/売上報告 Q1.pdf" })]);
      expect(watchLines[0].widget).to.equal("Downloads of s3://confidential-reports/2025/売上報告 Q1.pdf (highest count in the window)");
    });

    it("shows only AWS metrics AWS publishes, for resources of the stack", () => {
      const names: Record<string, Set<string>> = {
        FunctionName: new Set(byType("aws:lambda/function:Function").map((r) => String(r.state.name))),
        QueueName: new Set(byType("aws:sqs/queue:Queue").map((r) => String(r.state.name))),
        TopicName: new Set(byType("aws:sns/topic:Topic").map((r) => String(r.state.arn).split(":")[5])),
        StateMachineArn: new Set(byType("aws:sfn/stateMachine:StateMachine").map((r) => String(r.state.arn))),
      };
      const problems = lines
        .filter((l) => l.namespace !== METRIC_NAMESPACE)
        .flatMap((l) => {
          const dimension = AWS_PUBLISHED_METRICS[l.namespace]?.[l.name];
          if (dimension === undefined) return [`${l.namespace} ${l.name} is not a metric AWS publishes`];
          const keys = Object.keys(l.dimensions);
          if (keys.length !== 1 || keys[0] !== dimension) return [`${l.namespace} ${l.name}: dimensions ${keys.join()} instead of ${dimension}`];
          return names[dimension].has(l.dimensions[dimension]) ? [] : [`${l.namespace} ${l.name}: ${l.dimensions[dimension]} is no resource of the stack`];
        });
      expect(problems).to.deep.equal([]);
    });

    it("covers every function (errors, throttles), every dead-letter queue in its Region, and the alert topic", () => {
      const shown = (namespace: string, name: string, dimension: string) => lines.filter((l) => l.namespace === namespace && l.name === name).map((l) => l.dimensions[dimension]).sort();
      const functionNames = byType("aws:lambda/function:Function").map((r) => String(r.state.name)).sort();
      expect(shown("AWS/Lambda", "Errors", "FunctionName")).to.deep.equal(functionNames);
      expect(shown("AWS/Lambda", "Throttles", "FunctionName")).to.deep.equal(functionNames);
      const queues = byType("aws:sqs/queue:Queue");
      expect(shown("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")).to.deep.equal(queues.map((q) => String(q.state.name)).sort());
      for (const line of lines.filter((l) => l.namespace === "AWS/SQS")) {
        const queue = queues.find((q) => q.state.name === line.dimensions.QueueName)!;
        expect(line.options.region, String(queue.name)).to.equal(String(queue.state.arn).split(":")[3]);
      }
      expect(shown("AWS/SNS", "NumberOfMessagesPublished", "TopicName")).to.deep.equal([String(single(resources, "aws:sns/topic:Topic", "alerts").state.arn).split(":")[5]]);
    });
  });
});

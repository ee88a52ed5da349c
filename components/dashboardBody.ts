/**
 * The body of the operations dashboard (CloudWatch's dashboard body structure), from the names of what a stack
 * deployed. Pure: `OperationsDashboard` resolves the names, tests and the docs' picture read the same body.
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { METRIC_NAMESPACE, REJECTED_INPUT_METRIC } from "../functions/shared/runtime";
import { DOWNLOAD_COUNT_METRIC, WATCH_DIMENSION, watchDimension } from "../functions/downloadThreshold/watchMetric";

/** A function of the stack: its name, what it is, and whether its handler counts rejected input. */
export interface DashboardFunction {
  label: string;
  functionName: string;
  countsRejectedInput: boolean;
}

/** What the dashboard shows, by name. */
export interface DashboardSpec {
  /** The first line of the dashboard, e.g. `cloudtrail-alerts (stack dev)`. */
  title: string;
  /** The Region of the functions, the topic and their metrics. */
  region: string;
  /** The alert topic's name (the `TopicName` of its SNS metrics). */
  alertTopicName: string;
  /** Each download alert's function and watches. */
  downloads: Array<{ functionName: string; watches: Array<{ bucket: string; key?: string; keyPrefix?: string; threshold: number }> }>;
  /** Each notifier's function. */
  notifiers: Array<{ label: string; functionName: string }>;
  /** Every function (errors, throttles; rejected input where the handler counts it). */
  functions: DashboardFunction[];
  /** Every dead-letter queue, with its Region (rule queues may be in other Regions). */
  queues: Array<{ label: string; queueName: string; region: string }>;
  /** The backfill's function and state machine; undefined without a backfill. */
  backfill?: { functionName: string; stateMachineArn: string };
}

/** One line of a metric widget: namespace, metric name, dimension name/value pairs, then rendering options. */
export type DashboardMetric = [string, string, ...Array<string | Record<string, unknown>>];

/** A widget of the body. */
export interface DashboardWidget {
  type: "metric" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

/** Grid units: CloudWatch's dashboard is 24 columns wide. */
const FULL = 24;
const HALF = 12;
const GRAPH_HEIGHT = 6;
/** Most watches drawn one graph each; beyond, one graph holds the rest without threshold lines. */
export const MAX_WATCH_GRAPHS = 12;

const metric = (namespace: string, name: string, dimensions: Record<string, string>, options: Record<string, unknown>): DashboardMetric => [
  namespace,
  name,
  ...Object.entries(dimensions).flat(),
  options,
];

/** A time series widget (Region, 5-minute period, y axis from 0). */
function graph(title: string, region: string, metrics: DashboardMetric[], extra: Record<string, unknown> = {}): Omit<DashboardWidget, "x" | "y" | "width" | "height"> {
  return { type: "metric", properties: { title, region, view: "timeSeries", stacked: false, period: 300, yAxis: { left: { min: 0 } }, metrics, ...extra } };
}

/** The downloads of each watch (the highest count an object reached) against its threshold. */
function downloadGraphs(spec: DashboardSpec): Array<Omit<DashboardWidget, "x" | "y" | "width" | "height">> {
  const watches = spec.downloads.flatMap((d) => d.watches.map((watch) => ({ functionName: d.functionName, watch, label: `s3://${watch.bucket}/${watch.key ?? `${watch.keyPrefix ?? ""}*`}` })));
  const line = ({ functionName, watch, label }: (typeof watches)[number]) =>
    metric(METRIC_NAMESPACE, DOWNLOAD_COUNT_METRIC, { FunctionName: functionName, [WATCH_DIMENSION]: watchDimension(watch) }, { stat: "Maximum", label });
  const graphs = watches.slice(0, MAX_WATCH_GRAPHS).map((w) =>
    graph(`Downloads of ${w.label} (highest count in the window)`, spec.region, [line(w)], {
      annotations: { horizontal: [{ label: `threshold ${w.watch.threshold}: more alerts`, value: w.watch.threshold }] },
    }),
  );
  if (watches.length > MAX_WATCH_GRAPHS) {
    graphs.push(graph(`Downloads of ${watches.length - MAX_WATCH_GRAPHS} more watches`, spec.region, watches.slice(MAX_WATCH_GRAPHS).map(line)));
  }
  return graphs;
}

/** Alerts and notifications: what the handlers published, and what the topic received and delivered. */
function sentGraph(spec: DashboardSpec): Omit<DashboardWidget, "x" | "y" | "width" | "height"> {
  const fn = (functionName: string) => ({ FunctionName: functionName });
  return graph("Alerts and notifications sent", spec.region, [
    ...spec.downloads.map((d) => metric(METRIC_NAMESPACE, "DownloadAlertsSent", fn(d.functionName), { stat: "Sum", label: `download alerts (${d.functionName})` })),
    ...spec.notifiers.flatMap((n) => [
      metric(METRIC_NAMESPACE, "NotificationsPublished", fn(n.functionName), { stat: "Sum", label: `notifications: ${n.label}` }),
      metric(METRIC_NAMESPACE, "NotificationsAlreadySent", fn(n.functionName), { stat: "Sum", label: `skipped, sent before: ${n.label}` }),
      // Burst grouping: events counted into a summary instead of sent, and the summaries sent.
      metric(METRIC_NAMESPACE, "EventsCounted", fn(n.functionName), { stat: "Sum", label: `counted into summaries: ${n.label}` }),
      metric(METRIC_NAMESPACE, "SummariesPublished", fn(n.functionName), { stat: "Sum", label: `summaries: ${n.label}` }),
    ]),
    metric("AWS/SNS", "NumberOfMessagesPublished", { TopicName: spec.alertTopicName }, { stat: "Sum", label: "messages to the alert topic (alarms included)" }),
    metric("AWS/SNS", "NumberOfNotificationsFailed", { TopicName: spec.alertTopicName }, { stat: "Sum", label: "deliveries that failed" }),
  ]);
}

/** Everything but the title, in reading order. */
function widgets(spec: DashboardSpec): Array<Omit<DashboardWidget, "x" | "y" | "width" | "height">> {
  const byFunction = (name: string, stat: string) => (f: DashboardFunction) => metric("AWS/Lambda", name, { FunctionName: f.functionName }, { stat, label: `${name.toLowerCase()}: ${f.label}` });
  const list = [...downloadGraphs(spec), sentGraph(spec)];
  list.push(
    graph(
      "Rejected input (logged with its reason, never retried)",
      spec.region,
      spec.functions.filter((f) => f.countsRejectedInput).map((f) => metric(METRIC_NAMESPACE, REJECTED_INPUT_METRIC, { FunctionName: f.functionName }, { stat: "Sum", label: f.label })),
    ),
    graph(
      "Dead-letter queues (messages waiting)",
      spec.region,
      spec.queues.map((q) => metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: q.queueName }, { stat: "Maximum", label: q.label, region: q.region })),
    ),
    graph("Errors and throttles per function", spec.region, [...spec.functions.map(byFunction("Errors", "Sum")), ...spec.functions.map(byFunction("Throttles", "Sum"))]),
  );
  if (spec.backfill !== undefined) {
    const fn = { FunctionName: spec.backfill.functionName };
    list.push(
      graph("Backfill: pairs done and failed", spec.region, [
        metric(METRIC_NAMESPACE, "BackfillPairsDone", fn, { stat: "Sum", label: "pairs done" }),
        metric(METRIC_NAMESPACE, "BackfillFailedPairs", fn, { stat: "Maximum", label: "pairs failed (per execution)" }),
        metric("AWS/States", "ExecutionsFailed", { StateMachineArn: spec.backfill.stateMachineArn }, { stat: "Sum", label: "executions failed" }),
      ]),
      graph("Backfill: events written", spec.region, [
        metric(METRIC_NAMESPACE, "BackfillEventsWritten", fn, { stat: "Sum", label: "events written" }),
        metric(METRIC_NAMESPACE, "LookupEventsThrottled", fn, { stat: "Sum", label: "LookupEvents throttled" }),
      ]),
    );
  }
  return list;
}

/** The dashboard body: a title, then graphs two to a row (watches three to a row). */
export function dashboardBody(spec: DashboardSpec): { widgets: DashboardWidget[] } {
  const placed: DashboardWidget[] = [
    {
      type: "text",
      x: 0,
      y: 0,
      width: FULL,
      height: 2,
      properties: {
        markdown: `# ${spec.title}\nEvery graph shows metrics a cloudtrail-alerts handler writes (namespace ${METRIC_NAMESPACE}) or AWS publishes for the stack's resources. Alarms on them notify the alert topic.`,
      },
    },
  ];
  let x = 0;
  let y = 2;
  for (const widget of widgets(spec)) {
    const isWatch = (widget.properties.metrics as DashboardMetric[]).some((m) => m[1] === DOWNLOAD_COUNT_METRIC);
    const width = isWatch ? 8 : HALF;
    if (x + width > FULL) {
      x = 0;
      y += GRAPH_HEIGHT;
    }
    placed.push({ ...widget, x, y, width, height: GRAPH_HEIGHT });
    x += width;
  }
  return { widgets: placed };
}

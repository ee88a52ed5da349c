/**
 * `npm run dashboard:picture`: draws docs/operations-dashboard.svg from the dev stack's dashboard body, as the offline
 * preview (`npm start -- --stack dev --json`) gives it to CloudWatch: each widget at its place on CloudWatch's
 * 24-column grid, with its title, one legend entry per metric line (its label, metric name and dimensions) and each
 * threshold line. A mock-up: the curves are drawn from the metric's name, not from data, and the picture says so.
 * tests/scripts/dashboardPicture.test.ts fails when the committed picture differs from what the body draws now.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import type { DashboardMetric, DashboardWidget } from "../components/dashboardBody";

/** Where the committed picture lives, relative to the project directory. */
export const PICTURE_FILE = path.join("docs", "operations-dashboard.svg");

/** Pixels per grid column and per grid row (CloudWatch draws a row unit about as tall as a column is wide, halved). */
const COLUMN = 52;
const ROW = 38;
const GAP = 6;
const MARGIN = 16;
const BANNER = 34;
/** Legend entries drawn per widget; the rest are counted. */
const MAX_LEGEND = 6;
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Text made safe inside SVG. */
function escaped(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** `text` cut to about `width` pixels of 11px text. */
function fitted(text: string, width: number): string {
  const max = Math.max(4, Math.floor(width / 6.2));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A metric line as its legend shows it: the label, then `namespace name (dimension=value, ...)`. */
export function legendEntry(line: DashboardMetric): string {
  const [namespace, name, ...rest] = line;
  const options = (typeof rest.at(-1) === "object" ? rest.pop() : {}) as Record<string, unknown>;
  const pairs = rest.filter((part): part is string => typeof part === "string");
  const dimensions: string[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    dimensions.push(`${pairs[i]}=${pairs[i + 1]}`);
  }
  const label = typeof options.label === "string" ? `${options.label}: ` : "";
  return `${label}${namespace} ${name} (${dimensions.join(", ")})`;
}

/** A deterministic illustrative curve for a metric (from its name), inside the plot box. */
function curve(seedText: string, x: number, y: number, width: number, height: number): string {
  let seed = [...seedText].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const points: string[] = [];
  for (let i = 0; i <= 24; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const level = 0.15 + 0.55 * ((seed >>> 8) % 1000) / 1000;
    points.push(`${(x + (width * i) / 24).toFixed(1)},${(y + height - height * level).toFixed(1)}`);
  }
  return points.join(" ");
}

/** One metric widget: frame, title, plot with curves and threshold lines, legend. */
function metricWidget(widget: DashboardWidget, box: { x: number; y: number; w: number; h: number }): string[] {
  const { x, y, w, h } = box;
  const lines = (widget.properties.metrics as DashboardMetric[]) ?? [];
  const legendRows = Math.min(lines.length, MAX_LEGEND) + (lines.length > MAX_LEGEND ? 1 : 0);
  const plot = { x: x + 30, y: y + 26, w: w - 40, h: Math.max(30, h - 34 - legendRows * 13) };
  const out = [
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" fill="#ffffff" stroke="#c8ccd1"/>`,
    `<text x="${x + 8}" y="${y + 17}" font-size="12" font-weight="bold">${escaped(fitted(String(widget.properties.title), w - 16))}</text>`,
    `<line x1="${plot.x}" y1="${plot.y + plot.h}" x2="${plot.x + plot.w}" y2="${plot.y + plot.h}" stroke="#888"/>`,
    `<line x1="${plot.x}" y1="${plot.y}" x2="${plot.x}" y2="${plot.y + plot.h}" stroke="#888"/>`,
    `<text x="${plot.x - 4}" y="${plot.y + plot.h}" font-size="9" text-anchor="end" fill="#666">0</text>`,
  ];
  lines.forEach((line, i) => {
    out.push(`<polyline fill="none" stroke-width="1.5" stroke="${COLOURS[i % COLOURS.length]}" points="${curve(JSON.stringify(line), plot.x, plot.y, plot.w, plot.h)}"/>`);
  });
  const horizontal = ((widget.properties.annotations as { horizontal?: Array<{ label?: string; value: number }> } | undefined)?.horizontal ?? []);
  for (const annotation of horizontal) {
    const at = plot.y + plot.h * 0.12;
    out.push(
      `<line x1="${plot.x}" y1="${at}" x2="${plot.x + plot.w}" y2="${at}" stroke="#d62728" stroke-dasharray="5,3"/>`,
      `<text x="${plot.x + plot.w - 2}" y="${at - 3}" font-size="10" text-anchor="end" fill="#d62728">${escaped(annotation.label ?? String(annotation.value))}</text>`,
      `<text x="${plot.x - 4}" y="${at + 3}" font-size="9" text-anchor="end" fill="#d62728">${annotation.value}</text>`,
    );
  }
  lines.slice(0, MAX_LEGEND).forEach((line, i) => {
    const ly = plot.y + plot.h + 14 + i * 13;
    out.push(
      `<rect x="${x + 8}" y="${ly - 8}" width="9" height="9" fill="${COLOURS[i % COLOURS.length]}"/>`,
      `<text x="${x + 21}" y="${ly}" font-size="10">${escaped(fitted(legendEntry(line), w - 30))}</text>`,
    );
  });
  if (lines.length > MAX_LEGEND) {
    out.push(`<text x="${x + 21}" y="${plot.y + plot.h + 14 + MAX_LEGEND * 13}" font-size="10" fill="#666">… and ${lines.length - MAX_LEGEND} more lines</text>`);
  }
  return out;
}

/** One text widget: its markdown, heading marks removed, one line per paragraph. */
function textWidget(widget: DashboardWidget, box: { x: number; y: number; w: number; h: number }): string[] {
  const paragraphs = String(widget.properties.markdown).split("\n").filter(Boolean);
  return [
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="3" fill="#f4f6f8" stroke="#c8ccd1"/>`,
    ...paragraphs.map((p, i) => {
      const heading = p.startsWith("#");
      const text = p.replace(/^#+\s*/, "");
      return `<text x="${box.x + 8}" y="${box.y + 20 + i * 18}" font-size="${heading ? 15 : 11}"${heading ? ' font-weight="bold"' : ""}>${escaped(fitted(text, heading ? box.w : box.w * 1.15))}</text>`;
    }),
  ];
}

/** The picture of a dashboard body: every widget where CloudWatch places it, under a banner saying it is a mock-up. */
export function dashboardSvg(body: { widgets: DashboardWidget[] }): string {
  const bottom = Math.max(...body.widgets.map((w) => w.y + w.height));
  const width = MARGIN * 2 + 24 * COLUMN;
  const height = MARGIN * 2 + BANNER + bottom * ROW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#eaeded"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 14}" font-size="13" font-weight="bold" fill="#b02a00">Mock-up built from the dashboard body of the dev stack (npm run dashboard:picture): layout, titles, metrics, dimensions and thresholds are the real definition; the curves are illustrative, not data.</text>`,
  ];
  for (const widget of body.widgets) {
    const box = { x: MARGIN + widget.x * COLUMN + GAP / 2, y: MARGIN + BANNER + widget.y * ROW + GAP / 2, w: widget.width * COLUMN - GAP, h: widget.height * ROW - GAP };
    out.push(...(widget.type === "text" ? textWidget(widget, box) : metricWidget(widget, box)));
  }
  out.push("</svg>", "");
  return out.join("\n");
}

/** The dev stack's dashboard body, from the offline preview run in a separate process (as `npm start` runs it). */
export function devDashboardBody(projectDirectory: string): Promise<{ widgets: DashboardWidget[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "preview/main.ts", "--stack", "dev", "--json"],
      { cwd: projectDirectory, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the offline preview of the dev stack failed: ${stderr.trim() || error.message}`));
          return;
        }
        const resources = JSON.parse(stdout) as Array<{ type: string; inputs: Record<string, unknown> }>;
        const dashboard = resources.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard");
        if (dashboard === undefined) {
          reject(new Error("the dev stack previews no aws:cloudwatch/dashboard:Dashboard (is cloudtrail-alerts:dashboard false?)"));
          return;
        }
        resolve(JSON.parse(String(dashboard.inputs.dashboardBody)) as { widgets: DashboardWidget[] });
      },
    );
  });
}

async function main(): Promise<void> {
  const projectDirectory = path.resolve(__dirname, "..");
  const svg = dashboardSvg(await devDashboardBody(projectDirectory));
  fs.writeFileSync(path.join(projectDirectory, PICTURE_FILE), svg);
  process.stdout.write(`wrote ${PICTURE_FILE}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

import * as fs from "fs";
import * as path from "path";

import { expect } from "chai";

import type { DashboardMetric, DashboardWidget } from "../../components";
import { dashboardSvg, legendEntry, PICTURE_FILE } from "../../scripts/dashboardPicture";
import { devStack } from "../support/devStack";
import { PROJECT_DIRECTORY, single } from "../support/engine";

describe("scripts/dashboardPicture (the docs' picture of the operations dashboard)", () => {
  let body: { widgets: DashboardWidget[] };
  let svg: string;

  before(async () => {
    const { resources } = await devStack();
    body = JSON.parse(String(single(resources, "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody)) as { widgets: DashboardWidget[] };
    svg = dashboardSvg(body);
  });

  it("is the committed docs picture: it changes with the dashboard body (run npm run dashboard:picture)", () => {
    expect(fs.readFileSync(path.join(PROJECT_DIRECTORY, PICTURE_FILE), "utf8") === svg).to.equal(true, `${PICTURE_FILE} differs from the dev stack's dashboard body; run npm run dashboard:picture`);
  });

  it("says it is a mock-up built from the dashboard body", () => {
    expect(svg).to.include("Mock-up built from the dashboard body of the dev stack");
    expect(svg).to.include("the curves are illustrative, not data");
  });

  it("draws every widget, one curve per metric line, and each threshold line", () => {
    const metricWidgets = body.widgets.filter((w) => w.type === "metric");
    const lines = metricWidgets.flatMap((w) => w.properties.metrics as DashboardMetric[]);
    expect(svg.match(/<rect [^>]*rx="3"/g)).to.have.length(body.widgets.length);
    expect(svg.match(/<polyline /g)).to.have.length(lines.length);
    expect(svg).to.include("threshold 5: more alerts");
    // Each graph's legend starts with its first line's label, metric and dimensions.
    for (const widget of metricWidgets) {
      const first = (widget.properties.metrics as DashboardMetric[])[0];
      if (first !== undefined) expect(svg).to.include(legendEntry(first).slice(0, 40).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
    }
  });
});

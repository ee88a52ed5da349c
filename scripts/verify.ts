/**
 * `npm run verify`: runs the whole test suite (each proof suite adds its findings to the report) and prints one report:
 * roles simulated and the actions each may perform, trust and resource policies checked, malformed inputs tried,
 * faults injected, and the policy pack's results. Exits non-zero when any test fails.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { runMain } from "../preview/exit";
import type { verifyReport as Report } from "../simulation/verifyReport";

type VerifyReport = typeof Report;

function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [`${title}`, "", line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line), ""].join("\n");
}

function render(report: VerifyReport): string {
  const out: string[] = [];
  out.push(
    table(
      `1. Roles simulated over every AWS action on the dev stack's ARNs (${report.roles.length} roles)`,
      ["role", "kind", "allowed actions", "= needed", "simulations"],
      report.roles.map((r) => {
        const extra = r.allowed.filter((a) => !r.needed.includes(a));
        const unused = r.needed.filter((a) => !r.allowed.includes(a));
        const verdict = extra.length > 0 ? `NO: also ${extra.join(", ")}` : unused.length > 0 ? `yes (not granted, other mode: ${unused.join(", ")})` : "yes";
        return [r.role, r.kind, r.allowed.join(", "), verdict, `${r.simulations} of ${r.actionsTried} actions`];
      }),
    ),
  );
  const groups = new Map<string, { total: number; ok: number }>();
  for (const p of report.policies) {
    const g = groups.get(p.policy) ?? { total: 0, ok: 0 };
    g.total += 1;
    g.ok += (p.actual === "Allowed") === (p.expected === "allowed") ? 1 : 0;
    groups.set(p.policy, g);
  }
  out.push(table(`Trust and resource policies (${report.policies.length} simulated requests)`, ["policy", "requests", "as expected"], [...groups].map(([policy, g]) => [policy, String(g.total), String(g.ok)])));

  const byHandler = new Map<string, { cases: number; good: number; processed: number; outcomes: Map<string, number> }>();
  for (const m of report.malformed) {
    const h = byHandler.get(m.handler) ?? { cases: 0, good: 0, processed: 0, outcomes: new Map() };
    h.cases += 1;
    h.good += m.goodRecords;
    h.processed += m.goodProcessed;
    h.outcomes.set(m.invocation, (h.outcomes.get(m.invocation) ?? 0) + 1);
    byHandler.set(m.handler, h);
  }
  const cases = new Set(report.malformed.map((m) => m.case)).size;
  out.push(
    table(
      `2. Malformed inputs (${cases} cases, ${report.malformed.length} case-handler runs)`,
      ["handler", "cases", "good records processed", "invocations"],
      [...byHandler].map(([handler, h]) => [handler, String(h.cases), `${h.processed} of ${h.good}`, [...h.outcomes].map(([o, n]) => `${n} ${o}`).join(", ")]),
    ),
  );
  out.push(table(`3. Faults injected (${report.faults.length})`, ["fault", "target", "outcome", "lost", "duplicated"], report.faults.map((f) => [f.fault, f.target, f.outcome, String(f.lost), String(f.duplicated)])));
  const pack = new Map<string, { dev: number; caught: number }>();
  for (const p of report.policyPack) {
    const entry = pack.get(p.policy) ?? { dev: 0, caught: 0 };
    entry.dev += p.devStackViolations;
    entry.caught += p.caughtWeakened;
    pack.set(p.policy, entry);
  }
  out.push(table("4. Policy pack", ["policy", "violations in the dev stack", "weakened resources caught"], [...pack].map(([policy, p]) => [policy, String(p.dev), String(p.caught)])));
  return out.join("\n");
}

function main(): number {
  const projectDirectory = path.resolve(__dirname, "..");
  const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verify-")), "report.json");
  const mocha = spawnSync(process.execPath, [path.join(projectDirectory, "node_modules", "mocha", "bin", "mocha.js"), "--reporter", "dot"], {
    cwd: projectDirectory,
    env: { ...process.env, VERIFY_REPORT: reportFile },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (!fs.existsSync(reportFile)) {
    process.stderr.write("error: the test run wrote no report\n");
    return 1;
  }
  process.stdout.write(`\n${render(JSON.parse(fs.readFileSync(reportFile, "utf8")) as VerifyReport)}\n`);
  return mocha.status ?? 1;
}

runMain(main);

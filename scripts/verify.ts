/**
 * `npm run verify`: runs the whole test suite (each proof suite adds its findings to the report) and prints one report:
 * each role's (action, resource) pairs evaluated, allowed and needed, trust and resource policies checked, malformed
 * inputs tried, faults injected, and the policy pack's results. Exits non-zero when any test fails.
 *
 * `npm run verify -- --plan FILE`: judges the roles of a plan instead, the output of `npm start -- --json` or of
 * `pulumi preview --json` (a preview of a stack that exists; a first preview knows no ARN). Every action a role's
 * policies allow is evaluated on the plan's ARNs and on foreign ARNs of each resource type; each (action, resource)
 * allowed must be needed (by the calls its handler declares for its mode, or by the service that uses the role), and
 * each need allowed. Prints the table and every failure, naming the role, the action and the resource; exits 1 on any
 * failure or on a policy whose value the plan does not know, 2 when the plan cannot be read.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";

import { runMain } from "../preview/exit";
import type { PlanJudgement } from "../simulation/leastPrivilege";
import type { RoleFinding, verifyReport as Report } from "../simulation/verifyReport";

type VerifyReport = typeof Report;

function table(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [`${title}`, "", line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line), ""].join("\n");
}

/** The roles table: pairs evaluated, allowed and needed per role, with the sources of the needs as numbered notes. */
export function renderRoles(title: string, roles: RoleFinding[]): string {
  const notes: string[] = [];
  const noteOf = (source: string) => {
    if (!source.includes("https://")) return source;
    if (!notes.includes(source)) notes.push(source);
    return `[${notes.indexOf(source) + 1}]`;
  };
  const rows = roles.map((r) => {
    const verdict =
      r.unknown.length > 0 ? "UNKNOWN" : r.extra.length > 0 || r.missing.length > 0 ? `NO: ${r.extra.length} beyond, ${r.missing.length} short` : "yes";
    return [r.role, r.uses, [...new Set(r.sources.map(noteOf))].join(", "), String(r.evaluated), String(r.allowed), String(r.needed), verdict];
  });
  const rendered = table(title, ["role", "used by", "needs from", "pairs evaluated", "allowed", "needed", "allowed = needed"], rows);
  const legend =
    "pairs evaluated: (action, resource) pairs simulated; allowed: those the role may do; needed: the (action, ARN pattern) pairs it needs,\n" +
    "where one pattern (a log group's `:*`) may cover several allowed pairs. allowed = needed: every allowed pair is needed and every need allowed.";
  return [rendered, legend, ...notes.map((note, i) => `[${i + 1}] ${note}`), ""].join("\n");
}

/** Every failure of the roles, one line each, naming the role, the action and the resource. */
export function renderFailures(roles: RoleFinding[], planUnknowns: string[] = []): string[] {
  return [
    ...roles.flatMap((r) => [
      ...r.extra.map((pair) => `FAIL ${r.role} may ${pair}, which nothing it is used by needs`),
      ...r.missing.map((pair) => `FAIL ${r.role} may not ${pair}, which ${r.uses} needs`),
      ...r.unknown.map((reason) => `UNKNOWN ${r.role}: ${reason}`),
    ]),
    ...planUnknowns.map((reason) => `UNKNOWN ${reason}`),
  ];
}

/** The report as the tables `npm run verify` prints (and the README shows). */
export function render(report: VerifyReport): string {
  const out: string[] = [];
  const pairs = (key: "evaluated" | "allowed" | "needed") => report.roles.reduce((sum, r) => sum + r[key], 0);
  out.push(
    renderRoles(
      `1. Least privilege of the roles of the dev stack and of the configurations that change their calls (${report.roles.length} roles; ${pairs("evaluated")} (action, resource) pairs evaluated, ${pairs("allowed")} allowed, ${pairs("needed")} needed)`,
      report.roles,
    ),
  );
  out.push(...renderFailures(report.roles), "");
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

/** The library built and the whole test suite run, with the report. */
function verifyProject(): number {
  const projectDirectory = path.resolve(__dirname, "..");
  const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verify-")), "report.json");
  // The package tests load the built library, as `npm test` builds it first.
  const build = spawnSync(process.execPath, [path.join(projectDirectory, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: projectDirectory, stdio: ["ignore", "inherit", "inherit"] });
  if (build.status !== 0) {
    process.stderr.write("error: the library did not build (tsc -p tsconfig.build.json)\n");
    return 1;
  }
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

/** Judges the plan in `file`: the report's text and the exit code (0 pass, 1 fail or unknown, 2 unreadable). */
export async function verifyPlan(file: string): Promise<{ code: number; output: string }> {
  // Loaded here: the IAM data and the handlers' declarations are needed only to judge a plan.
  const { parsePlan } = await import("../simulation/plan");
  const { judgePlan, passes } = await import("../simulation/leastPrivilege");
  const { roleFinding } = await import("../simulation/verifyReport");
  let judgement: PlanJudgement;
  let shape: string;
  try {
    const plan = parsePlan(fs.readFileSync(file, "utf8"));
    shape = plan.shape;
    judgement = await judgePlan(plan);
  } catch (error) {
    return { code: 2, output: `error: ${file}: ${error instanceof Error ? error.message : String(error)}\n` };
  }
  const roles = judgement.roles.map(roleFinding);
  const sum = (key: "evaluated" | "allowed" | "needed") => roles.reduce((total, r) => total + r[key], 0);
  const { account, region } = judgement.home;
  const title = `Least privilege of the ${roles.length} roles of ${file} (${shape}; home account ${account}, Region ${region}): ${sum("evaluated")} (action, resource) pairs evaluated, ${sum("allowed")} allowed, ${sum("needed")} needed`;
  const failures = renderFailures(roles, judgement.unknowns);
  const verdict = passes(judgement) ? "PASS: every role allows exactly what it needs" : `FAIL: ${failures.length} finding(s)`;
  return { code: passes(judgement) ? 0 : 1, output: [renderRoles(title, roles), ...failures, verdict, ""].join("\n") };
}

async function main(): Promise<number> {
  let plan: string | undefined;
  try {
    ({ plan } = parseArgs({ options: { plan: { type: "string" } }, strict: true, allowPositionals: false }).values);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\nusage: npm run verify [-- --plan FILE]\n`);
    return 2;
  }
  if (plan === undefined) {
    return verifyProject();
  }
  const { code, output } = await verifyPlan(plan);
  (code === 2 ? process.stderr : process.stdout).write(output);
  return code;
}

if (require.main === module) {
  runMain(main);
}

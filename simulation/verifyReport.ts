/**
 * The findings of the proof suites (least privilege, malformed input, fault injection, policy pack), collected while
 * they run. With VERIFY_REPORT set to a file name, the root hook writes them there after the run, and
 * `npm run verify` prints them as tables.
 */
import * as fs from "fs";

import type { RoleJudgement } from "./leastPrivilege";

/** One role's verdict: (action, resource) pairs evaluated, allowed and needed, and what is beyond or short. */
export interface RoleFinding {
  role: string;
  /** What uses the role. */
  uses: string;
  /** Where its needs come from: a room's calls.ts and mode, or AWS's documentation. */
  sources: string[];
  /** (action, resource) pairs simulated. */
  evaluated: number;
  /** Pairs the simulator allows. */
  allowed: number;
  /** Pairs the role needs. */
  needed: number;
  /** Allowed but not needed, as "action on resource". */
  extra: string[];
  /** Needed but not allowed. */
  missing: string[];
  /** What the plan does not tell. */
  unknown: string[];
}

/** The report's finding for a judged role. */
export function roleFinding(judgement: RoleJudgement): RoleFinding {
  return {
    role: judgement.role,
    uses: judgement.uses.join("; ") || "nothing in the plan",
    sources: judgement.sources,
    evaluated: judgement.evaluated,
    allowed: judgement.allowed.length,
    needed: judgement.needed.length,
    extra: judgement.extra.map((p) => `${p.action} on ${p.resource}${p.pattern === undefined ? "" : ` (the plan's ${p.pattern})`}`),
    missing: judgement.missing.map((n) => `${n.action} on ${n.resource}`),
    unknown: judgement.unknowns,
  };
}

/** One request against a trust or resource policy. */
export interface PolicyFinding {
  policy: string;
  request: string;
  expected: "allowed" | "denied";
  actual: string;
}

/** One malformed input fed to one handler. */
export interface MalformedFinding {
  case: string;
  handler: string;
  /** What the handler reported for the bad input (its rejection reason). */
  reason: string;
  /** Good records in the same payload, and how many of them were fully processed. */
  goodRecords: number;
  goodProcessed: number;
  /** `succeeded`, or `failed on purpose` (a failure Lambda retries, only where a retry can succeed). */
  invocation: string;
}

/** One injected fault. */
export interface FaultFinding {
  fault: string;
  target: string;
  outcome: string;
  lost: number;
  duplicated: number;
}

/** One policy of the pack, over the dev stack and over weakened resources. */
export interface PolicyPackFinding {
  policy: string;
  devStackViolations: number;
  caughtWeakened: number;
}

export const verifyReport = {
  roles: [] as RoleFinding[],
  policies: [] as PolicyFinding[],
  malformed: [] as MalformedFinding[],
  faults: [] as FaultFinding[],
  policyPack: [] as PolicyPackFinding[],
};

/** Writes the report to the file named by VERIFY_REPORT, if set. */
export function writeVerifyReport(): void {
  const file = process.env.VERIFY_REPORT;
  if (file) {
    fs.writeFileSync(file, `${JSON.stringify(verifyReport, null, 2)}\n`);
  }
}

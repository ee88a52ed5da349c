/**
 * The findings of the proof suites (least privilege, malformed input, fault injection, policy pack), collected while
 * they run. With VERIFY_REPORT set to a file name, the root hook writes them there after the run, and
 * `npm run verify` prints them as tables.
 */
import * as fs from "fs";

/** One role's identity policies, simulated over every AWS action. */
export interface RoleFinding {
  role: string;
  kind: string;
  /** Actions the simulator allows on the stack's resources. */
  allowed: string[];
  /** Actions its code (or the service that uses it) needs, as recorded or derived. */
  needed: string[];
  actionsTried: number;
  simulations: number;
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

/**
 * Evaluates generated IAM policies with an IAM policy simulator (@cloud-copilot/iam-simulate, a dev dependency), so
 * that tests check what a policy allows rather than only how it is written.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";

export type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "error";

export interface Request {
  principal: string;
  action: string;
  resource: string;
  accountId: string;
  context?: Record<string, string | string[]>;
  /** Identity policies of the principal. */
  identityPolicies?: unknown[];
  /** The resource's policy (a trust policy for sts:AssumeRole). */
  resourcePolicy?: unknown;
}

/** The simulator's decision for one request; "error" (with the reasons thrown) when a policy is invalid. */
export async function decide(request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.accountId },
        contextVariables: request.context ?? {},
      },
      identityPolicies: (request.identityPolicies ?? []).map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(`the simulator refused the request: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}

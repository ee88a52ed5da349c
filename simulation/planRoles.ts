/**
 * The IAM roles of a plan with everything that decides what they may do: their identity policies (inline, `RolePolicy`,
 * attached customer managed policies), their trust policy, and the resource policies of the plan's topics, buckets,
 * queues and keys. What the plan does not know yet (an unresolved output, a managed policy defined elsewhere) is listed
 * as unknown, never taken as empty.
 */
import { isUnknown, type PlanResource } from "./plan";
import { arnParts, PlanIndex } from "./planIndex";

/** An IAM policy document, parsed. */
export interface PolicyDocument {
  Statement: Array<Record<string, unknown>> | Record<string, unknown>;
}

export interface PlanRole {
  /** The role's logical name in the plan, or its physical name when the plan only refers to it. */
  label: string;
  resource?: PlanResource;
  arn: string;
  /** Identity policies, by where they come from. */
  policies: Array<{ source: string; document: PolicyDocument }>;
  trust?: PolicyDocument;
  /** What the plan does not know about the role (each makes the role's verdict unknown). */
  unknowns: string[];
}

export function statementsOf(document: PolicyDocument | undefined): Array<Record<string, unknown>> {
  if (document === undefined) return [];
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

/** A list of strings from a policy element that holds one or many. */
export function listOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");
}

/** The policy document in `text`, or a problem saying why there is none. */
function documentIn(text: unknown, what: string): PolicyDocument | string {
  if (isUnknown(text)) {
    return `${what} is unknown in the plan (an output not resolved yet)`;
  }
  try {
    const document = (typeof text === "string" ? JSON.parse(text) : text) as PolicyDocument;
    return typeof document === "object" && document !== null && "Statement" in document ? document : `${what} is not a policy document`;
  } catch {
    return `${what} is not JSON`;
  }
}

/** The name a `role` input refers to (a role name, or an ARN whose last part is the name). */
function roleNameIn(reference: string): string {
  return reference.startsWith("arn:") ? reference.split("/").pop()! : reference;
}

/** Every role of the plan, and every role a role policy of the plan names without the plan creating it. */
export function planRoles(index: PlanIndex): PlanRole[] {
  const roles = new Map<string, PlanRole>();
  for (const resource of index.byType("aws:iam/role:Role")) {
    const name = index.physicalName(resource);
    const arn = index.arnOf(resource);
    const role: PlanRole = { label: resource.name, resource, arn: arn ?? `(unknown ARN of ${resource.name})`, policies: [], unknowns: [] };
    if (name === undefined || arn === undefined) role.unknowns.push(`the name of role ${resource.name} is unknown in the plan, so its policies cannot be found`);
    const trust = documentIn(resource.inputs.assumeRolePolicy, `the trust policy of ${resource.name}`);
    if (typeof trust === "string") role.unknowns.push(trust);
    else role.trust = trust;
    for (const inline of (resource.inputs.inlinePolicies as Array<Record<string, unknown>> | undefined) ?? []) {
      addPolicy(role, `inline policy ${String(inline.name)}`, inline.policy);
    }
    for (const policyArn of listOf(resource.inputs.managedPolicyArns)) addManaged(index, role, policyArn);
    roles.set(name ?? resource.urn, role);
  }
  for (const policy of index.byType("aws:iam/rolePolicy:RolePolicy")) {
    const role = roleReferenced(index, roles, policy.inputs.role, `role policy ${policy.name}`);
    if (role !== undefined) addPolicy(role, `role policy ${policy.name}`, policy.inputs.policy);
  }
  for (const attachment of index.byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")) {
    const role = roleReferenced(index, roles, attachment.inputs.role, `policy attachment ${attachment.name}`);
    if (role !== undefined) addManaged(index, role, attachment.inputs.policyArn);
  }
  return [...roles.values()];
}

function addPolicy(role: PlanRole, source: string, text: unknown): void {
  const document = documentIn(text, source);
  if (typeof document === "string") role.unknowns.push(document);
  else role.policies.push({ source, document });
}

/** A managed policy: judged when the plan defines it, unknown otherwise (AWS managed policies included). */
function addManaged(index: PlanIndex, role: PlanRole, policyArn: unknown): void {
  const policy = index.find("aws:iam/policy:Policy", policyArn) ?? index.byType("aws:iam/policy:Policy").find((p) => typeof policyArn === "string" && index.physicalName(p) === policyArn.split("/").pop());
  if (policy === undefined) {
    role.unknowns.push(`managed policy ${String(policyArn)} is not defined in the plan, so what it allows is unknown`);
    return;
  }
  addPolicy(role, `managed policy ${policy.name}`, policy.inputs.policy);
}

function roleReferenced(index: PlanIndex, roles: Map<string, PlanRole>, reference: unknown, what: string): PlanRole | undefined {
  if (typeof reference !== "string" || isUnknown(reference)) {
    const unknownRole = roles.get("(unknown)") ?? { label: "(a role unknown in the plan)", arn: "(unknown)", policies: [], unknowns: [] };
    unknownRole.unknowns.push(`the role of ${what} is unknown in the plan`);
    roles.set("(unknown)", unknownRole);
    return undefined;
  }
  const name = roleNameIn(reference);
  const existing = roles.get(name);
  if (existing !== undefined) return existing;
  // A role the plan does not create: judged by the policies the plan gives it.
  const arn = reference.startsWith("arn:") ? reference : (index.arns.find((a) => arnParts(a)?.service === "iam" && a.endsWith(`:role/${name}`)) ?? `arn:${index.home.partition}:iam::${index.home.account}:role/${name}`);
  const role: PlanRole = { label: name, arn, policies: [], unknowns: [] };
  roles.set(name, role);
  return role;
}

/** The resource policies of the plan, by the ARN they govern (a bucket's also governs its objects). */
export function resourcePolicies(index: PlanIndex): { policyFor(arn: string): PolicyDocument | undefined; governed: Array<{ arn: string; document: PolicyDocument }>; unknowns: string[] } {
  const governed: Array<{ arn: string; document: PolicyDocument }> = [];
  const unknowns: string[] = [];
  const add = (arn: string | undefined, text: unknown, what: string) => {
    const document = documentIn(text, what);
    if (typeof document === "string") unknowns.push(document);
    else if (arn === undefined) unknowns.push(`the resource ${what} governs is unknown in the plan`);
    else governed.push({ arn, document });
  };
  for (const p of index.byType("aws:sns/topicPolicy:TopicPolicy")) add(isUnknown(p.inputs.arn) ? undefined : String(p.inputs.arn), p.inputs.policy, `topic policy ${p.name}`);
  for (const p of index.byType("aws:s3/bucketPolicy:BucketPolicy")) add(isUnknown(p.inputs.bucket) ? undefined : `arn:${index.home.partition}:s3:::${String(p.inputs.bucket)}`, p.inputs.policy, `bucket policy ${p.name}`);
  for (const p of index.byType("aws:sqs/queuePolicy:QueuePolicy")) add(queueArnOfUrl(p.inputs.queueUrl, index.home.partition), p.inputs.policy, `queue policy ${p.name}`);
  for (const k of index.byType("aws:kms/key:Key")) {
    if (k.inputs.policy !== undefined) add(index.arnOf(k), k.inputs.policy, `key policy of ${k.name}`);
  }
  const policyFor = (arn: string) => governed.find((g) => g.arn === arn || (arnParts(g.arn)?.service === "s3" && arn.startsWith(`${g.arn}/`)))?.document;
  return { policyFor, governed, unknowns };
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → `arn:<partition>:sqs:<region>:<account>:<name>`. */
function queueArnOfUrl(url: unknown, partition: string): string | undefined {
  const match = typeof url === "string" ? /^https:\/\/sqs\.([\w-]+)\.amazonaws\.com[^/]*\/(\d{12})\/([\w.-]+)$/.exec(url) : null;
  return match ? `arn:${partition}:sqs:${match[1]}:${match[2]}:${match[3]}` : undefined;
}

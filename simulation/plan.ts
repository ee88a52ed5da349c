/**
 * A Pulumi plan as `npm run verify -- --plan FILE` reads it, from either of two shapes:
 * - `npm start -- --json`: an array of `{ urn, type, name, parent, inputs }`;
 * - `pulumi preview --json`: `{ config, steps: [{ op, urn, newState: { urn, type, inputs, outputs, parent } }] }`.
 * Values a plan does not know yet are kept as they are; {@link isUnknown} says which they are.
 */

/** The value `pulumi preview --json` shows for an output not known until deployment. */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** One resource of a plan. */
export interface PlanResource {
  urn: string;
  type: string;
  /** The logical name (the last part of the URN). */
  name: string;
  parent?: string;
  inputs: Record<string, unknown>;
  /** Outputs, when the plan has them (a preview of resources that already exist). */
  outputs?: Record<string, unknown>;
}

export type PlanShape = "npm start --json" | "pulumi preview --json";

export interface Plan {
  shape: PlanShape;
  resources: PlanResource[];
  /** The stack's config (`pulumi preview --json` only): `aws:region`, `aws:allowedAccountIds`, ... */
  config: Record<string, unknown>;
}

/** True for a value the plan does not know: missing, Pulumi's unknown sentinel, or a secret it does not show. */
export function isUnknown(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && (value.includes(UNKNOWN_SENTINEL) || value === "[secret]"));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function nameOfUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

function resourceOf(value: unknown, where: string): PlanResource {
  if (!isRecord(value) || typeof value.urn !== "string" || typeof value.type !== "string") {
    throw new Error(`${where} is not a resource: it needs a "urn" and a "type"`);
  }
  return {
    urn: value.urn,
    type: value.type,
    name: typeof value.name === "string" ? value.name : nameOfUrn(value.urn),
    ...(typeof value.parent === "string" ? { parent: value.parent } : {}),
    inputs: isRecord(value.inputs) ? value.inputs : {},
    ...(isRecord(value.outputs) ? { outputs: value.outputs } : {}),
  };
}

/** Reads a plan of either shape; throws naming what is wrong with a file of neither. */
export function parsePlan(text: string): Plan {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`the plan is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (Array.isArray(json)) {
    return { shape: "npm start --json", resources: json.map((r, i) => resourceOf(r, `element ${i}`)), config: {} };
  }
  if (isRecord(json) && Array.isArray(json.steps)) {
    const resources = json.steps.flatMap((step: unknown, i) => (isRecord(step) && isRecord(step.newState) ? [resourceOf(step.newState, `steps[${i}].newState`)] : []));
    const config = isRecord(json.config) ? Object.fromEntries(Object.entries(json.config).map(([key, value]) => [key, isRecord(value) && "value" in value ? value.value : value])) : {};
    return { shape: "pulumi preview --json", resources, config };
  }
  throw new Error("the plan is neither the output of `npm start -- --json` (an array of resources) nor of `pulumi preview --json` (an object with steps)");
}

/**
 * Every string a value holds, with JSON documents held in strings (policies, definitions) opened up: the plan's
 * references to resources, whichever input they are in.
 */
export function stringsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === "string") {
    const trimmed = value.trim();
    if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.length > 1) {
      try {
        return stringsIn(JSON.parse(trimmed) as unknown, found);
      } catch {
        // Not JSON after all: a plain string.
      }
    }
    found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringsIn(item, found);
  } else if (isRecord(value)) {
    for (const item of Object.values(value)) stringsIn(item, found);
  }
  return found;
}

/** The resource types whose inputs decide what a role may do or needs: what {@link previewPlanOf} keeps. */
export const ROLE_RELEVANT_TYPES = [
  "pulumi:pulumi:Stack",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/policy:Policy",
  "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
  "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration",
  "aws:lambda/function:Function",
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  "aws:sns/topic:Topic",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:sqs/queue:Queue",
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:kms/key:Key",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:dynamodb/table:Table",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudtrail/trail:Trail",
  "aws:cloudwatch/eventTarget:EventTarget",
  "aws:sfn/stateMachine:StateMachine",
];

/** A resource as the offline engine records it (preview/mockCloud.ts `RecordedResource`): inputs and the state it got. */
interface Registered {
  urn: string;
  type: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

/**
 * What `pulumi preview --json` prints for a stack that already exists and is unchanged, for the resources of
 * {@link ROLE_RELEVANT_TYPES}: each a step `same` whose `newState` has the inputs (with the auto-names the provider's
 * check adds: `name`, a bucket's `bucket`) and the outputs that name it (`arn`, `name`, `bucket`, `url`), in URN order.
 * Lambda code is left out. `config` is the stack's config, secrets shown as `[secret]`.
 */
export function previewPlanOf(resources: Registered[], config: Record<string, string>, secretKeys: string[]): Record<string, unknown> {
  // In URN order: the engine registers resources in an order that varies between evaluations.
  const kept = resources.filter((r) => ROLE_RELEVANT_TYPES.includes(r.type)).sort((a, b) => a.urn.localeCompare(b.urn));
  const pick = (state: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((k) => state[k] !== undefined).map((k) => [k, state[k]]));
  const steps = kept.map((r) => {
    const inputs = Object.fromEntries(Object.entries(r.inputs).filter(([key]) => key !== "code"));
    const autonames = r.custom ? pick(r.state, r.type.startsWith("aws:s3/bucket:") ? ["bucket"] : ["name"]) : {};
    const newState = {
      urn: r.urn,
      custom: r.custom,
      type: r.type,
      inputs: { ...autonames, ...inputs },
      ...(r.custom ? { outputs: pick(r.state, ["arn", "name", "bucket", "url"]) } : {}),
      ...(r.parent === undefined ? {} : { parent: r.parent }),
      ...(r.provider === undefined ? {} : { provider: r.provider }),
    };
    return { op: "same", urn: r.urn, ...(r.provider === undefined ? {} : { provider: r.provider }), newState };
  });
  return {
    config: Object.fromEntries(Object.entries(config).map(([key, value]) => [key, secretKeys.includes(key) ? "[secret]" : value])),
    steps: JSON.parse(JSON.stringify(steps)) as unknown,
    changeSummary: { same: steps.length },
  };
}

/**
 * An offline stand-in for the Pulumi engine and the AWS provider, built on Pulumi's mock engine. It gives every
 * resource the IDs and ARNs AWS would (per provider account and region), answers the data sources the components
 * use, and records each registration with its parent, so that `npm start` can print the stack and tests can assert
 * on it. No network call is made.
 *
 * Like the real engine and AWS, it refuses a second registration of one URN, and a resource whose inputs break AWS's
 * API constraints (lengths, patterns, enums, ranges of the request members they become; see apiConstraints.ts).
 */
import { createHash } from "crypto";

import * as pulumi from "@pulumi/pulumi";

import { apiConstraintProblems } from "./apiConstraints";

/** One resource as the program registered it. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent resource; undefined for the stack and for providers. */
  parent?: string;
  /** Provider reference (`urn::id`) for custom resources. */
  provider?: string;
  custom: boolean;
  /** Inputs as the engine received them (Outputs resolved). */
  inputs: Record<string, unknown>;
  /** State the simulated provider returned (inputs plus IDs, ARNs and names). */
  state: Record<string, unknown>;
  /** For each input, the URNs of the resources its value came from (Pulumi's property dependencies). */
  propertyDependencies: Record<string, string[]>;
  /** URNs of every resource this one depends on (`dependsOn` and property dependencies). */
  dependencies: string[];
  /** Account and region a custom AWS resource lands in (from its provider, or the default provider). */
  placement?: { account: string; region: string };
}

/** Where a provider puts resources. */
interface Placement {
  account: string;
  region: string;
  partition: string;
}

/** Settings the mock falls back on for the default provider. */
export interface MockCloudOptions {
  /** Region of the default provider (`aws:region`). */
  region: string;
  /** Account the default provider's credentials belong to. */
  accountId: string;
}

type ArnBuilder = (p: Placement, name: string, state: Record<string, unknown>) => string;

/** ARN formats of the resource types the project creates, as AWS documents them. */
const ARNS: Record<string, ArnBuilder> = {
  "aws:sns/topic:Topic": (p, name) => `arn:${p.partition}:sns:${p.region}:${p.account}:${name}`,
  "aws:kms/key:Key": (p, _name, s) => `arn:${p.partition}:kms:${p.region}:${p.account}:key/${String(s.keyId)}`,
  "aws:s3/bucket:Bucket": (p, name) => `arn:${p.partition}:s3:::${name}`,
  "aws:cloudwatch/logGroup:LogGroup": (p, name) => `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${name}`,
  "aws:iam/role:Role": (p, name, s) => `arn:${p.partition}:iam::${p.account}:role${typeof s.path === "string" ? s.path : "/"}${name}`,
  "aws:cloudtrail/trail:Trail": (p, name) => `arn:${p.partition}:cloudtrail:${p.region}:${p.account}:trail/${name}`,
  "aws:lambda/function:Function": (p, name) => `arn:${p.partition}:lambda:${p.region}:${p.account}:function:${name}`,
  "aws:sqs/queue:Queue": (p, name) => `arn:${p.partition}:sqs:${p.region}:${p.account}:${name}`,
  "aws:cloudwatch/metricAlarm:MetricAlarm": (p, name) => `arn:${p.partition}:cloudwatch:${p.region}:${p.account}:alarm:${name}`,
  "aws:cloudwatch/eventRule:EventRule": (p, name) => `arn:${p.partition}:events:${p.region}:${p.account}:rule/${name}`,
  "aws:dynamodb/table:Table": (p, name) => `arn:${p.partition}:dynamodb:${p.region}:${p.account}:table/${name}`,
  "aws:sfn/stateMachine:StateMachine": (p, name) => `arn:${p.partition}:states:${p.region}:${p.account}:stateMachine:${name}`,
};

/** Types whose physical name AWS takes from a `name` input (Pulumi auto-names it when absent). */
const NAMED_BY_NAME = new Set([
  "aws:sns/topic:Topic",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:cloudtrail/trail:Trail",
  "aws:lambda/function:Function",
  "aws:sqs/queue:Queue",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:dynamodb/table:Table",
  "aws:sfn/stateMachine:StateMachine",
]);

/** Types whose ID is their ARN. */
const ID_IS_ARN = new Set(["aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:sfn/stateMachine:StateMachine"]);

function digest(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** A UUID-shaped identifier derived from `seed`, stable across runs. */
function stableUuid(seed: string): string {
  const h = digest(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** Implements Pulumi's `Mocks` with AWS-shaped results and records every registration. */
export class MockCloud implements pulumi.runtime.Mocks {
  /** Every registration, in order. */
  readonly resources: RecordedResource[] = [];
  /**
   * Registrations refused (a duplicate URN, inputs AWS would refuse), in order. Pulumi's mock engine only rejects
   * the resource's outputs, which a program rarely awaits: whoever runs the program fails the run on these.
   */
  readonly refusals: Error[] = [];
  private readonly placements = new Map<string, Placement>();
  /** URNs resources had before an alias moved them, by their URN now (see {@link formerUrn}). */
  private readonly formerUrns = new Map<string, string>();
  /** Parent URN of the registration being answered (the mock monitor calls newResource synchronously). */
  private registeringParent: string | undefined;

  constructor(private readonly options: MockCloudOptions) {}

  /**
   * Installs this mock as the Pulumi engine for the current process.
   * @param dryRun true to evaluate like `pulumi preview`, false like `pulumi up`.
   */
  async install(project: string, stack: string, dryRun: boolean): Promise<void> {
    await pulumi.runtime.setMocks(this, project, stack, dryRun);
    this.recordParents();
  }

  /** Resources whose parent chain leads to `urn`, in registration order. */
  descendantsOf(urn: string): RecordedResource[] {
    const below = new Set([urn]);
    const found: RecordedResource[] = [];
    for (const resource of this.resources) {
      if (resource.parent !== undefined && below.has(resource.parent)) {
        below.add(resource.urn);
        found.push(resource);
      }
    }
    return found;
  }

  /** The resource registered under `urn`. */
  get(urn: string): RecordedResource {
    const resource = this.resources.find((r) => r.urn === urn);
    if (!resource) {
      throw new Error(`no resource registered as ${urn}`);
    }
    return resource;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = args.inputs as Record<string, unknown>;
    if (args.type.startsWith("pulumi:providers:")) {
      return { id: `${args.name}-provider`, state: inputs };
    }
    if (!args.custom) {
      return { id: undefined, state: {} };
    }
    const placement = this.placementFor(args.provider, inputs.region);
    const state: Record<string, unknown> = { ...inputs };
    // Stands in for Pulumi's random auto-name suffix: stable across runs, distinct for equal names under other parents.
    // An alias keeps a resource's physical name in Pulumi, so the suffix follows the URN it had before it moved.
    const seed = `${this.formerUrn(this.registeringParent) ?? ""}::${args.type}::${args.name}`;
    let physicalName: string | undefined;
    if (NAMED_BY_NAME.has(args.type)) {
      physicalName = (inputs.name as string | undefined) ?? `${args.name}-${digest(seed, 7)}`;
      state.name = physicalName;
    }
    if (args.type === "aws:s3/bucket:Bucket") {
      physicalName = (inputs.bucket as string | undefined) ?? `${args.name}-${digest(seed, 7)}`.toLowerCase();
      state.bucket = physicalName;
      state.bucketDomainName = `${physicalName}.s3.amazonaws.com`;
    }
    if (args.type === "aws:kms/key:Key") {
      state.keyId = stableUuid(seed);
      physicalName = String(state.keyId);
    }
    refuseApiConstraintViolations(args.type, args.name, {
      ...inputs,
      ...(NAMED_BY_NAME.has(args.type) ? { name: physicalName } : {}),
      ...(args.type === "aws:s3/bucket:Bucket" ? { bucket: physicalName } : {}),
    });
    const arnOf = ARNS[args.type];
    if (arnOf) {
      state.arn = arnOf(placement, physicalName ?? args.name, state);
    }
    if (args.type === "aws:sqs/queue:Queue") {
      state.url = `https://sqs.${placement.region}.amazonaws.com/${placement.account}/${physicalName}`;
    }
    if (args.type === "aws:lambda/function:Function") {
      state.invokeArn = `arn:${placement.partition}:apigateway:${placement.region}:lambda:path/2015-03-31/functions/${String(state.arn)}/invocations`;
    }
    if (args.type === "aws:sns/topicSubscription:TopicSubscription") {
      state.arn = `${String(inputs.topic)}:${stableUuid(seed)}`;
    }
    const id =
      ID_IS_ARN.has(args.type) && state.arn !== undefined
        ? String(args.type === "aws:sns/topicPolicy:TopicPolicy" ? inputs.arn : state.arn)
        : args.type === "aws:sqs/queue:Queue"
          ? String(state.url)
          : (physicalName ?? stableUuid(seed));
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    const p = this.placementFor(args.provider, inputs.region);
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          id: p.account,
          accountId: p.account,
          arn: `arn:${p.partition}:sts::${p.account}:assumed-role/offline-preview/preview`,
          userId: "AROAOFFLINEPREVIEW:preview",
        };
      case "aws:index/getRegion:getRegion":
        return { id: p.region, region: p.region, name: p.region, endpoint: `ec2.${p.region}.amazonaws.com`, description: p.region };
      case "aws:index/getPartition:getPartition":
        return { id: p.partition, partition: p.partition, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
      case "aws:cloudwatch/getLogGroup:getLogGroup": {
        const name = String(inputs.name);
        return { id: name, name, arn: `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${name}`, retentionInDays: 0 };
      }
      case "aws:cloudwatch/getEventBus:getEventBus": {
        const name = String(inputs.name);
        return { id: name, name, region: p.region, arn: `arn:${p.partition}:events:${p.region}:${p.account}:event-bus/${name}` };
      }
      case "aws:kms/getKey:getKey": {
        const keyId = stableUuid(String(inputs.keyId));
        return { id: keyId, keyId, arn: `arn:${p.partition}:kms:${p.region}:${p.account}:key/${keyId}` };
      }
      default:
        throw new Error(`the offline preview has no simulation of the data source ${args.token}`);
    }
  }

  private placementFor(providerReference: string | undefined, regionOverride: unknown): Placement {
    const fromProvider = providerReference === undefined ? undefined : this.placements.get(providerReference.split("::").slice(0, -1).join("::"));
    const region = typeof regionOverride === "string" && regionOverride !== "" ? regionOverride : (fromProvider?.region ?? this.options.region);
    const account = fromProvider?.account ?? this.options.accountId;
    return { account, region, partition: partitionOf(region) };
  }

  /**
   * Pulumi's mock engine does not pass the parent to `newResource`; wrap the mock monitor to record it, together
   * with the URN the engine assigns.
   */
  private recordParents(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(req: RegisterRequest, callback: (err: Error | null, resp?: RegisterResponse) => void): void;
    };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.registeringParent = req.getParent() || undefined;
      original(req, (err, resp) => {
        const refusal = err ?? (resp ? this.duplicateUrnError(req, resp.getUrn()) : undefined);
        if (refusal) {
          this.refusals.push(refusal);
          callback(refusal);
          return;
        }
        if (resp) {
          this.record(req, resp);
        }
        callback(err, resp);
      });
    };
  }

  /** The engine's refusal of a URN registered before (same type and name under parents of the same type). */
  private duplicateUrnError(req: RegisterRequest, urn: string): Error | undefined {
    const first = this.resources.find((r) => r.urn === urn);
    if (first === undefined) {
      return undefined;
    }
    const under = (parent: string | undefined) => (parent === undefined ? "at the top of the stack" : `under ${parent}`);
    return new Error(
      `Duplicate resource URN '${urn}': ${req.getType()} "${req.getName()}" is registered first ${under(first.parent)}, again ${under(req.getParent() || undefined)}; ` +
        "give each a unique name (child names derive from the parent's name)",
    );
  }

  private record(req: RegisterRequest, resp: RegisterResponse): void {
    const urn = resp.getUrn();
    this.rememberFormerUrn(req, urn);
    const type = req.getType();
    const inputs = pulumi.runtime.deserializeProperties(req.getObject()) as Record<string, unknown>;
    const state = pulumi.runtime.deserializeProperties(resp.getObject()) as Record<string, unknown>;
    const provider = req.getProvider() || undefined;
    if (type.startsWith("pulumi:providers:aws")) {
      this.placements.set(urn, this.providerPlacement(inputs));
    }
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((dependencies, property) => {
      propertyDependencies[property] = dependencies.getUrnsList();
    });
    const custom = req.getCustom();
    const where = custom && type.startsWith("aws:") ? this.placementFor(provider, inputs.region) : undefined;
    this.resources.push({
      urn,
      type,
      name: req.getName(),
      parent: req.getParent() || undefined,
      provider,
      custom,
      inputs,
      state,
      propertyDependencies,
      dependencies: req.getDependenciesList(),
      ...(where === undefined ? {} : { placement: { account: where.account, region: where.region } }),
    });
  }

  /** The URN `urn` had before an alias moved it (or an ancestor) under another parent; `urn` itself when none did. */
  private formerUrn(urn: string | undefined): string | undefined {
    return urn === undefined ? undefined : (this.formerUrns.get(urn) ?? urn);
  }

  /** Records the URN a resource had before its alias (or an ancestor's) moved it, as Pulumi's engine resolves it. */
  private rememberFormerUrn(req: RegisterRequest, urn: string): void {
    const moved = req
      .getAliasesList()
      .map((alias) => alias.getSpec())
      .find((spec) => spec !== undefined && (spec.getNoparent() || spec.getParenturn() !== ""));
    // The engine gives "no parent" and "the stack as parent" one URN; the mock monitor writes the stack into it.
    const stack = this.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
    const parent = (moved === undefined ? req.getParent() : moved.getNoparent() ? stack : moved.getParenturn()) || undefined;
    const formerParent = this.formerUrn(parent);
    if (moved === undefined && formerParent === parent) {
      return;
    }
    const [prefix, project] = urn.split("::");
    // Qualified by the parent's own type, as the mock monitor qualifies URNs (the stack's type included).
    const parentType = formerParent?.split("::")[2].split("$").pop();
    const type = parentType === undefined ? req.getType() : `${parentType}$${req.getType()}`;
    this.formerUrns.set(urn, `${prefix}::${project}::${type}::${req.getName()}`);
  }

  /** The account and region an AWS provider's resources land in, from its `region` and assumed role or allow-list. */
  private providerPlacement(inputs: Record<string, unknown>): Placement {
    const region = typeof inputs.region === "string" ? inputs.region : this.options.region;
    const assumeRoles = parseMaybeJson(inputs.assumeRoles) as Array<{ roleArn?: string }> | undefined;
    const roleAccount = assumeRoles?.[0]?.roleArn?.split(":")[4];
    const allowed = parseMaybeJson(inputs.allowedAccountIds) as string[] | undefined;
    return { region, account: roleAccount ?? allowed?.[0] ?? this.options.accountId, partition: partitionOf(region) };
  }
}

/** Throws, as AWS would refuse the request, when `inputs` break AWS's API constraints. */
function refuseApiConstraintViolations(type: string, name: string, inputs: Record<string, unknown>): void {
  const problems = apiConstraintProblems(type, inputs);
  if (problems.length > 0) {
    throw new Error(`${type} "${name}" would be refused by AWS: ${problems.join("; ")}`);
  }
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== "string") {
    return value;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (dependencies: { getUrnsList(): string[] }, property: string) => void): void };
  getAliasesList(): Array<{ getSpec(): { getNoparent(): boolean; getParenturn(): string } | undefined }>;
}

interface RegisterResponse {
  getUrn(): string;
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
}

/**
 * What a plan says about its resources once cross-referenced: physical names and ARNs (which a plan of resources not
 * yet created holds only where other resources refer to them), the stack's home account and Region, and every ARN the
 * plan names. A plan from `npm start -- --json` has inputs only, so a resource's ARN is found where other resources use
 * it (a function's `role`, a policy's `Resource`, a target's `arn`), or built from its name.
 */
import type { Placement } from "../functions/shared/awsCalls";
import { isUnknown, type Plan, type PlanResource, stringsIn } from "./plan";

/** How the ARN of a resource type is spelled, given its physical name. */
interface ArnShape {
  service: string;
  /** True for ARNs without a Region (IAM, S3). */
  global?: boolean;
  /** True for ARNs without an account (S3). */
  noAccount?: boolean;
  resource: (name: string) => string;
  /** Matches the resource part of an ARN of this type named `name`. */
  matches?: (resourcePart: string, name: string) => boolean;
}

const ARN_SHAPES: Record<string, ArnShape> = {
  "aws:iam/role:Role": { service: "iam", global: true, resource: (n) => `role/${n}`, matches: (part, n) => part === `role/${n}` || (part.startsWith("role/") && part.endsWith(`/${n}`)) },
  "aws:iam/policy:Policy": { service: "iam", global: true, resource: (n) => `policy/${n}`, matches: (part, n) => part === `policy/${n}` || (part.startsWith("policy/") && part.endsWith(`/${n}`)) },
  "aws:lambda/function:Function": { service: "lambda", resource: (n) => `function:${n}` },
  "aws:sns/topic:Topic": { service: "sns", resource: (n) => n },
  "aws:sqs/queue:Queue": { service: "sqs", resource: (n) => n },
  "aws:dynamodb/table:Table": { service: "dynamodb", resource: (n) => `table/${n}` },
  "aws:cloudwatch/logGroup:LogGroup": { service: "logs", resource: (n) => `log-group:${n}` },
  "aws:sfn/stateMachine:StateMachine": { service: "states", resource: (n) => `stateMachine:${n}` },
  "aws:s3/bucket:Bucket": { service: "s3", global: true, noAccount: true, resource: (n) => n },
  "aws:s3/bucketV2:BucketV2": { service: "s3", global: true, noAccount: true, resource: (n) => n },
  "aws:cloudtrail/trail:Trail": { service: "cloudtrail", resource: (n) => `trail/${n}` },
  "aws:cloudwatch/eventRule:EventRule": { service: "events", resource: (n) => `rule/${n}` },
};

/** Pulumi's auto-names: the logical name, a dash and 7 hexadecimal digits. */
const AUTONAME = /^(.+)-[0-9a-f]{7}$/;
const ACCOUNT = /^\d{12}$/;

/** The parts of an ARN: `arn:partition:service:region:account:resource`. */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function arnParts(arn: string): ArnParts | undefined {
  const parts = arn.split(":");
  if (parts[0] !== "arn" || parts.length < 6) {
    return undefined;
  }
  return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(":") };
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** The plan, cross-referenced. */
export class PlanIndex {
  /** Every ARN (or ARN pattern) any input of the plan names. */
  readonly arns: string[];
  readonly home: Placement;
  private readonly autonames = new Map<string, Set<string>>();

  constructor(readonly plan: Plan) {
    const strings = plan.resources.flatMap((r) => stringsIn({ ...r.inputs, code: undefined }));
    this.arns = [...new Set(strings.filter((s) => s.startsWith("arn:")))].sort();
    for (const token of strings.flatMap((s) => s.split(/[\s:/"',]+/))) {
      const match = AUTONAME.exec(token);
      if (match) {
        const known = this.autonames.get(match[1]) ?? new Set<string>();
        this.autonames.set(match[1], known.add(token));
      }
    }
    this.home = this.homePlacement();
  }

  private homePlacement(): Placement {
    const parts = this.arns.map(arnParts).filter((p): p is ArnParts => p !== undefined);
    const configRegion = this.plan.config["aws:region"];
    const allowed = this.plan.config["aws:allowedAccountIds"];
    const allowedList = typeof allowed === "string" ? (JSON.parse(allowed) as unknown) : allowed;
    const configAccount = Array.isArray(allowedList) && typeof allowedList[0] === "string" ? allowedList[0] : undefined;
    return {
      partition: mostCommon(parts.map((p) => p.partition)) ?? "aws",
      region: typeof configRegion === "string" ? configRegion : (mostCommon(parts.map((p) => p.region).filter((r) => r !== "" && r !== "*")) ?? "us-east-1"),
      account: configAccount ?? mostCommon(parts.map((p) => p.account).filter((a) => ACCOUNT.test(a))) ?? "123456789012",
    };
  }

  byType(...types: string[]): PlanResource[] {
    return this.plan.resources.filter((r) => types.includes(r.type));
  }

  /**
   * The resource's physical name: its `name` input or output (a preview has the auto-name there), the `bucket` of a
   * bucket, or else the one auto-name of its logical name that other resources refer to.
   */
  physicalName(resource: PlanResource): string | undefined {
    const isBucket = resource.type.startsWith("aws:s3/bucket");
    for (const value of [resource.inputs.name, resource.outputs?.name, isBucket ? resource.inputs.bucket : undefined, isBucket ? resource.outputs?.bucket : undefined]) {
      if (typeof value === "string" && !isUnknown(value)) return value;
    }
    const candidates = [...(this.autonames.get(isBucket ? resource.name.toLowerCase() : resource.name) ?? [])];
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  /**
   * The resource's ARN: its `arn` output, the ARN of its type and name that the plan names (in the account and Region
   * it is really in), or one built in the home account and Region. Undefined when neither name nor ARN is known.
   */
  arnOf(resource: PlanResource): string | undefined {
    if (typeof resource.outputs?.arn === "string" && !isUnknown(resource.outputs.arn)) {
      return resource.outputs.arn;
    }
    const shape = ARN_SHAPES[resource.type];
    if (resource.type === "aws:kms/key:Key") {
      return this.keyArn(resource);
    }
    const name = this.physicalName(resource);
    if (shape === undefined || name === undefined) {
      return undefined;
    }
    const named = this.arns.filter((arn) => {
      const parts = arnParts(arn);
      return parts?.service === shape.service && (shape.matches ?? ((part, n) => part === shape.resource(n)))(parts.resource, name);
    });
    if (named.length > 0) {
      return named[0];
    }
    const region = shape.global ? "" : typeof resource.inputs.region === "string" ? resource.inputs.region : this.home.region;
    return `arn:${this.home.partition}:${shape.service}:${region}:${shape.noAccount ? "" : this.home.account}:${shape.resource(name)}`;
  }

  /**
   * A key's ARN, which only the resources using it name: the one key ARN its siblings (the resources of its parent,
   * such as the topic it encrypts) name, or the plan's one key ARN when the plan creates one key.
   */
  private keyArn(key: PlanResource): string | undefined {
    const isKeyArn = (s: string) => /^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(s);
    const siblings = this.plan.resources.filter((r) => r !== key && r.parent !== undefined && r.parent === key.parent);
    const named = [...new Set(siblings.flatMap((r) => stringsIn(r.inputs)).filter(isKeyArn))];
    if (named.length === 1) return named[0];
    const keys = this.arns.filter(isKeyArn);
    return this.byType("aws:kms/key:Key").length === 1 && keys.length === 1 ? keys[0] : undefined;
  }

  /** The resource of `type` whose ARN or physical name is `reference`. */
  find(type: string, reference: unknown): PlanResource | undefined {
    if (typeof reference !== "string" || isUnknown(reference)) {
      return undefined;
    }
    return this.byType(type).find((r) => this.arnOf(r) === reference || this.physicalName(r) === reference);
  }

  /** Where a regional resource with this ARN is (its partition, Region and account). */
  static placementOf(arn: string, fallback: Placement): Placement {
    const parts = arnParts(arn);
    return {
      partition: parts?.partition || fallback.partition,
      region: parts?.region || fallback.region,
      account: parts !== undefined && ACCOUNT.test(parts.account) ? parts.account : fallback.account,
    };
  }
}

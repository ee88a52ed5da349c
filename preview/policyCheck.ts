/**
 * Runs CrossGuard policies over resources recorded by the offline engine, the way the Pulumi engine's analyzer calls
 * them: resource policies once per resource with its inputs, stack policies once with every resource and its
 * property dependencies.
 */
import type { Policies, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import type { RecordedResource } from "./mockCloud";

/** One broken guarantee. */
export interface Violation {
  policy: string;
  type: string;
  name: string;
  urn?: string;
  message: string;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  return (resourceClass as { __pulumiType?: string }).__pulumiType === type;
}

function options(resource: RecordedResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent === undefined ? {} : { parent: resource.parent }),
  };
}

/** Builds the analyzer's view of `resources`: custom resources only, with dependencies linked. */
export function policyResources(resources: RecordedResource[]): PolicyResource[] {
  const custom = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  const byUrn = new Map<string, PolicyResource>();
  for (const resource of custom) {
    byUrn.set(resource.urn, {
      type: resource.type,
      props: resource.inputs,
      urn: resource.urn,
      name: resource.name,
      opts: options(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? resource.inputs : undefined)) as PolicyResource["asType"],
    });
  }
  for (const resource of custom) {
    const view = byUrn.get(resource.urn)!;
    const known = (urns: string[]) => urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    view.dependencies.push(...known(resource.dependencies));
    for (const [property, urns] of Object.entries(resource.propertyDependencies)) {
      view.propertyDependencies[property] = known(urns);
    }
  }
  return [...byUrn.values()];
}

/** Runs every policy over `resources` and returns the violations, in policy order. */
export async function checkPolicies(policies: Policies, resources: RecordedResource[]): Promise<Violation[]> {
  const views = policyResources(resources);
  const violations: Violation[] = [];
  const notApplicable = (reason?: string): never => {
    throw new Error(`policy not applicable${reason ? `: ${reason}` : ""}`);
  };
  for (const policy of policies) {
    const validateResource = (policy as ResourceValidationPolicy).validateResource;
    const validateStack = (policy as StackValidationPolicy).validateStack;
    if (validateResource) {
      for (const validate of Array.isArray(validateResource) ? validateResource : [validateResource]) {
        for (const view of views) {
          const args: ResourceValidationArgs = {
            type: view.type,
            props: view.props,
            urn: view.urn,
            name: view.name,
            opts: view.opts,
            stackTags: new Map(),
            isType: (resourceClass) => isTypeOf(view.type, resourceClass),
            asType: ((resourceClass: unknown) => (isTypeOf(view.type, resourceClass) ? view.props : undefined)) as ResourceValidationArgs["asType"],
            getConfig: () => ({}) as never,
            notApplicable,
          };
          await validate(
            args,
            (message, urn) => violations.push({ policy: policy.name, type: view.type, name: view.name, urn: urn ?? view.urn, message }),
          );
        }
      }
    }
    if (validateStack) {
      await validateStack(
        { resources: views, stackTags: new Map(), getConfig: () => ({}) as never, notApplicable },
        (message, urn) => {
          const view = views.find((v) => v.urn === urn);
          violations.push({ policy: policy.name, type: view?.type ?? "stack", name: view?.name ?? "", ...(urn ? { urn } : {}), message });
        },
      );
    }
  }
  return violations;
}

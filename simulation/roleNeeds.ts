/**
 * What each role of a plan needs, as (action, resource) pairs, and where each need comes from:
 * - a Lambda execution role: the calls its function's room declares (`functions/<room>/calls.ts`) for the mode the
 *   function's environment selects, plus what Lambda does with the role (its log group, its failure destination) and
 *   what the services need for the encrypted resources the code calls (KMS keys of topics, queues, tables);
 * - a role a function assumes: the calls the room declares as made with the assumed role's credentials;
 * - roles with no code of their own (CloudTrail delivery, Step Functions, EventBridge targets, chat channels): read from
 *   the resources that use them and AWS's documentation, cited in {@link SOURCES}.
 * Needs the plan cannot tell (an unknown environment, a task type this module does not know) are listed as unknown.
 */
import type { AwsCall, Placement } from "../functions/shared/awsCalls";
import { ROLES_TRUSTING_THE_FUNCTION } from "../functions/shared/awsCalls";
import { declaredCalls, handlerCallsOf } from "./handlerCalls";
import { isUnknown, type PlanResource } from "./plan";
import { arnParts, PlanIndex } from "./planIndex";
import { listOf, type PlanRole, statementsOf } from "./planRoles";

/** One (action, resource) a role needs. */
export interface Need {
  action: string;
  /** An ARN or ARN pattern (`*` any characters), or `*` for an action without resource. */
  resource: string;
  /** Other spellings of the same resources (e.g. `log-group:x:*` for `log-group:x:log-stream:*`). */
  sameAs?: string[];
  source: string;
}

export interface RoleNeeds {
  /** What uses the role, in words. */
  uses: string[];
  needs: Need[];
  /** Documentation behind what the role needs beyond the needs' own sources (a documented need of nothing). */
  sources?: string[];
  unknowns: string[];
}

/** AWS's documentation of what a service does with a role, cited for every need derived from it. */
export const SOURCES = {
  lambdaLogs: "Lambda writes the function's logs with its role: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html",
  lambdaDestinations: "Lambda sends failed asynchronous events with the function's role: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
  snsKms: "publishing to a topic encrypted with a customer managed key: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
  sqsKms: "sending to a queue encrypted with a customer managed key: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html",
  dynamoDbKms: "a table encrypted with a customer managed key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html",
  cloudTrail: "CloudTrail's role for CloudWatch Logs: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html",
  sfnLambda: "Step Functions invoking Lambda: https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html",
  sfnDistributedMap: "a Distributed Map's child executions: https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html and https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html",
  eventBus: "EventBridge sending to an event bus target: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html",
  chatChannel:
    "Amazon Q Developer in chat applications posts a topic's notifications without the channel role, which serves members' commands and alarm graphs (none here): https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html and https://docs.aws.amazon.com/chatbot/latest/adminguide/chatbot-troubleshooting.html",
} as const;

const CALLBACK_TAG = "cloudtrail-alerts:callback";

/** The plan and its roles, with what functions declare (computed once per function). */
export class NeedsContext {
  private readonly functionCalls = new Map<string, { mode: string; room: string; calls: AwsCall[] } | string>();

  constructor(
    readonly index: PlanIndex,
    readonly roles: PlanRole[],
  ) {}

  /** The functions whose execution role is `role`. */
  functionsOf(role: PlanRole): PlanResource[] {
    return this.index.byType("aws:lambda/function:Function").filter((fn) => fn.inputs.role === role.arn);
  }

  /** Where `fn` runs. */
  placementOf(fn: PlanResource): Placement {
    return PlanIndex.placementOf(this.index.arnOf(fn) ?? "", this.index.home);
  }

  /** The calls `fn`'s room declares for its environment, or why they cannot be told. */
  callsOf(fn: PlanResource): { mode: string; room: string; calls: AwsCall[] } | string {
    const cached = this.functionCalls.get(fn.urn);
    if (cached !== undefined) return cached;
    const factory = (fn.inputs.tags as Record<string, unknown> | undefined)?.[CALLBACK_TAG];
    const declaration = handlerCallsOf(typeof factory === "string" ? factory : undefined);
    const variables = (fn.inputs.environment as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
    const unknownVariables = Object.entries(variables).filter(([, value]) => isUnknown(value) || typeof value !== "string").map(([name]) => name);
    let result: { mode: string; room: string; calls: AwsCall[] } | string;
    if (declaration === undefined) {
      result = `function ${fn.name} runs code with no declaration of its calls (tag ${CALLBACK_TAG}: ${String(factory)})`;
    } else if (unknownVariables.length > 0) {
      result = `the environment of function ${fn.name} is unknown in the plan (${unknownVariables.join(", ")}), so its mode is unknown`;
    } else {
      try {
        result = { room: declaration.room, ...declaredCalls(declaration, variables as Record<string, string>, this.placementOf(fn)) };
      } catch (error) {
        result = `function ${fn.name}'s environment is invalid: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    this.functionCalls.set(fn.urn, result);
    return result;
  }

  /** The roles whose trust policy lets `principalArn` assume them. */
  rolesTrusting(principalArn: string): PlanRole[] {
    return this.roles.filter((role) =>
      statementsOf(role.trust).some((s) => s.Effect === "Allow" && listOf(s.Action).some((a) => a === "sts:AssumeRole" || a === "sts:*" || a === "*") && listOf((s.Principal as { AWS?: unknown } | undefined)?.AWS).includes(principalArn)),
    );
  }
}

/** What `role` needs, from everything in the plan that uses it. */
export function needsOfRole(role: PlanRole, context: NeedsContext): RoleNeeds {
  const result: RoleNeeds = { uses: [], needs: [], sources: [], unknowns: [] };
  const merge = (part: RoleNeeds) => {
    result.uses.push(...part.uses);
    result.needs.push(...part.needs);
    result.sources!.push(...(part.sources ?? []));
    result.unknowns.push(...part.unknowns);
  };
  for (const fn of context.functionsOf(role)) merge(lambdaNeeds(fn, role, context));
  // A role a function assumes (its trust policy names the function's role) needs what the function does with it.
  for (const lambdaRole of context.roles.filter((r) => context.rolesTrusting(r.arn).includes(role))) {
    for (const fn of context.functionsOf(lambdaRole)) merge(assumedRoleNeeds(fn, context));
  }
  for (const trail of context.index.byType("aws:cloudtrail/trail:Trail").filter((t) => t.inputs.cloudWatchLogsRoleArn === role.arn)) merge(trailDeliveryNeeds(trail));
  for (const machine of context.index.byType("aws:sfn/stateMachine:StateMachine").filter((m) => m.inputs.roleArn === role.arn)) merge(stateMachineNeeds(machine, context.index));
  for (const target of context.index.byType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => t.inputs.roleArn === role.arn)) merge(eventTargetNeeds(target));
  for (const [type, kind] of CHAT_CHANNEL_TYPES) {
    for (const channel of context.index.byType(type).filter((c) => c.inputs.iamRoleArn === role.arn)) merge(chatChannelNeeds(channel, kind));
  }
  if (result.uses.length === 0) {
    result.unknowns.push(`nothing in the plan uses role ${role.label}, so what it needs is unknown`);
  }
  const seen = new Set<string>();
  result.needs = result.needs.filter((n) => !seen.has(`${n.action} ${n.resource}`) && seen.add(`${n.action} ${n.resource}`) !== undefined);
  return result;
}

/** A Lambda execution role's needs for one function: its code's calls in its mode, and Lambda's own. */
function lambdaNeeds(fn: PlanResource, role: PlanRole, context: NeedsContext): RoleNeeds {
  const declared = context.callsOf(fn);
  const platform = lambdaPlatformNeeds(fn, context);
  if (typeof declared === "string") {
    return { uses: [`Lambda function ${fn.name}`], needs: platform.needs, unknowns: [declared, ...platform.unknowns] };
  }
  const source = `functions/${declared.room}/calls.ts (${declared.mode})`;
  const code = declared.calls
    .filter((call) => call.credentials !== "assumed-role")
    .flatMap((call) =>
      call.resources.flatMap((resource) => (resource === ROLES_TRUSTING_THE_FUNCTION ? context.rolesTrusting(role.arn).map((r) => r.arn) : [resource])).map((resource) => ({ action: call.action, resource, source })),
    );
  const encryption = encryptionNeeds(code, context.index);
  return {
    uses: [`Lambda function ${fn.name} (${declared.room}, ${declared.mode})`],
    needs: [...code, ...platform.needs, ...encryption.needs],
    unknowns: [...platform.unknowns, ...encryption.unknowns],
  };
}

/** The needs of a role that `fn` assumes: the calls its room makes with the assumed role's credentials. */
function assumedRoleNeeds(fn: PlanResource, context: NeedsContext): RoleNeeds {
  const declared = context.callsOf(fn);
  if (typeof declared === "string") {
    return { uses: [`assumed by Lambda function ${fn.name}`], needs: [], unknowns: [declared] };
  }
  const source = `functions/${declared.room}/calls.ts (${declared.mode}), with the assumed role's credentials`;
  const needs = declared.calls.filter((c) => c.credentials === "assumed-role").flatMap((c) => c.resources.map((resource) => ({ action: c.action, resource, source })));
  return { uses: [`assumed by Lambda function ${fn.name} (${declared.room})`], needs, unknowns: [] };
}

/** What Lambda does with the function's role: write its logs, send failed asynchronous events to their destination. */
function lambdaPlatformNeeds(fn: PlanResource, context: NeedsContext): { needs: Need[]; unknowns: string[] } {
  const { index } = context;
  const where = context.placementOf(fn);
  const name = index.physicalName(fn);
  const configured = (fn.inputs.loggingConfig as { logGroup?: unknown } | undefined)?.logGroup;
  const logGroupName = typeof configured === "string" && !isUnknown(configured) ? configured : name === undefined ? undefined : `/aws/lambda/${name}`;
  const needs: Need[] = [];
  const unknowns: string[] = [];
  if (logGroupName === undefined) {
    unknowns.push(`the log group of function ${fn.name} is unknown in the plan`);
  } else {
    const logGroup = `arn:${where.partition}:logs:${where.region}:${where.account}:log-group:${logGroupName}`;
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) needs.push({ action, resource: `${logGroup}:log-stream:*`, sameAs: [`${logGroup}:*`], source: SOURCES.lambdaLogs });
  }
  const fnArn = index.arnOf(fn);
  const configs = index.byType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").filter((c) => c.inputs.functionName === name || (fnArn !== undefined && c.inputs.functionName === fnArn));
  const destinations = [
    ...configs.flatMap((c) => {
      const config = (c.inputs.destinationConfig ?? {}) as { onFailure?: { destination?: unknown }; onSuccess?: { destination?: unknown } };
      return [config.onFailure?.destination, config.onSuccess?.destination].filter((d) => d !== undefined);
    }),
    (fn.inputs.deadLetterConfig as { targetArn?: unknown } | undefined)?.targetArn,
  ].filter((d) => d !== undefined);
  for (const destination of destinations) {
    const action = typeof destination === "string" ? DESTINATION_ACTIONS[arnParts(destination)?.service ?? ""] : undefined;
    if (action === undefined || typeof destination !== "string") unknowns.push(`function ${fn.name} sends failed events to ${JSON.stringify(destination)}, which verify does not know`);
    else needs.push({ action, resource: destination, source: SOURCES.lambdaDestinations });
  }
  const encryption = encryptionNeeds(needs, index);
  return { needs: [...needs, ...encryption.needs], unknowns: [...unknowns, ...encryption.unknowns] };
}

const DESTINATION_ACTIONS: Record<string, string> = { sqs: "sqs:SendMessage", sns: "sns:Publish", lambda: "lambda:InvokeFunction", events: "events:PutEvents" };

/** KMS needs of calls on topics, queues and tables of the plan that a customer managed key encrypts. */
function encryptionNeeds(calls: Need[], index: PlanIndex): { needs: Need[]; unknowns: string[] } {
  const needs: Need[] = [];
  const unknowns: string[] = [];
  const keyNeeds = (key: unknown, awsManaged: string, actions: string[], source: string, what: string) => {
    if (key === undefined || key === awsManaged) return;
    if (typeof key === "string" && /^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/.test(key)) needs.push(...actions.map((action) => ({ action, resource: key, source })));
    else unknowns.push(`${what} is encrypted with ${JSON.stringify(key)}, whose key ARN the plan does not give`);
  };
  for (const call of calls) {
    const service = call.action.split(":")[0];
    if (service === "sns") {
      const topic = index.find("aws:sns/topic:Topic", call.resource);
      keyNeeds(topic?.inputs.kmsMasterKeyId, "alias/aws/sns", ["kms:GenerateDataKey", "kms:Decrypt"], SOURCES.snsKms, `topic ${call.resource}`);
    } else if (service === "sqs") {
      const queue = index.find("aws:sqs/queue:Queue", call.resource);
      keyNeeds(queue?.inputs.kmsMasterKeyId, "alias/aws/sqs", ["kms:GenerateDataKey", "kms:Decrypt"], SOURCES.sqsKms, `queue ${call.resource}`);
    } else if (service === "dynamodb") {
      const table = index.find("aws:dynamodb/table:Table", call.resource);
      keyNeeds((table?.inputs.serverSideEncryption as { kmsKeyArn?: unknown } | undefined)?.kmsKeyArn, "alias/aws/dynamodb", ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], SOURCES.dynamoDbKms, `table ${call.resource}`);
    }
  }
  return { needs, unknowns };
}

/** CloudTrail's delivery role: create streams in the trail's log group and put events there. */
function trailDeliveryNeeds(trail: PlanResource): RoleNeeds {
  const group = trail.inputs.cloudWatchLogsGroupArn;
  if (typeof group !== "string" || isUnknown(group)) {
    return { uses: [`CloudTrail trail ${trail.name}`], needs: [], unknowns: [`the log group of trail ${trail.name} is unknown in the plan`] };
  }
  const logGroup = group.replace(/:\*$/, "");
  const needs = ["logs:CreateLogStream", "logs:PutLogEvents"].map((action) => ({ action, resource: `${logGroup}:log-stream:*`, sameAs: [`${logGroup}:*`], source: SOURCES.cloudTrail }));
  return { uses: [`CloudTrail trail ${trail.name} (delivery to CloudWatch Logs)`], needs, unknowns: [] };
}

/** A state machine's role: what its definition's states need. */
function stateMachineNeeds(machine: PlanResource, index: PlanIndex): RoleNeeds {
  const uses = [`Step Functions state machine ${machine.name}`];
  const machineArn = index.arnOf(machine);
  if (isUnknown(machine.inputs.definition) || machineArn === undefined) {
    return { uses, needs: [], unknowns: [`the definition or ARN of state machine ${machine.name} is unknown in the plan`] };
  }
  const needs: Need[] = [];
  const unknowns: string[] = [];
  const where = PlanIndex.placementOf(machineArn, index.home);
  const name = machineArn.split(":").pop()!;
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [stateName, state] of Object.entries(states)) {
      if (state.Type === "Task") taskNeeds(stateName, state, where, needs, unknowns);
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Record<string, unknown>>; ProcessorConfig?: { Mode?: string } } | undefined;
      if (state.Type === "Map" && processor?.ProcessorConfig?.Mode === "DISTRIBUTED") {
        if (state.ItemReader !== undefined || state.ResultWriter !== undefined) unknowns.push(`Map state ${stateName} reads or writes items in S3, which verify does not derive`);
        const children = `arn:${where.partition}:states:${where.region}:${where.account}:execution:${name}/${typeof state.Label === "string" ? state.Label : stateName}:*`;
        needs.push({ action: "states:StartExecution", resource: machineArn, source: SOURCES.sfnDistributedMap });
        for (const action of ["states:DescribeExecution", "states:StopExecution", "states:RedriveExecution"]) needs.push({ action, resource: children, source: SOURCES.sfnDistributedMap });
      }
      if (processor?.States) visit(processor.States);
      for (const branch of (state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []) visit(branch.States);
    }
  };
  visit((JSON.parse(String(machine.inputs.definition)) as { States: Record<string, Record<string, unknown>> }).States);
  for (const [input, what] of [["loggingConfiguration", "logging"], ["tracingConfiguration", "tracing"]] as const) {
    const config = machine.inputs[input] as { level?: string; enabled?: boolean } | undefined;
    if (config !== undefined && (config.enabled === true || (config.level !== undefined && config.level !== "OFF"))) unknowns.push(`state machine ${machine.name} has ${what} on, whose permissions verify does not derive`);
  }
  return { uses, needs, unknowns };
}

/** The needs of one Task state: Lambda invocations are known; other service integrations are not. */
function taskNeeds(stateName: string, state: Record<string, unknown>, where: Placement, needs: Need[], unknowns: string[]): void {
  const resource = String(state.Resource);
  if (/^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/.test(resource)) {
    const parameters = (state.Parameters ?? state.Arguments ?? {}) as Record<string, unknown>;
    const target = parameters.FunctionName;
    if (typeof target !== "string" || target.startsWith("{%")) {
      unknowns.push(`Task state ${stateName} invokes a function chosen at run time`);
      return;
    }
    const functionArn = target.startsWith("arn:") ? target : `arn:${where.partition}:lambda:${where.region}:${where.account}:function:${target}`;
    needs.push({ action: "lambda:InvokeFunction", resource: functionArn, sameAs: [`${functionArn}:*`], source: SOURCES.sfnLambda });
  } else if (/^arn:aws[\w-]*:lambda:/.test(resource)) {
    needs.push({ action: "lambda:InvokeFunction", resource, source: SOURCES.sfnLambda });
  } else {
    unknowns.push(`Task state ${stateName} uses ${resource}, whose permissions verify does not derive`);
  }
}

/** An EventBridge target's role: put events on the target bus (the only kind of role target this project uses). */
function eventTargetNeeds(target: PlanResource): RoleNeeds {
  const arn = target.inputs.arn;
  const uses = [`EventBridge target ${target.name}`];
  if (typeof arn === "string" && /^arn:[\w-]+:events:[\w-]+:\d{12}:event-bus\//.test(arn)) {
    return { uses, needs: [{ action: "events:PutEvents", resource: arn, source: SOURCES.eventBus }], unknowns: [] };
  }
  return { uses, needs: [], unknowns: [`EventBridge target ${target.name} sends to ${String(arn)} with a role, whose permissions verify does not derive`] };
}

/** The channel configurations of Amazon Q Developer in chat applications, and the chat application of each. */
const CHAT_CHANNEL_TYPES = [
  ["aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration", "Slack"],
  ["aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration", "Microsoft Teams"],
] as const;

/**
 * A chat channel's role: nothing for posting the topics' notifications. Members' commands would need what the role
 * allows (this project runs none, and its guardrail denies them), alarm graphs CloudWatch reads (left out).
 */
function chatChannelNeeds(channel: PlanResource, kind: string): RoleNeeds {
  return { uses: [`Amazon Q Developer ${kind} channel ${channel.name} (posts the topic's notifications)`], needs: [], sources: [SOURCES.chatChannel], unknowns: [] };
}

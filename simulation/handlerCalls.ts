/**
 * The handler rooms' declarations of their AWS calls (`functions/<room>/calls.ts`), found by the callback factory a
 * function runs, and the check that keeps each declaration true: the calls a function's archive sends in one mode
 * (recorded by a {@link CallLedger}) must be exactly the calls its room declares for that mode, on the declared
 * resources.
 */
import { type AwsCall, type HandlerCalls, type Placement, ROLES_TRUSTING_THE_FUNCTION } from "../functions/shared/awsCalls";
import { downloadThresholdCalls } from "../functions/downloadThreshold/calls";
import { logDispatchCalls } from "../functions/logDispatch/calls";
import { trailBackfillCalls } from "../functions/trailBackfill/calls";
import { userActivityCalls } from "../functions/userActivity/calls";
import { iamActionOf, type RecordedCall } from "./callLedger";

/** Every room's declaration. A new handler room adds its own here. */
export const HANDLER_CALLS: ReadonlyArray<HandlerCalls<unknown>> = [downloadThresholdCalls, userActivityCalls, logDispatchCalls, trailBackfillCalls];

/** The declaration of the room whose callback factory is `factory`. */
export function handlerCallsOf(factory: string | undefined): HandlerCalls<unknown> | undefined {
  return HANDLER_CALLS.find((h) => h.factory === factory);
}

/** The calls a function with this environment makes, in the mode its environment selects. */
export function declaredCalls(declaration: HandlerCalls<unknown>, environment: Record<string, string>, where: Placement): { mode: string; calls: AwsCall[] } {
  const settings = declaration.fromEnvironment(environment);
  return { mode: declaration.mode(settings), calls: declaration.calls(settings, where) };
}

/** True when `value` matches the IAM-style pattern (`*` any characters, `?` one). */
export function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
  return regex.test(value);
}

/** The resource a recorded call acted on, as an ARN in the function's placement; undefined when it cannot be told. */
export function resourceOfCall(call: RecordedCall, where: Placement): string | undefined {
  const t = call.target ?? {};
  const regional = (service: string, resource: string) => `arn:${where.partition}:${service}:${where.region}:${where.account}:${resource}`;
  switch (call.client) {
    case "DynamoDBClient":
      return t.TableName === undefined ? undefined : t.TableName.startsWith("arn:") ? t.TableName : regional("dynamodb", `table/${t.TableName}`);
    case "SNSClient":
      return t.TopicArn ?? t.TargetArn;
    case "S3Client":
      return t.Bucket === undefined ? undefined : `arn:${where.partition}:s3:::${t.Bucket}${t.Key === undefined ? "" : `/${t.Key}`}`;
    case "CloudWatchLogsClient": {
      const group = t.logGroupIdentifier ?? t.logGroupName;
      return group === undefined ? undefined : group.startsWith("arn:") ? group : regional("logs", `log-group:${group}`);
    }
    case "STSClient":
      return call.command === "GetCallerIdentityCommand" ? "*" : t.RoleArn;
    case "CloudTrailClient":
      return call.command === "LookupEventsCommand" ? "*" : t.TrailName;
    case "SFNClient":
      return t.executionArn ?? t.stateMachineArn;
    default:
      return undefined;
  }
}

/**
 * Where the declaration and the recorded calls of one function run disagree, in words (empty when they agree): a
 * call sent but not declared, declared with another action, or on a resource outside the declared ones; a call
 * declared but never sent in this mode. `assumableRoles` resolves {@link ROLES_TRUSTING_THE_FUNCTION}.
 */
export function declarationDrift(p: { room: string; mode: string; declared: AwsCall[]; recorded: RecordedCall[]; where: Placement; assumableRoles: string[] }): string[] {
  const problems: string[] = [];
  const where = `functions/${p.room}/calls.ts (${p.mode})`;
  const resourcesOf = (call: AwsCall) => call.resources.flatMap((r) => (r === ROLES_TRUSTING_THE_FUNCTION ? p.assumableRoles : [r]));
  for (const call of p.declared) {
    const derived = iamActionOf(call.client, call.command);
    if (derived !== call.action) problems.push(`${where} declares ${call.command} as ${call.action}, but it needs ${derived}`);
    if (!p.recorded.some((r) => r.client === call.client && r.command === call.command)) problems.push(`${where} declares ${call.client} ${call.command}, which the code never sent in this mode`);
  }
  const seen = new Set<string>();
  for (const recorded of p.recorded) {
    const resource = resourceOfCall(recorded, p.where);
    const key = `${recorded.command} ${resource ?? "?"}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const declared = p.declared.find((c) => c.client === recorded.client && c.command === recorded.command);
    if (declared === undefined) problems.push(`the code sent ${recorded.client} ${recorded.command} (${recorded.action}) on ${resource ?? "?"}, which ${where} does not declare`);
    else if (resource === undefined) problems.push(`the resource of ${recorded.command} cannot be told from its input; teach resourceOfCall in simulation/handlerCalls.ts`);
    else if (!resourcesOf(declared).some((pattern) => globMatches(pattern, resource))) problems.push(`the code sent ${recorded.command} on ${resource}, outside what ${where} declares: ${resourcesOf(declared).join(", ")}`);
  }
  return problems;
}

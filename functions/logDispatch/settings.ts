/**
 * The LogSubscriptionDispatcher function's environment contract, in both directions: {@link toEnvironment}, which the
 * component calls at deploy time, and {@link fromEnvironment}, which the handler calls at cold start. The variable
 * names are spelled here only.
 */
import { environmentReader, type EnvironmentValue } from "../shared/environment";
import { type RecordPattern, recordPatternProblems } from "../shared/recordPattern";
import { isObject } from "../shared/values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** One consumer: its routing key and the record patterns (alternatives) it wants. */
export interface DispatchRoute {
  key: string;
  patterns: RecordPattern[];
}

/**
 * Everything the dispatcher is configured with. `V` is the type of a value known only on deployment (a Pulumi
 * `Output<string>` in the component); the handler's settings have none.
 */
export interface LogDispatchSettings<V = never> {
  /** The dispatch topic the consumers are subscribed to. */
  topicArn: EnvironmentValue<V>;
  /**
   * The consumers. At deploy time, while consumers are still being connected, a value that becomes
   * {@link routesJson} of them on deployment.
   */
  routes: DispatchRoute[] | V;
}

/** The variables, named once. */
const VARIABLES = { topicArn: "DISPATCH_TOPIC_ARN", routes: "DISPATCH_ROUTES" } as const;

/** The routes as their variable holds them (JSON). */
export function routesJson(routes: readonly DispatchRoute[]): string {
  return JSON.stringify(routes);
}

/** The function's environment for `settings`. */
export function toEnvironment<V>(settings: LogDispatchSettings<V>): Record<string, EnvironmentValue<V>> {
  return {
    [VARIABLES.topicArn]: settings.topicArn,
    [VARIABLES.routes]: Array.isArray(settings.routes) ? routesJson(settings.routes) : settings.routes,
  };
}

/** Problems of routes given as plain data, each naming the route and the pattern (empty when they are good). */
export function dispatchRoutesProblems(routes: unknown): string[] {
  if (!Array.isArray(routes)) {
    return ["must be a list of routes"];
  }
  return routes.flatMap((route: unknown, i) => {
    if (!isObject(route) || typeof route.key !== "string" || !Array.isArray(route.patterns)) {
      return [`[${i}] must be {key, patterns}`];
    }
    return route.patterns.flatMap((pattern: unknown, j) => recordPatternProblems(pattern, `[${i}].patterns[${j}]`));
  });
}

/** Reads and checks the dispatcher's settings; throws InvalidEnvironmentError naming the variable at cold start. */
export function fromEnvironment(env: NodeJS.ProcessEnv = process.env): LogDispatchSettings {
  const reader = environmentReader(env);
  const topicArn = reader.required(VARIABLES.topicArn);
  const routes = reader.json<DispatchRoute[]>(VARIABLES.routes, dispatchRoutesProblems);
  return { topicArn, routes };
}

/**
 * The vocabulary of each handler room's `calls.ts`: the AWS calls its code makes, per mode, as the SDK command, the
 * IAM action the command needs and the resources it acts on. `npm run verify` derives what a function's role needs from
 * them (for the mode the function's environment selects), and a test compares them with the calls the function's
 * archive really sends, so they cannot drift from the code. Nothing here runs in Lambda.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Where a function runs: the partition, Region and account its SDK clients address when given a bare name. */
export interface Placement {
  partition: string;
  region: string;
  account: string;
}

/**
 * The resource of a call whose target the function is given at run time (the backfill's reader roles): the roles
 * whose trust policy lets the function's role assume them, as the plan defines them.
 */
export const ROLES_TRUSTING_THE_FUNCTION = "roles whose trust policy admits the function's role";

/** One AWS call a handler's code makes. */
export interface AwsCall {
  /** The SDK v3 client class, e.g. `DynamoDBClient`. */
  client: string;
  /** The SDK v3 command class, e.g. `UpdateItemCommand`. */
  command: string;
  /** The IAM action the command needs (AWS Service Authorization Reference), e.g. `dynamodb:UpdateItem`. */
  action: string;
  /**
   * What it acts on: ARNs (`*` matches any characters, as in IAM), `["*"]` for an action that takes no resource, or
   * {@link ROLES_TRUSTING_THE_FUNCTION}. Each is needed: the role must allow every one.
   */
  resources: string[];
  /**
   * `assumed-role`: the call is made with the credentials of a role the function assumes, so it is that role's need.
   * @default "own"
   */
  credentials?: "own" | "assumed-role";
}

/** A handler room's declaration of its calls. */
export interface HandlerCalls<S> {
  /** The room, e.g. `downloadThreshold` (its declaration is `functions/<room>/calls.ts`). */
  room: string;
  /** Its callback factory's name: the `cloudtrail-alerts:callback` tag of every function that runs it. */
  factory: string;
  /** Its settings, read from a function's environment variables (the room's `fromEnvironment`). */
  fromEnvironment(env: NodeJS.ProcessEnv): S;
  /** The mode `settings` select, in words, e.g. `counter: dynamodb`. */
  mode(settings: S): string;
  /** The calls its code makes with `settings`, on resources placed like the function. */
  calls(settings: S, where: Placement): AwsCall[];
}

/** The ARN of a regional resource in the function's partition, Region and account, e.g. `table/counts`. */
export function regionalArn(where: Placement, service: string, resource: string): string {
  return `arn:${where.partition}:${service}:${where.region}:${where.account}:${resource}`;
}

/** The ARN of an S3 bucket or object (S3 ARNs name neither Region nor account). */
export function s3Arn(where: Placement, bucketAndKey: string): string {
  return `arn:${where.partition}:s3:::${bucketAndKey}`;
}

/** A call on the caller's own credentials. */
export function awsCall(client: string, command: string, action: string, resources: string[]): AwsCall {
  return { client, command, action, resources };
}

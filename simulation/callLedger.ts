/**
 * Records every AWS SDK command the code under test sends, with the IAM action it needs and who sent it, so that the
 * least-privilege proof compares each role's policy with the calls its code really makes (not with a hand-kept list).
 *
 * Who sent it:
 * - `module`: the outermost `functions/<module>.ts`, or file of a room `functions/<module>/`, on the call stack
 *   (handler tests call handlers directly);
 * - `scope`: a label given with {@link CallLedger.attribute} around code that has no such frame, such as a handler
 *   loaded from its serialized archive (artifact tests attribute it to the deployed function's URN).
 */
import { AsyncLocalStorage } from "async_hooks";
import * as path from "path";

/** IAM service prefixes of the SDK clients the project uses. */
const IAM_PREFIX: Record<string, string> = {
  CloudTrailClient: "cloudtrail",
  CloudWatchLogsClient: "logs",
  DynamoDBClient: "dynamodb",
  S3Client: "s3",
  SFNClient: "states",
  SNSClient: "sns",
  STSClient: "sts",
};

/** Operations whose IAM action is not named after them (from the AWS Service Authorization Reference). */
const ACTION_OF_OPERATION: Record<string, string> = {
  "s3:HeadObject": "s3:GetObject",
  "s3:HeadBucket": "s3:ListBucket",
  "s3:ListObjectsV2": "s3:ListBucket",
  "s3:ListObjects": "s3:ListBucket",
  "s3:CopyObject": "s3:PutObject",
};

/** The IAM action a command needs, e.g. `SNSClient` + `PublishCommand` → `sns:Publish`. */
export function iamActionOf(clientName: string, commandName: string): string {
  const prefix = IAM_PREFIX[clientName];
  if (prefix === undefined) {
    throw new Error(`the call ledger does not know the IAM prefix of ${clientName}; add it to IAM_PREFIX`);
  }
  const operation = `${prefix}:${commandName.replace(/Command$/, "")}`;
  return ACTION_OF_OPERATION[operation] ?? operation;
}

export interface RecordedCall {
  action: string;
  client: string;
  command: string;
  /** The outermost functions/ module on the stack, if any. */
  module?: string;
  /** The label of the enclosing {@link CallLedger.attribute}, if any. */
  scope?: string;
}

// A room's files (functions/<room>/<file>.ts) count as the room; functions/shared/ belongs to no handler.
const FUNCTIONS_FRAME = new RegExp(`[\\\\/]functions[\\\\/](?!shared[\\\\/])([A-Za-z0-9_]+)(?:[\\\\/][A-Za-z0-9_]+)?\\.(ts|js):\\d+`);

function outermostFunctionsModule(stack: string | undefined): string | undefined {
  let found: string | undefined;
  for (const line of (stack ?? "").split("\n")) {
    const match = FUNCTIONS_FRAME.exec(line);
    if (match && !line.includes(`${path.sep}node_modules${path.sep}`)) {
      found = match[1];
    }
  }
  return found;
}

type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => unknown;

export class CallLedger {
  readonly calls: RecordedCall[] = [];
  private readonly scope = new AsyncLocalStorage<string>();

  /** Records one command sent by a client (class name) with the stack at the time it was sent. */
  record(clientName: string, commandName: string, stack: string | undefined): void {
    const module = outermostFunctionsModule(stack);
    const scope = this.scope.getStore();
    this.calls.push({
      action: iamActionOf(clientName, commandName),
      client: clientName,
      command: commandName,
      ...(module === undefined ? {} : { module }),
      ...(scope === undefined ? {} : { scope }),
    });
  }

  /** Runs `body`, attributing the calls it makes (across awaits) to `scope`. */
  attribute<T>(scope: string, body: () => Promise<T>): Promise<T> {
    return this.scope.run(scope, body);
  }

  /** The IAM actions recorded for a functions/ module. */
  actionsOfModule(module: string): Set<string> {
    return new Set(this.calls.filter((c) => c.module === module).map((c) => c.action));
  }

  /** The IAM actions recorded within a scope. */
  actionsOfScope(scope: string): Set<string> {
    return new Set(this.calls.filter((c) => c.scope === scope).map((c) => c.action));
  }

  /**
   * Records the calls an `aws-sdk-client-mock` stub received (it replaces `send`, so they never reach the SDK).
   * Sinon keeps each call's stack. Call it before the mock is reset.
   */
  recordMockedCalls(mock: { send: { getCalls(): Array<{ args: unknown[]; stack?: string; thisValue: unknown }> } }): void {
    for (const call of mock.send.getCalls()) {
      const command = call.args[0] as { constructor: { name: string } };
      const client = (call.thisValue as { constructor: { name: string } }).constructor.name;
      this.record(client, command.constructor.name, call.stack);
    }
  }

  /**
   * Wraps the SDK's shared `Client.prototype.send` so that every command sent by any client in this process is
   * recorded. Returns a function that restores it.
   */
  install(): () => void {
    const { Client } = require("@smithy/core/client") as { Client: { prototype: { send: Send } } };
    const original = Client.prototype.send;
    for (const [clientName, prefix] of Object.entries(IAM_PREFIX)) {
      const moduleName = `@aws-sdk/client-${{ logs: "cloudwatch-logs", states: "sfn" }[prefix] ?? prefix}`;
      const clientClass = (require(moduleName) as Record<string, { prototype: object }>)[clientName];
      if (Object.getPrototypeOf(clientClass.prototype) !== Client.prototype) {
        throw new Error(`${clientName} does not extend the shared SDK Client; its calls would not be recorded`);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const ledger = this;
    Client.prototype.send = function (this: { constructor: { name: string } }, command, ...rest) {
      // Deep enough to reach the handler's frame behind the SDK helpers and async boundaries.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 100;
      const stack = new Error().stack;
      Error.stackTraceLimit = limit;
      ledger.record(this.constructor.name, command.constructor.name, stack);
      return original.call(this, command, ...rest);
    } as Send;
    return () => {
      Client.prototype.send = original;
    };
  }
}

/** The ledger scope of calls made by a handler loaded from an archive whose `__index.js` has this digest. */
export function archiveScope(codeDigest: string): string {
  return `archive:${codeDigest}`;
}

/** The ledger of the test run (installed by the root hook). */
export const callLedger = new CallLedger();

/**
 * Records every AWS SDK command sent while it is installed, with the IAM action it needs and who sent it, so that the
 * least-privilege proof compares each role's policy with the calls its code really makes (not with a hand-kept list).
 * Who sent it is the `scope` given with {@link CallLedger.attribute} around the code, for example a Lambda function
 * loaded from its archive.
 */
import { AsyncLocalStorage } from "async_hooks";

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
  /** The label of the enclosing {@link CallLedger.attribute}, if any. */
  scope?: string;
}

type Send = (this: unknown, command: { constructor: { name: string } }, ...rest: unknown[]) => unknown;

export class CallLedger {
  readonly calls: RecordedCall[] = [];
  private readonly scope = new AsyncLocalStorage<string>();

  /** Records one command sent by a client (class name). */
  record(clientName: string, commandName: string): void {
    const scope = this.scope.getStore();
    this.calls.push({ action: iamActionOf(clientName, commandName), client: clientName, command: commandName, ...(scope === undefined ? {} : { scope }) });
  }

  /** Runs `body`, attributing the calls it makes (across awaits) to `scope`. */
  attribute<T>(scope: string, body: () => Promise<T>): Promise<T> {
    return this.scope.run(scope, body);
  }

  /** The calls recorded within `scope`. */
  callsOf(scope: string): RecordedCall[] {
    return this.calls.filter((c) => c.scope === scope);
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
      ledger.record(this.constructor.name, command.constructor.name);
      return original.call(this, command, ...rest);
    } as Send;
    return () => {
      Client.prototype.send = original;
    };
  }
}

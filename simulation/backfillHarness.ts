/**
 * The loopback world the backfill handler runs against in tests: STS (AssumeRole of reader roles), the LookupEvents
 * fake over HTTP and s3rver, with real SDK clients pointed at them. Under a {@link VirtualClock} the clients' requests
 * are tracked, so that the clock stands still while a request is on the wire.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type { S3Client } from "@aws-sdk/client-s3";
import { STSClient } from "@aws-sdk/client-sts";

import type { Clock } from "../functions/shared/runtime";
import { READER_SESSION_NAME, readerRoleCredentials } from "../functions/trailBackfill/credentials";
import { LookupEventsFake, type LookupEventsServer } from "./fakeCloudTrail";
import { FakeSts, type FakeRole } from "./fakeSts";
import { S3RVER_CREDENTIALS, S3Server } from "./s3Server";
import { VirtualClock } from "./virtualClock";

/** Credentials of the function's own role: s3rver accepts only its built-in pair, and the loopback STS any. */
export const CALLER_CREDENTIALS = S3RVER_CREDENTIALS;

type Sender = { send(...args: never[]): Promise<unknown> };

export class BackfillHarness {
  private readonly clients: Array<{ destroy(): void }> = [];

  private constructor(
    readonly clock: Clock,
    readonly sts: FakeSts,
    readonly lookup: LookupEventsFake,
    readonly lookupServer: LookupEventsServer,
    readonly s3: S3Server,
  ) {}

  static async start(p: { clock: Clock; roles: FakeRole[]; buckets: string[]; latencyMs?: number; tokenTtlMs?: number }): Promise<BackfillHarness> {
    const sts = await FakeSts.start(p.roles);
    const lookup = new LookupEventsFake({ clock: p.clock, ...(p.latencyMs === undefined ? {} : { latencyMs: p.latencyMs }), ...(p.tokenTtlMs === undefined ? {} : { tokenTtlMs: p.tokenTtlMs }) });
    const lookupServer = await lookup.listen((accessKeyId) => sts.accountOf(accessKeyId));
    const s3 = await S3Server.start(p.buckets);
    return new BackfillHarness(p.clock, sts, lookup, lookupServer, s3);
  }

  /** Environment that points SDK clients created from scratch (as in a Lambda archive) at the fakes. */
  get environment(): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: CALLER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CALLER_CREDENTIALS.secretAccessKey,
      AWS_REGION: "ap-northeast-1",
      AWS_ENDPOINT_URL_STS: this.sts.endpoint,
      AWS_ENDPOINT_URL_CLOUDTRAIL: this.lookupServer.endpoint,
      AWS_ENDPOINT_URL_S3: this.s3.endpoint,
    };
  }

  /** A LookupEvents client with the reader role's credentials, obtained from the loopback STS. */
  cloudTrailClient(roleArn: string, region: string, externalId?: string): Pick<CloudTrailClient, "send"> {
    const sts = new STSClient({ endpoint: this.sts.endpoint, region: "ap-northeast-1", credentials: CALLER_CREDENTIALS });
    const client = new CloudTrailClient({
      endpoint: this.lookupServer.endpoint,
      region,
      maxAttempts: 1,
      credentials: readerRoleCredentials(sts, roleArn, externalId, READER_SESSION_NAME),
    });
    this.clients.push(sts, client);
    return this.tracked(client);
  }

  /** An S3 client for s3rver; its requests are tracked by `clock` (default: the harness's clock). */
  s3Client(clock: Clock = this.clock): Pick<S3Client, "send"> {
    const client = this.s3.client();
    this.clients.push(client);
    return this.tracked(client, clock);
  }

  async stop(): Promise<void> {
    this.clients.forEach((client) => client.destroy());
    await Promise.all([this.sts.stop(), this.lookupServer.stop(), this.s3.stop()]);
  }

  private tracked<C extends Sender>(client: C, clock: Clock = this.clock): C {
    return clock instanceof VirtualClock ? clock.trackSends(client) : client;
  }
}

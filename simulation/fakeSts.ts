/**
 * A loopback STS endpoint for `AssumeRole` (Query protocol): it knows which roles exist, which principal each trusts
 * (by the caller's access key) and which external ID each requires, and hands out temporary credentials whose access
 * key identifies the assumed role's account to the other fakes.
 */
import { randomBytes, randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

/** A role the fake lets callers assume. */
export interface FakeRole {
  arn: string;
  /** Required `sts:ExternalId`. @default - none */
  externalId?: string;
}

/** One AssumeRole call. */
export interface AssumeRoleCall {
  roleArn: string;
  sessionName: string;
  externalId?: string;
  durationSeconds?: number;
  outcome: "ok" | "denied";
}

export class FakeSts {
  readonly calls: AssumeRoleCall[] = [];
  private readonly roles = new Map<string, FakeRole>();
  private readonly keys = new Map<string, string>();

  private constructor(private readonly server: http.Server) {}

  static async start(roles: FakeRole[]): Promise<FakeSts> {
    const server = http.createServer();
    const fake = new FakeSts(server);
    roles.forEach((role) => fake.roles.set(role.arn, role));
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => fake.handle(new URLSearchParams(Buffer.concat(chunks).toString("utf8")), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The account whose role issued `accessKeyId`, for the other fakes. */
  accountOf(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private handle(params: URLSearchParams, res: http.ServerResponse): void {
    const roleArn = params.get("RoleArn") ?? "";
    const sessionName = params.get("RoleSessionName") ?? "";
    const externalId = params.get("ExternalId") ?? undefined;
    const duration = params.get("DurationSeconds");
    const role = this.roles.get(roleArn);
    const denied = params.get("Action") !== "AssumeRole" || role === undefined || role.externalId !== externalId || !/^[\w+=,.@-]{2,64}$/.test(sessionName);
    this.calls.push({
      roleArn,
      sessionName,
      ...(externalId === undefined ? {} : { externalId }),
      ...(duration === null ? {} : { durationSeconds: Number(duration) }),
      outcome: denied ? "denied" : "ok",
    });
    if (denied) {
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
          `<Message>User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    const account = roleArn.split(":")[4];
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    this.keys.set(accessKeyId, account);
    const expiration = new Date(Date.now() + Number(duration ?? 3600) * 1000).toISOString();
    res.writeHead(200, { "content-type": "text/xml" });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString("hex")}</SecretAccessKey>` +
        `<SessionToken>${randomBytes(32).toString("base64")}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>AROAFAKEROLE:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${roleArn.split("/").pop()}/${sessionName}</Arn></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  }
}

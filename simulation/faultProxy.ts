/**
 * Fault injection for the loopback servers: a proxy on 127.0.0.1 in front of one of them (dynalite, s3rver) that
 * forwards each request unchanged or answers it with an injected error, so that the SDK's own retry logic sees real
 * service errors; and a "kill switch" that models Lambda stopping an invocation at a chosen request: that request never
 * completes (optionally after the service applied it), and nothing the invocation sends afterwards reaches a service.
 */
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

/** A request the proxy received. */
export interface ProxiedRequest {
  index: number;
  method: string;
  path: string;
  /** `X-Amz-Target` (JSON protocols), e.g. `DynamoDB_20120810.UpdateItem`. */
  target: string;
  body: Buffer;
}

/** An injected response. */
export interface InjectedResponse {
  status: number;
  contentType: string;
  body: string;
  /** The error name, for the record. */
  error: string;
}

/** A DynamoDB error response (AWS JSON 1.0), such as `ProvisionedThroughputExceededException`. */
export function dynamoDbError(name: string, status = 400): InjectedResponse {
  const namespace = name === "ThrottlingException" ? "com.amazon.coral.availability" : "com.amazonaws.dynamodb.v20120810";
  return { status, contentType: "application/x-amz-json-1.0", body: JSON.stringify({ __type: `${namespace}#${name}`, message: "injected failure" }), error: name };
}

/** An S3 error response (REST-XML), such as `InternalError` (500) or `SlowDown` (503). */
export function s3Error(code: string, status: number): InjectedResponse {
  return {
    status,
    contentType: "application/xml",
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected failure</Message><RequestId>${randomUUID()}</RequestId></Error>`,
    error: code,
  };
}

export class FaultProxy {
  /** Requests received, with the error injected for each (if any). */
  readonly requests: Array<Omit<ProxiedRequest, "body"> & { injected?: string }> = [];
  /** Decides whether to answer a request with an error instead of forwarding it. */
  inject?: (request: ProxiedRequest) => InjectedResponse | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstreamEndpoint: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(upstreamEndpoint));
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => proxy.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests whose target (JSON protocols) or method and path (REST) match. */
  count(predicate: (request: FaultProxy["requests"][number]) => boolean): number {
    return this.requests.filter(predicate).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const request: ProxiedRequest = { index: this.requests.length, method: req.method ?? "GET", path: req.url ?? "/", target: String(req.headers["x-amz-target"] ?? ""), body };
    const injected = this.inject?.(request);
    this.requests.push({ index: request.index, method: request.method, path: request.path, target: request.target, ...(injected ? { injected: injected.error } : {}) });
    if (injected) {
      res.writeHead(injected.status, { "content-type": injected.contentType, "x-amzn-requestid": randomUUID(), "x-amz-request-id": randomUUID() });
      res.end(injected.body);
      return;
    }
    // Headers unchanged (the Host header included), so that signatures still verify upstream.
    const forward = http.request(
      { host: this.upstream.hostname, port: this.upstream.port, method: request.method, path: request.path, headers: req.headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on("error", (error) => {
      res.writeHead(502);
      res.end(error.message);
    });
    forward.end(body);
  }
}

/** The error a killed invocation's pending and later requests fail with. */
export const KILLED = "LambdaInvocationKilled";

/**
 * Models Lambda stopping an invocation (a timeout, the process running out of memory) at its `at`-th AWS request
 * (1-based, counted over every client wrapped with the same switch): that request fails without reaching the service,
 * or, with `applied`, after the service applied it (the response is lost). Every later request fails too, so nothing
 * the dead invocation still tries reaches a service.
 */
export class KillSwitch {
  sent = 0;
  killed = false;
  /** The kind of the request that was on the wire when the invocation was killed. */
  killedDuring?: string;

  constructor(private readonly at: { request: number; applied: boolean } | undefined) {}

  wrap<C extends { send(command: never, ...rest: never[]): Promise<unknown> }>(client: C): C {
    const send = async (command: never, ...rest: never[]) => {
      const kind = (command as object).constructor.name.replace(/Command$/, "");
      if (this.killed) {
        throw Object.assign(new Error("the invocation was killed"), { name: KILLED });
      }
      this.sent += 1;
      if (this.at !== undefined && this.sent === this.at.request) {
        this.killed = true;
        this.killedDuring = `${kind}${this.at.applied ? " (applied)" : ""}`;
        if (this.at.applied) {
          await client.send(command, ...rest);
        }
        throw Object.assign(new Error("the invocation was killed"), { name: KILLED });
      }
      return client.send(command, ...rest);
    };
    return { send } as unknown as C;
  }
}

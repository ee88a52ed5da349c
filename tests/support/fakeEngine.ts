/**
 * A resource monitor and engine on loopback, speaking Pulumi's own gRPC protocol (the protobuf services that
 * `@pulumi/pulumi` ships), so that a program can be run by Pulumi's real Node.js language runtime
 * (`@pulumi/pulumi/cmd/run`) without the Pulumi CLI. It records the engine log lines and the registered resources,
 * answers every feature query with "not supported", and invents URNs.
 */
import { createRequire } from "module";

// The runtime's own copies of gRPC and protobuf, so that messages are of the classes the runtime checks.
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any */
const grpc: any = fromPulumi("@grpc/grpc-js");
const resourceGrpc: any = fromPulumi("./proto/resource_grpc_pb");
const resourceProto: any = fromPulumi("./proto/resource_pb");
const engineGrpc: any = fromPulumi("./proto/engine_grpc_pb");
const engineProto: any = fromPulumi("./proto/engine_pb");
const emptyProto: any = fromPulumi("google-protobuf/google/protobuf/empty_pb");
const structProto: any = fromPulumi("google-protobuf/google/protobuf/struct_pb");

/** One engine log line: its severity name (DEBUG, INFO, WARNING, ERROR) and message. */
export interface EngineLog {
  severity: string;
  message: string;
}

/** A running fake engine: its address, what it recorded, and how to stop it. */
export interface FakeEngine {
  address: string;
  logs: EngineLog[];
  registered: { type: string; name: string }[];
  stop(): Promise<void>;
}

type Callback = (error: Error | null, response?: unknown) => void;
interface Call {
  request: any;
}

/** Starts the fake monitor and engine on a free loopback port. */
export async function startFakeEngine(project: string, stack: string): Promise<FakeEngine> {
  const logs: EngineLog[] = [];
  const registered: { type: string; name: string }[] = [];
  let root = "";
  const severities = Object.fromEntries(Object.entries(engineProto.LogSeverity as Record<string, number>).map(([name, value]) => [value, name]));
  const server = new grpc.Server();
  server.addService(resourceGrpc.ResourceMonitorService, {
    supportsFeature(_call: Call, callback: Callback) {
      const response = new resourceProto.SupportsFeatureResponse();
      response.setHassupport(false);
      callback(null, response);
    },
    registerResource(call: Call, callback: Callback) {
      const type = call.request.getType() as string;
      const name = call.request.getName() as string;
      registered.push({ type, name });
      const response = new resourceProto.RegisterResourceResponse();
      response.setUrn(`urn:pulumi:${stack}::${project}::${type}::${name}`);
      response.setId("");
      response.setObject(new structProto.Struct());
      callback(null, response);
    },
    registerResourceOutputs(_call: Call, callback: Callback) {
      callback(null, new emptyProto.Empty());
    },
    signalAndWaitForShutdown(_call: Call, callback: Callback) {
      callback(null, new emptyProto.Empty());
    },
  });
  server.addService(engineGrpc.EngineService, {
    log(call: Call, callback: Callback) {
      logs.push({ severity: severities[call.request.getSeverity() as number] ?? "UNKNOWN", message: call.request.getMessage() as string });
      callback(null, new emptyProto.Empty());
    },
    getRootResource(_call: Call, callback: Callback) {
      const response = new engineProto.GetRootResourceResponse();
      response.setUrn(root);
      callback(null, response);
    },
    setRootResource(call: Call, callback: Callback) {
      root = call.request.getUrn() as string;
      callback(null, new engineProto.SetRootResourceResponse());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error: Error | null, bound: number) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    logs,
    registered,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

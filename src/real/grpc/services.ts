// The gRPC methods of etcd's v3 API, read from the generated descriptor: paths, streaming flags and
// message names. Messages are encoded and decoded by the handlers and the client themselves
// (codec.ts), so a malformed request becomes InvalidArgument with a useful message.

import protobuf from "protobufjs";
import { DESCRIPTOR } from "./descriptor.generated.js";

export interface MethodInfo {
  /** Full service name, e.g. "etcdserverpb.KV". */
  readonly service: string;
  /** Method name as in the .proto file, e.g. "Range". */
  readonly method: string;
  /** The HTTP/2 path, e.g. "/etcdserverpb.KV/Range". */
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export type ServiceName =
  | "etcdserverpb.KV"
  | "etcdserverpb.Watch"
  | "etcdserverpb.Lease"
  | "etcdserverpb.Cluster"
  | "etcdserverpb.Maintenance"
  | "etcdserverpb.Auth";

let root: protobuf.Root | undefined;

function descriptorRoot(): protobuf.Root {
  if (root === undefined) {
    root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
    root.resolveAll();
  }
  return root;
}

function typeName(type: protobuf.Type | null, fallback: string): string {
  return type === null ? fallback : type.fullName.replace(/^\./, "");
}

const methodCache = new Map<ServiceName, MethodInfo[]>();

/** Every method of `service`, in .proto order (computed once per service). */
export function methodsOf(service: ServiceName): MethodInfo[] {
  const cached = methodCache.get(service);
  if (cached !== undefined) return cached;
  const svc = descriptorRoot().lookupService(service);
  const methods = svc.methodsArray.map((m) => ({
    service,
    method: m.name,
    path: `/${service}/${m.name}`,
    requestType: typeName(m.resolvedRequestType, m.requestType),
    responseType: typeName(m.resolvedResponseType, m.responseType),
    requestStream: m.requestStream === true,
    responseStream: m.responseStream === true,
  }));
  methodCache.set(service, methods);
  return methods;
}

const methodByPath = new Map<string, MethodInfo>();

/** One method; throws for a name the service does not have. */
export function methodInfo(service: ServiceName, method: string): MethodInfo {
  const path = `/${service}/${method}`;
  const cached = methodByPath.get(path);
  if (cached !== undefined) return cached;
  const found = methodsOf(service).find((m) => m.method === method);
  if (found === undefined) throw new Error(`no method ${service}/${method}`);
  methodByPath.set(path, found);
  return found;
}

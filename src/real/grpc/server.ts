// The etcd v3 gRPC services over a Backend: KV, Watch, Lease, Cluster and Maintenance (Auth is
// defined in the descriptor but not registered, so clients get UNIMPLEMENTED for it, as from an
// etcd built without it).
//
// Every handler decodes its request itself (a malformed one is InvalidArgument), calls the backend,
// and answers once: a value is encoded and sent, an EtcdError becomes a status with etcd's code and
// exact message, and anything thrown becomes INTERNAL without taking the process down. Streams
// (Watch, LeaseKeepAlive) close their backend side on end, cancel or error. Limits: the request
// size (etcd's --max-request-bytes plus gRPC overhead, enforced by grpc-js as RESOURCE_EXHAUSTED)
// and the bytes a watch stream may have queued for a slow reader.

import {
  Server,
  status as Status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { EtcdError } from "../../api/errors.js";
import type { ResponseHeader } from "../../api/rpc.js";
import type { SnapshotResponse } from "../../api/maintenance.js";
import type { Result } from "../../lib/result.js";
import type { Backend, Done } from "./backend.js";
import { CodecError, codecFor, messageCodec, type MessageCodec } from "./codec.js";
import { methodInfo, rawServiceDefinition, type MethodInfo, type ServiceName } from "./services.js";
import { alignSnapshot, snapshotSha256 } from "./snapshot-trailer.js";
import {
  internalStatus,
  statusObject,
  statusOfEtcdError,
  statusOfException,
  type StatusObject,
} from "./status.js";

/** etcd's default --max-request-bytes (1.5 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** What etcd adds to --max-request-bytes for gRPC framing when it sets the receive limit. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** etcd sends snapshots in blobs of this size. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** Bytes a watch stream may hold unsent before it is ended with RESOURCE_EXHAUSTED. */
export const DEFAULT_MAX_WATCH_SEND_BUFFER_BYTES = 64 * 1024 * 1024;

/** Sees every call finish, for metrics (grpc_server_handled_total and friends). */
export interface CallObserver {
  started?(method: MethodInfo): void;
  /** `code` is the gRPC status code the call ended with (0 for OK). */
  handled?(method: MethodInfo, code: Status): void;
}

export interface GrpcServerOptions {
  /** etcd's --max-request-bytes; the gRPC receive limit is this plus GRPC_OVERHEAD_BYTES. */
  readonly maxRequestBytes?: number;
  /** Sent in every SnapshotResponse.version (etcd's storage version). */
  readonly storageVersion?: string;
  readonly maxWatchSendBufferBytes?: number;
  readonly observer?: CallObserver;
  /** Called with every INTERNAL error, for the log. */
  readonly onInternalError?: (method: MethodInfo, error: unknown) => void;
}

type Handler = UntypedServiceImplementation[string];

interface Context {
  readonly backend: Backend;
  readonly options: GrpcServerOptions;
  /** The newest header the backend sent, for answers that have none of their own. */
  latestHeader: ResponseHeader;
}

/** A grpc-js Server with etcd's services registered; bind it or feed it connections. */
export function createGrpcServer(backend: Backend, options: GrpcServerOptions = {}): Server {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const server = new Server({
    "grpc.max_receive_message_length": maxRequestBytes + GRPC_OVERHEAD_BYTES,
    "grpc.max_send_message_length": -1,
  });
  const ctx: Context = {
    backend,
    options,
    latestHeader: { cluster_id: 0n, member_id: 0n, revision: 0, raft_term: 0 },
  };
  const services: Record<Exclude<ServiceName, "etcdserverpb.Auth">, Record<string, Handler>> = {
    "etcdserverpb.KV": kvHandlers(ctx),
    "etcdserverpb.Watch": { Watch: watchHandler(ctx) },
    "etcdserverpb.Lease": leaseHandlers(ctx),
    "etcdserverpb.Cluster": clusterHandlers(ctx),
    "etcdserverpb.Maintenance": maintenanceHandlers(ctx),
  };
  for (const [name, handlers] of Object.entries(services)) {
    server.addService(rawServiceDefinition(name as ServiceName), handlers);
  }
  return server;
}

// ---- unary calls -----------------------------------------------------------------------------------

function info(service: ServiceName, method: string): MethodInfo {
  return methodInfo(service, method);
}

function codecsOf(m: MethodInfo): { req: MessageCodec<unknown>; resp: MessageCodec<unknown> } {
  return { req: messageCodec(m.requestType), resp: messageCodec(m.responseType) };
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function noteHeader(ctx: Context, value: unknown): void {
  const header = (value as { header?: ResponseHeader }).header;
  if (header !== undefined) ctx.latestHeader = header;
}

/** Something of ours failed (encoding a response included): INTERNAL, and the log hears of it. */
function internal(ctx: Context, m: MethodInfo, e: unknown): StatusObject & Error {
  ctx.options.onInternalError?.(m, e);
  return internalStatus(e);
}

/** A failure while taking a request in: the client's fault if it did not decode, else ours. */
function failed(ctx: Context, m: MethodInfo, e: unknown): StatusObject & Error {
  return e instanceof CodecError ? statusOfException(e) : internal(ctx, m, e);
}

/** A unary handler: decode, call the backend, answer once. */
function unary<Q, R>(
  ctx: Context,
  m: MethodInfo,
  invoke: (req: Q, done: Done<R>) => void,
): Handler {
  const { req: reqCodec, resp: respCodec } = codecsOf(m);
  const observer = ctx.options.observer;
  return ((call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    observer?.started?.(m);
    let answered = false;
    const fail = (status: StatusObject & Error): void => {
      observer?.handled?.(m, status.code);
      callback(status);
    };
    const done: Done<R> = (result: Result<R, EtcdError>) => {
      if (answered) return;
      answered = true;
      if (!result.ok) return fail(statusOfEtcdError(result.error));
      let bytes: Uint8Array;
      try {
        bytes = respCodec.encode(result.value);
      } catch (e) {
        return fail(internal(ctx, m, e));
      }
      noteHeader(ctx, result.value);
      observer?.handled?.(m, Status.OK);
      callback(null, toBuffer(bytes));
    };
    let req: Q;
    try {
      req = reqCodec.decode(call.request) as Q;
    } catch (e) {
      answered = true;
      return fail(statusOfException(e));
    }
    try {
      invoke(req, done);
    } catch (e) {
      // The request decoded, so whatever the backend threw is a bug of ours.
      if (answered) return void ctx.options.onInternalError?.(m, e);
      answered = true;
      fail(internal(ctx, m, e));
    }
  }) as Handler;
}

function kvHandlers(ctx: Context): Record<string, Handler> {
  const b = ctx.backend;
  const kv = (method: string): MethodInfo => info("etcdserverpb.KV", method);
  return {
    Range: unary(ctx, kv("Range"), b.range.bind(b)),
    RangeStream: rangeStreamHandler(ctx),
    Put: unary(ctx, kv("Put"), b.put.bind(b)),
    DeleteRange: unary(ctx, kv("DeleteRange"), b.deleteRange.bind(b)),
    Txn: unary(ctx, kv("Txn"), b.txn.bind(b)),
    Compact: unary(ctx, kv("Compact"), b.compact.bind(b)),
  };
}

function leaseHandlers(ctx: Context): Record<string, Handler> {
  const b = ctx.backend;
  const lease = (method: string): MethodInfo => info("etcdserverpb.Lease", method);
  return {
    LeaseGrant: unary(ctx, lease("LeaseGrant"), b.leaseGrant.bind(b)),
    LeaseRevoke: unary(ctx, lease("LeaseRevoke"), b.leaseRevoke.bind(b)),
    LeaseKeepAlive: keepAliveHandler(ctx),
    LeaseTimeToLive: unary(ctx, lease("LeaseTimeToLive"), b.leaseTimeToLive.bind(b)),
    LeaseLeases: unary(ctx, lease("LeaseLeases"), b.leaseLeases.bind(b)),
  };
}

function clusterHandlers(ctx: Context): Record<string, Handler> {
  const b = ctx.backend;
  const cluster = (method: string): MethodInfo => info("etcdserverpb.Cluster", method);
  return {
    MemberAdd: unary(ctx, cluster("MemberAdd"), b.memberAdd.bind(b)),
    MemberRemove: unary(ctx, cluster("MemberRemove"), b.memberRemove.bind(b)),
    MemberUpdate: unary(ctx, cluster("MemberUpdate"), b.memberUpdate.bind(b)),
    MemberList: unary(ctx, cluster("MemberList"), b.memberList.bind(b)),
    MemberPromote: unary(ctx, cluster("MemberPromote"), b.memberPromote.bind(b)),
  };
}

function maintenanceHandlers(ctx: Context): Record<string, Handler> {
  const b = ctx.backend;
  const maintenance = (method: string): MethodInfo => info("etcdserverpb.Maintenance", method);
  return {
    Alarm: unary(ctx, maintenance("Alarm"), b.alarm.bind(b)),
    Status: unary(ctx, maintenance("Status"), (_req, done) => b.status(done)),
    Defragment: unary(ctx, maintenance("Defragment"), (_req, done) => b.defragment(done)),
    Hash: unary(ctx, maintenance("Hash"), (_req, done) => b.hash(done)),
    HashKV: unary(ctx, maintenance("HashKV"), b.hashKV.bind(b)),
    Snapshot: snapshotHandler(ctx),
    MoveLeader: unary(ctx, maintenance("MoveLeader"), b.moveLeader.bind(b)),
  };
}

// ---- streams ---------------------------------------------------------------------------------------

/**
 * Ends a server stream once: with `status`, or OK when it is undefined. Later calls do nothing, so
 * every path out of a stream can call it.
 */
function streamEnder(
  ctx: Context,
  m: MethodInfo,
  call: ServerWritableStream<Buffer, Buffer> | ServerDuplexStream<Buffer, Buffer>,
  cleanup: () => void,
): (status?: StatusObject & Error) => void {
  let ended = false;
  return (status) => {
    if (ended) return;
    ended = true;
    try {
      cleanup();
    } catch (e) {
      ctx.options.onInternalError?.(m, e);
    }
    ctx.options.observer?.handled?.(m, status?.code ?? Status.OK);
    if (call.cancelled || call.destroyed) return;
    if (status === undefined) call.end();
    else call.emit("error", status);
  };
}

function watchHandler(ctx: Context): Handler {
  const m = info("etcdserverpb.Watch", "Watch");
  const reqCodec = codecFor("etcdserverpb.WatchRequest");
  const respCodec = codecFor("etcdserverpb.WatchResponse");
  const maxBuffered = ctx.options.maxWatchSendBufferBytes ?? DEFAULT_MAX_WATCH_SEND_BUFFER_BYTES;
  return ((call: ServerDuplexStream<Buffer, Buffer>) => {
    ctx.options.observer?.started?.(m);
    let watch: ReturnType<Backend["watch"]> | undefined;
    const end = streamEnder(ctx, m, call, () => watch?.close());
    const send = (responses: Parameters<Parameters<Backend["watch"]>[0]>[0]): void => {
      if (call.cancelled || call.destroyed) return end();
      try {
        for (const r of responses) call.write(toBuffer(respCodec.encode(r)));
      } catch (e) {
        return end(internal(ctx, m, e));
      }
      if (call.writableLength > maxBuffered) {
        end(statusObject(Status.RESOURCE_EXHAUSTED, "detcd: watch stream send buffer full"));
      }
    };
    try {
      watch = ctx.backend.watch(send);
    } catch (e) {
      return end(internal(ctx, m, e));
    }
    call.on("data", (bytes: Buffer) => {
      try {
        watch?.request(reqCodec.decode(bytes));
      } catch (e) {
        end(failed(ctx, m, e));
      }
    });
    call.on("end", () => end());
    call.on("cancelled", () => end());
    call.on("error", () => end());
    call.on("close", () => end());
  }) as Handler;
}

function keepAliveHandler(ctx: Context): Handler {
  const m = info("etcdserverpb.Lease", "LeaseKeepAlive");
  const reqCodec = codecFor("etcdserverpb.LeaseKeepAliveRequest");
  const respCodec = codecFor("etcdserverpb.LeaseKeepAliveResponse");
  return ((call: ServerDuplexStream<Buffer, Buffer>) => {
    ctx.options.observer?.started?.(m);
    let open = true;
    const end = streamEnder(ctx, m, call, () => {
      open = false;
    });
    const renew = (bytes: Buffer): void => {
      const req = reqCodec.decode(bytes);
      ctx.backend.leaseKeepAlive(req, (result) => {
        if (!open) return;
        // etcd answers a lease it does not know with TTL 0 on the stream, not with an error.
        if (!result.ok && result.error.name !== "LeaseNotFound") {
          return end(statusOfEtcdError(result.error));
        }
        const resp = result.ok ? result.value : { header: ctx.latestHeader, ID: req.ID, TTL: 0 };
        if (result.ok) noteHeader(ctx, resp);
        try {
          call.write(toBuffer(respCodec.encode(resp)));
        } catch (e) {
          end(internal(ctx, m, e));
        }
      });
    };
    call.on("data", (bytes: Buffer) => {
      try {
        renew(bytes);
      } catch (e) {
        end(failed(ctx, m, e));
      }
    });
    call.on("end", () => end());
    call.on("cancelled", () => end());
    call.on("error", () => end());
    call.on("close", () => end());
  }) as Handler;
}

function rangeStreamHandler(ctx: Context): Handler {
  const m = info("etcdserverpb.KV", "RangeStream");
  const reqCodec = codecFor("etcdserverpb.RangeRequest");
  const respCodec = codecFor("etcdserverpb.RangeStreamResponse");
  return ((call: ServerWritableStream<Buffer, Buffer>) => {
    ctx.options.observer?.started?.(m);
    const end = streamEnder(ctx, m, call, () => {});
    try {
      // One chunk holding the whole response: a valid RangeStream answer (the merge of the
      // chunks is the Range response).
      ctx.backend.range(reqCodec.decode(call.request), (result) => {
        if (!result.ok) return end(statusOfEtcdError(result.error));
        try {
          call.write(toBuffer(respCodec.encode({ range_response: result.value })));
          end();
        } catch (e) {
          end(internal(ctx, m, e));
        }
      });
    } catch (e) {
      end(failed(ctx, m, e));
    }
  }) as Handler;
}

function snapshotHandler(ctx: Context): Handler {
  const m = info("etcdserverpb.Maintenance", "Snapshot");
  const respCodec = codecFor("etcdserverpb.SnapshotResponse");
  const version = ctx.options.storageVersion ?? "";
  return ((call: ServerWritableStream<Buffer, Buffer>) => {
    ctx.options.observer?.started?.(m);
    const end = streamEnder(ctx, m, call, () => {});
    const chunk = (blob: Uint8Array, remaining: number): Buffer => {
      const resp: SnapshotResponse = { remaining_bytes: remaining, blob, version };
      return toBuffer(respCodec.encode(resp));
    };
    const stream = (data: Uint8Array): void => {
      let offset = 0;
      const pump = (): void => {
        while (offset < data.length) {
          if (call.cancelled || call.destroyed) return end();
          const blob = data.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES);
          offset += blob.length;
          if (!call.write(chunk(blob, data.length - offset))) {
            call.once("drain", pump);
            return;
          }
        }
        call.write(chunk(snapshotSha256(data), 0));
        end();
      };
      pump();
    };
    try {
      ctx.backend.snapshot((result) => {
        if (!result.ok) return end(statusOfEtcdError(result.error));
        try {
          stream(alignSnapshot(result.value));
        } catch (e) {
          end(internal(ctx, m, e));
        }
      });
    } catch (e) {
      end(internal(ctx, m, e));
    }
  }) as Handler;
}

// The etcd v3 gRPC services over a Backend: KV, Watch, Lease, Cluster, Maintenance and, when the
// backend has auth, Auth (without it clients get UNIMPLEMENTED for Auth, as from an etcd built
// without it). The methods are served on HTTP/2 by http2-server.ts.
//
// Credentials: with auth, every call first presents its "token" metadata and its verified client
// certificate's common name to the backend, which resolves them to the caller (an error, such as
// an expired token, fails the call); the caller goes to the method. Authenticate, MemberList and
// LeaseLeases skip this, as etcd serves them without looking at credentials. A watch stream
// resolves its credentials when it opens; a failure then refuses each watch it creates.
//
// Every handler decodes its request itself (a malformed one is InvalidArgument), calls the backend,
// and answers once: a value is encoded and sent, an EtcdError becomes a status with etcd's code and
// exact message, and anything thrown becomes INTERNAL without taking the process down. Streams
// (Watch, LeaseKeepAlive) close their backend side on end, cancel or error. Limits: the request
// size (etcd's --max-request-bytes plus gRPC overhead, enforced by the transport as
// RESOURCE_EXHAUSTED) and the bytes a watch stream may have queued for a slow reader.

import { status as Status } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { EtcdError } from "../../api/errors.js";
import type { ResponseHeader } from "../../api/rpc.js";
import type { SnapshotResponse } from "../../api/maintenance.js";
import type { Result } from "../../lib/result.js";
import type {
  AuthBackend,
  AuthInfo,
  Backend,
  CallCredentials,
  Done,
  WatchCredentials,
} from "./backend.js";
import { CodecError, codecFor, messageCodec, type MessageCodec } from "./codec.js";
import type { GrpcMethod, GrpcStream, UnaryMethod } from "./http2-server.js";
import { methodInfo, type MethodInfo, type ServiceName } from "./services.js";
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

interface Context {
  readonly backend: Backend;
  readonly options: GrpcServerOptions;
  /** The newest header the backend sent, for answers that have none of their own. */
  latestHeader: ResponseHeader;
}

/** etcd's methods by HTTP/2 path, and the largest request message they accept. */
export interface EtcdGrpcMethods {
  readonly methods: ReadonlyMap<string, GrpcMethod>;
  readonly maxReceiveBytes: number;
}

/** The methods of etcd's services over `backend`, ready for a GrpcHttp2Server. */
export function etcdGrpcMethods(
  backend: Backend,
  options: GrpcServerOptions = {},
): EtcdGrpcMethods {
  const maxReceiveBytes =
    (options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) + GRPC_OVERHEAD_BYTES;
  const ctx: Context = {
    backend,
    options,
    latestHeader: { cluster_id: 0n, member_id: 0n, revision: 0, raft_term: 0 },
  };
  const services: Partial<Record<ServiceName, Record<string, GrpcMethod>>> = {
    "etcdserverpb.KV": kvHandlers(ctx),
    "etcdserverpb.Watch": { Watch: watchHandler(ctx) },
    "etcdserverpb.Lease": leaseHandlers(ctx),
    "etcdserverpb.Cluster": clusterHandlers(ctx),
    "etcdserverpb.Maintenance": maintenanceHandlers(ctx),
  };
  if (backend.auth !== undefined) services["etcdserverpb.Auth"] = authHandlers(ctx, backend.auth);
  const methods = new Map<string, GrpcMethod>();
  for (const [service, handlers] of Object.entries(services)) {
    for (const [name, method] of Object.entries(handlers)) {
      const m = info(service as ServiceName, name);
      const kind = m.requestStream ? "bidi" : m.responseStream ? "server-stream" : "unary";
      if (method.kind !== kind) throw new Error(`${m.path} is ${kind}, its handler ${method.kind}`);
      methods.set(m.path, method);
    }
  }
  return { methods, maxReceiveBytes };
}

// ---- unary calls -----------------------------------------------------------------------------------

function info(service: ServiceName, method: string): MethodInfo {
  return methodInfo(service, method);
}

function codecsOf(m: MethodInfo): { req: MessageCodec<unknown>; resp: MessageCodec<unknown> } {
  return { req: messageCodec(m.requestType), resp: messageCodec(m.responseType) };
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

/** Methods etcd serves without looking at credentials. */
const WITHOUT_CREDENTIALS: ReadonlySet<string> = new Set([
  "Authenticate",
  "MemberList",
  "LeaseLeases",
]);

/** Resolves a call's credentials (nothing to resolve without auth), then runs `then`. */
function withCaller(
  ctx: Context,
  m: MethodInfo,
  credentials: () => CallCredentials,
  fail: (error: EtcdError) => void,
  then: (as: AuthInfo | undefined) => void,
): void {
  const auth = ctx.backend.auth;
  if (auth === undefined || WITHOUT_CREDENTIALS.has(m.method)) return then(undefined);
  auth.credentials(credentials(), (r) => (r.ok ? then(r.value) : fail(r.error)));
}

/** A unary method: decode, resolve the caller, call the backend, answer once. */
function unary<Q, R>(
  ctx: Context,
  m: MethodInfo,
  invoke: (req: Q, done: Done<R>, as?: AuthInfo) => void,
): GrpcMethod {
  const { req: reqCodec, resp: respCodec } = codecsOf(m);
  const observer = ctx.options.observer;
  const method: UnaryMethod = {
    serve(request, credentials, answer) {
      observer?.started?.(m);
      let answered = false;
      const fail = (status: StatusObject & Error): void => {
        observer?.handled?.(m, status.code);
        answer({ ok: false, status });
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
        answer({ ok: true, bytes });
      };
      let req: Q;
      try {
        req = reqCodec.decode(request) as Q;
      } catch (e) {
        answered = true;
        return fail(statusOfException(e));
      }
      const run = (as: AuthInfo | undefined): void => {
        try {
          invoke(req, done, as);
        } catch (e) {
          // The request decoded, so whatever the backend threw is a bug of ours.
          if (answered) return void ctx.options.onInternalError?.(m, e);
          answered = true;
          fail(internal(ctx, m, e));
        }
      };
      try {
        withCaller(ctx, m, credentials, (e) => done({ ok: false, error: e }), run);
      } catch (e) {
        if (answered) return void ctx.options.onInternalError?.(m, e);
        answered = true;
        fail(internal(ctx, m, e));
      }
    },
  };
  return { kind: "unary", unary: method };
}

function kvHandlers(ctx: Context): Record<string, GrpcMethod> {
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

function leaseHandlers(ctx: Context): Record<string, GrpcMethod> {
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

function clusterHandlers(ctx: Context): Record<string, GrpcMethod> {
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

function maintenanceHandlers(ctx: Context): Record<string, GrpcMethod> {
  const b = ctx.backend;
  const maintenance = (method: string): MethodInfo => info("etcdserverpb.Maintenance", method);
  return {
    Alarm: unary(ctx, maintenance("Alarm"), b.alarm.bind(b)),
    Status: unary(ctx, maintenance("Status"), (_req, done, as) => b.status(done, as)),
    Defragment: unary(ctx, maintenance("Defragment"), (_req, done, as) => b.defragment(done, as)),
    Hash: unary(ctx, maintenance("Hash"), (_req, done, as) => b.hash(done, as)),
    HashKV: unary(ctx, maintenance("HashKV"), b.hashKV.bind(b)),
    Snapshot: snapshotHandler(ctx),
    MoveLeader: unary(ctx, maintenance("MoveLeader"), b.moveLeader.bind(b)),
  };
}

function authHandlers(ctx: Context, a: AuthBackend): Record<string, GrpcMethod> {
  type Message = Record<string, unknown>;
  const h = <R>(name: string, f: (req: Message, done: Done<R>, as?: AuthInfo) => void) =>
    unary<Message, R>(ctx, info("etcdserverpb.Auth", name), (req, done, as) =>
      f.call(a, req, done, as),
    );
  return {
    AuthEnable: h("AuthEnable", a.authEnable),
    AuthDisable: h("AuthDisable", a.authDisable),
    AuthStatus: h("AuthStatus", a.authStatus),
    Authenticate: h("Authenticate", (req, done) => a.authenticate(req, done)),
    UserAdd: h("UserAdd", a.userAdd),
    UserGet: h("UserGet", a.userGet),
    UserList: h("UserList", a.userList),
    UserDelete: h("UserDelete", a.userDelete),
    UserChangePassword: h("UserChangePassword", a.userChangePassword),
    UserGrantRole: h("UserGrantRole", a.userGrantRole),
    UserRevokeRole: h("UserRevokeRole", a.userRevokeRole),
    RoleAdd: h("RoleAdd", a.roleAdd),
    RoleGet: h("RoleGet", a.roleGet),
    RoleList: h("RoleList", a.roleList),
    RoleDelete: h("RoleDelete", a.roleDelete),
    RoleGrantPermission: h("RoleGrantPermission", a.roleGrantPermission),
    RoleRevokePermission: h("RoleRevokePermission", a.roleRevokePermission),
  };
}

// ---- streams ---------------------------------------------------------------------------------------

/**
 * Ends a stream once: with `status`, or OK when it is undefined. Later calls do nothing, so every
 * path out of a stream can call it.
 */
function streamEnder(
  ctx: Context,
  m: MethodInfo,
  call: GrpcStream,
  cleanup: () => void,
): (status?: StatusObject) => void {
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
    call.end(status);
  };
}

function watchHandler(ctx: Context): GrpcMethod {
  const m = info("etcdserverpb.Watch", "Watch");
  const reqCodec = codecFor("etcdserverpb.WatchRequest");
  const respCodec = codecFor("etcdserverpb.WatchResponse");
  const maxBuffered = ctx.options.maxWatchSendBufferBytes ?? DEFAULT_MAX_WATCH_SEND_BUFFER_BYTES;
  const serve = (call: GrpcStream): void => {
    ctx.options.observer?.started?.(m);
    let watch: ReturnType<Backend["watch"]> | undefined;
    let closed = false;
    const end = streamEnder(ctx, m, call, () => {
      closed = true;
      watch?.close();
    });
    const send = (responses: Parameters<Parameters<Backend["watch"]>[0]>[0]): void => {
      if (call.closed) return end();
      try {
        for (const r of responses) call.write(respCodec.encode(r));
      } catch (e) {
        return end(internal(ctx, m, e));
      }
      if (call.writableLength > maxBuffered) {
        end(statusObject(Status.RESOURCE_EXHAUSTED, "detcd: watch stream send buffer full"));
      }
    };
    // Requests that arrive while the stream's credentials resolve wait for them.
    const waiting: Buffer[] = [];
    const take = (bytes: Buffer): void => {
      try {
        watch?.request(reqCodec.decode(bytes));
      } catch (e) {
        end(failed(ctx, m, e));
      }
    };
    const open = (credentials: WatchCredentials | undefined): void => {
      if (closed) return;
      try {
        watch = ctx.backend.watch(send, credentials);
      } catch (e) {
        return end(internal(ctx, m, e));
      }
      for (const bytes of waiting.splice(0)) take(bytes);
    };
    const auth = ctx.backend.auth;
    if (auth === undefined) open(undefined);
    else {
      const presented = call.credentials();
      // As etcd, a stream whose credentials fail stays open and each watch it creates is refused.
      auth.credentials(presented, (r) =>
        open(r.ok ? () => auth.credentialsNow(presented) : () => r),
      );
    }
    call.on("message", (bytes: Buffer) => {
      if (watch === undefined) waiting.push(bytes);
      else take(bytes);
    });
    call.on("end", () => end());
    call.on("cancelled", (status?: StatusObject) => end(status));
  };
  return { kind: "bidi", serve };
}

function keepAliveHandler(ctx: Context): GrpcMethod {
  const m = info("etcdserverpb.Lease", "LeaseKeepAlive");
  const reqCodec = codecFor("etcdserverpb.LeaseKeepAliveRequest");
  const respCodec = codecFor("etcdserverpb.LeaseKeepAliveResponse");
  const serve = (call: GrpcStream): void => {
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
          call.write(respCodec.encode(resp));
        } catch (e) {
          end(internal(ctx, m, e));
        }
      });
    };
    call.on("message", (bytes: Buffer) => {
      try {
        renew(bytes);
      } catch (e) {
        end(failed(ctx, m, e));
      }
    });
    call.on("end", () => end());
    call.on("cancelled", (status?: StatusObject) => end(status));
  };
  return { kind: "bidi", serve };
}

function rangeStreamHandler(ctx: Context): GrpcMethod {
  const m = info("etcdserverpb.KV", "RangeStream");
  const reqCodec = codecFor("etcdserverpb.RangeRequest");
  const respCodec = codecFor("etcdserverpb.RangeStreamResponse");
  const serve = (call: GrpcStream, request: Buffer): void => {
    ctx.options.observer?.started?.(m);
    const end = streamEnder(ctx, m, call, () => {});
    call.on("cancelled", (status?: StatusObject) => end(status));
    const fail = (e: EtcdError) => end(statusOfEtcdError(e));
    try {
      const req = reqCodec.decode(request);
      // One chunk holding the whole response: a valid RangeStream answer (the merge of the
      // chunks is the Range response).
      const answer = (as: AuthInfo | undefined): void =>
        ctx.backend.range(
          req,
          (result) => {
            if (!result.ok) return end(statusOfEtcdError(result.error));
            try {
              call.write(respCodec.encode({ range_response: result.value }));
              end();
            } catch (e) {
              end(internal(ctx, m, e));
            }
          },
          as,
        );
      withCaller(ctx, m, () => call.credentials(), fail, answer);
    } catch (e) {
      end(failed(ctx, m, e));
    }
  };
  return { kind: "server-stream", serve };
}

function snapshotHandler(ctx: Context): GrpcMethod {
  const m = info("etcdserverpb.Maintenance", "Snapshot");
  const respCodec = codecFor("etcdserverpb.SnapshotResponse");
  const version = ctx.options.storageVersion ?? "";
  const serve = (call: GrpcStream): void => {
    ctx.options.observer?.started?.(m);
    const end = streamEnder(ctx, m, call, () => {});
    call.on("cancelled", (status?: StatusObject) => end(status));
    const chunk = (blob: Uint8Array, remaining: number): Uint8Array => {
      const resp: SnapshotResponse = { remaining_bytes: remaining, blob, version };
      return respCodec.encode(resp);
    };
    const stream = (data: Uint8Array): void => {
      let offset = 0;
      const pump = (): void => {
        while (offset < data.length) {
          if (call.closed) return end();
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
    const answer = (as: AuthInfo | undefined): void =>
      ctx.backend.snapshot((result) => {
        if (!result.ok) return end(statusOfEtcdError(result.error));
        try {
          stream(alignSnapshot(result.value));
        } catch (e) {
          end(internal(ctx, m, e));
        }
      }, as);
    try {
      withCaller(
        ctx,
        m,
        () => call.credentials(),
        (e) => end(statusOfEtcdError(e)),
        answer,
      );
    } catch (e) {
      end(internal(ctx, m, e));
    }
  };
  return { kind: "server-stream", serve };
}

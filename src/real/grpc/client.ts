// A promise-based etcd v3 client over grpc-js, speaking the same descriptor and codec as the
// server: one method per unary RPC taking and returning src/api types, a watch stream, a lease
// keepalive stream and a snapshot download. detcdctl and the tests use it.
//
// Errors: every failure is an EtcdClientError carrying the gRPC status code and, when the message is
// one of etcd's, the EtcdError (so callers match on `error.etcd?.name === "Compacted"`).
//
// Endpoints: calls go to one endpoint at a time. When a call fails with UNAVAILABLE from the
// transport (not an etcd error such as "no leader"), the client moves to the next endpoint and
// retries, at most once per endpoint, within the call's deadline. A read-only call retries on any
// transport failure; a call that may write retries only when no connection was established, since
// a dropped connection leaves it unknown whether the write happened.

import {
  ChannelCredentials,
  Client,
  Metadata,
  status as Status,
  type CallOptions as GrpcCallOptions,
  type ChannelOptions,
  type ClientDuplexStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type * as cluster from "../../api/cluster.js";
import type { LeaseId } from "../../api/kv.js";
import type * as maintenance from "../../api/maintenance.js";
import type * as rpc from "../../api/rpc.js";
import { codecFor, messageCodec, type AnyMessage, type MessageCodec } from "./codec.js";
import { methodInfo, type MethodInfo, type ServiceName } from "./services.js";
import { verifySnapshotTrailer } from "./snapshot-trailer.js";
import { clientErrorOf, EtcdClientError } from "./status.js";

export { EtcdClientError } from "./status.js";

/** TLS to the server (PEM contents, not file names). */
export interface EtcdClientTls {
  /** The CA certificates the server's certificate must chain to; the system's roots when absent. */
  readonly ca?: string | Uint8Array;
  /** A client certificate and its key, for a server that requires one (--client-cert-auth). */
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  /** Accept any server certificate (etcdctl's --insecure-skip-tls-verify); for tests only. */
  readonly insecureSkipVerify?: boolean;
  /** The name the server's certificate must carry, instead of the endpoint's host. */
  readonly serverName?: string;
}

export interface EtcdClientOptions {
  /**
   * "host:port", "http://host:port" or "https://host:port". The scheme is dropped; TLS is used
   * when `tls` is given, or when an endpoint is https (then with the system's roots).
   */
  readonly endpoints: readonly string[];
  /** Default per-call deadline in milliseconds; none when undefined. */
  readonly callTimeoutMs?: number;
  /** TLS settings; ignored when `credentials` is given. */
  readonly tls?: EtcdClientTls;
  /** grpc-js credentials, overriding `tls`. Defaults to insecure (plain TCP). */
  readonly credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: ChannelOptions;
  /** Largest response accepted, bytes (default: unlimited). */
  readonly maxResponseBytes?: number;
  /** Responses a stream may hold that the caller has not read before it fails (default 10,000). */
  readonly maxQueuedResponses?: number;
}

export interface CallOptions {
  /** Deadline of this call in milliseconds from now (overrides callTimeoutMs). */
  readonly timeoutMs?: number;
}

const DEFAULT_MAX_QUEUED_RESPONSES = 10_000;

/** Methods that never change state: retried on another endpoint after any transport failure. */
const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  "Range",
  "LeaseTimeToLive",
  "LeaseLeases",
  "MemberList",
  "Status",
  "Hash",
  "HashKV",
  "AuthStatus",
  "UserGet",
  "UserList",
  "RoleGet",
  "RoleList",
]);

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const passthrough = (bytes: Buffer): Buffer => bytes;

/** Channel credentials from the TLS options (insecure without them). */
export function tlsCredentials(tls: EtcdClientTls | undefined): ChannelCredentials {
  if (tls === undefined) return ChannelCredentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new Error("EtcdClient: a client certificate needs its key, and a key its certificate");
  const skip = tls.insecureSkipVerify === true;
  return ChannelCredentials.createSsl(
    tls.ca === undefined ? null : toBuffer(pemBytes(tls.ca)),
    tls.key === undefined ? null : toBuffer(pemBytes(tls.key)),
    tls.cert === undefined ? null : toBuffer(pemBytes(tls.cert)),
    skip ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

function pemBytes(pem: string | Uint8Array): Uint8Array {
  return typeof pem === "string" ? new TextEncoder().encode(pem) : pem;
}

function stripScheme(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//, "").replace(/\/$/, "");
}

/** Whether the error is a transport failure (no etcd message) that another endpoint may not have. */
function isTransportUnavailable(e: EtcdClientError): boolean {
  return e.code === Status.UNAVAILABLE && e.etcd === undefined;
}

function neverConnected(e: EtcdClientError): boolean {
  return /No connection established|ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|Name resolution failed/.test(
    e.details,
  );
}

export class EtcdClient {
  private readonly endpoints: string[];
  private readonly clients: (Client | undefined)[];
  private current = 0;
  private token: string | undefined;
  private closed = false;

  private readonly credentials: ChannelCredentials;
  private readonly channelOptions: ChannelOptions;

  constructor(private readonly options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error("EtcdClient: no endpoints");
    this.endpoints = options.endpoints.map(stripScheme);
    this.clients = this.endpoints.map(() => undefined);
    const https = options.endpoints.some((e) => /^https:\/\//i.test(e));
    this.credentials =
      options.credentials ?? tlsCredentials(options.tls ?? (https ? {} : undefined));
    const serverName = options.tls?.serverName;
    this.channelOptions = {
      "grpc.max_receive_message_length": options.maxResponseBytes ?? -1,
      "grpc.max_send_message_length": -1,
      ...(serverName === undefined
        ? {}
        : { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName }),
      ...options.channelOptions,
    };
  }

  /** The endpoint calls go to now. */
  get endpoint(): string {
    return this.endpoints[this.current] as string;
  }

  /** An auth token sent as the `token` metadata of every call (undefined: none). */
  setToken(token: string | undefined): void {
    this.token = token;
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c?.close();
    this.clients.fill(undefined);
  }

  // ---- KV -----------------------------------------------------------------------------------------

  range(req: rpc.RangeRequest, opts?: CallOptions): Promise<rpc.RangeResponse> {
    return this.unary("etcdserverpb.KV", "Range", req, opts);
  }

  put(req: rpc.PutRequest, opts?: CallOptions): Promise<rpc.PutResponse> {
    return this.unary("etcdserverpb.KV", "Put", req, opts);
  }

  deleteRange(req: rpc.DeleteRangeRequest, opts?: CallOptions): Promise<rpc.DeleteRangeResponse> {
    return this.unary("etcdserverpb.KV", "DeleteRange", req, opts);
  }

  txn(req: rpc.TxnRequest, opts?: CallOptions): Promise<rpc.TxnResponse> {
    return this.unary("etcdserverpb.KV", "Txn", req, opts);
  }

  compact(req: rpc.CompactionRequest, opts?: CallOptions): Promise<rpc.CompactionResponse> {
    return this.unary("etcdserverpb.KV", "Compact", req, opts);
  }

  // ---- Lease --------------------------------------------------------------------------------------

  leaseGrant(req: rpc.LeaseGrantRequest, opts?: CallOptions): Promise<rpc.LeaseGrantResponse> {
    return this.unary("etcdserverpb.Lease", "LeaseGrant", req, opts);
  }

  leaseRevoke(req: rpc.LeaseRevokeRequest, opts?: CallOptions): Promise<rpc.LeaseRevokeResponse> {
    return this.unary("etcdserverpb.Lease", "LeaseRevoke", req, opts);
  }

  leaseTimeToLive(
    req: rpc.LeaseTimeToLiveRequest,
    opts?: CallOptions,
  ): Promise<rpc.LeaseTimeToLiveResponse> {
    return this.unary("etcdserverpb.Lease", "LeaseTimeToLive", req, opts);
  }

  leaseLeases(opts?: CallOptions): Promise<rpc.LeaseLeasesResponse> {
    return this.unary("etcdserverpb.Lease", "LeaseLeases", {}, opts);
  }

  /** A keepalive stream; send renewals with keepAlive(id), read answers from it. */
  leaseKeepAlive(): KeepAliveStream {
    return new KeepAliveStream(
      this.openStream("etcdserverpb.Lease", "LeaseKeepAlive"),
      this.queueLimit(),
    );
  }

  /** Renews `id` once (etcdctl lease keep-alive --once); TTL <= 0 means the lease is gone. */
  async leaseKeepAliveOnce(id: LeaseId, opts?: CallOptions): Promise<rpc.LeaseKeepAliveResponse> {
    const stream = this.leaseKeepAlive();
    const timeoutMs = opts?.timeoutMs ?? this.options.callTimeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              stream.fail(
                new EtcdClientError(Status.DEADLINE_EXCEEDED, "deadline exceeded", undefined),
              ),
            timeoutMs,
          );
    try {
      stream.keepAlive(id);
      return await stream.next();
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      stream.close();
    }
  }

  // ---- Watch --------------------------------------------------------------------------------------

  /** A watch stream: create(), cancel(), progress(); read responses with next() or for await. */
  watch(): WatchStream {
    return new WatchStream(this.openStream("etcdserverpb.Watch", "Watch"), this.queueLimit());
  }

  // ---- Cluster ------------------------------------------------------------------------------------

  memberAdd(req: cluster.MemberAddRequest, opts?: CallOptions): Promise<cluster.MemberAddResponse> {
    return this.unary("etcdserverpb.Cluster", "MemberAdd", req, opts);
  }

  memberRemove(
    req: cluster.MemberRemoveRequest,
    opts?: CallOptions,
  ): Promise<cluster.MemberRemoveResponse> {
    return this.unary("etcdserverpb.Cluster", "MemberRemove", req, opts);
  }

  memberUpdate(
    req: cluster.MemberUpdateRequest,
    opts?: CallOptions,
  ): Promise<cluster.MemberUpdateResponse> {
    return this.unary("etcdserverpb.Cluster", "MemberUpdate", req, opts);
  }

  memberList(
    req: cluster.MemberListRequest = {},
    opts?: CallOptions,
  ): Promise<cluster.MemberListResponse> {
    return this.unary("etcdserverpb.Cluster", "MemberList", req, opts);
  }

  memberPromote(
    req: cluster.MemberPromoteRequest,
    opts?: CallOptions,
  ): Promise<cluster.MemberPromoteResponse> {
    return this.unary("etcdserverpb.Cluster", "MemberPromote", req, opts);
  }

  // ---- Maintenance --------------------------------------------------------------------------------

  status(opts?: CallOptions): Promise<maintenance.StatusResponse> {
    return this.unary("etcdserverpb.Maintenance", "Status", {}, opts);
  }

  alarm(req: maintenance.AlarmRequest, opts?: CallOptions): Promise<maintenance.AlarmResponse> {
    return this.unary("etcdserverpb.Maintenance", "Alarm", req, opts);
  }

  defragment(opts?: CallOptions): Promise<maintenance.DefragmentResponse> {
    return this.unary("etcdserverpb.Maintenance", "Defragment", {}, opts);
  }

  hash(opts?: CallOptions): Promise<maintenance.HashResponse> {
    return this.unary("etcdserverpb.Maintenance", "Hash", {}, opts);
  }

  hashKV(req: rpc.HashKVRequest, opts?: CallOptions): Promise<rpc.HashKVResponse> {
    return this.unary("etcdserverpb.Maintenance", "HashKV", req, opts);
  }

  moveLeader(
    req: maintenance.MoveLeaderRequest,
    opts?: CallOptions,
  ): Promise<maintenance.MoveLeaderResponse> {
    return this.unary("etcdserverpb.Maintenance", "MoveLeader", req, opts);
  }

  /**
   * Downloads a snapshot: the concatenated blobs, ending with the sha256 trailer, as etcdctl's
   * `snapshot save` writes the file. Fails if the trailer does not match or the stream is short.
   */
  snapshot(opts?: CallOptions): Promise<Uint8Array> {
    const m = methodInfo("etcdserverpb.Maintenance", "Snapshot");
    const codec = codecFor("etcdserverpb.SnapshotResponse");
    const reqBytes = toBuffer(codecFor("etcdserverpb.SnapshotRequest").encode({}));
    return new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let sawLast = false;
      const call = this.client().makeServerStreamRequest(
        m.path,
        passthrough,
        passthrough,
        reqBytes,
        this.metadata(),
        this.grpcOptions(opts),
      );
      call.on("data", (bytes: Buffer) => {
        try {
          const resp = codec.decode(bytes);
          chunks.push(resp.blob);
          if (resp.remaining_bytes === 0) sawLast = true;
        } catch (e) {
          call.cancel();
          reject(clientErrorOf(e));
        }
      });
      call.on("error", (e: ServiceError) => reject(this.noteFailure(clientErrorOf(e))));
      call.on("end", () => {
        const file = Buffer.concat(chunks);
        const checked = verifySnapshotTrailer(file);
        if (!sawLast || !checked.ok) {
          const why = checked.ok ? "snapshot stream ended early" : checked.error;
          return reject(new EtcdClientError(Status.DATA_LOSS, why, undefined));
        }
        resolve(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
      });
    });
  }

  // ---- any method ---------------------------------------------------------------------------------

  /** A unary call by service and method name with plain messages (the Auth service, for one). */
  call(
    service: ServiceName,
    method: string,
    req: AnyMessage,
    opts?: CallOptions,
  ): Promise<AnyMessage> {
    return this.unary(service, method, req, opts);
  }

  private async unary<Q, R>(
    service: ServiceName,
    method: string,
    req: Q,
    opts?: CallOptions,
  ): Promise<R> {
    const m = methodInfo(service, method);
    const reqCodec = messageCodec(m.requestType) as MessageCodec<Q>;
    const respCodec = messageCodec(m.responseType) as MessageCodec<R>;
    let bytes: Buffer;
    try {
      bytes = toBuffer(reqCodec.encode(req));
    } catch (e) {
      throw clientErrorOf(e);
    }
    const grpcOptions = this.grpcOptions(opts);
    for (let attempt = 1; ; attempt++) {
      try {
        return respCodec.decode(await this.once(m, bytes, grpcOptions));
      } catch (e) {
        const error = clientErrorOf(e);
        const retry =
          isTransportUnavailable(error) &&
          attempt < this.endpoints.length &&
          (READ_ONLY_METHODS.has(m.method) || neverConnected(error));
        if (!retry) throw this.noteFailure(error);
        this.advance();
      }
    }
  }

  private once(m: MethodInfo, bytes: Buffer, options: GrpcCallOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client().makeUnaryRequest(
        m.path,
        passthrough,
        passthrough,
        bytes,
        this.metadata(),
        options,
        (error, value) => {
          if (error !== null || value === undefined) reject(error ?? new Error("empty response"));
          else resolve(value);
        },
      );
    });
  }

  private openStream(service: ServiceName, method: string): RawStream {
    const m = methodInfo(service, method);
    const call = this.client().makeBidiStreamRequest(
      m.path,
      passthrough,
      passthrough,
      this.metadata(),
      {},
    );
    return {
      call,
      reqCodec: messageCodec(m.requestType),
      respCodec: messageCodec(m.responseType),
      onFailure: (e) => this.noteFailure(e),
    };
  }

  /** A transport failure moves later calls and streams to the next endpoint. */
  private noteFailure(e: EtcdClientError): EtcdClientError {
    if (isTransportUnavailable(e)) this.advance();
    return e;
  }

  private advance(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  private client(): Client {
    if (this.closed) throw new EtcdClientError(Status.CANCELLED, "client closed", undefined);
    const existing = this.clients[this.current];
    if (existing !== undefined) return existing;
    const created = new Client(this.endpoint, this.credentials, this.channelOptions);
    this.clients[this.current] = created;
    return created;
  }

  private metadata(): Metadata {
    const md = new Metadata();
    if (this.token !== undefined) md.set("token", this.token);
    return md;
  }

  private grpcOptions(opts: CallOptions | undefined): GrpcCallOptions {
    const timeoutMs = opts?.timeoutMs ?? this.options.callTimeoutMs;
    return timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
  }

  private queueLimit(): number {
    return this.options.maxQueuedResponses ?? DEFAULT_MAX_QUEUED_RESPONSES;
  }
}

// ---- streams ---------------------------------------------------------------------------------------

interface RawStream {
  readonly call: ClientDuplexStream<Buffer, Buffer>;
  readonly reqCodec: MessageCodec<unknown>;
  readonly respCodec: MessageCodec<unknown>;
  readonly onFailure: (e: EtcdClientError) => EtcdClientError;
}

/**
 * Responses of a bidi stream, read with next() or `for await`. The stream's end (or failure) is
 * delivered after every response that came before it; responses beyond `limit` unread fail it.
 */
class ResponseStream<Q, R> implements AsyncIterable<R> {
  private readonly queue: R[] = [];
  private readonly waiting: {
    resolve: (r: IteratorResult<R>) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private finished: { error: EtcdClientError | undefined } | undefined;

  constructor(
    private readonly raw: RawStream,
    private readonly limit: number,
  ) {
    raw.call.on("data", (bytes: Buffer) => this.receive(bytes));
    raw.call.on("error", (e: ServiceError) => this.finish(raw.onFailure(clientErrorOf(e))));
    raw.call.on("end", () => this.finish(undefined));
  }

  /** Sends one request on the stream. */
  send(req: Q): void {
    if (this.finished !== undefined)
      throw (
        this.finished.error ?? new EtcdClientError(Status.CANCELLED, "stream closed", undefined)
      );
    this.raw.call.write(toBuffer(this.raw.reqCodec.encode(req)));
  }

  /** The next response; rejects with the stream's error, or with CANCELLED once it has ended. */
  async next(): Promise<R> {
    const result = await this.pull();
    if (result.done === true)
      throw new EtcdClientError(Status.CANCELLED, "stream ended", undefined);
    return result.value;
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    return { next: () => this.pull() };
  }

  /** Ends the stream from this side: cancels the call; pending reads see it ended. */
  close(): void {
    if (this.finished === undefined) this.raw.call.cancel();
    this.finish(undefined);
  }

  /** Ends the stream with `error` (a local deadline, for one). */
  fail(error: EtcdClientError): void {
    if (this.finished === undefined) this.raw.call.cancel();
    this.finish(error);
  }

  private pull(): Promise<IteratorResult<R>> {
    const value = this.queue.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.finished !== undefined) {
      const error = this.finished.error;
      return error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private receive(bytes: Buffer): void {
    if (this.finished !== undefined) return;
    let resp: R;
    try {
      resp = this.raw.respCodec.decode(bytes) as R;
    } catch (e) {
      return this.fail(clientErrorOf(e));
    }
    const waiter = this.waiting.shift();
    if (waiter !== undefined) return waiter.resolve({ value: resp, done: false });
    if (this.queue.length >= this.limit) {
      return this.fail(
        new EtcdClientError(
          Status.RESOURCE_EXHAUSTED,
          `more than ${this.limit} unread stream responses`,
          undefined,
        ),
      );
    }
    this.queue.push(resp);
  }

  private finish(error: EtcdClientError | undefined): void {
    if (this.finished !== undefined) return;
    // A cancel we asked for is an ordinary end, not an error.
    this.finished = {
      error: error?.code === Status.CANCELLED && error.etcd === undefined ? undefined : error,
    };
    for (const w of this.waiting.splice(0)) {
      if (this.finished.error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(this.finished.error);
    }
  }
}

/** One Watch stream (etcd's watch API: many watchers over one stream). */
export class WatchStream extends ResponseStream<rpc.WatchRequest, rpc.WatchResponse> {
  create(req: rpc.WatchCreateRequest): void {
    this.send({ request_union: "create_request", create_request: req });
  }

  cancel(watchId: number): void {
    this.send({ request_union: "cancel_request", cancel_request: { watch_id: watchId } });
  }

  /** Asks for a progress notification for every watcher of the stream. */
  progress(): void {
    this.send({ request_union: "progress_request", progress_request: {} });
  }
}

/** One LeaseKeepAlive stream. */
export class KeepAliveStream extends ResponseStream<
  rpc.LeaseKeepAliveRequest,
  rpc.LeaseKeepAliveResponse
> {
  keepAlive(id: LeaseId): void {
    this.send({ ID: id });
  }
}

// The client detcdctl's commands talk to: the etcd v3 API as promises and streams. The gRPC client
// (src/real/grpc/client.ts) provides it; tests may provide another. Every unary call takes its own
// deadline; a stream lives until it is closed or the server ends it.

import type {
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
} from "../../api/cluster.js";
import type { LeaseId } from "../../api/kv.js";
import type { AnyMessage } from "../grpc/codec.js";
import type { ServiceName } from "../grpc/services.js";
import type * as rpc from "../../api/rpc.js";
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from "./types.js";

export interface CallOptions {
  /** Deadline of the call in milliseconds from now; none when undefined. */
  readonly timeoutMs?: number;
}

/** A bidi stream's answers, in order; iteration ends when the stream ends, throws if it fails. */
export interface ResponseStream<R> extends AsyncIterable<R> {
  next(): Promise<R>;
  close(): void;
}

export interface WatchStream extends ResponseStream<rpc.WatchResponse> {
  create(req: rpc.WatchCreateRequest): void;
  cancel(watchId: number): void;
  progress(): void;
}

export interface KeepAliveStream extends ResponseStream<rpc.LeaseKeepAliveResponse> {
  keepAlive(id: LeaseId): void;
}

export interface CtlClient {
  range(req: rpc.RangeRequest, opts?: CallOptions): Promise<rpc.RangeResponse>;
  put(req: rpc.PutRequest, opts?: CallOptions): Promise<rpc.PutResponse>;
  deleteRange(req: rpc.DeleteRangeRequest, opts?: CallOptions): Promise<rpc.DeleteRangeResponse>;
  txn(req: rpc.TxnRequest, opts?: CallOptions): Promise<rpc.TxnResponse>;
  compact(req: rpc.CompactionRequest, opts?: CallOptions): Promise<rpc.CompactionResponse>;
  hashKV(req: rpc.HashKVRequest, opts?: CallOptions): Promise<rpc.HashKVResponse>;

  leaseGrant(req: rpc.LeaseGrantRequest, opts?: CallOptions): Promise<rpc.LeaseGrantResponse>;
  leaseRevoke(req: rpc.LeaseRevokeRequest, opts?: CallOptions): Promise<rpc.LeaseRevokeResponse>;
  leaseTimeToLive(
    req: rpc.LeaseTimeToLiveRequest,
    opts?: CallOptions,
  ): Promise<rpc.LeaseTimeToLiveResponse>;
  leaseLeases(opts?: CallOptions): Promise<rpc.LeaseLeasesResponse>;
  leaseKeepAlive(): KeepAliveStream;
  leaseKeepAliveOnce(id: LeaseId, opts?: CallOptions): Promise<rpc.LeaseKeepAliveResponse>;

  watch(): WatchStream;

  memberAdd(req: MemberAddRequest, opts?: CallOptions): Promise<MemberAddResponse>;
  memberRemove(req: MemberRemoveRequest, opts?: CallOptions): Promise<MemberRemoveResponse>;
  memberUpdate(req: MemberUpdateRequest, opts?: CallOptions): Promise<MemberUpdateResponse>;
  memberList(req?: MemberListRequest, opts?: CallOptions): Promise<MemberListResponse>;
  memberPromote(req: MemberPromoteRequest, opts?: CallOptions): Promise<MemberPromoteResponse>;

  status(opts?: CallOptions): Promise<StatusResponse>;
  alarm(req: AlarmRequest, opts?: CallOptions): Promise<AlarmResponse>;
  defragment(opts?: CallOptions): Promise<DefragmentResponse>;
  moveLeader(req: MoveLeaderRequest, opts?: CallOptions): Promise<MoveLeaderResponse>;
  /** The whole snapshot file: the database bytes followed by their sha256. */
  snapshot(opts?: CallOptions): Promise<Uint8Array>;

  /** A unary call by service and method name (the Auth service). */
  call(
    service: ServiceName,
    method: string,
    req: AnyMessage,
    opts?: CallOptions,
  ): Promise<AnyMessage>;
  /** The auth token every later call sends (undefined: none). */
  setToken(token: string | undefined): void;

  close(): void;
}

/** etcdctl's transport security flags (file names; "" when not given). */
export interface CtlTls {
  readonly cacert: string;
  readonly cert: string;
  readonly key: string;
  readonly insecureSkipVerify: boolean;
  /** --insecure-transport (default true): plain TCP unless a TLS flag or an https endpoint asks. */
  readonly insecureTransport: boolean;
}

/** Makes a client for the given endpoints ("host:port" or URLs), with TLS as the flags say. */
export type ClientFactory = (endpoints: readonly string[], tls?: CtlTls) => CtlClient;

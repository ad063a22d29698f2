// etcdserverpb request and response messages (rpc.proto) that detcd serves, with etcd's snake_case
// field names and meanings so the gRPC layer maps them 1:1. Request fields are optional and default
// to proto3 zero values (0, false, empty bytes, first enum value); response fields are always set.
//
// Enums are string-literal unions of the proto enum names; the *_VALUES tables give the wire numbers.
// Oneofs are tagged unions whose tag field carries the oneof's name and holds the chosen field's
// name (the shape @grpc/proto-loader produces with `oneofs: true`).

import type { Event, KeyValue, LeaseId } from "./kv.js";

/** Attached to every response. The store fills `revision`; the server fills the rest. */
export interface ResponseHeader {
  cluster_id: bigint;
  member_id: bigint;
  /** The store's revision when the request was served (after it, for a write). */
  revision: number;
  raft_term: number;
}

export function header(revision: number): ResponseHeader {
  return { cluster_id: 0n, member_id: 0n, revision, raft_term: 0 };
}

// ---- Range ----------------------------------------------------------------------------------------

export type SortOrder = "NONE" | "ASCEND" | "DESCEND";
export const SORT_ORDER_VALUES: Readonly<Record<SortOrder, number>> = {
  NONE: 0,
  ASCEND: 1,
  DESCEND: 2,
};

export type SortTarget = "KEY" | "VERSION" | "CREATE" | "MOD" | "VALUE";
export const SORT_TARGET_VALUES: Readonly<Record<SortTarget, number>> = {
  KEY: 0,
  VERSION: 1,
  CREATE: 2,
  MOD: 3,
  VALUE: 4,
};

/**
 * Range (rpc.proto RangeRequest). range_end: empty = the single key `key`; "\0" = every key >= key;
 * otherwise [key, range_end). revision <= 0 reads the current revision. The min/max filters and any
 * non-default sort apply after reading; `count` ignores the filters.
 */
export interface RangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  limit?: number;
  revision?: number;
  sort_order?: SortOrder;
  sort_target?: SortTarget;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: number;
  max_mod_revision?: number;
  min_create_revision?: number;
  max_create_revision?: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** More keys matched than `limit` allowed. */
  more: boolean;
  /** Number of keys in the range at the revision, before the min/max filters and the limit. */
  count: number;
}

// ---- Put / DeleteRange ------------------------------------------------------------------------------

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: LeaseId;
  prev_kv?: boolean;
  /** Keep the current value (the key must exist, `value` must be empty). */
  ignore_value?: boolean;
  /** Keep the current lease (the key must exist, `lease` must be 0). */
  ignore_lease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prev_kv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  prev_kv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prev_kvs: KeyValue[];
}

// ---- Txn ------------------------------------------------------------------------------------------

export type RequestOp =
  | { request: "request_range"; request_range: RangeRequest }
  | { request: "request_put"; request_put: PutRequest }
  | { request: "request_delete_range"; request_delete_range: DeleteRangeRequest }
  | { request: "request_txn"; request_txn: TxnRequest };

export type ResponseOp =
  | { response: "response_range"; response_range: RangeResponse }
  | { response: "response_put"; response_put: PutResponse }
  | { response: "response_delete_range"; response_delete_range: DeleteRangeResponse }
  | { response: "response_txn"; response_txn: TxnResponse };

export type CompareResult = "EQUAL" | "GREATER" | "LESS" | "NOT_EQUAL";
export const COMPARE_RESULT_VALUES: Readonly<Record<CompareResult, number>> = {
  EQUAL: 0,
  GREATER: 1,
  LESS: 2,
  NOT_EQUAL: 3,
};

export type CompareTarget = "VERSION" | "CREATE" | "MOD" | "VALUE" | "LEASE";
export const COMPARE_TARGET_VALUES: Readonly<Record<CompareTarget, number>> = {
  VERSION: 0,
  CREATE: 1,
  MOD: 2,
  VALUE: 3,
  LEASE: 4,
};

interface CompareBase {
  result: CompareResult;
  key: Uint8Array;
  /** Compare every key in [key, range_end) (same rules as Range); all must satisfy it. */
  range_end?: Uint8Array;
}

/**
 * A txn guard (rpc.proto Compare). `target` selects both the field of the stored key and which
 * member of the target_union oneof holds the operand; a missing operand compares as zero / empty.
 * A key that does not exist compares as an all-zero KeyValue, except that a VALUE compare on it fails.
 */
export type Compare = CompareBase &
  (
    | { target: "VERSION"; version?: number }
    | { target: "CREATE"; create_revision?: number }
    | { target: "MOD"; mod_revision?: number }
    | { target: "VALUE"; value?: Uint8Array }
    | { target: "LEASE"; lease?: LeaseId }
  );

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

// ---- Compaction / HashKV ----------------------------------------------------------------------------

export interface CompactionRequest {
  revision: number;
  /** Wait until the compaction is physically applied (always so in detcd). */
  physical?: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export interface HashKVRequest {
  /** 0 hashes up to the current revision. */
  revision?: number;
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compact_revision: number;
  hash_revision: number;
}

// ---- Watch ----------------------------------------------------------------------------------------

export type WatchFilterType = "NOPUT" | "NODELETE";
export const WATCH_FILTER_VALUES: Readonly<Record<WatchFilterType, number>> = {
  NOPUT: 0,
  NODELETE: 1,
};

export interface WatchCreateRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  /** First revision to deliver; 0 means "after the current revision". */
  start_revision?: number;
  progress_notify?: boolean;
  filters?: WatchFilterType[];
  prev_kv?: boolean;
  /** Client-chosen ID; 0 lets the server choose. */
  watch_id?: number;
  /** Allow splitting responses larger than the request size limit. */
  fragment?: boolean;
}

export interface WatchCancelRequest {
  watch_id: number;
}

export type WatchProgressRequest = Record<string, never>;

export type WatchRequest =
  | { request_union: "create_request"; create_request: WatchCreateRequest }
  | { request_union: "cancel_request"; cancel_request: WatchCancelRequest }
  | { request_union: "progress_request"; progress_request: WatchProgressRequest };

export interface WatchResponse {
  header: ResponseHeader;
  /** -1 for a progress response that concerns every watcher of the stream. */
  watch_id: number;
  created: boolean;
  canceled: boolean;
  /** Set when the watcher was canceled because its start revision was compacted. */
  compact_revision: number;
  cancel_reason: string;
  /** More pieces of the same response follow. */
  fragment: boolean;
  events: Event[];
}

// ---- Lease ----------------------------------------------------------------------------------------
// etcd spells these fields TTL, ID, grantedTTL in rpc.proto; the names are kept as written.

export interface LeaseGrantRequest {
  TTL: number;
  /** 0n lets the leader choose. */
  ID?: LeaseId;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  ID: LeaseId;
  TTL: number;
  error: string;
}

export interface LeaseRevokeRequest {
  ID: LeaseId;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  ID: LeaseId;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  ID: LeaseId;
  /** New TTL in seconds; 0 or less means the lease is gone. */
  TTL: number;
}

export interface LeaseTimeToLiveRequest {
  ID: LeaseId;
  keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  ID: LeaseId;
  /** Remaining seconds; -1 if the lease does not exist. */
  TTL: number;
  grantedTTL: number;
  keys: Uint8Array[];
}

export type LeaseLeasesRequest = Record<string, never>;

export interface LeaseStatus {
  ID: LeaseId;
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: LeaseStatus[];
}

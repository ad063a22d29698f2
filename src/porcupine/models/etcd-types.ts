// Inputs and outputs of the etcd model, shaped like etcd v3's KV, Lease and Maintenance messages
// (field names as in rpc.proto). Keys and values are strings here for speed: the harness maps each
// byte to one char (latin1), which keeps etcd's byte order under JavaScript string comparison.
// These types belong to the checker; the harness converts its own request/response types to them.

/**
 * Who sends a request in the auth workload (see etcd.ts): `root` may do anything; `writer` reads
 * every key and writes while its role has WRITE; `anonymous` (also an absent `as`) is refused every
 * checked request while auth is enabled. Histories without auth leave `as` out.
 */
export type AuthUser = "root" | "writer" | "anonymous";

interface Caller {
  readonly as?: AuthUser;
}

export interface ResponseHeader {
  /** The store's revision when the request was applied (after any write it made). */
  readonly revision: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly create_revision: number;
  readonly mod_revision: number;
  readonly version: number;
  /** Lease id, 0 for none. */
  readonly lease: number;
}

export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";
export type CompareResult = "equal" | "greater" | "less" | "not_equal";

/**
 * One txn guard. The operand for `target` is in the field of the same name (`version`,
 * `create_revision`, `mod_revision`, `value`, `lease`). With `range_end`, every key in
 * [key, range_end) must satisfy it; a missing key has version, revisions and lease 0 and fails any
 * value compare.
 */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: string;
  readonly range_end?: string;
  readonly version?: number;
  readonly create_revision?: number;
  readonly mod_revision?: number;
  readonly value?: string;
  readonly lease?: number;
}

/**
 * A range over [key, range_end); no range_end = the single key; range_end "\0" = every key >= key.
 * `revision` 0 or absent reads the current revision.
 */
export interface RangeRequest extends Caller {
  readonly type: "range";
  readonly key: string;
  readonly range_end?: string;
  readonly revision?: number;
  readonly limit?: number;
  readonly count_only?: boolean;
  readonly keys_only?: boolean;
}

export interface PutRequest extends Caller {
  readonly type: "put";
  readonly key: string;
  readonly value: string;
  /** Lease id, 0 or absent for none. */
  readonly lease?: number;
  readonly prev_kv?: boolean;
}

export interface DeleteRangeRequest extends Caller {
  readonly type: "delete-range";
  readonly key: string;
  readonly range_end?: string;
  readonly prev_kv?: boolean;
}

/** An operation inside a txn branch (nested txns are not modelled). */
export type RequestOp = RangeRequest | PutRequest | DeleteRangeRequest;

export interface TxnRequest extends Caller {
  readonly type: "txn";
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

/** Grants lease `id` (the harness always chooses the id, so the model knows it). */
export interface LeaseGrantRequest extends Caller {
  readonly type: "lease-grant";
  readonly id: number;
  readonly ttl: number;
}

export interface LeaseRevokeRequest extends Caller {
  readonly type: "lease-revoke";
  readonly id: number;
}

export interface CompactionRequest extends Caller {
  readonly type: "compaction";
  readonly revision: number;
}

/**
 * A change root makes to the auth store: enable or disable auth, or give the writer's role WRITE
 * (READWRITE) or take it back (READ). It changes no key and no revision.
 */
export interface AuthRequest {
  readonly type: "auth";
  readonly change: "enable" | "disable" | "grant-write" | "revoke-write";
}

export type EtcdInput =
  | RangeRequest
  | PutRequest
  | DeleteRangeRequest
  | TxnRequest
  | LeaseGrantRequest
  | LeaseRevokeRequest
  | CompactionRequest
  | AuthRequest;

/** Nested responses of a txn have no header checked: the txn header carries the revision. */
export interface RangeResponse {
  readonly type: "range";
  readonly header?: ResponseHeader;
  readonly kvs: readonly KeyValue[];
  readonly count: number;
  readonly more?: boolean;
}

export interface PutResponse {
  readonly type: "put";
  readonly header?: ResponseHeader;
  readonly prev_kv?: KeyValue;
}

export interface DeleteRangeResponse {
  readonly type: "delete-range";
  readonly header?: ResponseHeader;
  readonly deleted: number;
  readonly prev_kvs?: readonly KeyValue[];
}

export type ResponseOp = RangeResponse | PutResponse | DeleteRangeResponse;

export interface TxnResponse {
  readonly type: "txn";
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface LeaseGrantResponse {
  readonly type: "lease-grant";
  readonly header: ResponseHeader;
  readonly id: number;
  readonly ttl: number;
}

export interface LeaseRevokeResponse {
  readonly type: "lease-revoke";
  readonly header: ResponseHeader;
}

export interface CompactionResponse {
  readonly type: "compaction";
  readonly header: ResponseHeader;
}

export interface AuthResponse {
  readonly type: "auth";
  readonly header: ResponseHeader;
}

/**
 * etcd's definite failures (the request was applied, or rejected, with this error). The auth
 * errors change nothing: permission denied, no user, and credentials older than the auth store
 * (possible for any checked request of a named user while auth is enabled: the member took the
 * credentials' revision when the request arrived).
 */
export type EtcdErrorCode =
  | "compacted"
  | "future-revision"
  | "lease-not-found"
  | "lease-exists"
  | "duplicate-key"
  | "permission-denied"
  | "user-empty"
  | "auth-old-revision";

export interface EtcdError {
  readonly type: "error";
  readonly error: EtcdErrorCode;
}

/**
 * The request is known to have been applied (for example a later read showed its unique value)
 * but its response was lost; `revision`, when known, is the store revision right after it.
 */
export interface Persisted {
  readonly type: "persisted";
  readonly revision?: number;
}

export type EtcdResponse =
  | RangeResponse
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | CompactionResponse
  | AuthResponse;

/**
 * What a client saw. An unknown outcome (timeout, connection lost) is not an output: the
 * operation simply has no return.
 */
export type EtcdOutput = EtcdResponse | EtcdError | Persisted;

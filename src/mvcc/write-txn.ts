// The view of the store a write transaction's body works with, shared by the store (which
// implements it) and request execution in txn.ts (which uses it).
import type { EtcdError } from "../api/errors.js";
import type { KeyValue, LeaseId } from "../api/kv.js";
import type { Result } from "../lib/result.js";

/** Result of a low-level scan: the live KeyValues in key order (up to a limit) and their count. */
export interface ScanResult {
  readonly kvs: KeyValue[];
  /** Every live key in the range at the revision, regardless of the limit. */
  readonly count: number;
}

/** A low-level write txn (see KvStore.write). Reads inside it see its own writes. */
export interface WriteTxn {
  /** Revision of the store before this txn. */
  readonly beginRevision: number;
  /** Revision reads inside the txn see: beginRevision, or beginRevision + 1 once it changed something. */
  readonly readRevision: number;
  /** Number of changes so far (the next change's sub-revision). */
  readonly changeCount: number;
  /** Live keys in the etcd range (key, rangeEnd) at `atRevision` (<= 0: readRevision). */
  scan(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    atRevision: number,
    limit: number,
  ): Result<ScanResult, EtcdError>;
  /** Writes a new version of `key`; returns the KeyValue stored. */
  put(key: Uint8Array, value: Uint8Array, lease: LeaseId): KeyValue;
  /** Deletes every live key in the range; returns the KeyValues deleted, in key order. */
  deleteRange(key: Uint8Array, rangeEnd: Uint8Array): KeyValue[];
}

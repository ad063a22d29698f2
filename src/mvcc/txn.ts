// etcd's request semantics on top of the store's low-level scan / put / deleteRange: Range with all
// its options, Put (prev_kv, ignore_value, ignore_lease), DeleteRange (prev_kv) and Txn (compares,
// branches, nested txns). As in etcd, a txn is decided and checked in full against the state before
// it (every compare, including those of nested txns, sees that state) and only then executed, so a
// txn that fails a check changes nothing.

import { assert, unreachable } from "../lib/assert.js";
import { compareBytes, emptyBytes } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import { NO_LEASE, type KeyValue, type LeaseId } from "../api/kv.js";
import {
  header,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../api/rpc.js";
import type { ScanResult, WriteTxn } from "./write-txn.js";
import { filterKvs, finishKvs, scanLimit, sortKvs } from "./range.js";

/** What request execution needs to read: the revision reads see, and a scan at a revision. */
export interface Reader {
  readonly readRevision: number;
  readonly compactRevision: number;
  scan(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    atRevision: number,
    limit: number,
  ): Result<ScanResult, EtcdError>;
}

/** Answers whether a lease exists (the lessor's Lookup). */
export type LeaseExists = (lease: LeaseId) => boolean;

// ---- Range ----------------------------------------------------------------------------------------

export function executeRange(reader: Reader, r: RangeRequest): Result<RangeResponse, EtcdError> {
  const limit = r.count_only === true ? -1 : scanLimit(r);
  const scanned = reader.scan(r.key, r.range_end ?? emptyBytes, r.revision ?? 0, limit);
  if (!scanned.ok) return scanned;
  const { count } = scanned.value;
  if (r.count_only === true) {
    return ok({ header: header(reader.readRevision), kvs: [], more: false, count });
  }
  const kvs = filterKvs(scanned.value.kvs, r);
  sortKvs(kvs, r);
  const finished = finishKvs(kvs, r);
  return ok({ header: header(reader.readRevision), kvs: finished.kvs, more: finished.more, count });
}

// ---- Compare --------------------------------------------------------------------------------------

const ZERO_KV: KeyValue = {
  key: emptyBytes,
  create_revision: 0,
  mod_revision: 0,
  version: 0,
  value: emptyBytes,
  lease: NO_LEASE,
};

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

/** The stored field minus the operand, as a sign; a missing operand is zero / empty. */
function compareTarget(c: Compare, kv: KeyValue): number {
  switch (c.target) {
    case "VERSION":
      return sign(kv.version - (c.version ?? 0));
    case "CREATE":
      return sign(kv.create_revision - (c.create_revision ?? 0));
    case "MOD":
      return sign(kv.mod_revision - (c.mod_revision ?? 0));
    case "VALUE":
      return sign(compareBytes(kv.value, c.value ?? emptyBytes));
    case "LEASE":
      return sign(kv.lease - (c.lease ?? NO_LEASE));
    default:
      return unreachable(c, "compare target");
  }
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  const d = compareTarget(c, kv);
  switch (c.result) {
    case "EQUAL":
      return d === 0;
    case "NOT_EQUAL":
      return d !== 0;
    case "GREATER":
      return d > 0;
    case "LESS":
      return d < 0;
    default:
      return unreachable(c.result, "compare result");
  }
}

/**
 * One compare: every key in its range must satisfy it. No key at all compares as an all-zero
 * KeyValue, except that a VALUE compare then fails.
 */
export function applyCompare(reader: Reader, c: Compare): boolean {
  const scanned = reader.scan(c.key, c.range_end ?? emptyBytes, 0, 0);
  if (!scanned.ok) return false;
  const kvs = scanned.value.kvs;
  if (kvs.length === 0) return c.target !== "VALUE" && compareKv(c, ZERO_KV);
  return kvs.every((kv) => compareKv(c, kv));
}

// ---- Txn decision and checks ----------------------------------------------------------------------

/** The branch a txn takes, and the decisions of the nested txns in that branch, in op order. */
export interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: readonly TxnPath[];
}

function branchOf(t: TxnRequest, succeeded: boolean): readonly RequestOp[] {
  return (succeeded ? t.success : t.failure) ?? [];
}

/** Decides every compare of `t` and of the nested txns it will run, against `reader`. */
export function decideTxn(reader: Reader, t: TxnRequest): TxnPath {
  const succeeded = (t.compare ?? []).every((c) => applyCompare(reader, c));
  const nested: TxnPath[] = [];
  for (const op of branchOf(t, succeeded)) {
    if (op.request === "request_txn") nested.push(decideTxn(reader, op.request_txn));
  }
  return { succeeded, nested };
}

/** Range revision check made before execution (etcd's checkRange). */
function checkRangeRevision(reader: Reader, r: RangeRequest): Result<undefined, EtcdError> {
  const rev = r.revision ?? 0;
  if (rev <= 0) return ok(undefined);
  if (rev > reader.readRevision) return err(Errors.FutureRev);
  if (rev < reader.compactRevision) return err(Errors.Compacted);
  return ok(undefined);
}

/** The lease must exist; with ignore_value / ignore_lease the key must exist too. */
export function checkPut(
  reader: Reader,
  r: PutRequest,
  leaseExists: LeaseExists,
): Result<undefined, EtcdError> {
  const lease = r.lease ?? NO_LEASE;
  if (lease !== NO_LEASE && !leaseExists(lease)) return err(Errors.LeaseNotFound);
  if (r.ignore_value === true || r.ignore_lease === true) {
    const scanned = reader.scan(r.key, emptyBytes, 0, 0);
    if (!scanned.ok) return scanned;
    if (scanned.value.kvs.length === 0) return err(Errors.KeyNotFound);
  }
  return ok(undefined);
}

/** Checks the ops of the branch `path` chose, recursively (etcd's checkTxn). */
export function checkTxnOps(
  reader: Reader,
  t: TxnRequest,
  path: TxnPath,
  leaseExists: LeaseExists,
): Result<undefined, EtcdError> {
  let nestedIndex = 0;
  for (const op of branchOf(t, path.succeeded)) {
    const checked = checkOp(reader, op, path, nestedIndex, leaseExists);
    if (!checked.ok) return checked;
    if (op.request === "request_txn") nestedIndex++;
  }
  return ok(undefined);
}

function checkOp(
  reader: Reader,
  op: RequestOp,
  path: TxnPath,
  nestedIndex: number,
  leaseExists: LeaseExists,
): Result<undefined, EtcdError> {
  switch (op.request) {
    case "request_range":
      return checkRangeRevision(reader, op.request_range);
    case "request_put":
      return checkPut(reader, op.request_put, leaseExists);
    case "request_delete_range":
      return ok(undefined);
    case "request_txn": {
      const nested = path.nested[nestedIndex];
      assert(nested !== undefined, "txn: nested path missing");
      return checkTxnOps(reader, op.request_txn, nested, leaseExists);
    }
    default:
      return unreachable(op, "request op");
  }
}

// ---- Execution ------------------------------------------------------------------------------------

function txnReader(txn: WriteTxn, compactRevision: number): Reader {
  return {
    get readRevision() {
      return txn.readRevision;
    },
    compactRevision,
    scan: (key, rangeEnd, at, limit) => txn.scan(key, rangeEnd, at, limit),
  };
}

/** Executes a checked put inside `txn`. */
export function executePut(txn: WriteTxn, r: PutRequest): PutResponse {
  const needPrev = r.prev_kv === true || r.ignore_value === true || r.ignore_lease === true;
  let prev: KeyValue | undefined;
  if (needPrev) {
    const scanned = txn.scan(r.key, emptyBytes, 0, 0);
    assert(scanned.ok, "put: reading the previous value failed");
    prev = scanned.value.kvs[0];
  }
  if (r.ignore_value === true || r.ignore_lease === true)
    assert(prev !== undefined, "put: key vanished");
  const value = r.ignore_value === true ? (prev as KeyValue).value : (r.value ?? emptyBytes);
  const lease = r.ignore_lease === true ? (prev as KeyValue).lease : (r.lease ?? NO_LEASE);
  txn.put(r.key, value, lease);
  const resp: PutResponse = { header: header(txn.beginRevision + 1) };
  if (r.prev_kv === true && prev !== undefined) resp.prev_kv = prev;
  return resp;
}

/** Executes a delete inside `txn`; prev_kvs are the values the txn saw just before. */
export function executeDeleteRange(txn: WriteTxn, r: DeleteRangeRequest): DeleteRangeResponse {
  const deleted = txn.deleteRange(r.key, r.range_end ?? emptyBytes);
  const revision = txn.changeCount > 0 ? txn.beginRevision + 1 : txn.beginRevision;
  return {
    header: header(revision),
    deleted: deleted.length,
    prev_kvs: r.prev_kv === true ? deleted : [],
  };
}

/**
 * Executes the branch `path` chose. Nested txn responses carry a zero header revision, as etcd's
 * do; only the outermost response header is filled.
 */
export function executeTxn(
  txn: WriteTxn,
  t: TxnRequest,
  path: TxnPath,
  compactRevision: number,
): TxnResponse {
  const responses: ResponseOp[] = [];
  let nestedIndex = 0;
  for (const op of branchOf(t, path.succeeded)) {
    if (op.request === "request_txn") {
      const nested = path.nested[nestedIndex++] as TxnPath;
      const resp = executeTxn(txn, op.request_txn, nested, compactRevision);
      responses.push({ response: "response_txn", response_txn: { ...resp, header: header(0) } });
    } else {
      responses.push(executeSimpleOp(txn, op, compactRevision));
    }
  }
  return { header: header(txn.readRevision), succeeded: path.succeeded, responses };
}

function executeSimpleOp(
  txn: WriteTxn,
  op: Exclude<RequestOp, { request: "request_txn" }>,
  compactRevision: number,
): ResponseOp {
  switch (op.request) {
    case "request_range": {
      const resp = executeRange(txnReader(txn, compactRevision), op.request_range);
      assert(resp.ok, () => `txn: checked range failed: ${resp.ok ? "" : resp.error.message}`);
      return { response: "response_range", response_range: resp.value };
    }
    case "request_put":
      return { response: "response_put", response_put: executePut(txn, op.request_put) };
    case "request_delete_range":
      return {
        response: "response_delete_range",
        response_delete_range: executeDeleteRange(txn, op.request_delete_range),
      };
    default:
      return unreachable(op, "request op");
  }
}

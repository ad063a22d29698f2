// Request checks that etcd makes before a request reaches raft (its gRPC key service): empty keys,
// sort options, ignore_value / ignore_lease arguments, the txn operation limit, and put/delete
// overlaps inside one txn. They need no store state, so a server can run them on arrival and the
// store runs them again when applying (cheap, and the store is then safe on its own).

import { compareBytes, equalBytes, isFromKeyEnd } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "./errors.js";
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from "./rpc.js";
import { SORT_ORDER_VALUES, SORT_TARGET_VALUES } from "./rpc.js";

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

/**
 * How deep txns may nest below the top one. etcd bounds nesting only through the op limit (a nested
 * txn gets what its parent leaves, so single ops nest almost --max-txn-ops deep), but a replicated
 * entry carries at most this many levels (src/server/internal-request.ts): a deeper txn is refused
 * as too many operations before it is proposed.
 */
export const MAX_TXN_DEPTH = 64;

type Check = Result<undefined, EtcdError>;
const OK: Check = ok(undefined);

export function checkRangeRequest(r: RangeRequest): Check {
  if (r.key.length === 0) return err(Errors.EmptyKey);
  if (r.sort_order !== undefined && !(r.sort_order in SORT_ORDER_VALUES)) {
    return err(Errors.InvalidSortOption);
  }
  if (r.sort_target !== undefined && !(r.sort_target in SORT_TARGET_VALUES)) {
    return err(Errors.InvalidSortOption);
  }
  return OK;
}

export function checkPutRequest(r: PutRequest): Check {
  if (r.key.length === 0) return err(Errors.EmptyKey);
  if (r.ignore_value === true && r.value !== undefined && r.value.length !== 0) {
    return err(Errors.ValueProvided);
  }
  if (r.ignore_lease === true && r.lease !== undefined && r.lease !== 0n) {
    return err(Errors.LeaseProvided);
  }
  return OK;
}

export function checkDeleteRangeRequest(r: DeleteRangeRequest): Check {
  return r.key.length === 0 ? err(Errors.EmptyKey) : OK;
}

/**
 * The whole txn check: per-op arguments and the operation limit (each of compare, success and
 * failure at most `maxTxnOps` long; a nested txn gets what its parent leaves), then duplicate-key
 * detection in each branch.
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): Check {
  const shape = checkTxnShape(r, maxTxnOps);
  if (!shape.ok) return shape;
  for (const branch of [r.success ?? [], r.failure ?? []]) {
    const overlap = writeSets(branch);
    if (!overlap.ok) return overlap;
  }
  return OK;
}

function checkTxnShape(r: TxnRequest, maxTxnOps: number, depth = 0): Check {
  if (depth > MAX_TXN_DEPTH) return err(Errors.TooManyOps);
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opCount = Math.max(compare.length, success.length, failure.length);
  if (opCount > maxTxnOps) return err(Errors.TooManyOps);
  if (compare.some((c) => c.key.length === 0)) return err(Errors.EmptyKey);
  for (const op of [...success, ...failure]) {
    const checked = checkRequestOp(op, maxTxnOps - opCount, depth);
    if (!checked.ok) return checked;
  }
  return OK;
}

function checkRequestOp(op: RequestOp, maxTxnOps: number, depth: number): Check {
  switch (op.request) {
    case "request_range":
      return checkRangeRequest(op.request_range);
    case "request_put":
      return checkPutRequest(op.request_put);
    case "request_delete_range":
      return checkDeleteRangeRequest(op.request_delete_range);
    case "request_txn":
      return checkTxnShape(op.request_txn, maxTxnOps, depth + 1);
    default:
      // A RequestOp with none of its oneof set (only a client sending raw bytes can): etcd answers
      // an empty op with "key not found".
      return err(Errors.KeyNotFound);
  }
}

// ---- Duplicate keys ---------------------------------------------------------------------------------
// A key may be written once per txn: two puts of one key, or a put of a key that a delete in the same
// branch covers, are rejected. Deletes may overlap each other. The then/else branches of a nested txn
// are exclusive, so the same put in both is fine. One deliberate difference from etcd: a delete with
// range_end "\0" counts as covering every key from `key` on (etcd compares "\0" literally and misses
// that overlap), so a key is never written twice at one revision.

/** A delete's key interval; `end` undefined = a single key, `fromKey` = unbounded above. */
interface DeleteInterval {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
  readonly fromKey: boolean;
}

interface WriteSets {
  /** Keys the branch puts; few (at most maxTxnOps per level), so scanned linearly. */
  readonly puts: Uint8Array[];
  readonly deletes: DeleteInterval[];
}

function toInterval(r: DeleteRangeRequest): DeleteInterval {
  const end = r.range_end;
  if (end === undefined || end.length === 0)
    return { start: r.key, end: undefined, fromKey: false };
  return { start: r.key, end, fromKey: isFromKeyEnd(end) };
}

function covers(d: DeleteInterval, key: Uint8Array): boolean {
  if (d.end === undefined) return equalBytes(d.start, key);
  if (compareBytes(key, d.start) < 0) return false;
  return d.fromKey || compareBytes(key, d.end) < 0;
}

function hasKey(keys: readonly Uint8Array[], key: Uint8Array): boolean {
  return keys.some((k) => equalBytes(k, key));
}

function conflicts(sets: WriteSets, key: Uint8Array): boolean {
  return hasKey(sets.puts, key) || sets.deletes.some((d) => covers(d, key));
}

/** The puts and deletes one branch may perform, or DuplicateKey if two of them collide. */
function writeSets(ops: readonly RequestOp[]): Result<WriteSets, EtcdError> {
  const sets: WriteSets = { puts: [], deletes: [] };
  for (const op of ops) {
    if (op.request === "request_delete_range")
      sets.deletes.push(toInterval(op.request_delete_range));
  }
  for (const op of ops) {
    if (op.request !== "request_txn") continue;
    const merged = mergeNested(sets, op.request_txn);
    if (!merged.ok) return merged;
  }
  for (const op of ops) {
    if (op.request !== "request_put") continue;
    const key = op.request_put.key;
    if (conflicts(sets, key)) return err(Errors.DuplicateKey);
    sets.puts.push(key);
  }
  return ok(sets);
}

/** Adds a nested txn's writes (both branches) to `sets`, rejecting collisions. */
function mergeNested(sets: WriteSets, txn: TxnRequest): Check {
  const then = writeSets(txn.success ?? []);
  if (!then.ok) return then;
  const otherwise = writeSets(txn.failure ?? []);
  if (!otherwise.ok) return otherwise;
  for (const key of then.value.puts) {
    if (conflicts(sets, key)) return err(Errors.DuplicateKey);
    sets.puts.push(key);
  }
  for (const key of otherwise.value.puts) {
    const sameAsThen = hasKey(then.value.puts, key);
    if (hasKey(sets.puts, key) && !sameAsThen) return err(Errors.DuplicateKey);
    if (sets.deletes.some((d) => covers(d, key))) return err(Errors.DuplicateKey);
    if (!sameAsThen) sets.puts.push(key);
  }
  sets.deletes.push(...then.value.deletes, ...otherwise.value.deletes);
  return OK;
}

// Sending fuzzed requests through EtcdClient and judging the answers: a success must have the
// right shape, a failure must carry one of etcd's errors with etcd's gRPC code and exact message
// (one this method can give), or be a request the server could not decode (InvalidArgument "bad
// request: ..."). KvModel keeps what the successful writes left in the store, to check reads
// and the final state against.
import { status as Status } from "@grpc/grpc-js";
import { errorFromMessage, GRPC_CODE_VALUES, type EtcdErrorName } from "../../../src/api/errors.js";
import type { KeyValue } from "../../../src/api/kv.js";
import { MAX_TXN_DEPTH } from "../../../src/api/validate.js";
import {
  SORT_ORDER_VALUES,
  SORT_TARGET_VALUES,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "../../../src/api/rpc.js";
import {
  bytesToLatin1,
  compareBytes,
  emptyBytes,
  equalBytes,
  inRange,
  latin1ToBytes,
} from "../../../src/lib/bytes.js";
import { EtcdClientError, type EtcdClient } from "../../../src/real/grpc/client.js";
import type { FuzzLimits, FuzzMethod, FuzzOp } from "./arbitraries.js";

export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: EtcdClientError };

/** Sends one request with a deadline; a hang shows up as DEADLINE_EXCEEDED. */
export async function send(client: EtcdClient, op: FuzzOp, timeoutMs: number): Promise<Outcome> {
  const opts = { timeoutMs };
  const call = (): Promise<unknown> => {
    switch (op.m) {
      case "range":
        return client.range(op.req, opts);
      case "put":
        return client.put(op.req, opts);
      case "deleteRange":
        return client.deleteRange(op.req, opts);
      case "txn":
        return client.txn(op.req, opts);
      case "compact":
        return client.compact(op.req, opts);
      case "hashKV":
        return client.hashKV(op.req, opts);
      case "leaseGrant":
        return client.leaseGrant(op.req, opts);
      case "leaseRevoke":
        return client.leaseRevoke(op.req, opts);
      case "leaseTimeToLive":
        return client.leaseTimeToLive(op.req, opts);
      case "leaseLeases":
        return client.leaseLeases(opts);
      case "memberRemove":
        return client.memberRemove(op.req, opts);
      case "memberUpdate":
        return client.memberUpdate(op.req, opts);
      case "memberPromote":
        return client.memberPromote(op.req, opts);
      case "memberList":
        return client.memberList({}, opts);
      case "alarm":
        return client.alarm(op.req, opts);
      case "status":
        return client.status(opts);
    }
  };
  try {
    return { ok: true, value: await call() };
  } catch (e) {
    if (e instanceof EtcdClientError) return { ok: false, error: e };
    throw e;
  }
}

// ---- errors ----------------------------------------------------------------------------------------

/** What any request may meet on a busy machine: no leader yet, a timeout. */
const AVAILABILITY: readonly EtcdErrorName[] = [
  "NoLeader",
  "LeaderChanged",
  "Timeout",
  "TimeoutDueToLeaderFail",
  "TimeoutDueToConnectionLost",
  "TimeoutWaitAppliedIndex",
  "TooManyRequests",
];
const READ: readonly EtcdErrorName[] = [
  "EmptyKey",
  "InvalidSortOption",
  "Compacted",
  "FutureRev",
  "RequestTooLarge",
];
const WRITE: readonly EtcdErrorName[] = [
  "EmptyKey",
  "ValueProvided",
  "LeaseProvided",
  "KeyNotFound",
  "LeaseNotFound",
  "RequestTooLarge",
  "NoSpace",
];

/** The etcd errors each method may answer (besides AVAILABILITY). */
const ALLOWED: Readonly<Record<FuzzMethod, readonly EtcdErrorName[]>> = {
  range: READ,
  put: WRITE,
  deleteRange: ["EmptyKey", "RequestTooLarge"],
  txn: [...READ, ...WRITE, "TooManyOps", "DuplicateKey"],
  compact: ["Compacted", "FutureRev"],
  hashKV: ["Compacted", "FutureRev"],
  leaseGrant: ["LeaseExist", "LeaseTTLTooLarge", "NoSpace"],
  leaseRevoke: ["LeaseNotFound"],
  leaseTimeToLive: ["LeaseNotFound"],
  leaseLeases: [],
  memberRemove: ["MemberNotFound"],
  memberUpdate: ["MemberNotFound", "MemberBadURLs"],
  memberPromote: ["MemberNotFound"],
  memberList: [],
  alarm: [],
  status: [],
};

function sortValid(r: RangeRequest): boolean {
  return (
    (r.sort_order === undefined || r.sort_order in SORT_ORDER_VALUES) &&
    (r.sort_target === undefined || r.sort_target in SORT_TARGET_VALUES)
  );
}

/** How many txns nest below `t`. */
function nesting(t: TxnRequest): number {
  let deepest = 0;
  for (const op of [...(t.success ?? []), ...(t.failure ?? [])])
    if (op.request === "request_txn") deepest = Math.max(deepest, 1 + nesting(op.request_txn));
  return deepest;
}

/** The answer some requests must get whatever the store holds (etcd checks them first). */
function certainError(op: FuzzOp, limits: FuzzLimits): EtcdErrorName | undefined {
  switch (op.m) {
    case "range":
      if (op.req.key.length === 0) return "EmptyKey";
      return sortValid(op.req) ? undefined : "InvalidSortOption";
    case "put":
      if (op.req.key.length === 0) return "EmptyKey";
      if (op.req.ignore_value === true && (op.req.value?.length ?? 0) > 0) return "ValueProvided";
      if (op.req.ignore_lease === true && (op.req.lease ?? 0n) !== 0n) return "LeaseProvided";
      if ((op.req.value?.length ?? 0) > limits.maxRequestBytes) return "RequestTooLarge";
      return undefined;
    case "deleteRange":
      return op.req.key.length === 0 ? "EmptyKey" : undefined;
    case "txn": {
      const t = op.req;
      const n = Math.max(t.compare?.length ?? 0, t.success?.length ?? 0, t.failure?.length ?? 0);
      return n > limits.maxTxnOps || nesting(t) > MAX_TXN_DEPTH ? "TooManyOps" : undefined;
    }
    case "leaseGrant":
      return op.req.TTL > 9_000_000_000 ? "LeaseTTLTooLarge" : undefined;
    case "memberRemove":
    case "memberPromote":
      return "MemberNotFound";
    default:
      return undefined;
  }
}

/** Problems with a failure; none when it is an error this request may get. */
export function checkFailure(op: FuzzOp, e: EtcdClientError, limits: FuzzLimits): string[] {
  if (e.code === Status.INTERNAL || e.code === Status.UNKNOWN) {
    return [`${op.m}: ${Status[e.code]} ${e.details}`];
  }
  if (e.code === Status.DEADLINE_EXCEEDED) return [`${op.m}: no answer before the deadline`];
  if (e.code === Status.INVALID_ARGUMENT && e.details.startsWith("bad request: ")) return [];
  const etcd = errorFromMessage(e.details);
  if (etcd === undefined) return [`${op.m}: ${Status[e.code]} "${e.details}" is none of etcd's`];
  if (GRPC_CODE_VALUES[etcd.code] !== e.code) {
    return [`${op.m}: "${e.details}" came with ${Status[e.code]}, etcd sends ${etcd.code}`];
  }
  const certain = certainError(op, limits);
  if (certain !== undefined && certain !== etcd.name && !AVAILABILITY.includes(etcd.name)) {
    return [`${op.m}: ${etcd.name} where etcd answers ${certain}`];
  }
  if (!ALLOWED[op.m].includes(etcd.name) && !AVAILABILITY.includes(etcd.name)) {
    return [`${op.m}: ${etcd.name} is not an answer of this method`];
  }
  return [];
}

// ---- shapes ----------------------------------------------------------------------------------------

const isBigint = (v: unknown): boolean => typeof v === "bigint";
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * A top-level response's header names the cluster, the member and a revision; responses nested in
 * a txn carry etcd's zero header (only the top one is filled), so only their types are checked.
 */
function headerProblems(h: ResponseHeader | undefined, what: string): string[] {
  if (h === undefined) return [`${what}: no header`];
  if (what.includes("[")) {
    const typed = isBigint(h.cluster_id) && isBigint(h.member_id) && isCount(h.revision);
    return typed && isCount(h.raft_term) ? [] : [`${what}: malformed header ${show(h)}`];
  }
  const out: string[] = [];
  if (!isBigint(h.cluster_id) || h.cluster_id === 0n)
    out.push(`${what}: cluster_id ${h.cluster_id}`);
  if (!isBigint(h.member_id) || h.member_id === 0n) out.push(`${what}: member_id ${h.member_id}`);
  if (!isCount(h.revision) || h.revision === 0) out.push(`${what}: revision ${h.revision}`);
  if (!isCount(h.raft_term)) out.push(`${what}: raft_term ${h.raft_term}`);
  return out;
}

function kvProblems(kv: KeyValue, what: string): string[] {
  const ok =
    kv.key instanceof Uint8Array &&
    kv.key.length > 0 &&
    kv.value instanceof Uint8Array &&
    isCount(kv.create_revision) &&
    isCount(kv.mod_revision) &&
    kv.create_revision > 0 &&
    kv.create_revision <= kv.mod_revision &&
    isCount(kv.version) &&
    kv.version > 0 &&
    isBigint(kv.lease);
  return ok ? [] : [`${what}: malformed kv ${show(kv)}`];
}

function sortKey(kv: KeyValue, target: string): number | Uint8Array {
  switch (target) {
    case "VERSION":
      return kv.version;
    case "CREATE":
      return kv.create_revision;
    case "MOD":
      return kv.mod_revision;
    case "VALUE":
      return kv.value;
    default:
      return kv.key;
  }
}

function compareSortKeys(a: number | Uint8Array, b: number | Uint8Array): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareBytes(a as Uint8Array, b as Uint8Array);
}

function rangeProblems(req: RangeRequest, resp: RangeResponse, what: string): string[] {
  const out = headerProblems(resp.header, what);
  if (!Array.isArray(resp.kvs) || typeof resp.more !== "boolean" || !isCount(resp.count)) {
    return [...out, `${what}: malformed range response`];
  }
  const end = req.range_end ?? emptyBytes;
  // etcd applies every revision filter that is not zero, negative ones too.
  for (const kv of resp.kvs) {
    out.push(...kvProblems(kv, what));
    if (!inRange(kv.key, req.key, end)) out.push(`${what}: ${show(kv.key)} is outside the range`);
    if (req.keys_only === true && kv.value.length > 0) out.push(`${what}: keys_only sent a value`);
    if ((req.min_mod_revision ?? 0) !== 0 && kv.mod_revision < (req.min_mod_revision ?? 0))
      out.push(`${what}: below min_mod_revision`);
    if ((req.max_mod_revision ?? 0) !== 0 && kv.mod_revision > (req.max_mod_revision ?? 0))
      out.push(`${what}: above max_mod_revision`);
    if ((req.min_create_revision ?? 0) !== 0 && kv.create_revision < (req.min_create_revision ?? 0))
      out.push(`${what}: below min_create_revision`);
    if ((req.max_create_revision ?? 0) !== 0 && kv.create_revision > (req.max_create_revision ?? 0))
      out.push(`${what}: above max_create_revision`);
  }
  if (req.count_only === true && resp.kvs.length > 0) out.push(`${what}: count_only sent kvs`);
  const limit = req.limit ?? 0;
  if (limit > 0 && resp.kvs.length > limit) out.push(`${what}: ${resp.kvs.length} kvs > limit`);
  if (req.count_only !== true && resp.count < resp.kvs.length)
    out.push(`${what}: count ${resp.count} < ${resp.kvs.length} kvs`);
  // etcd sorts by the target ascending when the order is NONE and the target is not the key.
  const target = req.sort_target ?? "KEY";
  const descending = req.sort_order === "DESCEND";
  for (let i = 1; i < resp.kvs.length; i++) {
    const c = compareSortKeys(
      sortKey(resp.kvs[i - 1] as KeyValue, target),
      sortKey(resp.kvs[i] as KeyValue, target),
    );
    if (descending ? c < 0 : c > 0) out.push(`${what}: kvs out of ${target} order`);
  }
  const keys = new Set(resp.kvs.map((kv) => bytesToLatin1(kv.key)));
  if (keys.size !== resp.kvs.length) out.push(`${what}: a key twice`);
  return out;
}

function responseOpProblems(op: RequestOp, resp: ResponseOp | undefined, what: string): string[] {
  if (resp === undefined) return [`${what}: no response for ${op.request}`];
  const want = op.request.replace("request_", "response_");
  if (resp.response !== want) return [`${what}: ${resp.response} answers ${op.request}`];
  switch (op.request) {
    case "request_range":
      return rangeProblems(
        op.request_range,
        (resp as { response_range: RangeResponse }).response_range,
        what,
      );
    case "request_txn":
      return txnProblems(
        op.request_txn,
        (resp as { response_txn: TxnResponse }).response_txn,
        what,
      );
    default:
      return [];
  }
}

function txnProblems(req: TxnRequest, resp: TxnResponse, what: string): string[] {
  const out = headerProblems(resp.header, what);
  if (typeof resp.succeeded !== "boolean" || !Array.isArray(resp.responses))
    return [...out, `${what}: malformed txn response`];
  const ops = (resp.succeeded ? req.success : req.failure) ?? [];
  if (ops.length !== resp.responses.length)
    out.push(`${what}: ${resp.responses.length} responses for ${ops.length} ops`);
  ops.forEach((op, i) => out.push(...responseOpProblems(op, resp.responses[i], `${what}[${i}]`)));
  return out;
}

/** Problems with a success: its shape, and that it answers this request. */
export function checkSuccess(op: FuzzOp, value: unknown, limits: FuzzLimits): string[] {
  const what = op.m;
  const certain = certainError(op, limits);
  if (certain !== undefined) return [`${what}: succeeded where etcd answers ${certain}`];
  const v = value as Record<string, unknown> & { header: ResponseHeader };
  const out = headerProblems(v.header, what);
  switch (op.m) {
    case "range":
      return rangeProblems(op.req, value as RangeResponse, what);
    case "put":
      if (v.prev_kv !== undefined) out.push(...kvProblems(v.prev_kv as KeyValue, what));
      if (op.req.prev_kv !== true && v.prev_kv !== undefined) out.push(`${what}: unasked prev_kv`);
      return out;
    case "deleteRange": {
      if (!isCount(v.deleted) || !Array.isArray(v.prev_kvs)) return [...out, `${what}: malformed`];
      const prev = v.prev_kvs as KeyValue[];
      const expected = op.req.prev_kv === true ? (v.deleted as number) : 0;
      if (prev.length !== expected)
        out.push(`${what}: ${prev.length} prev_kvs, deleted ${v.deleted}`);
      return out;
    }
    case "txn":
      return txnProblems(op.req, value as TxnResponse, what);
    case "leaseGrant":
      if (!isBigint(v.ID) || v.ID === 0n) out.push(`${what}: ID ${String(v.ID)}`);
      if ((op.req.ID ?? 0n) !== 0n && v.ID !== op.req.ID) out.push(`${what}: another ID`);
      if (!isCount(v.TTL) || (v.TTL as number) < 1) out.push(`${what}: TTL ${String(v.TTL)}`);
      if (v.error !== "") out.push(`${what}: error "${String(v.error)}"`);
      return out;
    case "leaseTimeToLive":
      if (v.ID !== op.req.ID) out.push(`${what}: ID ${String(v.ID)}`);
      if (!Number.isSafeInteger(v.TTL) || (v.TTL as number) < -1) out.push(`${what}: TTL`);
      if (!Array.isArray(v.keys)) out.push(`${what}: keys`);
      return out;
    case "leaseLeases":
      if (!Array.isArray(v.leases)) out.push(`${what}: leases`);
      return out;
    case "memberRemove":
    case "memberPromote":
    case "memberUpdate":
      return [...out, `${what}: succeeded for a member that does not exist`];
    case "memberList":
      if (!Array.isArray(v.members) || v.members.length !== limits.memberIds.length)
        out.push(`${what}: members`);
      return out;
    case "alarm":
      if (!Array.isArray(v.alarms)) out.push(`${what}: alarms`);
      return out;
    case "status":
      if (typeof v.version !== "string" || !isCount(v.dbSize) || !isBigint(v.leader))
        out.push(`${what}: malformed status`);
      return out;
    case "hashKV":
      // etcd answers compact_revision -1 before the first compaction.
      if (
        !isCount(v.hash) ||
        !isCount(v.hash_revision) ||
        !isCount((v.compact_revision as number) + 1)
      )
        out.push(`${what}: malformed hashKV`);
      return out;
    default:
      return out;
  }
}

// ---- the model -------------------------------------------------------------------------------------

interface ModelEntry {
  readonly value: Uint8Array;
  readonly lease: bigint;
}

/**
 * The store as the successful writes left it. A key on a lease may also be gone (leases the fuzz
 * grants with short TTLs expire on their own); every other key is exactly as its last write left it.
 */
export class KvModel {
  private readonly kv = new Map<string, ModelEntry>();

  /** `staleReads`: serializable reads may lag (a follower's), so they are not checked. */
  constructor(private readonly staleReads = false) {}

  /** Applies a successful write; returns problems found on the way (reads in txns, prev_kv). */
  applied(op: FuzzOp, value: unknown): string[] {
    switch (op.m) {
      case "put":
        return this.put(op.req, (value as { prev_kv?: KeyValue }).prev_kv, "put");
      case "deleteRange":
        this.delete(op.req);
        return [];
      case "txn":
        return this.txn(op.req, value as TxnResponse, "txn");
      case "leaseRevoke":
        for (const [k, e] of this.kv) if (e.lease === op.req.ID) this.kv.delete(k);
        return [];
      case "range": {
        const past = (op.req.revision ?? 0) > 0;
        const stale = this.staleReads && op.req.serializable === true;
        return past || stale ? [] : this.checkRange(op.req, value as RangeResponse, "range");
      }
      default:
        return [];
    }
  }

  private put(req: PutRequest, prev: KeyValue | undefined, what: string): string[] {
    const k = bytesToLatin1(req.key);
    const existing = this.kv.get(k);
    const out: string[] = [];
    if (req.prev_kv === true) out.push(...this.matches(k, prev, `${what} prev_kv`));
    if ((req.ignore_value === true || req.ignore_lease === true) && existing === undefined)
      out.push(
        `${what}: ignore_value/ignore_lease put of ${show(req.key)} the store should not hold`,
      );
    this.kv.set(k, {
      value:
        req.ignore_value === true ? (existing?.value ?? emptyBytes) : (req.value ?? emptyBytes),
      lease: req.ignore_lease === true ? (existing?.lease ?? 0n) : (req.lease ?? 0n),
    });
    return out;
  }

  private delete(req: DeleteRangeRequest): void {
    const end = req.range_end ?? emptyBytes;
    for (const k of [...this.kv.keys()])
      if (inRange(latin1ToBytes(k), req.key, end)) this.kv.delete(k);
  }

  private txn(req: TxnRequest, resp: TxnResponse, what: string): string[] {
    const ops = (resp.succeeded ? req.success : req.failure) ?? [];
    const out: string[] = [];
    ops.forEach((op, i) => {
      const r = resp.responses[i] as ResponseOp;
      const at = `${what}[${i}]`;
      switch (op.request) {
        case "request_put":
          out.push(
            ...this.put(
              op.request_put,
              (r as { response_put: { prev_kv?: KeyValue } }).response_put.prev_kv,
              at,
            ),
          );
          return;
        case "request_delete_range":
          return this.delete(op.request_delete_range);
        case "request_range":
          if ((op.request_range.revision ?? 0) <= 0)
            out.push(
              ...this.checkRange(
                op.request_range,
                (r as { response_range: RangeResponse }).response_range,
                at,
              ),
            );
          return;
        case "request_txn":
          out.push(
            ...this.txn(op.request_txn, (r as { response_txn: TxnResponse }).response_txn, at),
          );
          return;
      }
    });
    return out;
  }

  /** A stored kv (or its absence) against the model's entry for `k`. */
  private matches(k: string, kv: KeyValue | undefined, what: string, keysOnly = false): string[] {
    const e = this.kv.get(k);
    if (kv === undefined) {
      return e === undefined || e.lease !== 0n
        ? []
        : [`${what}: ${show(latin1ToBytes(k))} is missing`];
    }
    if (e === undefined) return [`${what}: ${show(kv.key)} should not exist`];
    const valueOk = keysOnly ? kv.value.length === 0 : equalBytes(kv.value, e.value);
    if (!valueOk || kv.lease !== e.lease) {
      return [`${what}: ${show(kv.key)} holds ${show(kv)}, the last write left ${show(e)}`];
    }
    return [];
  }

  /** A read at the current revision against the model. */
  checkRange(req: RangeRequest, resp: RangeResponse, what: string): string[] {
    const out: string[] = [];
    if (req.count_only !== true)
      for (const kv of resp.kvs)
        out.push(...this.matches(bytesToLatin1(kv.key), kv, what, req.keys_only === true));
    const end = req.range_end ?? emptyBytes;
    const inside = [...this.kv].filter(([k]) => inRange(latin1ToBytes(k), req.key, end));
    const sure = inside.filter(([, e]) => e.lease === 0n).length;
    if (resp.count < sure || resp.count > inside.length)
      out.push(`${what}: count ${resp.count}, the model has ${sure}..${inside.length}`);
    const filtered =
      [
        req.min_mod_revision,
        req.max_mod_revision,
        req.min_create_revision,
        req.max_create_revision,
      ].some((r) => (r ?? 0) !== 0) ||
      (req.limit ?? 0) > 0 ||
      req.count_only === true;
    if (!filtered) {
      const got = new Set(resp.kvs.map((kv) => bytesToLatin1(kv.key)));
      for (const [k, e] of inside)
        if (e.lease === 0n && !got.has(k))
          out.push(`${what}: ${show(latin1ToBytes(k))} is missing`);
    }
    return out;
  }

  /** Every key of the store (a full range) against the model. */
  checkAll(kvs: readonly KeyValue[], what: string): string[] {
    return this.checkRange(
      { key: Uint8Array.of(0), range_end: Uint8Array.of(0) },
      { kvs: [...kvs], count: kvs.length, more: false, header: undefined as never },
      what,
    );
  }

  get size(): number {
    return this.kv.size;
  }
}

// ---- display ---------------------------------------------------------------------------------------

/** JSON with bytes as short strings and bigints as decimals, for failure messages. */
export function show(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) {
      const text = bytesToLatin1(v.subarray(0, 16));
      return v.length > 16 ? `${JSON.stringify(text)}…(${v.length} bytes)` : JSON.stringify(text);
    }
    return v;
  });
}

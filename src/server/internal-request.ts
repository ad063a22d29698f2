// The payload of one Raft entry: etcd's InternalRaftRequest, reduced to what detcd replicates. A
// request id lets the proposing member find the client waiting for it; every member applies the
// request itself in log order. An auth header (etcd's RequestHeader username and auth_revision)
// says who asked, so a write is checked against the auth store again when it applies.
//
// Wire form (all integers big-endian): a version byte, the kind byte, the request id as a float64
// (ids stay below 2^53), then (version 2 only) the auth header, then the request. A request
// without an auth header is written as version 1, byte for byte as before auth existed. Optional fields are preceded by a presence bitmask so a
// decoded request is field-for-field the request that was encoded (absent stays absent). Numbers
// are float64 (exact for every safe integer, negative revisions included), lease ids int64, byte
// strings a uint32 length then the bytes. The encoding is a pure function of the request, so two
// members proposing the same request write the same bytes.

import { assert, unreachable } from "../lib/assert.js";
import { err, ok, type Result } from "../lib/result.js";
import { BigEndianReader, BigEndianWriter, MalformedBytes } from "../lib/byte-codec.js";
import {
  PERMISSION_TYPES,
  type AuthChange,
  type AuthHeader,
  type Permission,
} from "../api/auth.js";
import type { LeaseId } from "../api/kv.js";
import type { LeaseCheckpointRequest } from "../api/lease-internal.js";
import { ALARM_NAMES, type AlarmName } from "./alarms.js";
import {
  COMPARE_RESULT_VALUES,
  COMPARE_TARGET_VALUES,
  SORT_ORDER_VALUES,
  SORT_TARGET_VALUES,
  type Compare,
  type CompareResult,
  type CompareTarget,
  type CompactionRequest,
  type DeleteRangeRequest,
  type LeaseGrantRequest,
  type LeaseRevokeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
} from "../api/rpc.js";

/**
 * One replicated request. `id` is unique across the cluster's lifetime (see RequestIds).
 * `authHeader`: who proposed it; absent for a client without credentials (or a member proposing
 * for itself while auth was disabled).
 */
export type InternalRequest = InternalRequestBody & { readonly authHeader?: AuthHeader };

type InternalRequestBody =
  | { readonly kind: "put"; readonly id: number; readonly put: PutRequest }
  | { readonly kind: "delete-range"; readonly id: number; readonly deleteRange: DeleteRangeRequest }
  | { readonly kind: "txn"; readonly id: number; readonly txn: TxnRequest }
  | { readonly kind: "compaction"; readonly id: number; readonly compaction: CompactionRequest }
  | { readonly kind: "lease-grant"; readonly id: number; readonly leaseGrant: LeaseGrantRequest }
  | { readonly kind: "lease-revoke"; readonly id: number; readonly leaseRevoke: LeaseRevokeRequest }
  | {
      readonly kind: "lease-checkpoint";
      readonly id: number;
      readonly leaseCheckpoint: LeaseCheckpointRequest;
    }
  | { readonly kind: "alarm"; readonly id: number; readonly alarm: AlarmChange }
  | { readonly kind: "auth"; readonly id: number; readonly authChange: AuthChange };

/** Raise or clear one member's alarm (etcd's AlarmRequest ACTIVATE / DEACTIVATE). */
export interface AlarmChange {
  readonly action: "ACTIVATE" | "DEACTIVATE";
  readonly memberID: number;
  readonly alarm: AlarmName;
}

export type InternalRequestKind = InternalRequest["kind"];

const VERSION = 1;
const VERSION_AUTH_HEADER = 2;
const KINDS: readonly InternalRequestKind[] = [
  "put",
  "delete-range",
  "txn",
  "compaction",
  "lease-grant",
  "lease-revoke",
  "lease-checkpoint",
  "alarm",
  "auth",
];
const SORT_ORDERS = Object.keys(SORT_ORDER_VALUES) as SortOrder[];
const SORT_TARGETS = Object.keys(SORT_TARGET_VALUES) as SortTarget[];
const COMPARE_RESULTS = Object.keys(COMPARE_RESULT_VALUES) as CompareResult[];
const COMPARE_TARGETS = Object.keys(COMPARE_TARGET_VALUES) as CompareTarget[];

// ---- writer ----------------------------------------------------------------------------------------

class Writer extends BigEndianWriter {
  num(v: number): void {
    this.f64(v);
  }

  id64(v: LeaseId): void {
    this.i64(v);
  }

  str(v: string): void {
    this.string(v);
  }

  /** Presence bits of optional fields, in order; at most 16. */
  mask(...present: boolean[]): void {
    assert(present.length <= 16, "codec: too many optional fields");
    let m = 0;
    present.forEach((p, i) => {
      if (p) m |= 1 << i;
    });
    this.u8(m & 0xff);
    this.u8(m >>> 8);
  }
}

// ---- reader ----------------------------------------------------------------------------------------

/** Thrown inside this file to unwind a malformed entry to decodeInternalRequest. */
const Malformed = MalformedBytes;

class Reader extends BigEndianReader {
  constructor(buf: Uint8Array) {
    // An entry that owns its whole buffer (as encoded, or as the peer codec and the WAL copy it
    // out) lends its bytes to the decoded request: the store keeps a value as a view of the entry
    // instead of a copy. An entry that is a view into something larger is copied from, so a kept
    // value never pins a network frame or a WAL segment.
    super(buf, "entry", buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength);
  }

  num(): number {
    return this.f64();
  }

  id64(): LeaseId {
    return this.i64();
  }

  str(): string {
    return this.string();
  }

  mask(): (bit: number) => boolean {
    const m = this.u8() | (this.u8() << 8);
    return (bit) => (m & (1 << bit)) !== 0;
  }

  pick<T>(values: readonly T[], what: string): T {
    const i = this.u8();
    const v = values[i];
    if (v === undefined) throw new Malformed(`bad ${what} ${i}`);
    return v;
  }
}

// ---- requests --------------------------------------------------------------------------------------

function writeRange(w: Writer, r: RangeRequest): void {
  w.mask(
    r.range_end !== undefined,
    r.limit !== undefined,
    r.revision !== undefined,
    r.sort_order !== undefined,
    r.sort_target !== undefined,
    r.serializable !== undefined,
    r.keys_only !== undefined,
    r.count_only !== undefined,
    r.min_mod_revision !== undefined,
    r.max_mod_revision !== undefined,
    r.min_create_revision !== undefined,
    r.max_create_revision !== undefined,
  );
  w.bytes(r.key);
  if (r.range_end !== undefined) w.bytes(r.range_end);
  if (r.limit !== undefined) w.num(r.limit);
  if (r.revision !== undefined) w.num(r.revision);
  if (r.sort_order !== undefined) w.u8(SORT_ORDERS.indexOf(r.sort_order));
  if (r.sort_target !== undefined) w.u8(SORT_TARGETS.indexOf(r.sort_target));
  if (r.serializable !== undefined) w.u8(r.serializable ? 1 : 0);
  if (r.keys_only !== undefined) w.u8(r.keys_only ? 1 : 0);
  if (r.count_only !== undefined) w.u8(r.count_only ? 1 : 0);
  if (r.min_mod_revision !== undefined) w.num(r.min_mod_revision);
  if (r.max_mod_revision !== undefined) w.num(r.max_mod_revision);
  if (r.min_create_revision !== undefined) w.num(r.min_create_revision);
  if (r.max_create_revision !== undefined) w.num(r.max_create_revision);
}

function readRange(r: Reader): RangeRequest {
  const has = r.mask();
  const key = r.bytes();
  const out: RangeRequest = { key };
  if (has(0)) out.range_end = r.bytes();
  if (has(1)) out.limit = r.num();
  if (has(2)) out.revision = r.num();
  if (has(3)) out.sort_order = r.pick(SORT_ORDERS, "sort order");
  if (has(4)) out.sort_target = r.pick(SORT_TARGETS, "sort target");
  if (has(5)) out.serializable = r.u8() === 1;
  if (has(6)) out.keys_only = r.u8() === 1;
  if (has(7)) out.count_only = r.u8() === 1;
  if (has(8)) out.min_mod_revision = r.num();
  if (has(9)) out.max_mod_revision = r.num();
  if (has(10)) out.min_create_revision = r.num();
  if (has(11)) out.max_create_revision = r.num();
  return out;
}

function writePut(w: Writer, p: PutRequest): void {
  w.mask(
    p.value !== undefined,
    p.lease !== undefined,
    p.prev_kv !== undefined,
    p.ignore_value !== undefined,
    p.ignore_lease !== undefined,
  );
  w.bytes(p.key);
  if (p.value !== undefined) w.bytes(p.value);
  if (p.lease !== undefined) w.id64(p.lease);
  if (p.prev_kv !== undefined) w.u8(p.prev_kv ? 1 : 0);
  if (p.ignore_value !== undefined) w.u8(p.ignore_value ? 1 : 0);
  if (p.ignore_lease !== undefined) w.u8(p.ignore_lease ? 1 : 0);
}

function readPut(r: Reader): PutRequest {
  const has = r.mask();
  const out: PutRequest = { key: r.bytes() };
  if (has(0)) out.value = r.bytes();
  if (has(1)) out.lease = r.id64();
  if (has(2)) out.prev_kv = r.u8() === 1;
  if (has(3)) out.ignore_value = r.u8() === 1;
  if (has(4)) out.ignore_lease = r.u8() === 1;
  return out;
}

function writeDelete(w: Writer, d: DeleteRangeRequest): void {
  w.mask(d.range_end !== undefined, d.prev_kv !== undefined);
  w.bytes(d.key);
  if (d.range_end !== undefined) w.bytes(d.range_end);
  if (d.prev_kv !== undefined) w.u8(d.prev_kv ? 1 : 0);
}

function readDelete(r: Reader): DeleteRangeRequest {
  const has = r.mask();
  const out: DeleteRangeRequest = { key: r.bytes() };
  if (has(0)) out.range_end = r.bytes();
  if (has(1)) out.prev_kv = r.u8() === 1;
  return out;
}

function writeCompare(w: Writer, c: Compare): void {
  w.u8(COMPARE_RESULTS.indexOf(c.result));
  w.u8(COMPARE_TARGETS.indexOf(c.target));
  w.bytes(c.key);
  w.mask(c.range_end !== undefined, compareOperandPresent(c));
  if (c.range_end !== undefined) w.bytes(c.range_end);
  if (!compareOperandPresent(c)) return;
  switch (c.target) {
    case "VERSION":
      return w.num(c.version ?? 0);
    case "CREATE":
      return w.num(c.create_revision ?? 0);
    case "MOD":
      return w.num(c.mod_revision ?? 0);
    case "VALUE":
      return w.bytes(c.value ?? new Uint8Array(0));
    case "LEASE":
      return w.id64(c.lease ?? 0n);
    default:
      return unreachable(c, "compare target");
  }
}

function compareOperandPresent(c: Compare): boolean {
  switch (c.target) {
    case "VERSION":
      return c.version !== undefined;
    case "CREATE":
      return c.create_revision !== undefined;
    case "MOD":
      return c.mod_revision !== undefined;
    case "VALUE":
      return c.value !== undefined;
    case "LEASE":
      return c.lease !== undefined;
    default:
      return unreachable(c, "compare target");
  }
}

function readCompare(r: Reader): Compare {
  const result = r.pick(COMPARE_RESULTS, "compare result");
  const target = r.pick(COMPARE_TARGETS, "compare target");
  const key = r.bytes();
  const has = r.mask();
  const base = has(0) ? { result, key, range_end: r.bytes() } : { result, key };
  if (!has(1)) return { ...base, target } as Compare;
  switch (target) {
    case "VERSION":
      return { ...base, target, version: r.num() };
    case "CREATE":
      return { ...base, target, create_revision: r.num() };
    case "MOD":
      return { ...base, target, mod_revision: r.num() };
    case "VALUE":
      return { ...base, target, value: r.bytes() };
    case "LEASE":
      return { ...base, target, lease: r.id64() };
    default:
      return unreachable(target, "compare target");
  }
}

const OP_TAGS = ["request_range", "request_put", "request_delete_range", "request_txn"] as const;

function writeOp(w: Writer, op: RequestOp): void {
  w.u8(OP_TAGS.indexOf(op.request));
  switch (op.request) {
    case "request_range":
      return writeRange(w, op.request_range);
    case "request_put":
      return writePut(w, op.request_put);
    case "request_delete_range":
      return writeDelete(w, op.request_delete_range);
    case "request_txn":
      return writeTxn(w, op.request_txn);
    default:
      return unreachable(op, "request op");
  }
}

function readOp(r: Reader, depth: number): RequestOp {
  const tag = r.pick(OP_TAGS, "request op");
  switch (tag) {
    case "request_range":
      return { request: tag, request_range: readRange(r) };
    case "request_put":
      return { request: tag, request_put: readPut(r) };
    case "request_delete_range":
      return { request: tag, request_delete_range: readDelete(r) };
    case "request_txn":
      return { request: tag, request_txn: readTxn(r, depth + 1) };
    default:
      return unreachable(tag, "request op");
  }
}

function writeList<T>(w: Writer, items: readonly T[], write: (w: Writer, item: T) => void): void {
  w.num(items.length);
  for (const item of items) write(w, item);
}

function readList<T>(r: Reader, read: () => T): T[] {
  const n = r.num();
  if (!Number.isInteger(n) || n < 0) throw new Malformed(`bad list length ${n}`);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read());
  return out;
}

function writeTxn(w: Writer, t: TxnRequest): void {
  w.mask(t.compare !== undefined, t.success !== undefined, t.failure !== undefined);
  if (t.compare !== undefined) writeList(w, t.compare, writeCompare);
  if (t.success !== undefined) writeList(w, t.success, writeOp);
  if (t.failure !== undefined) writeList(w, t.failure, writeOp);
}

/** Nesting deeper than this cannot pass the txn op limit; a deeper entry is malformed. */
const MAX_TXN_DEPTH = 64;

function readTxn(r: Reader, depth: number): TxnRequest {
  if (depth > MAX_TXN_DEPTH) throw new Malformed("txn nested too deeply");
  const has = r.mask();
  const out: TxnRequest = {};
  if (has(0)) out.compare = readList(r, () => readCompare(r));
  if (has(1)) out.success = readList(r, () => readOp(r, depth));
  if (has(2)) out.failure = readList(r, () => readOp(r, depth));
  return out;
}

// ---- auth ------------------------------------------------------------------------------------------

const AUTH_OPS: readonly AuthChange["op"][] = [
  "auth-enable",
  "auth-disable",
  "user-add",
  "user-delete",
  "user-change-password",
  "user-grant-role",
  "user-revoke-role",
  "role-add",
  "role-delete",
  "role-grant-permission",
  "role-revoke-permission",
  "authenticate",
];

function writeOptionalStr(w: Writer, v: string | undefined): void {
  w.u8(v === undefined ? 0 : 1);
  if (v !== undefined) w.str(v);
}

function readOptionalStr(r: Reader): string | undefined {
  return r.u8() === 1 ? r.str() : undefined;
}

function writeAuthChange(w: Writer, c: AuthChange): void {
  w.u8(AUTH_OPS.indexOf(c.op));
  switch (c.op) {
    case "auth-enable":
    case "auth-disable":
      return;
    case "user-add":
      w.str(c.name);
      return writeOptionalStr(w, c.passwordHash);
    case "user-delete":
      return w.str(c.name);
    case "user-change-password":
      w.str(c.name);
      return w.str(c.passwordHash);
    case "user-grant-role":
      w.str(c.user);
      return w.str(c.role);
    case "user-revoke-role":
      w.str(c.name);
      return w.str(c.role);
    case "role-add":
      return w.str(c.name);
    case "role-delete":
      return w.str(c.role);
    case "role-grant-permission":
      w.str(c.name);
      w.u8(c.perm === undefined ? 0 : 1);
      if (c.perm === undefined) return;
      w.u8(PERMISSION_TYPES.indexOf(c.perm.permType));
      w.bytes(c.perm.key);
      return w.bytes(c.perm.range_end);
    case "role-revoke-permission":
      w.str(c.role);
      w.bytes(c.key);
      return w.bytes(c.range_end);
    case "authenticate":
      w.str(c.name);
      w.str(c.passwordHash);
      return writeOptionalStr(w, c.tokenPrefix);
    default:
      return unreachable(c, "auth change");
  }
}

function readPermission(r: Reader): Permission {
  const permType = r.pick(PERMISSION_TYPES, "permission type");
  return { permType, key: r.bytes(), range_end: r.bytes() };
}

function readAuthChange(r: Reader): AuthChange {
  const op = r.pick(AUTH_OPS, "auth op");
  switch (op) {
    case "auth-enable":
    case "auth-disable":
      return { op };
    case "user-add": {
      const name = r.str();
      const passwordHash = readOptionalStr(r);
      return passwordHash === undefined ? { op, name } : { op, name, passwordHash };
    }
    case "user-delete":
      return { op, name: r.str() };
    case "user-change-password":
      return { op, name: r.str(), passwordHash: r.str() };
    case "user-grant-role":
      return { op, user: r.str(), role: r.str() };
    case "user-revoke-role":
      return { op, name: r.str(), role: r.str() };
    case "role-add":
      return { op, name: r.str() };
    case "role-delete":
      return { op, role: r.str() };
    case "role-grant-permission": {
      const name = r.str();
      return r.u8() === 1 ? { op, name, perm: readPermission(r) } : { op, name };
    }
    case "role-revoke-permission":
      return { op, role: r.str(), key: r.bytes(), range_end: r.bytes() };
    case "authenticate": {
      const name = r.str();
      const passwordHash = r.str();
      const tokenPrefix = readOptionalStr(r);
      return tokenPrefix === undefined
        ? { op, name, passwordHash }
        : { op, name, passwordHash, tokenPrefix };
    }
    default:
      return unreachable(op, "auth op");
  }
}

function writeAuthHeader(w: Writer, h: AuthHeader): void {
  w.u8(h.kind === "system" ? 1 : 0);
  if (h.kind === "system") return;
  w.str(h.user);
  w.num(h.revision);
}

function readAuthHeader(r: Reader): AuthHeader {
  const kind = r.u8();
  if (kind === 1) return { kind: "system" };
  if (kind !== 0) throw new Malformed(`bad auth header ${kind}`);
  return { kind: "user", user: r.str(), revision: r.num() };
}

function writeBody(w: Writer, req: InternalRequest): void {
  switch (req.kind) {
    case "put":
      return writePut(w, req.put);
    case "delete-range":
      return writeDelete(w, req.deleteRange);
    case "txn":
      return writeTxn(w, req.txn);
    case "compaction":
      w.mask(req.compaction.physical !== undefined);
      w.num(req.compaction.revision);
      if (req.compaction.physical !== undefined) w.u8(req.compaction.physical ? 1 : 0);
      return;
    case "lease-grant":
      w.mask(req.leaseGrant.ID !== undefined);
      w.num(req.leaseGrant.TTL);
      if (req.leaseGrant.ID !== undefined) w.id64(req.leaseGrant.ID);
      return;
    case "lease-revoke":
      return w.id64(req.leaseRevoke.ID);
    case "lease-checkpoint":
      return writeList(w, req.leaseCheckpoint.checkpoints, (w2, cp) => {
        w2.id64(cp.ID);
        w2.num(cp.remaining_TTL);
      });
    case "alarm":
      w.u8(req.alarm.action === "ACTIVATE" ? 1 : 0);
      w.num(req.alarm.memberID);
      return w.u8(ALARM_NAMES.indexOf(req.alarm.alarm));
    case "auth":
      return writeAuthChange(w, req.authChange);
    default:
      return unreachable(req, "internal request");
  }
}

function readBody(r: Reader, kind: InternalRequestKind, id: number): InternalRequestBody {
  switch (kind) {
    case "put":
      return { kind, id, put: readPut(r) };
    case "delete-range":
      return { kind, id, deleteRange: readDelete(r) };
    case "txn":
      return { kind, id, txn: readTxn(r, 0) };
    case "compaction": {
      const has = r.mask();
      const compaction: CompactionRequest = { revision: r.num() };
      if (has(0)) compaction.physical = r.u8() === 1;
      return { kind, id, compaction };
    }
    case "lease-grant": {
      const has = r.mask();
      const leaseGrant: LeaseGrantRequest = { TTL: r.num() };
      if (has(0)) leaseGrant.ID = r.id64();
      return { kind, id, leaseGrant };
    }
    case "lease-revoke":
      return { kind, id, leaseRevoke: { ID: r.id64() } };
    case "lease-checkpoint": {
      const checkpoints = readList(r, () => ({ ID: r.id64(), remaining_TTL: r.num() }));
      return { kind, id, leaseCheckpoint: { checkpoints } };
    }
    case "alarm": {
      const action = r.u8() === 1 ? "ACTIVATE" : "DEACTIVATE";
      const memberID = r.num();
      const alarm = ALARM_NAMES[r.u8()];
      if (alarm === undefined) throw new Malformed("unknown alarm");
      return { kind, id, alarm: { action, memberID, alarm } };
    }
    case "auth":
      return { kind, id, authChange: readAuthChange(r) };
    default:
      return unreachable(kind, "internal request kind");
  }
}

/** One writer for every encode (they never nest, and finish copies the bytes out). */
const writer = new Writer();

/** The entry bytes of a request. */
export function encodeInternalRequest(req: InternalRequest): Uint8Array {
  const w = writer;
  w.reset();
  const authHeader = req.authHeader;
  w.u8(authHeader === undefined ? VERSION : VERSION_AUTH_HEADER);
  w.u8(KINDS.indexOf(req.kind));
  w.num(req.id);
  if (authHeader !== undefined) writeAuthHeader(w, authHeader);
  writeBody(w, req);
  return w.finish();
}

/** Decodes entry bytes; a malformed entry is an error value (a corrupt log), never a throw. */
export function decodeInternalRequest(data: Uint8Array): Result<InternalRequest, string> {
  try {
    const r = new Reader(data);
    const version = r.u8();
    if (version !== VERSION && version !== VERSION_AUTH_HEADER) {
      return err(`unknown entry version ${version}`);
    }
    const kind = r.pick(KINDS, "request kind");
    const id = r.num();
    const authHeader = version === VERSION_AUTH_HEADER ? readAuthHeader(r) : undefined;
    const body = readBody(r, kind, id);
    if (!r.done) return err(`${data.length} byte entry has trailing bytes`);
    return ok(authHeader === undefined ? body : { ...body, authHeader });
  } catch (e) {
    if (e instanceof Malformed) return err(e.message);
    throw e;
  }
}

// The byte form of a member's applied state, the data of its Raft snapshots: the consistent index
// (the last applied entry), the mvcc store, the lessor's replicated state and the request ids the
// member remembers to skip duplicated proposals (a function of the log, so a member restored from
// a snapshot must skip exactly what the others skip), and the replicated member list.
//
// Layout (big-endian): "DMS2", consistentIndex u64, kvLength u32, kv (src/mvcc snapshot),
// lessorLength u32, lessor (src/lease snapshot), membershipLength u32, membership (see
// membership.ts), idCount u32, ids f64 each (oldest first), alarmsLength u32, alarms (see
// alarms.ts), authLength u32, auth (see src/auth/auth-store.ts). Older snapshots decode too:
// "DMS3", written before auth was replicated, ends after the alarms and decodes with a fresh auth
// store (disabled, revision 1, no users); "DMS2", written before alarms were replicated, ends after
// the ids and decodes with no alarm raised either.
import { err, ok, type Result } from "../lib/result.js";
import { decodeLessorState, encodeLessorState } from "../lease/index.js";
import type { LessorState } from "../lease/lessor.js";
import type { KvStore, KvStoreOptions } from "../mvcc/kv-store.js";
import { decodeSnapshot, encodeSnapshot } from "../mvcc/snapshot.js";
import { AuthStore } from "../auth/index.js";
import { AlarmStore } from "./alarms.js";
import { Membership } from "./membership.js";

const MAGIC = [0x44, 0x4d, 0x53, 0x34]; // "DMS4"
const MAGIC_V3 = [0x44, 0x4d, 0x53, 0x33]; // "DMS3": no auth
const MAGIC_V2 = [0x44, 0x4d, 0x53, 0x32]; // "DMS2": no alarms, no auth

export interface MemberSnapshotParts {
  readonly consistentIndex: number;
  readonly kv: KvStore;
  readonly lessor: LessorState;
  readonly membership: Membership;
  /** Applied request ids, oldest first. */
  readonly appliedIds: readonly number[];
  readonly alarms: AlarmStore;
  readonly auth: AuthStore;
}

export function encodeMemberSnapshot(parts: MemberSnapshotParts): Uint8Array {
  const kv = encodeSnapshot(parts.kv);
  const lessor = encodeLessorState(parts.lessor);
  const membership = parts.membership.encode();
  const alarms = parts.alarms.encode();
  const auth = parts.auth.encode();
  const size =
    MAGIC.length +
    8 +
    [kv, lessor, membership].reduce((sum, part) => sum + 4 + part.length, 0) +
    4 +
    8 * parts.appliedIds.length +
    4 +
    alarms.length +
    4 +
    auth.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  let o = MAGIC.length;
  view.setBigUint64(o, BigInt(parts.consistentIndex));
  o += 8;
  for (const part of [kv, lessor, membership]) {
    view.setUint32(o, part.length);
    bytes.set(part, o + 4);
    o += 4 + part.length;
  }
  view.setUint32(o, parts.appliedIds.length);
  o += 4;
  for (const id of parts.appliedIds) {
    view.setFloat64(o, id);
    o += 8;
  }
  view.setUint32(o, alarms.length);
  bytes.set(alarms, o + 4);
  o += 4 + alarms.length;
  view.setUint32(o, auth.length);
  bytes.set(auth, o + 4);
  return bytes;
}

/**
 * Parses encodeMemberSnapshot() output into a fresh store (built with `kvOptions`). Malformed data
 * is an error value: a snapshot that passed its file checksum but does not parse is corruption.
 */
export function decodeMemberSnapshot(
  bytes: Uint8Array,
  kvOptions: KvStoreOptions,
): Result<MemberSnapshotParts, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v2 = MAGIC_V2.every((b, i) => bytes[i] === b);
  const v3 = MAGIC_V3.every((b, i) => bytes[i] === b);
  const v4 = MAGIC.every((b, i) => bytes[i] === b);
  if (bytes.length < MAGIC.length + 12 || !(v2 || v3 || v4)) {
    return err("member snapshot: not a detcd member snapshot");
  }
  let o = MAGIC.length;
  const consistentIndex = Number(view.getBigUint64(o));
  o += 8;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    if (o + 4 > bytes.length) return err("member snapshot: truncated");
    const length = view.getUint32(o);
    if (o + 4 + length > bytes.length) return err("member snapshot: truncated part");
    parts.push(bytes.subarray(o + 4, o + 4 + length));
    o += 4 + length;
  }
  if (o + 4 > bytes.length) return err("member snapshot: truncated ids");
  const count = view.getUint32(o);
  o += 4;
  const idsEnd = o + 8 * count;
  if (idsEnd > bytes.length || (v2 && idsEnd !== bytes.length)) {
    return err(`member snapshot: ${count} ids do not fit`);
  }
  const appliedIds: number[] = [];
  for (let i = 0; i < count; i++) appliedIds.push(view.getFloat64(o + 8 * i));
  const tail = v2
    ? ok({ alarms: new AlarmStore(), auth: new AuthStore() })
    : decodeTail(bytes, view, idsEnd, v4);
  if (!tail.ok) return tail;
  const kv = decodeSnapshot(parts[0] as Uint8Array, kvOptions);
  if (!kv.ok) return kv;
  const lessor = decodeLessorState(parts[1] as Uint8Array);
  if (!lessor.ok) return lessor;
  const membership = Membership.decode(parts[2] as Uint8Array);
  if (!membership.ok) return membership;
  return ok({
    consistentIndex,
    kv: kv.value,
    lessor: lessor.value,
    membership: membership.value,
    appliedIds,
    alarms: tail.value.alarms,
    auth: tail.value.auth,
  });
}

/** The parts after the ids: the alarms, then (DMS4) the auth store. */
function decodeTail(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  withAuth: boolean,
): Result<{ alarms: AlarmStore; auth: AuthStore }, string> {
  if (at + 4 > bytes.length) return err("member snapshot: truncated alarms");
  const alarmsLength = view.getUint32(at);
  const alarmsEnd = at + 4 + alarmsLength;
  if (withAuth ? alarmsEnd > bytes.length : alarmsEnd !== bytes.length) {
    return err("member snapshot: alarms do not fit");
  }
  const alarms = AlarmStore.decode(bytes.subarray(at + 4, alarmsEnd));
  if (!alarms.ok) return alarms;
  if (!withAuth) return ok({ alarms: alarms.value, auth: new AuthStore() });
  if (alarmsEnd + 4 > bytes.length) return err("member snapshot: truncated auth");
  const authLength = view.getUint32(alarmsEnd);
  if (alarmsEnd + 4 + authLength !== bytes.length) return err("member snapshot: auth does not fit");
  const auth = AuthStore.decode(bytes.subarray(alarmsEnd + 4));
  return auth.ok ? ok({ alarms: alarms.value, auth: auth.value }) : auth;
}

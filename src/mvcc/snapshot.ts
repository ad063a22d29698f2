// The byte form of a store, for raft snapshots: the revision log plus the current and compact
// revisions. The key index is rebuilt from the log on restore (as etcd rebuilds its tree index from
// the key bucket).
//
// Layout (all integers big-endian): "DKV1", currentRevision u64, compactRevision + 1 u64,
// recordCount u64, then per record: main u64, sub u64, kind u8 (0 put, 1 tombstone), keyLength u32,
// key; for a put also create_revision u64, version u64, lease i64, valueLength u32, value.

import { err, ok, type Result } from "../lib/result.js";
import { emptyBytes } from "../lib/bytes.js";
import type { KeyValue } from "../api/kv.js";
import { KvStore, tombstoneKv, type KvStoreOptions, type KvStoreState } from "./kv-store.js";

const MAGIC = [0x44, 0x4b, 0x56, 0x31]; // "DKV1"
const HEADER_BYTES = 4 + 8 * 3;

type StateRecord = KvStoreState["records"][number];

function recordBytes(r: StateRecord): number {
  const base = 8 + 8 + 1 + 4 + r.kv.key.length;
  return r.tombstone ? base : base + 8 + 8 + 8 + 4 + r.kv.value.length;
}

class Writer {
  private offset = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(n: number): void {
    this.view.setUint8(this.offset, n);
    this.offset += 1;
  }
  u32(n: number): void {
    this.view.setUint32(this.offset, n);
    this.offset += 4;
  }
  u64(n: number): void {
    this.view.setBigUint64(this.offset, BigInt(n));
    this.offset += 8;
  }
  i64(n: bigint): void {
    this.view.setBigInt64(this.offset, n);
    this.offset += 8;
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.offset);
    this.offset += b.length;
  }
}

function writeRecord(w: Writer, r: StateRecord): void {
  w.u64(r.main);
  w.u64(r.sub);
  w.u8(r.tombstone ? 1 : 0);
  w.u32(r.kv.key.length);
  w.raw(r.kv.key);
  if (r.tombstone) return;
  w.u64(r.kv.create_revision);
  w.u64(r.kv.version);
  w.i64(r.kv.lease);
  w.u32(r.kv.value.length);
  w.raw(r.kv.value);
}

/** Serializes the store's retained history. */
export function encodeSnapshot(store: KvStore): Uint8Array {
  const state = store.exportState();
  let size = HEADER_BYTES;
  for (const r of state.records) size += recordBytes(r);
  const w = new Writer(new Uint8Array(size));
  for (const b of MAGIC) w.u8(b);
  w.u64(state.currentRevision);
  w.u64(state.compactRevision + 1);
  w.u64(state.records.length);
  for (const r of state.records) writeRecord(w, r);
  return w.bytes;
}

class Reader {
  private offset = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.length - this.offset;
  }
  need(n: number): void {
    if (n > this.remaining) throw new SnapshotError(`truncated at byte ${this.offset}`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }
  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.offset);
    this.offset += 4;
    return n;
  }
  u64(): number {
    this.need(8);
    const n = this.view.getBigUint64(this.offset);
    this.offset += 8;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotError(`number too large: ${n}`);
    return Number(n);
  }
  i64(): bigint {
    this.need(8);
    const n = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return n;
  }
  /** A copy, so the restored store does not pin the snapshot buffer. */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = n === 0 ? emptyBytes : this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

class SnapshotError extends Error {}

function readRecord(r: Reader): StateRecord {
  const main = r.u64();
  const sub = r.u64();
  const kind = r.u8();
  if (kind > 1) throw new SnapshotError(`bad record kind ${kind}`);
  const key = r.raw(r.u32());
  if (kind === 1) {
    const kv = tombstoneKv(key, main);
    return { main, sub, tombstone: true, kv };
  }
  const create_revision = r.u64();
  const version = r.u64();
  const lease = r.i64();
  const value = r.raw(r.u32());
  const kv: KeyValue = { key, create_revision, mod_revision: main, version, value, lease };
  return { main, sub, tombstone: false, kv };
}

function decodeState(bytes: Uint8Array): KvStoreState {
  const r = new Reader(bytes);
  for (const b of MAGIC) if (r.u8() !== b) throw new SnapshotError("not a detcd mvcc snapshot");
  const currentRevision = r.u64();
  const compactRevision = r.u64() - 1;
  const count = r.u64();
  const records: StateRecord[] = [];
  for (let i = 0; i < count; i++) records.push(readRecord(r));
  if (r.remaining !== 0) throw new SnapshotError(`${r.remaining} trailing bytes`);
  return { currentRevision, compactRevision, records };
}

/** Rebuilds a store from encodeSnapshot() output; malformed input is an error, not a crash. */
export function decodeSnapshot(
  bytes: Uint8Array,
  options: KvStoreOptions = {},
): Result<KvStore, string> {
  let state: KvStoreState;
  try {
    state = decodeState(bytes);
  } catch (e) {
    if (e instanceof SnapshotError) return err(`mvcc snapshot: ${e.message}`);
    throw e;
  }
  return ok(KvStore.fromState(state, options));
}

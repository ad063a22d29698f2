// The multi-version key-value store: etcd's mvcc store, in memory.
//
// State: an ordered tree of KeyIndex (one per key, keyed by the latin1 string of the key's bytes,
// which sorts bytewise) and a revision log, the list of every retained ChangeRecord in revision order
// (the equivalent of etcd's key bucket). Both hold the same record objects. The log serves event
// replay for watchers, HashKV and snapshots; the tree serves reads at any retained revision.
//
// Revisions: a fresh store is at revision 1 and has compactRevision -1 (etcd's starting values).
// Each write txn that changes something gets main = revision + 1 and numbers its changes with sub.
//
// Compaction at C keeps, per key, the latest record at or below C unless it is a tombstone; the log
// also keeps every record at exactly C (including tombstones), so a watcher may start at C as etcd
// allows. Reads below C fail with Compacted.
//
// The store is synchronous and single-threaded: one write txn at a time, and commit listeners run
// inside the commit, in registration order.
//
// Ownership: the store keeps the key and value arrays it is given without copying (puts are the hot
// path), and the KeyValues it hands out are shared. Neither side may mutate them afterwards.

import { assert } from "../lib/assert.js";
import { bytesToLatin1, emptyBytes, inRange, isFromKeyEnd } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import { NO_LEASE, type Event, type KeyValue, type LeaseId } from "../api/kv.js";
import { Crc32c } from "./crc32c.js";
import { KeyIndex, type ChangeRecord } from "./key-index.js";
import { encodeRevision, REVISION_BYTES, writeUint32, writeUint64 } from "./revision.js";
import { TreeIndex } from "./tree-index.js";
import type { ScanResult, WriteTxn } from "./write-txn.js";

export type { ScanResult, WriteTxn } from "./write-txn.js";
import {
  checkPut,
  checkTxnOps,
  decideTxn,
  executeDeleteRange,
  executePut,
  executeRange,
  executeTxn,
  type LeaseExists,
  type Reader,
} from "./txn.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
} from "../api/validate.js";
import {
  header,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type HashKVRequest,
  type HashKVResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from "../api/rpc.js";

/** The changes one committed write txn made, in sub-revision order. */
export interface CommittedTxn {
  readonly revision: number;
  /** Each change with prev_kv set to the key's value just before it (absent for a creation). */
  readonly events: readonly Event[];
}

/**
 * Called once per committed write txn that changed something, after the revision has advanced.
 * Contract: listeners must not write to the store from inside the call; they may read it.
 */
export type CommitListener = (txn: CommittedTxn) => void;

/** Events read back from the log, and where the next read should start. */
export interface EventBatch {
  readonly events: Event[];
  /** The first revision not covered by this batch. */
  readonly nextRevision: number;
}

/** An exported store: the log plus the two revisions (see snapshot.ts for the byte form). */
export interface KvStoreState {
  readonly currentRevision: number;
  readonly compactRevision: number;
  /** Retained records in revision order. */
  readonly records: readonly { main: number; sub: number; tombstone: boolean; kv: KeyValue }[];
}

/** The KeyValue a delete leaves at revision `main`: zero versions, no value, no lease. */
export function tombstoneKv(key: Uint8Array, main: number): KeyValue {
  return {
    key,
    create_revision: 0,
    mod_revision: main,
    version: 0,
    value: emptyBytes,
    lease: NO_LEASE,
  };
}

/** Index of the first log record with main >= revision. */
function firstLogIndexAt(log: readonly ChangeRecord[], revision: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((log[mid] as ChangeRecord).main < revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** HashKV's answer: the hash, the compaction it reflects, and the revision it covers. */
export interface KvHash {
  readonly hash: number;
  readonly compact_revision: number;
  readonly hash_revision: number;
}

export interface KvStoreOptions {
  /** Most ops per txn level (etcd's --max-txn-ops). Default 128. */
  readonly maxTxnOps?: number;
  /**
   * Whether a lease exists; puts naming a missing lease fail with LeaseNotFound. Default: every
   * lease exists (no lessor attached). The lessor learns attachments from commit events.
   */
  readonly leaseExists?: LeaseExists;
}

export class KvStore {
  private readonly maxTxnOps: number;
  private readonly leaseExists: LeaseExists;
  private readonly tree = new TreeIndex<KeyIndex>();
  private log: ChangeRecord[] = [];
  private revision = 1;
  private compactedAt = -1;
  private readonly listeners: CommitListener[] = [];
  private writing = false;
  /** recordBytes() summed over the log: what the store holds, as a size on disk would be. */
  private inUseBytes = 0;

  constructor(options: KvStoreOptions = {}) {
    this.maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.leaseExists = options.leaseExists ?? (() => true);
  }

  // ---- etcd requests ----------------------------------------------------------------------------
  // Each validates its request (as etcd's gRPC layer does), then runs as etcd's apply does. Header
  // fields other than `revision` are left zero for the server to fill.

  range(r: RangeRequest): Result<RangeResponse, EtcdError> {
    const checked = checkRangeRequest(r);
    return checked.ok ? executeRange(this.reader(), r) : checked;
  }

  put(r: PutRequest): Result<PutResponse, EtcdError> {
    const checked = checkPutRequest(r);
    if (!checked.ok) return checked;
    const ready = checkPut(this.reader(), r, this.leaseExists);
    if (!ready.ok) return ready;
    return ok(this.write((txn) => executePut(txn, r)));
  }

  deleteRange(r: DeleteRangeRequest): Result<DeleteRangeResponse, EtcdError> {
    const checked = checkDeleteRangeRequest(r);
    if (!checked.ok) return checked;
    return ok(this.write((txn) => executeDeleteRange(txn, r)));
  }

  txn(r: TxnRequest): Result<TxnResponse, EtcdError> {
    const checked = checkTxnRequest(r, this.maxTxnOps);
    if (!checked.ok) return checked;
    const reader = this.reader();
    const path = decideTxn(reader, r);
    const ready = checkTxnOps(reader, r, path, this.leaseExists);
    if (!ready.ok) return ready;
    return ok(this.write((txn) => executeTxn(txn, r, path, this.compactedAt)));
  }

  compact(r: CompactionRequest): Result<CompactionResponse, EtcdError> {
    const done = this.compactTo(r.revision);
    return done.ok ? ok({ header: header(this.revision) }) : done;
  }

  hashKV(r: HashKVRequest = {}): Result<HashKVResponse, EtcdError> {
    const hashed = this.hashAt(r.revision ?? 0);
    return hashed.ok ? ok({ header: header(this.revision), ...hashed.value }) : hashed;
  }

  // ---- low level --------------------------------------------------------------------------------

  /** The revision of the last committed write (1 for a fresh store). */
  /**
   * Bytes the retained records take (keys, values and a fixed overhead per record): etcd's
   * "db size in use". Writes grow it, compaction shrinks it.
   */
  get sizeInUseBytes(): number {
    return this.inUseBytes;
  }

  get currentRevision(): number {
    return this.revision;
  }

  /** The revision of the last compaction, -1 if none. */
  get compactRevision(): number {
    return this.compactedAt;
  }

  /** Number of keys that exist now (walks the whole index: for tests and metrics, not hot paths). */
  get keyCount(): number {
    let n = 0;
    this.tree.forEachRange("", undefined, (_k, ki) => {
      if (ki.current() !== undefined) n++;
      return true;
    });
    return n;
  }

  /** Registers a commit listener; returns a function that removes it. */
  onCommit(listener: CommitListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Live keys in the etcd range (key, rangeEnd) at `atRevision` (<= 0: current), collecting at most
   * `limit` KeyValues (0: all, negative: none) but counting every key. Fails with FutureRev above the current
   * revision and Compacted below the compact revision.
   */
  scan(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    atRevision: number,
    limit: number,
  ): Result<ScanResult, EtcdError> {
    return this.scanAt(key, rangeEnd, atRevision, limit, this.revision);
  }

  /** The KeyValue of `key` at `atRevision` (<= 0: current), or undefined if absent or compacted. */
  get(key: Uint8Array, atRevision = 0): KeyValue | undefined {
    const at = atRevision <= 0 ? this.revision : atRevision;
    if (at > this.revision || at < this.compactedAt) return undefined;
    return this.tree.get(bytesToLatin1(key))?.get(at);
  }

  /**
   * Runs `body` as one write txn: every change it makes gets main revision currentRevision + 1 and
   * the next sub-revision. If it changed anything the revision advances and listeners run. Contract:
   * `body` must not throw after writing (there is no rollback; validate first) and must not start
   * another write txn.
   */
  write<T>(body: (txn: WriteTxn) => T): T {
    assert(!this.writing, "kv-store: nested write txn");
    this.writing = true;
    const txn = new StoreWriteTxn(this, this.revision, this.listeners.length > 0);
    let result: T;
    try {
      result = body(txn);
    } catch (e) {
      this.writing = false;
      // Changes are applied as they are made; a txn that throws after one cannot be undone.
      assert(txn.changeCount === 0, "kv-store: write txn threw after changing the store");
      throw e;
    }
    this.writing = false;
    this.commit(txn);
    return result;
  }

  /**
   * Compacts history at `revision`: afterwards reads below it fail with Compacted. Fails with
   * Compacted if revision <= compactRevision and FutureRev if it is above the current revision.
   */
  compactTo(revision: number): Result<undefined, EtcdError> {
    if (revision <= this.compactedAt) return err(Errors.Compacted);
    if (revision > this.revision) return err(Errors.FutureRev);
    const end = firstLogIndexAt(this.log, revision + 1);
    for (let i = 0; i < end; i++) this.compactKey((this.log[i] as ChangeRecord).index, revision);
    const kept = this.log
      .slice(0, end)
      .filter((r) => r.main === revision || r === r.index.firstRecord());
    for (let i = 0; i < end; i++) this.inUseBytes -= recordBytes(this.log[i] as ChangeRecord);
    for (const r of kept) this.inUseBytes += recordBytes(r);
    this.log = end === 0 ? this.log : kept.concat(this.log.slice(end));
    this.compactedAt = revision;
    return ok(undefined);
  }

  /**
   * CRC-32C over every retained record up to `revision` (0: current) in revision order: its
   * revision bytes, key, create/mod revisions, version, lease and value. Members with the same
   * history and compaction agree; any differing record changes the hash. Tombstones at exactly the
   * compact revision are left out, as etcd does, since only some members may still hold them.
   */
  hashAt(revision = 0): Result<KvHash, EtcdError> {
    const at = revision <= 0 ? this.revision : revision;
    if (at > this.revision) return err(Errors.FutureRev);
    if (at < this.compactedAt) return err(Errors.Compacted);
    const crc = new Crc32c().update(KEY_BUCKET);
    const end = firstLogIndexAt(this.log, at + 1);
    for (let i = 0; i < end; i++) {
      const r = this.log[i] as ChangeRecord;
      if (r.tombstone && r.main === this.compactedAt) continue;
      hashRecord(crc, r);
    }
    return ok({ hash: crc.digest(), compact_revision: this.compactedAt, hash_revision: at });
  }

  /**
   * The changes to keys in the etcd range (key, rangeEnd) with fromRevision <= main <= toRevision,
   * in revision order. Stops at a revision boundary once `maxEvents` (0: no cap) are collected, so
   * one revision's events are never split. With `withPrevKv`, each event carries the key's previous
   * version when it is still retained. Fails with Compacted if fromRevision < compactRevision.
   */
  events(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    toRevision: number,
    options: { maxEvents?: number; withPrevKv?: boolean } = {},
  ): Result<EventBatch, EtcdError> {
    if (fromRevision < this.compactedAt) return err(Errors.Compacted);
    const to = Math.min(toRevision, this.revision);
    const maxEvents = options.maxEvents ?? 0;
    const events: Event[] = [];
    let lastMain = -1;
    for (let i = firstLogIndexAt(this.log, fromRevision); i < this.log.length; i++) {
      const r = this.log[i] as ChangeRecord;
      if (r.main > to) break;
      if (maxEvents > 0 && events.length >= maxEvents && r.main !== lastMain) {
        return ok({ events, nextRevision: r.main });
      }
      lastMain = r.main;
      if (inRange(r.kv.key, key, rangeEnd))
        events.push(this.toEvent(r, options.withPrevKv === true));
    }
    return ok({ events, nextRevision: Math.max(fromRevision, to + 1) });
  }

  /** The store as plain data (records are shared; do not mutate them). */
  exportState(): KvStoreState {
    return {
      currentRevision: this.revision,
      compactRevision: this.compactedAt,
      records: this.log.map((r) => ({
        main: r.main,
        sub: r.sub,
        tombstone: r.tombstone,
        kv: r.kv,
      })),
    };
  }

  /** Rebuilds a store from exportState() output (or a decoded snapshot). */
  static fromState(state: KvStoreState, options: KvStoreOptions = {}): KvStore {
    const store = new KvStore(options);
    for (const r of state.records) store.replayRecord(r.main, r.sub, r.tombstone, r.kv);
    const last = store.log[store.log.length - 1];
    assert(
      last === undefined || last.main <= state.currentRevision,
      "kv-store: record after current revision",
    );
    store.revision = state.currentRevision;
    store.compactedAt = state.compactRevision;
    return store;
  }

  private reader(): Reader {
    return {
      readRevision: this.revision,
      compactRevision: this.compactedAt,
      scan: (key, rangeEnd, at, limit) => this.scan(key, rangeEnd, at, limit),
    };
  }

  // ---- internals used by StoreWriteTxn ----------------------------------------------------------

  /** @internal */
  scanAt(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    atRevision: number,
    limit: number,
    currentRevision: number,
  ): Result<ScanResult, EtcdError> {
    if (atRevision > currentRevision) return err(Errors.FutureRev);
    const at = atRevision <= 0 ? currentRevision : atRevision;
    if (at < this.compactedAt) return err(Errors.Compacted);
    if (rangeEnd.length === 0) {
      const kv = this.tree.get(bytesToLatin1(key))?.get(at);
      return ok(kv === undefined ? { kvs: [], count: 0 } : { kvs: [kv], count: 1 });
    }
    const kvs: KeyValue[] = [];
    let count = 0;
    const high = isFromKeyEnd(rangeEnd) ? undefined : bytesToLatin1(rangeEnd);
    this.tree.forEachRange(bytesToLatin1(key), high, (_k, ki) => {
      const kv = ki.get(at);
      if (kv !== undefined) {
        if (limit === 0 || kvs.length < limit) kvs.push(kv);
        count++;
      }
      return true;
    });
    return ok({ kvs, count });
  }

  /** @internal Appends a put at (main, sub); returns the record and the value it replaced. */
  putRecord(
    key: Uint8Array,
    value: Uint8Array,
    lease: LeaseId,
    main: number,
    sub: number,
  ): ChangeRecord {
    const keyString = bytesToLatin1(key);
    const ki = this.indexFor(key, keyString);
    const prev = ki.current();
    const kv: KeyValue = {
      key,
      create_revision: prev === undefined ? main : prev.create_revision,
      mod_revision: main,
      version: prev === undefined ? 1 : prev.version + 1,
      value,
      lease,
    };
    const record: ChangeRecord = { main, sub, tombstone: false, kv, index: ki };
    ki.appendPut(record);
    this.appendRecord(record);
    return record;
  }

  /** @internal Appends a tombstone for an existing key. */
  tombstoneRecord(ki: KeyIndex, main: number, sub: number): ChangeRecord {
    const record: ChangeRecord = {
      main,
      sub,
      tombstone: true,
      kv: tombstoneKv(ki.key, main),
      index: ki,
    };
    ki.appendTombstone(record);
    this.appendRecord(record);
    return record;
  }

  /** @internal Key indexes with a live key at `at` in the range, in key order. */
  liveIndexes(key: Uint8Array, rangeEnd: Uint8Array, at: number): KeyIndex[] {
    if (rangeEnd.length === 0) {
      const ki = this.tree.get(bytesToLatin1(key));
      return ki !== undefined && ki.get(at) !== undefined ? [ki] : [];
    }
    const out: KeyIndex[] = [];
    const high = isFromKeyEnd(rangeEnd) ? undefined : bytesToLatin1(rangeEnd);
    this.tree.forEachRange(bytesToLatin1(key), high, (_k, ki) => {
      if (ki.get(at) !== undefined) out.push(ki);
      return true;
    });
    return out;
  }

  private indexFor(key: Uint8Array, keyString: string): KeyIndex {
    let ki = this.tree.get(keyString);
    if (ki === undefined) {
      ki = new KeyIndex(key, keyString);
      this.tree.set(keyString, ki);
    }
    return ki;
  }

  private appendRecord(record: ChangeRecord): void {
    this.log.push(record);
    this.inUseBytes += recordBytes(record);
  }

  private commit(txn: StoreWriteTxn): void {
    if (txn.changeCount === 0) return;
    this.revision = txn.beginRevision + 1;
    if (this.listeners.length === 0 || txn.events === undefined) return;
    const committed: CommittedTxn = { revision: this.revision, events: txn.events };
    for (const listener of [...this.listeners]) listener(committed);
  }

  private compactKey(ki: KeyIndex, revision: number): void {
    if (ki.removed) return;
    if (ki.compact(revision)) {
      ki.removed = true;
      this.tree.delete(ki.keyString);
    }
  }

  private toEvent(r: ChangeRecord, withPrevKv: boolean): Event {
    const type = r.tombstone ? "DELETE" : "PUT";
    if (!withPrevKv) return { type, kv: r.kv };
    const prev = r.index.removed ? undefined : r.index.get(r.main - 1);
    return prev === undefined ? { type, kv: r.kv } : { type, kv: r.kv, prev_kv: prev };
  }

  private replayRecord(main: number, sub: number, tombstone: boolean, kv: KeyValue): void {
    if (!tombstone) {
      const record = this.putRecordExact(kv, main, sub);
      this.appendRecord(record);
      return;
    }
    const keyString = bytesToLatin1(kv.key);
    const ki = this.tree.get(keyString);
    // A tombstone at the compact revision may outlive the key's index (see compact()): keep it in
    // the log for watchers, but there is no generation to close.
    const index =
      ki !== undefined && ki.current() !== undefined ? ki : new KeyIndex(kv.key, keyString);
    const record: ChangeRecord = { main, sub, tombstone: true, kv, index };
    if (index === ki) index.appendTombstone(record);
    else index.removed = true;
    this.appendRecord(record);
  }

  /** A put record restored as stored (its create_revision may predate every retained record). */
  private putRecordExact(kv: KeyValue, main: number, sub: number): ChangeRecord {
    const ki = this.indexFor(kv.key, bytesToLatin1(kv.key));
    const record: ChangeRecord = { main, sub, tombstone: false, kv, index: ki };
    ki.appendPut(record);
    return record;
  }
}

/** Per record: its revision key and the fixed fields of its KeyValue, roughly as etcd stores them. */
export const RECORD_OVERHEAD_BYTES = 48;

function recordBytes(r: ChangeRecord): number {
  return r.kv.key.length + r.kv.value.length + RECORD_OVERHEAD_BYTES;
}

const KEY_BUCKET = Uint8Array.of(0x6b, 0x65, 0x79); // "key", as etcd seeds its hash

const scratch = new Uint8Array(REVISION_BYTES + 8 * 5);

/** Feeds one record to the hash: revision bytes, lengths and numbers, then key and value bytes. */
function hashRecord(crc: Crc32c, r: ChangeRecord): void {
  const kv = r.kv;
  encodeRevision(r, r.tombstone, scratch, 0);
  const o = REVISION_BYTES;
  writeUint64(scratch, o, kv.key.length);
  writeUint64(scratch, o + 8, kv.create_revision);
  writeUint64(scratch, o + 16, kv.version);
  writeUint64(scratch, o + 24, kv.value.length);
  const lease = BigInt.asUintN(64, kv.lease);
  writeUint32(scratch, o + 32, Number(lease >> 32n));
  writeUint32(scratch, o + 36, Number(lease & 0xffffffffn));
  crc.update(scratch).update(kv.key).update(kv.value);
}

class StoreWriteTxn implements WriteTxn {
  changeCount = 0;
  /** Collected only when someone listens. */
  readonly events: Event[] | undefined;

  constructor(
    private readonly store: KvStore,
    readonly beginRevision: number,
    collectEvents: boolean,
  ) {
    this.events = collectEvents ? [] : undefined;
  }

  get readRevision(): number {
    return this.changeCount > 0 ? this.beginRevision + 1 : this.beginRevision;
  }

  scan(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    atRevision: number,
    limit: number,
  ): Result<ScanResult, EtcdError> {
    return this.store.scanAt(key, rangeEnd, atRevision, limit, this.readRevision);
  }

  put(key: Uint8Array, value: Uint8Array, lease: LeaseId): KeyValue {
    const main = this.beginRevision + 1;
    const record = this.store.putRecord(key, value, lease, main, this.changeCount++);
    if (this.events !== undefined) {
      // prev_kv is the version at main - 1, as a watcher replaying the log would read it.
      const prev = record.index.get(main - 1);
      this.events.push(
        prev === undefined
          ? { type: "PUT", kv: record.kv }
          : { type: "PUT", kv: record.kv, prev_kv: prev },
      );
    }
    return record.kv;
  }

  deleteRange(key: Uint8Array, rangeEnd: Uint8Array): KeyValue[] {
    const main = this.beginRevision + 1;
    const indexes = this.store.liveIndexes(key, rangeEnd, this.readRevision);
    const deleted: KeyValue[] = [];
    for (const ki of indexes) {
      const prev = ki.current();
      assert(prev !== undefined, "kv-store: deleting a missing key");
      const record = this.store.tombstoneRecord(ki, main, this.changeCount++);
      if (this.events !== undefined) {
        const before = ki.get(main - 1);
        const event: Event =
          before === undefined
            ? { type: "DELETE", kv: record.kv }
            : { type: "DELETE", kv: record.kv, prev_kv: before };
        this.events.push(event);
      }
      deleted.push(prev);
    }
    return deleted;
  }
}

// The WAL's on-disk record format and its scanner.
//
// A record is a 16-byte header and a payload:
//   u32 payloadLength | u8 type | 3 zero bytes | u32 crc | u32 headerCrc
// `headerCrc` is the CRC-32C of the first 12 header bytes, so a flipped length is caught before it
// is trusted. `crc` chains: CRC-32C of (previous record's crc, type, payload), so a record that is
// valid on its own but out of place (a stale page, a lost record) breaks the chain. The first
// record of a segment carries the chain's seed (the previous segment's last crc).
//
// Recovery rule: an invalid record in the last segment is a torn tail (truncated) only if the file
// ends inside it or one of the sectors it covers is all zeros (a write that never reached the
// platter); any other invalid record is corruption and stops the member.
import { Crc32c } from "../mvcc/crc32c.js";
import type { Entry, EntryType, HardState } from "../raft/types.js";
import { ByteReader, DecodeError, putU64 } from "./codec.js";
import { corruption, type CorruptionError } from "./errors.js";
import { unreachable } from "../lib/assert.js";

export const RECORD_HEADER_BYTES = 16;
/** A record's payload limit: far above etcd's 1.5 MiB request limit, far below memory trouble. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const SECTOR_BYTES = 512;

/** What a WAL record says. */
export type WalRecord =
  /** The first record of every segment: its sequence number and the crc chain's seed. */
  | { readonly type: "segment"; readonly seq: number; readonly prevCrc: number }
  | { readonly type: "entry"; readonly entry: Entry }
  | { readonly type: "hardState"; readonly hardState: HardState }
  /**
   * A snapshot at (index, term) exists. `installed`: it replaced the log (Ready.snapshot), so
   * entries before it are dropped on replay; a local snapshot leaves the log alone.
   */
  | {
      readonly type: "snapshot";
      readonly index: number;
      readonly term: number;
      readonly installed: boolean;
    };

const TYPE_CODES = {
  segment: 1,
  entry: 2,
  hardState: 3,
  snapshotLocal: 4,
  snapshotInstalled: 5,
} as const;

const ENTRY_TYPES: readonly EntryType[] = ["EntryNormal", "EntryConfChange", "EntryConfChangeV2"];

/**
 * Encodes records after a chain value; returns the bytes and the chain value after them. Every
 * record is written in place into one buffer sized up front (this runs for every Ready a member
 * persists, so no buffer is allocated per record). The bytes may be a region of a shared slab
 * (see allocate): use them through their offset and length, never their whole `.buffer`.
 */
export function encodeRecords(
  records: readonly WalRecord[],
  prevCrc: number,
): { bytes: Uint8Array; crc: number } {
  let total = 0;
  for (const record of records) total += RECORD_HEADER_BYTES + payloadLength(record);
  const bytes = allocate(total);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let crc = prevCrc;
  for (const record of records) {
    const seed = record.type === "segment" ? record.prevCrc : crc;
    const start = at + RECORD_HEADER_BYTES;
    const code = writePayload(record, bytes, view, start);
    const end = start + payloadLength(record);
    crc = chainCrc(seed, code, bytes, start, end);
    view.setUint32(at, end - start, true);
    bytes[at + 4] = code; // then three zero bytes
    view.setUint32(at + 8, crc, true);
    view.setUint32(at + 12, headerCrc(bytes, at), true);
    at = end;
  }
  return { bytes, crc };
}

// Small encodings are carved from a shared slab: a fresh ArrayBuffer costs about as much as
// encoding a record. Each region is handed out once and never written again, so the bytes a caller
// holds stay as they were; a slab is freed when no region of it is held any more.
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(0);
let slabAt = 0;

function allocate(n: number): Uint8Array {
  if (n > SLAB_BYTES / 8) return new Uint8Array(n);
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const region = slab.subarray(slabAt, slabAt + n);
  slabAt += n;
  return region;
}

function payloadLength(record: WalRecord): number {
  switch (record.type) {
    case "segment":
      return 12;
    case "entry":
      return 21 + record.entry.data.length;
    case "hardState":
      return 24;
    case "snapshot":
      return 16;
    default:
      return unreachable(record, "wal record");
  }
}

/** Writes a record's payload at `at` (little-endian, as ByteWriter would); returns its type code. */
function writePayload(record: WalRecord, bytes: Uint8Array, view: DataView, at: number): number {
  switch (record.type) {
    case "segment":
      putU64(view, at, record.seq);
      view.setUint32(at + 8, record.prevCrc, true);
      return TYPE_CODES.segment;
    case "entry": {
      const e = record.entry;
      putU64(view, at, e.term);
      putU64(view, at + 8, e.index);
      bytes[at + 16] = ENTRY_TYPES.indexOf(e.type);
      view.setUint32(at + 17, e.data.length, true);
      bytes.set(e.data, at + 21);
      return TYPE_CODES.entry;
    }
    case "hardState": {
      const hs = record.hardState;
      putU64(view, at, hs.term);
      putU64(view, at + 8, hs.vote);
      putU64(view, at + 16, hs.commit);
      return TYPE_CODES.hardState;
    }
    case "snapshot":
      putU64(view, at, record.index);
      putU64(view, at + 8, record.term);
      return record.installed ? TYPE_CODES.snapshotInstalled : TYPE_CODES.snapshotLocal;
    default:
      return unreachable(record, "wal record");
  }
}

function decodePayload(code: number, payload: Uint8Array): WalRecord {
  const r = new ByteReader(payload);
  let record: WalRecord;
  switch (code) {
    case TYPE_CODES.segment:
      record = { type: "segment", seq: r.u64(), prevCrc: r.u32() };
      break;
    case TYPE_CODES.entry: {
      const term = r.u64();
      const index = r.u64();
      const type = ENTRY_TYPES[r.u8()];
      if (type === undefined) throw new DecodeError("unknown entry type");
      record = { type: "entry", entry: { term, index, type, data: r.bytes() } };
      break;
    }
    case TYPE_CODES.hardState:
      record = { type: "hardState", hardState: { term: r.u64(), vote: r.u64(), commit: r.u64() } };
      break;
    case TYPE_CODES.snapshotLocal:
    case TYPE_CODES.snapshotInstalled:
      record = {
        type: "snapshot",
        index: r.u64(),
        term: r.u64(),
        installed: code === TYPE_CODES.snapshotInstalled,
      };
      break;
    default:
      throw new DecodeError(`unknown record type ${code}`);
  }
  r.end();
  return record;
}

/** A record's chained crc: CRC-32C of (seed, type code, the payload bytes[from, to)). */
function chainCrc(seed: number, code: number, bytes: Uint8Array, from: number, to: number): number {
  return new Crc32c().u32(seed).u8(code).update(bytes, from, to).digest();
}

/** The header crc: CRC-32C of the 12 header bytes before it, at `at`. */
function headerCrc(bytes: Uint8Array, at: number): number {
  return new Crc32c().update(bytes, at, at + 12).digest();
}

export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
}

export interface ScanResult {
  readonly records: ScannedRecord[];
  /** Where the valid records end; less than the file's length when a torn tail was found. */
  readonly validEndBytes: number;
  /** The chain value after the last valid record. */
  readonly lastCrc: number;
  readonly tornTail: boolean;
}

/**
 * Scans a segment's bytes. `isLast`: the segment written last, the only one that may end in a torn
 * write. Returns corruption for any invalid record that is not a torn tail.
 */
export function scanSegment(
  file: string,
  bytes: Uint8Array,
  isLast: boolean,
): ScanResult | CorruptionError {
  const records: ScannedRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let crc = 0;
  while (at < bytes.length) {
    const step = readRecord(bytes, view, at, crc, records.length === 0);
    if (step.kind === "ok") {
      records.push({ record: step.record, offset: at });
      crc = step.crc;
      at = step.next;
      continue;
    }
    if (isLast && isTorn(bytes, at, step)) {
      return { records, validEndBytes: at, lastCrc: crc, tornTail: true };
    }
    return corruption(file, at, step.reason);
  }
  return { records, validEndBytes: at, lastCrc: crc, tornTail: false };
}

type RecordStep =
  | { kind: "ok"; record: WalRecord; crc: number; next: number }
  /** `frameEnd`: where the record would end if its header is trusted (undefined: it is not). */
  | { kind: "bad"; reason: string; frameEnd: number | undefined };

function readRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  prevCrc: number,
  first: boolean,
): RecordStep {
  if (bytes.length - at < RECORD_HEADER_BYTES) {
    return { kind: "bad", reason: "incomplete record header", frameEnd: undefined };
  }
  const length = view.getUint32(at, true);
  const code = view.getUint8(at + 4);
  const crc = view.getUint32(at + 8, true);
  if (headerCrc(bytes, at) !== view.getUint32(at + 12, true)) {
    return { kind: "bad", reason: "record header checksum mismatch", frameEnd: undefined };
  }
  const frameEnd = at + RECORD_HEADER_BYTES + length;
  if (length > MAX_RECORD_BYTES)
    return { kind: "bad", reason: `record of ${length} bytes`, frameEnd };
  if (frameEnd > bytes.length) return { kind: "bad", reason: "record past end of file", frameEnd };
  const payload = bytes.subarray(at + RECORD_HEADER_BYTES, frameEnd);
  if (first !== (code === TYPE_CODES.segment)) {
    return {
      kind: "bad",
      reason: first ? "segment does not start with its header" : "segment header inside a segment",
      frameEnd,
    };
  }
  const seed =
    first && payload.length >= 12 ? view.getUint32(at + RECORD_HEADER_BYTES + 8, true) : prevCrc;
  if (chainCrc(seed, code, bytes, at + RECORD_HEADER_BYTES, frameEnd) !== crc)
    return { kind: "bad", reason: "record checksum mismatch", frameEnd };
  try {
    return { kind: "ok", record: decodePayload(code, payload), crc, next: frameEnd };
  } catch (e) {
    if (e instanceof DecodeError)
      return { kind: "bad", reason: `malformed record: ${e.message}`, frameEnd: undefined };
    throw e;
  }
}

/**
 * A write that never (fully) reached the platter: the file ends inside the record, or the record's
 * bytes up to the end of their first sector are zeros, or a whole sector of the file under the
 * record is zeros (a lost page). A flipped bit in durable data matches none of these.
 */
function isTorn(bytes: Uint8Array, at: number, step: RecordStep & { kind: "bad" }): boolean {
  if (bytes.length - at < RECORD_HEADER_BYTES) return true;
  if (step.frameEnd !== undefined && step.frameEnd > bytes.length) return true;
  const firstSectorEnd = Math.min(bytes.length, (Math.floor(at / SECTOR_BYTES) + 1) * SECTOR_BYTES);
  if (allZero(bytes, at, firstSectorEnd)) return true;
  const end = step.frameEnd ?? at + RECORD_HEADER_BYTES;
  for (let s = Math.floor(at / SECTOR_BYTES) * SECTOR_BYTES; s < end; s += SECTOR_BYTES) {
    if (s < bytes.length && allZero(bytes, s, Math.min(s + SECTOR_BYTES, bytes.length)))
      return true;
  }
  return false;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

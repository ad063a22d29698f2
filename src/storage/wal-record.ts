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
import { ByteReader, ByteWriter, DecodeError } from "./codec.js";
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

/** Encodes records after a chain value; returns the bytes and the chain value after them. */
export function encodeRecords(
  records: readonly WalRecord[],
  prevCrc: number,
): { bytes: Uint8Array; crc: number } {
  const out = new ByteWriter(256);
  let crc = prevCrc;
  for (const record of records) {
    const seed = record.type === "segment" ? record.prevCrc : crc;
    const { code, payload } = encodePayload(record);
    crc = chainCrc(seed, code, payload);
    const header = new ByteWriter(RECORD_HEADER_BYTES)
      .u32(payload.length)
      .u8(code)
      .u8(0)
      .u8(0)
      .u8(0);
    header.u32(crc);
    const headerBytes = header.finish();
    out
      .raw(headerBytes)
      .u32(crc32cOf(headerBytes.subarray(0, 12)))
      .raw(payload);
  }
  return { bytes: out.finish().slice(), crc };
}

function encodePayload(record: WalRecord): { code: number; payload: Uint8Array } {
  const w = new ByteWriter();
  switch (record.type) {
    case "segment":
      return { code: TYPE_CODES.segment, payload: w.u64(record.seq).u32(record.prevCrc).finish() };
    case "entry": {
      const e = record.entry;
      w.u64(e.term).u64(e.index).u8(ENTRY_TYPES.indexOf(e.type)).bytes(e.data);
      return { code: TYPE_CODES.entry, payload: w.finish() };
    }
    case "hardState": {
      const hs = record.hardState;
      return {
        code: TYPE_CODES.hardState,
        payload: w.u64(hs.term).u64(hs.vote).u64(hs.commit).finish(),
      };
    }
    case "snapshot": {
      const code = record.installed ? TYPE_CODES.snapshotInstalled : TYPE_CODES.snapshotLocal;
      return { code, payload: w.u64(record.index).u64(record.term).finish() };
    }
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

function chainCrc(seed: number, code: number, payload: Uint8Array): number {
  const prefix = new Uint8Array(5);
  new DataView(prefix.buffer).setUint32(0, seed, true);
  prefix[4] = code;
  return new Crc32c().update(prefix).update(payload).digest();
}

function crc32cOf(bytes: Uint8Array): number {
  return new Crc32c().update(bytes).digest();
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
  if (crc32cOf(bytes.subarray(at, at + 12)) !== view.getUint32(at + 12, true)) {
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
  if (chainCrc(seed, code, payload) !== crc)
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

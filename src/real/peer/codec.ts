// The binary form of a MemberMessage on the peer wire, and of the hello that opens a connection.
//
// Raft messages are the hot path (MsgApp, heartbeats): they have a fixed layout whose size is
// computed before writing, so encoding allocates once and byte strings are copied, never re-encoded.
// Forwarded lease/promote requests and their answers are rare; they use a self-describing tagged
// encoding of plain values (numbers, bigints, strings, booleans, byte strings, arrays, objects),
// so a field added to those request types travels without a codec change.
//
// Layout (little-endian): a version byte, a kind byte (raft | forward-request | forward-response),
// then the body. Terms, indexes and member ids are unsigned integers up to 2^53 - 1 written as
// 64-bit values. Decoding never throws: malformed input of any kind is a PeerCodecError value.

import { assert } from "../../lib/assert.js";
import { err, ok, type Result } from "../../lib/result.js";
import { ETCD_ERROR_NAMES, Errors, type EtcdError } from "../../api/errors.js";
import type {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  Snapshot,
} from "../../raft/types.js";
import type { ForwardedRequest, ForwardedResponse, MemberMessage } from "../../server/messages.js";

/** Why bytes could not be decoded (a peer speaking another protocol, or corruption). */
export interface PeerCodecError {
  readonly type: "peer-codec-error";
  readonly message: string;
}

const CODEC_VERSION = 1;
const KIND_RAFT = 1;
const KIND_FORWARD_REQUEST = 2;
const KIND_FORWARD_RESPONSE = 3;

const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgPreVote: 7,
  MsgPreVoteResp: 8,
  MsgSnap: 9,
  MsgHeartbeat: 10,
  MsgHeartbeatResp: 11,
  MsgUnreachable: 12,
  MsgSnapStatus: 13,
  MsgCheckQuorum: 14,
  MsgTransferLeader: 15,
  MsgTimeoutNow: 16,
  MsgReadIndex: 17,
  MsgReadIndexResp: 18,
};
const ENTRY_TYPE_CODES: Readonly<Record<EntryType, number>> = {
  EntryNormal: 0,
  EntryConfChange: 1,
  EntryConfChangeV2: 2,
};
const MESSAGE_TYPES = invert(MESSAGE_TYPE_CODES);
const ENTRY_TYPES = invert(ENTRY_TYPE_CODES);

const FORWARD_KINDS: ReadonlySet<string> = new Set<ForwardedRequest["kind"]>([
  "lease-keepalive",
  "lease-timetolive",
  "member-promote",
]);

function invert<T extends string>(codes: Readonly<Record<T, number>>): readonly T[] {
  const out: T[] = [];
  for (const [name, code] of Object.entries(codes) as [T, number][]) out[code] = name;
  return out;
}

const TWO_32 = 4294967296;
const MAX_HIGH_WORD = 0x1fffff; // 2^53 - 1 >>> 32

// ---- writer ----------------------------------------------------------------------------------------

/** Writes into a buffer of known size (raft messages) or a growing one (tagged values). */
class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private at: number;

  constructor(initialBytes: number, headroomBytes: number) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
    this.at = headroomBytes;
  }

  get length(): number {
    return this.at;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }

  u64(v: number): void {
    assert(Number.isSafeInteger(v) && v >= 0, () => `peer codec: not a u64: ${v}`);
    this.room(8);
    this.view.setUint32(this.at, v >>> 0, true);
    this.view.setUint32(this.at + 4, Math.floor(v / TWO_32), true);
    this.at += 8;
  }

  u64Big(v: bigint): void {
    assert(v >= 0n && v < 1n << 64n, () => `peer codec: not a u64: ${v}`);
    this.room(8);
    this.view.setBigUint64(this.at, v, true);
    this.at += 8;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  bytes(v: Uint8Array): void {
    this.u32(v.length);
    this.room(v.length);
    this.buf.set(v, this.at);
    this.at += v.length;
  }

  u64List(values: readonly number[]): void {
    this.u32(values.length);
    for (const v of values) this.u64(v);
  }

  /** The whole buffer when it was sized exactly, else a copy of what was written. */
  finish(): Uint8Array {
    return this.at === this.buf.length ? this.buf : this.buf.slice(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

// ---- reader ----------------------------------------------------------------------------------------

/** Thrown inside this file only; decode functions turn it into a PeerCodecError. */
class Malformed extends Error {}

class Reader {
  private at = 0;
  private readonly view: DataView;

  private readonly buf: Uint8Array;

  constructor(input: Uint8Array) {
    // A plain view, so slice() copies even when the input is a Node Buffer (whose slice is a view).
    this.buf = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++] as number;
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new Malformed(`bad boolean ${v} at ${this.at - 1}`);
    return v === 1;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.at, true);
    const hi = this.view.getUint32(this.at + 4, true);
    if (hi > MAX_HIGH_WORD) throw new Malformed(`integer above 2^53 at ${this.at}`);
    this.at += 8;
    return hi * TWO_32 + lo;
  }

  u64Big(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  /** A fresh copy: decoded messages never share memory with the input. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u64List(): number[] {
    const n = this.count(8);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u64());
    return out;
  }

  /** A count of items each at least `minItemBytes` long; refuses counts past the input's end. */
  count(minItemBytes: number): number {
    const n = this.u32();
    if (n * minItemBytes > this.remaining) throw new Malformed(`count ${n} past the end`);
    return n;
  }

  pick<T>(values: readonly T[], what: string): T {
    const code = this.u8();
    const v = values[code];
    if (v === undefined) throw new Malformed(`unknown ${what} ${code}`);
    return v;
  }

  end(): void {
    if (this.remaining !== 0) throw new Malformed(`${this.remaining} trailing bytes`);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) {
      throw new Malformed(`truncated: needs ${n} bytes at ${this.at} of ${this.buf.length}`);
    }
  }
}

// ---- raft messages ---------------------------------------------------------------------------------

const MESSAGE_FIXED_BYTES = 1 + 8 * 7 + 1 + 4 + 4 + 1; // type, 7 integers, reject, ctx len, count, snap flag
const ENTRY_FIXED_BYTES = 8 + 8 + 1 + 4;

function confStateBytes(c: ConfState): number {
  const ids = c.voters.length + c.learners.length + c.votersOutgoing.length + c.learnersNext.length;
  return 4 * 4 + 8 * ids + 1;
}

function messageBytes(m: Message): number {
  let n = MESSAGE_FIXED_BYTES + m.context.length;
  for (const e of m.entries) n += ENTRY_FIXED_BYTES + e.data.length;
  if (m.snapshot !== undefined) {
    n += 4 + m.snapshot.data.length + 8 + 8 + confStateBytes(m.snapshot.metadata.confState);
  }
  return n;
}

function writeMessage(w: Writer, m: Message): void {
  w.u8(MESSAGE_TYPE_CODES[m.type]);
  w.u64(m.from);
  w.u64(m.to);
  w.u64(m.term);
  w.u64(m.logTerm);
  w.u64(m.index);
  w.u64(m.commit);
  w.u64(m.rejectHint);
  w.u8(m.reject ? 1 : 0);
  w.bytes(m.context);
  w.u32(m.entries.length);
  for (const e of m.entries) {
    w.u64(e.term);
    w.u64(e.index);
    w.u8(ENTRY_TYPE_CODES[e.type]);
    w.bytes(e.data);
  }
  w.u8(m.snapshot === undefined ? 0 : 1);
  if (m.snapshot !== undefined) writeSnapshot(w, m.snapshot);
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  w.bytes(s.data);
  w.u64(s.metadata.index);
  w.u64(s.metadata.term);
  const c = s.metadata.confState;
  w.u64List(c.voters);
  w.u64List(c.learners);
  w.u64List(c.votersOutgoing);
  w.u64List(c.learnersNext);
  w.u8(c.autoLeave ? 1 : 0);
}

function readMessage(r: Reader): Message {
  const type = r.pick(MESSAGE_TYPES, "message type");
  const from = r.u64();
  const to = r.u64();
  const term = r.u64();
  const logTerm = r.u64();
  const index = r.u64();
  const commit = r.u64();
  const rejectHint = r.u64();
  const reject = r.bool();
  const context = r.bytes();
  const count = r.count(ENTRY_FIXED_BYTES);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(r));
  const base = {
    type,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject,
    rejectHint,
    context,
  };
  return r.bool() ? { ...base, snapshot: readSnapshot(r) } : base;
}

function readEntry(r: Reader): Entry {
  const term = r.u64();
  const index = r.u64();
  const type = r.pick(ENTRY_TYPES, "entry type");
  return { term, index, type, data: r.bytes() };
}

function readSnapshot(r: Reader): Snapshot {
  const data = r.bytes();
  const index = r.u64();
  const term = r.u64();
  const confState: ConfState = {
    voters: r.u64List(),
    learners: r.u64List(),
    votersOutgoing: r.u64List(),
    learnersNext: r.u64List(),
    autoLeave: r.bool(),
  };
  return { data, metadata: { confState, index, term } };
}

// ---- tagged values (forwarded requests and responses) ---------------------------------------------

const TAG_UNDEFINED = 0;
const TAG_NULL = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_NUMBER = 4;
const TAG_BIGINT = 5;
const TAG_STRING = 6;
const TAG_BYTES = 7;
const TAG_ARRAY = 8;
const TAG_OBJECT = 9;
/** Nesting deeper than this is refused when decoding (forwarded values are a few levels deep). */
const MAX_VALUE_DEPTH = 32;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

function writeString(w: Writer, s: string): void {
  w.bytes(utf8Encoder.encode(s));
}

function readString(r: Reader): string {
  return utf8Decoder.decode(r.bytes());
}

function writeValue(w: Writer, v: unknown): void {
  if (v === undefined) return w.u8(TAG_UNDEFINED);
  if (v === null) return w.u8(TAG_NULL);
  switch (typeof v) {
    case "boolean":
      return w.u8(v ? TAG_TRUE : TAG_FALSE);
    case "number":
      w.u8(TAG_NUMBER);
      return w.f64(v);
    case "bigint":
      w.u8(TAG_BIGINT);
      return writeString(w, v.toString(10));
    case "string":
      w.u8(TAG_STRING);
      return writeString(w, v);
    case "object":
      return writeComposite(w, v);
    default:
      assert(false, () => `peer codec: cannot encode a ${typeof v}`);
  }
}

function writeComposite(w: Writer, v: object): void {
  if (v instanceof Uint8Array) {
    w.u8(TAG_BYTES);
    return w.bytes(v);
  }
  if (Array.isArray(v)) {
    w.u8(TAG_ARRAY);
    w.u32(v.length);
    for (const item of v) writeValue(w, item);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  assert(proto === Object.prototype || proto === null, "peer codec: only plain objects encode");
  const keys = Object.keys(v);
  w.u8(TAG_OBJECT);
  w.u32(keys.length);
  for (const key of keys) {
    writeString(w, key);
    writeValue(w, (v as Record<string, unknown>)[key]);
  }
}

const BIGINT_TEXT = /^-?[0-9]{1,40}$/;

function readValue(r: Reader, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH) throw new Malformed("values nested too deeply");
  const tag = r.u8();
  switch (tag) {
    case TAG_UNDEFINED:
      return undefined;
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_NUMBER:
      return r.f64();
    case TAG_BIGINT:
      return readBigint(r);
    case TAG_STRING:
      return readString(r);
    case TAG_BYTES:
      return r.bytes();
    case TAG_ARRAY:
      return readArray(r, depth);
    case TAG_OBJECT:
      return readObject(r, depth);
    default:
      throw new Malformed(`unknown value tag ${tag}`);
  }
}

function readBigint(r: Reader): bigint {
  const text = readString(r);
  if (!BIGINT_TEXT.test(text)) throw new Malformed(`bad bigint ${JSON.stringify(text)}`);
  return BigInt(text);
}

function readArray(r: Reader, depth: number): unknown[] {
  const n = r.count(1);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
  return out;
}

function readObject(r: Reader, depth: number): Record<string, unknown> {
  const n = r.count(5);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = readString(r);
    if (key === "__proto__" || Object.hasOwn(out, key)) throw new Malformed(`bad key ${key}`);
    out[key] = readValue(r, depth + 1);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Checks the envelope of a forwarded request; the request body's fields are the server's. */
function toForwardedRequest(v: unknown): ForwardedRequest {
  if (!isRecord(v) || typeof v.kind !== "string" || !FORWARD_KINDS.has(v.kind)) {
    throw new Malformed("not a forwarded request");
  }
  if (!isRecord(v.request)) throw new Malformed(`forwarded ${v.kind} without a request`);
  return v as unknown as ForwardedRequest;
}

function toForwardedResult(v: unknown): Result<ForwardedResponse, EtcdError> {
  if (!isRecord(v) || typeof v.ok !== "boolean") throw new Malformed("not a forwarded result");
  if (v.ok) {
    const value = v.value;
    if (!isRecord(value) || typeof value.kind !== "string" || !FORWARD_KINDS.has(value.kind)) {
      throw new Malformed("not a forwarded response");
    }
    if (!isRecord(value.response)) throw new Malformed(`forwarded ${value.kind} without response`);
    return v as unknown as Result<ForwardedResponse, EtcdError>;
  }
  return { ok: false, error: toEtcdError(v.error) };
}

/** Known errors decode to the catalogue's own frozen values, so `===` comparisons keep working. */
function toEtcdError(v: unknown): EtcdError {
  if (!isRecord(v) || v.type !== "etcd-error" || typeof v.name !== "string") {
    throw new Malformed("not an etcd error");
  }
  if (!(ETCD_ERROR_NAMES as readonly string[]).includes(v.name)) {
    throw new Malformed(`unknown etcd error ${v.name}`);
  }
  const known = Errors[v.name as EtcdError["name"]];
  const same = Object.keys(v).length === 4 && v.code === known.code && v.message === known.message;
  return same ? known : (v as unknown as EtcdError);
}

// ---- entry points ----------------------------------------------------------------------------------

/**
 * Encodes a member message. The first `headroomBytes` bytes of the result are left zero for the
 * caller (the frame header), so a frame needs no second copy. The result is a fresh buffer the
 * caller owns. A message field outside its type's range (a negative term) is a broken invariant and
 * throws.
 */
export function encodeMemberMessage(m: MemberMessage, headroomBytes = 0): Uint8Array {
  switch (m.type) {
    case "raft": {
      const sizeBytes = headroomBytes + 2 + messageBytes(m.message);
      const w = new Writer(sizeBytes, headroomBytes);
      w.u8(CODEC_VERSION);
      w.u8(KIND_RAFT);
      writeMessage(w, m.message);
      assert(w.length === sizeBytes, "peer codec: raft message size miscounted");
      return w.finish();
    }
    case "forward-request":
      return encodeTagged(KIND_FORWARD_REQUEST, m.forwardId, m.request, headroomBytes);
    case "forward-response":
      return encodeTagged(KIND_FORWARD_RESPONSE, m.forwardId, m.result, headroomBytes);
  }
}

function encodeTagged(kind: number, forwardId: number, body: unknown, headroom: number) {
  const w = new Writer(headroom + 256, headroom);
  w.u8(CODEC_VERSION);
  w.u8(kind);
  w.f64(forwardId);
  writeValue(w, body);
  return w.finish();
}

/** Decodes one member message; never throws. The result shares no memory with `bytes`. */
export function decodeMemberMessage(bytes: Uint8Array): Result<MemberMessage, PeerCodecError> {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== CODEC_VERSION) throw new Malformed(`unknown codec version ${version}`);
    const message = readBody(r);
    r.end();
    return ok(message);
  } catch (e) {
    return err(codecError(e));
  }
}

function readBody(r: Reader): MemberMessage {
  const kind = r.u8();
  switch (kind) {
    case KIND_RAFT:
      return { type: "raft", message: readMessage(r) };
    case KIND_FORWARD_REQUEST: {
      const forwardId = r.f64();
      return { type: "forward-request", forwardId, request: toForwardedRequest(readValue(r, 0)) };
    }
    case KIND_FORWARD_RESPONSE: {
      const forwardId = r.f64();
      return { type: "forward-response", forwardId, result: toForwardedResult(readValue(r, 0)) };
    }
    default:
      throw new Malformed(`unknown message kind ${kind}`);
  }
}

function codecError(e: unknown): PeerCodecError {
  const detail = e instanceof Error ? e.message : String(e);
  return { type: "peer-codec-error", message: `malformed member message: ${detail}` };
}

// ---- hello -----------------------------------------------------------------------------------------

/** "DTCP": the first bytes of every peer connection, so a stray client is told apart at once. */
const HELLO_MAGIC = 0x50435444;
const HELLO_VERSION = 1;
const HELLO_BYTES = 4 + 1 + 8 + 8 + 8;

/**
 * The first frame on a member-to-member connection. `toId` is the member the sender means to
 * reach (0 when unknown), so a peer URL that now points at another member is noticed.
 */
export interface Hello {
  readonly clusterId: bigint;
  readonly fromId: number;
  readonly toId: number;
}

export function encodeHello(h: Hello): Uint8Array {
  const w = new Writer(HELLO_BYTES, 0);
  w.u32(HELLO_MAGIC);
  w.u8(HELLO_VERSION);
  w.u64Big(h.clusterId);
  w.u64(h.fromId);
  w.u64(h.toId);
  return w.finish();
}

export function decodeHello(bytes: Uint8Array): Result<Hello, PeerCodecError> {
  try {
    const r = new Reader(bytes);
    if (r.u32() !== HELLO_MAGIC) throw new Malformed("not a detcd peer hello");
    const version = r.u8();
    if (version !== HELLO_VERSION) throw new Malformed(`unknown hello version ${version}`);
    const hello = { clusterId: r.u64Big(), fromId: r.u64(), toId: r.u64() };
    r.end();
    return ok(hello);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return err({ type: "peer-codec-error", message: `bad hello: ${detail}` });
  }
}

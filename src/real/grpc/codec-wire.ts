// Protocol buffers wire primitives for the gRPC codec: varints read as two 32-bit halves so that
// int64 values come out exact (a bigint for ids, a number only when it is a safe integer),
// length-delimited fields, and a writer that reserves one byte for a nested message's length and
// widens it in place when the message turns out longer.
//
// Errors in the input (truncated data, a wrong wire type, an int64 out of a number's exact range)
// throw CodecError; the gRPC layer answers them with InvalidArgument.

export class CodecError extends Error {
  override readonly name = "CodecError";
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_32 = 4294967296;
/** hi halves below this keep the value within Number.MAX_SAFE_INTEGER. */
const SAFE_HI_LIMIT = 0x200000;

const textDecoder = new TextDecoder("utf-8", { fatal: false });
const textEncoder = new TextEncoder();

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Reads one encoded message. Contract: bytes returned by bytes() are copies the caller owns. */
export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** Halves of the last varint64() read. */
  private lo = 0;
  private hi = 0;

  constructor(bytes: Uint8Array) {
    // A plain view, so slice() copies into a plain Uint8Array even when given a Node Buffer.
    this.buf =
      bytes.constructor === Uint8Array
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.end = this.buf.length;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new CodecError("truncated message");
    return this.buf[this.pos++] as number;
  }

  /** A varint of up to 64 bits into lo/hi. */
  private varint64(): void {
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setHalves(lo, 0);
    }
    b = this.byte();
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) return this.setHalves(lo, hi);
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.setHalves(lo, hi);
    }
    throw new CodecError("malformed varint");
  }

  private setHalves(lo: number, hi: number): void {
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A varint taken modulo 2^32 (tags, lengths, uint32, and the low half of enums). */
  uint32(): number {
    const b = this.pos < this.end ? (this.buf[this.pos] as number) : 0x80;
    if (b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint64();
    return this.lo;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** An int64 that must fit a number exactly. */
  int64Number(): number {
    const b = this.pos < this.end ? (this.buf[this.pos] as number) : 0x80;
    if (b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint64();
    const { lo, hi } = this;
    if (hi < SAFE_HI_LIMIT) return hi * TWO_POW_32 + lo;
    if (hi >= 0x80000000) {
      const negLo = (~lo + 1) >>> 0;
      const negHi = (~hi + (negLo === 0 ? 1 : 0)) >>> 0;
      if (negHi < SAFE_HI_LIMIT) return -(negHi * TWO_POW_32 + negLo);
    }
    throw new CodecError("int64 value beyond 2^53 where an exact number is required");
  }

  /** A uint64 that must fit a number exactly. */
  uint64Number(): number {
    const b = this.pos < this.end ? (this.buf[this.pos] as number) : 0x80;
    if (b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint64();
    if (this.hi < SAFE_HI_LIMIT) return this.hi * TWO_POW_32 + this.lo;
    throw new CodecError("uint64 value beyond 2^53 where an exact number is required");
  }

  int64Bigint(): bigint {
    this.varint64();
    if (this.hi === 0) return BigInt(this.lo);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  uint64Bigint(): bigint {
    this.varint64();
    if (this.hi === 0) return BigInt(this.lo);
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The length prefix of a length-delimited field; returns the end offset of its payload. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) throw new CodecError("length-delimited field runs past the message");
    return end;
  }

  bytes(): Uint8Array {
    const end = this.lengthEnd();
    if (end === this.pos) return EMPTY_BYTES;
    const out = this.buf.slice(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    const end = this.lengthEnd();
    const out = end === this.pos ? "" : textDecoder.decode(this.buf.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  /** Skips a field of an unknown number. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        return this.advance(8);
      case WIRE_LEN:
        this.pos = this.lengthEnd();
        return;
      case WIRE_FIXED32:
        return this.advance(4);
      default:
        throw new CodecError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new CodecError("truncated message");
    this.pos += n;
  }
}

const INITIAL_SCRATCH_BYTES = 64 * 1024;
/** A writer that grew past this gives its buffer back after the message, not to hold memory. */
const KEEP_SCRATCH_BYTES = 1024 * 1024;

/**
 * Builds one message at a time in a reusable scratch buffer; finish() copies the result out.
 * Contract: not reentrant — one encode runs to completion before the next starts (encoding is
 * synchronous, so one writer per module is safe).
 */
export class Writer {
  private buf = new Uint8Array(INITIAL_SCRATCH_BYTES);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    if (this.buf.length > KEEP_SCRATCH_BYTES) this.buf = new Uint8Array(INITIAL_SCRATCH_BYTES);
    this.pos = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** Raw bytes (a precomputed tag). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    v >>>= 0;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** int32 and enums: negative values take ten bytes, sign-extended to 64 bits. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  private varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (hi !== 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  /** An int64 or uint64 given as a number; it must be a safe integer (unsigned for uint64). */
  int64Number(v: number): void {
    if (v >= 0 && v < 0x80000000 && (v | 0) === v) return this.uint32(v);
    if (!Number.isSafeInteger(v)) throw new CodecError(`not an exact int64: ${v}`);
    if (v >= 0) return this.varint64(v >>> 0, (v - (v >>> 0)) / TWO_POW_32);
    const magnitude = -v;
    const magLo = magnitude >>> 0;
    const magHi = (magnitude - magLo) / TWO_POW_32;
    const lo = (~magLo + 1) >>> 0;
    this.varint64(lo, (~magHi + (lo === 0 ? 1 : 0)) >>> 0);
  }

  uint64Number(v: number): void {
    if (v < 0) throw new CodecError(`negative value for a uint64 field: ${v}`);
    this.int64Number(v);
  }

  int64Bigint(v: bigint): void {
    if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new CodecError(`not an int64: ${v}`);
    this.bigint64(BigInt.asUintN(64, v));
  }

  uint64Bigint(v: bigint): void {
    if (v < 0n || v >= 2n ** 64n) throw new CodecError(`not a uint64: ${v}`);
    this.bigint64(v);
  }

  private bigint64(unsigned: bigint): void {
    if (unsigned < 0x80000000n) return this.uint32(Number(unsigned));
    this.varint64(Number(unsigned & 0xffffffffn), Number(unsigned >> 32n));
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  bytes(v: Uint8Array): void {
    this.uint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(v: string): void {
    // Every UTF-16 unit takes at most three UTF-8 bytes; reserve that, then fix the length.
    const max = v.length * 3;
    const start = this.fork(max);
    const { written } = textEncoder.encodeInto(v, this.buf.subarray(this.pos, this.pos + max));
    this.pos += written;
    this.ldelim(start);
  }

  /**
   * Starts a length-delimited payload: reserves one byte for its length (enough below 128 bytes)
   * and `expected` bytes of room. Returns the position to hand to ldelim().
   */
  fork(expected = 0): number {
    this.ensure(1 + expected);
    const start = this.pos;
    this.pos += 1;
    return start;
  }

  /** Ends the payload begun at `start`: writes its length, moving the payload if it needs room. */
  ldelim(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buf[start] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    this.pos += extra;
    let v = length;
    let p = start;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

export function varintSize(v: number): number {
  let size = 1;
  while (v > 0x7f) {
    v >>>= 7;
    size++;
  }
  return size;
}

/** The encoded tag of a field, precomputed once per field. */
export function tagBytes(fieldNumber: number, wireType: number): Uint8Array {
  const bytes: number[] = [];
  let v = ((fieldNumber << 3) | wireType) >>> 0;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

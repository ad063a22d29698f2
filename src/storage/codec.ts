// Little-endian binary encoding of the storage formats (WAL records, snapshot files). Integers up
// to 2^53 - 1 are written as 64-bit values so raft indexes and terms never overflow the format.
import { assert } from "../lib/assert.js";

/** The high 32 bits of Number.MAX_SAFE_INTEGER (2^53 - 1): a larger high word is unsafe. */
const MAX_SAFE_HIGH = 0x1f_ffff;

/**
 * Writes a safe non-negative integer at `at` as a little-endian u64 (two u32 words: exact for
 * every integer up to 2^53 - 1, and no BigInt on the way).
 */
export function putU64(view: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) assert(false, `u64 out of range: ${value}`);
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.at;
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.at, value);
    this.at += 1;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.at, value >>> 0, true);
    this.at += 4;
    return this;
  }

  u64(value: number): this {
    this.reserve(8);
    putU64(this.view, this.at, value);
    this.at += 8;
    return this;
  }

  /** A u32 length then the bytes. */
  bytes(data: Uint8Array): this {
    this.u32(data.length);
    return this.raw(data);
  }

  raw(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.at);
    this.at += data.length;
    return this;
  }

  u64List(values: readonly number[]): this {
    this.u32(values.length);
    for (const v of values) this.u64(v);
    return this;
  }

  /** The bytes written so far (a view: copy before writing more if it must be kept). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.at + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Thrown by ByteReader when the input ends early or holds an impossible value. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

export class ByteReader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.data.length - this.at;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const low = this.view.getUint32(this.at, true);
    const high = this.view.getUint32(this.at + 4, true);
    this.at += 8;
    if (high > MAX_SAFE_HIGH) {
      throw new DecodeError(`u64 too large: ${BigInt(high) * 0x1_0000_0000n + BigInt(low)}`);
    }
    return high * 0x1_0000_0000 + low;
  }

  bytes(): Uint8Array {
    return this.raw(this.u32());
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.data.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u64List(): number[] {
    const n = this.u32();
    if (n * 8 > this.remaining) throw new DecodeError(`list of ${n} past the end`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.u64());
    return out;
  }

  /** Asserts every byte was consumed (a record with trailing bytes is malformed). */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.remaining} trailing bytes`);
  }

  private need(n: number): void {
    if (this.at + n > this.data.length) throw new DecodeError(`needs ${n} bytes at ${this.at}`);
  }
}

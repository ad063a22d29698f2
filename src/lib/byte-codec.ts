// Big-endian byte writer and reader for the engine's own binary forms (replicated requests, the
// auth store's snapshot part): integers and float64 numbers big-endian, byte strings as a u32
// length then the bytes. Float64 holds every safe integer exactly, negative ones included.
import { fromUtf8, utf8 } from "./bytes.js";

export class BigEndianWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }

  /** Starts over, keeping the buffer: a writer used for one encode after another. */
  reset(): void {
    this.at = 0;
  }

  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.at, v);
    this.at += 1;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v);
    this.at += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v);
    this.at += 8;
  }

  i64(v: bigint): void {
    this.room(8);
    this.view.setBigInt64(this.at, v);
    this.at += 8;
  }

  bytes(v: Uint8Array): void {
    this.room(4 + v.length);
    this.view.setUint32(this.at, v.length);
    this.buf.set(v, this.at + 4);
    this.at += 4 + v.length;
  }

  string(v: string): void {
    this.bytes(utf8(v));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Thrown by BigEndianReader on malformed input; callers turn it into an error value. */
export class MalformedBytes extends Error {}

export class BigEndianReader {
  private at = 0;
  private readonly view: DataView;

  /**
   * `what` names the input in errors ("truncated entry"). With `share`, byte strings are views of
   * `buf` instead of copies: for an input that owns its whole buffer and is never written again,
   * so a decoded value keeps alive only the bytes it came from.
   */
  constructor(
    private readonly buf: Uint8Array,
    private readonly what = "input",
    private readonly share = false,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at);
    this.at += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.at);
    this.at += 8;
    return v;
  }

  /** A byte string, copied out of the input (a view of it when sharing). */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const v = this.share
      ? this.buf.subarray(this.at, this.at + n)
      : this.buf.slice(this.at, this.at + n);
    this.at += n;
    return v;
  }

  string(): string {
    return fromUtf8(this.bytes());
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new MalformedBytes(`truncated ${this.what}`);
  }
}

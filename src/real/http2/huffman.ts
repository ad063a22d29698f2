// The HPACK Huffman code (RFC 7541 §5.2 and Appendix B): the code table as facts, a decoder driven
// by a byte-at-a-time state table built from it once at module load, and an encoder. Strings are
// latin1: one char per octet.
import { Buffer } from "node:buffer";
import { assert } from "../../lib/assert.js";

/**
 * A malformed header block: HTTP/2 answers it with a connection error of type COMPRESSION_ERROR
 * (RFC 7540 §4.3). Defined here, beside the first code that throws it, and re-exported by hpack.ts.
 */
export class HpackError extends Error {
  override name = "HpackError";
}

/** Symbol 256, the end-of-string code (30 one bits); it may appear only as padding. */
const EOS = 256;

// RFC 7541 Appendix B: the code of symbol i, right-aligned, is CODES[i]; its length in bits is
// LENGTHS[i]. The code is canonical (codes of one length are consecutive, in symbol order); the test
// checks that and that the lengths fill the code space exactly.
// prettier-ignore
const CODES: readonly number[] = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7, // 0
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec, // 8
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3, // 16
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb, // 24
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, // 32
  0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18, // 40
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, // 48
  0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc, // 56
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, // 64
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, // 72
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, // 80
  0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22, // 88
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, // 96
  0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7, // 104
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, // 112
  0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc, // 120
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9, // 128
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf, // 136
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3, // 144
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef, // 152
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde, // 160
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec, // 168
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef, // 176
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1, // 184
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec, // 192
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed, // 200
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2, // 208
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5, // 216
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3, // 224
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4, // 232
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea, // 240
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee, // 248
  0x3fffffff, // 256
];
// prettier-ignore
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240
  30, // 256
];

/** The code table, for tests: `[code, bitLength]` of symbols 0..256. */
export function huffmanCodeTable(): readonly (readonly [number, number])[] {
  return CODES.map((code, i) => [code, LENGTHS[i] ?? 0] as const);
}

// ---- Decoder ------------------------------------------------------------------------------------
//
// The code's binary tree has 257 leaves and so 256 inner nodes; the decoder's state is the inner node
// reached so far (0 = root, between symbols). STEP[state << 8 | octet] is what one input octet does
// from that state: the next state and the symbols completed on the way. A code is at least 5 bits
// long, so one octet completes at most two symbols.
//
// Entry layout: bits 0-7 next state, 8-15 first symbol, 16-23 second symbol, 24-25 symbols
// completed, bit 26 set when the octet reaches EOS (an error: EOS is never part of a string).

const STEP_FAIL = 1 << 26;
const STEP = new Uint32Array(256 * 256);
/** ACCEPTS[state] is 1 where a string may end: the bits since the last symbol are at most 7 ones. */
const ACCEPTS = new Uint8Array(256);

buildDecoder();

function buildDecoder(): void {
  // child[node * 2 + bit]: an inner node id (>= 0), or -(symbol + 1) for a leaf.
  const child = new Int32Array(256 * 2);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = CODES[sym] ?? 0;
    const length = LENGTHS[sym] ?? 0;
    let node = 0;
    for (let i = length - 1; i > 0; i--) {
      const slot = node * 2 + ((code >>> i) & 1);
      if (child[slot] === 0) child[slot] = nodes++;
      node = child[slot] ?? 0;
      assert(node > 0, `huffman: code of symbol ${sym} runs through a leaf`);
    }
    const slot = node * 2 + (code & 1);
    assert(child[slot] === 0, `huffman: code of symbol ${sym} is a prefix of another`);
    child[slot] = -(sym + 1);
  }
  assert(nodes === 256, `huffman: expected 256 inner nodes, built ${nodes}`);
  for (let slot = 2; slot < child.length; slot++) {
    assert(child[slot] !== 0, "huffman: the code does not fill its tree");
  }
  for (let state = 0; state < 256; state++) {
    for (let octet = 0; octet < 256; octet++) {
      STEP[(state << 8) | octet] = stepEntry(child, state, octet);
    }
  }
  let node = 0;
  ACCEPTS[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    node = child[node * 2 + 1] ?? 0;
    ACCEPTS[node] = 1;
  }
}

function stepEntry(child: Int32Array, state: number, octet: number): number {
  let node = state;
  let count = 0;
  let symbols = 0;
  for (let bit = 7; bit >= 0; bit--) {
    const next = child[node * 2 + ((octet >>> bit) & 1)] ?? 0;
    if (next >= 0) {
      node = next;
      continue;
    }
    const sym = -next - 1;
    if (sym === EOS) return STEP_FAIL;
    assert(count < 2, "huffman: an octet completes at most two symbols");
    symbols |= sym << (8 * count);
    count++;
    node = 0;
  }
  return node | (symbols << 8) | (count << 24);
}

/** Reused output buffer of the decoder; it only grows. */
let scratch = Buffer.allocUnsafeSlow(512);

/**
 * Decodes the Huffman-coded octets src[start, end) into a latin1 string. Throws HpackError when the
 * input contains EOS, or ends in padding longer than 7 bits or not made of one bits (RFC 7541 §5.2).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  // Every symbol is at least 5 bits, so n octets decode to at most 8n/5 chars.
  const most = 2 * (end - start);
  if (scratch.length < most) scratch = Buffer.allocUnsafeSlow(Math.max(most, 2 * scratch.length));
  const out = scratch;
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const entry = STEP[(state << 8) | (src[i] as number)] as number;
    if ((entry & STEP_FAIL) !== 0) throw new HpackError("huffman: EOS inside a string");
    const count = entry >>> 24;
    if (count !== 0) {
      out[n++] = (entry >>> 8) & 0xff;
      if (count === 2) out[n++] = (entry >>> 16) & 0xff;
    }
    state = entry & 0xff;
  }
  if (ACCEPTS[state] !== 1) throw new HpackError("huffman: invalid padding");
  return out.toString("latin1", 0, n);
}

// ---- Encoder ------------------------------------------------------------------------------------

/** The length in octets of s Huffman-coded (with its padding). s must be latin1. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[latin1At(s, i)] ?? 0;
  return (bits + 7) >>> 3;
}

/** s Huffman-coded, padded with the high bits of EOS to a whole octet. s must be latin1. */
export function huffmanEncode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanLength(s));
  let n = 0;
  // Pending bits: at most 7 carried plus one 30-bit code, so they stay exact in a double.
  let pending = 0;
  let pendingBits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = latin1At(s, i);
    const length = LENGTHS[sym] ?? 0;
    pending = pending * 2 ** length + (CODES[sym] ?? 0);
    pendingBits += length;
    while (pendingBits >= 8) {
      pendingBits -= 8;
      const unit = 2 ** pendingBits;
      out[n++] = Math.floor(pending / unit);
      pending %= unit;
    }
  }
  if (pendingBits > 0) {
    const padBits = 8 - pendingBits;
    out[n++] = (pending << padBits) | ((1 << padBits) - 1);
  }
  assert(n === out.length, "huffman: encoded length differs from huffmanLength");
  return out;
}

function latin1At(s: string, i: number): number {
  const c = s.charCodeAt(i);
  assert(c <= 0xff, () => `huffman: char ${c} at ${i} is not latin1`);
  return c;
}

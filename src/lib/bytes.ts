// Byte-string helpers for keys and values. etcd orders keys bytewise (Go's bytes.Compare), so every
// comparison here is on unsigned bytes, never on decoded text.
//
// Interning: the mvcc index keys its ordered tree by the latin1 string of a key's bytes (one UTF-16
// code unit per byte, 0..255). JavaScript compares strings by code unit, so this encoding preserves
// bytewise order exactly and makes a cheap Map/tree key. (TextDecoder("latin1") is not used: it
// decodes windows-1252, which remaps 0x80..0x9f and would break the order.)

const EMPTY = new Uint8Array(0);

/** The shared empty byte string. Never mutate it. */
export const emptyBytes: Uint8Array = EMPTY;

/** Bytewise order: negative if a < b, 0 if equal, positive if a > b (a proper prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * The smallest key greater than every key that starts with `prefix` (etcd's prefix range end): drop
 * trailing 0xff bytes and add one to the last remaining byte. If every byte is 0xff (or the prefix
 * is empty) no such key exists and the result is "\0", which as a range_end means "to the end".
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const b = prefix[i] as number;
    if (b < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = b + 1;
      return end;
    }
  }
  return Uint8Array.of(0);
}

/** True for the range_end "\0", which means "every key >= key". */
export function isFromKeyEnd(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/**
 * Whether `key` falls in the etcd range (key, range_end): an empty range_end selects `start` alone,
 * "\0" selects every key >= start, anything else selects [start, range_end).
 */
export function inRange(key: Uint8Array, start: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (rangeEnd.length === 0) return equalBytes(key, start);
  if (compareBytes(key, start) < 0) return false;
  return isFromKeyEnd(rangeEnd) || compareBytes(key, rangeEnd) < 0;
}

const CHUNK = 8192;

/** The latin1 string of the bytes; order-preserving (see the header comment). */
export function bytesToLatin1(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let s = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return s;
}

/** Inverse of bytesToLatin1. Every code unit of `s` must be below 256. */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`latin1ToBytes: code unit ${c} at ${i} is not a byte`);
    out[i] = c;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** UTF-8 bytes of a string (for keys and values written as text). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD (for display, never for ordering). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

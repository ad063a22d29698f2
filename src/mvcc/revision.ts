// A revision names one change: `main` is the store revision of the write txn (one per txn that
// changed something), `sub` numbers the changes inside that txn from 0. Revisions order first by
// main, then by sub.

import { assert } from "../lib/assert.js";

export interface Revision {
  readonly main: number;
  readonly sub: number;
}

export function compareRevision(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

/** Revisions are plain numbers: they must stay exact integers. */
export function assertRevisionNumber(n: number, what: string): void {
  assert(
    Number.isSafeInteger(n) && n >= 0,
    () => `${what} must be a safe non-negative integer: ${n}`,
  );
}

/** Length of the encoding below: 8 bytes main, "_", 8 bytes sub, 1 byte kind. */
export const REVISION_BYTES = 18;

/**
 * Big-endian main, "_", big-endian sub, then "t" for a tombstone or "p" for a put: the bytes sort in
 * revision order, like the keys of etcd's key bucket. Written into `out` at `offset`.
 */
export function encodeRevision(
  rev: Revision,
  tombstone: boolean,
  out: Uint8Array,
  offset: number,
): void {
  writeUint64(out, offset, rev.main);
  out[offset + 8] = 0x5f;
  writeUint64(out, offset + 9, rev.sub);
  out[offset + 17] = tombstone ? 0x74 : 0x70;
}

/** Writes a safe non-negative integer as 8 big-endian bytes. */
export function writeUint64(out: Uint8Array, offset: number, n: number): void {
  writeUint32(out, offset, Math.floor(n / 0x1_0000_0000));
  writeUint32(out, offset + 4, n >>> 0);
}

/** Writes the low 32 bits of `n` as 4 big-endian bytes. */
export function writeUint32(out: Uint8Array, offset: number, n: number): void {
  out[offset] = (n >>> 24) & 0xff;
  out[offset + 1] = (n >>> 16) & 0xff;
  out[offset + 2] = (n >>> 8) & 0xff;
  out[offset + 3] = n & 0xff;
}

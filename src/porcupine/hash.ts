// Small, fast, deterministic 32-bit hashes for the search cache. They are hints for bucketing:
// the checker always confirms a cache hit with exact equality, so collisions cost time, not truth.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of `text`, continuing from `seed` (so appends can be chained). */
export function hashString(text: string, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  }
  return h | 0;
}

/** A well-spread 32-bit value for an integer (the murmur3 finalizer). */
export function mix32(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Order-dependent combination of two 32-bit hashes. */
export function combineHash(a: number, b: number): number {
  return mix32((Math.imul(a, 31) + b) | 0);
}

/** Hash of any finite number (integers fast; others through their decimal text). */
export function hashNumber(value: number): number {
  return Number.isInteger(value) && Math.abs(value) < 2 ** 31
    ? mix32(value)
    : hashString(String(value));
}

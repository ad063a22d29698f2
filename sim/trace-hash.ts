// A rolling 64-bit hash over the canonical encoding of every processed event. Two 32-bit lanes
// mixed with different multipliers (Math.imul keeps everything in int32 arithmetic, which is exact
// and identical in every JavaScript engine). Same events in the same order <=> same hash, in any
// process; one differing event changes the hash with overwhelming probability.

const stringHashes = new Map<string, number>();

/** FNV-1a over the UTF-16 code units of a string, cached: endpoints and kinds are few. */
export function hashString(text: string): number {
  const cached = stringHashes.get(text);
  if (cached !== undefined) return cached;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h >>>= 0;
  if (stringHashes.size < 100_000) stringHashes.set(text, h);
  return h;
}

/** Mixes 32-bit words into one digest, for the payload of an event. */
export function digestWords(seed: number, ...words: number[]): number {
  let h = seed | 0;
  for (const w of words) h = mixWord(h, w);
  return h >>> 0;
}

/**
 * One step of digestWords, for digests computed on every event: `mixWord(mixWord(s, a), b) >>> 0`
 * equals `digestWords(s, a, b)` without building an array of the words.
 */
export function mixWord(h: number, w: number): number {
  const m = Math.imul(h ^ (w | 0), 0x9e3779b1);
  return m ^ (m >>> 15);
}

/** Digest of a byte array (FNV-1a). */
export function digestBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class TraceHash {
  private lo = 0x6a09e667 | 0;
  private hi = 0xbb67ae85 | 0;

  add(word: number): void {
    const w = word | 0;
    let lo = Math.imul(this.lo ^ w, 0xcc9e2d51);
    lo = (lo << 15) | (lo >>> 17);
    this.lo = Math.imul(lo, 0x1b873593) ^ this.hi;
    let hi = Math.imul(this.hi ^ w, 0x85ebca6b);
    hi = (hi << 13) | (hi >>> 19);
    this.hi = Math.imul(hi, 0xc2b2ae35) + lo;
  }

  /** Adds a non-negative integer up to 2^53 as two words. */
  addInteger(value: number): void {
    this.add(value % 0x1_0000_0000);
    this.add(Math.floor(value / 0x1_0000_0000));
  }

  hex(): string {
    return (
      (this.hi >>> 0).toString(16).padStart(8, "0") + (this.lo >>> 0).toString(16).padStart(8, "0")
    );
  }
}

// A user's permissions merged into disjoint key intervals, one set for READ and one for WRITE
// (etcd's range-perm cache, unifiedRangePermissions). A request is allowed when one merged interval
// covers the whole requested range, so two roles granting [a, c) and [c, e) together allow [b, d).
//
// Keys are compared bytewise through their latin1 strings (one code unit per byte keeps the order;
// see src/lib/bytes.ts). An interval is [begin, end) with end undefined meaning "to the end of the
// key space". A permission on a single key covers [key, key + "\0"), which holds that key alone.

import { bytesToLatin1, isFromKeyEnd } from "../lib/bytes.js";
import type { Permission, PermissionType } from "../api/auth.js";

export interface KeyInterval {
  readonly begin: string;
  /** Exclusive; undefined: no upper bound. */
  readonly end: string | undefined;
}

/** The keys a permission covers; undefined when it covers none (an inverted range). */
export function permissionInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval | undefined {
  const begin = bytesToLatin1(key);
  if (rangeEnd.length === 0) return { begin, end: begin + "\u0000" };
  if (isFromKeyEnd(rangeEnd)) return { begin, end: undefined };
  const end = bytesToLatin1(rangeEnd);
  return begin < end ? { begin, end } : undefined;
}

/** Whether a permission's range may be granted (etcd's isValidPermissionRange). */
export function isValidPermissionRange(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (key.length === 0) return false;
  if (rangeEnd.length === 0 || isFromKeyEnd(rangeEnd)) return true;
  return bytesToLatin1(key) < bytesToLatin1(rangeEnd);
}

/** `a` ends at or after `b`'s end (undefined is the greatest end). */
function endsAtOrAfter(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return a >= b;
}

/** Sorted, merged intervals: no two overlap or touch. */
function merge(intervals: KeyInterval[]): KeyInterval[] {
  const sorted = [...intervals].sort((x, y) =>
    x.begin < y.begin ? -1 : x.begin > y.begin ? 1 : 0,
  );
  const out: KeyInterval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    // Touching intervals merge too: [a, b) and [b, c) cover [a, c) without a gap.
    if (last !== undefined && (last.end === undefined || next.begin <= last.end)) {
      if (!endsAtOrAfter(last.end, next.end))
        out[out.length - 1] = { begin: last.begin, end: next.end };
      continue;
    }
    out.push(next);
  }
  return out;
}

/** The last interval beginning at or before `key`, by binary search. */
function floorInterval(merged: readonly KeyInterval[], key: string): KeyInterval | undefined {
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((merged[mid] as KeyInterval).begin <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : merged[lo - 1];
}

/**
 * Whether the merged intervals allow the etcd range (key, rangeEnd): a single key when rangeEnd is
 * empty, every key >= key for "\0", else [key, rangeEnd). An empty or inverted range is refused,
 * as etcd refuses it (no interval overlaps it).
 */
function covers(merged: readonly KeyInterval[], key: Uint8Array, rangeEnd: Uint8Array): boolean {
  const wanted = permissionInterval(key, rangeEnd);
  if (wanted === undefined) return false;
  const around = floorInterval(merged, wanted.begin);
  if (around === undefined || !endsAtOrAfter(around.end, wanted.begin + "\u0000")) return false;
  return endsAtOrAfter(around.end, wanted.end);
}

export class RangePermissions {
  private constructor(
    private readonly read: readonly KeyInterval[],
    private readonly write: readonly KeyInterval[],
  ) {}

  /** Merges the permissions of all of a user's roles. */
  static of(perms: Iterable<Permission>): RangePermissions {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const p of perms) {
      const interval = permissionInterval(p.key, p.range_end);
      if (interval === undefined) continue;
      if (p.permType !== "WRITE") read.push(interval);
      if (p.permType !== "READ") write.push(interval);
    }
    return new RangePermissions(merge(read), merge(write));
  }

  /** Whether `type` (READ or WRITE) is allowed on the whole etcd range (key, rangeEnd). */
  allows(
    type: Exclude<PermissionType, "READWRITE">,
    key: Uint8Array,
    rangeEnd: Uint8Array,
  ): boolean {
    return covers(type === "READ" ? this.read : this.write, key, rangeEnd);
  }

  /** The merged intervals (tests and debugging). */
  intervals(type: Exclude<PermissionType, "READWRITE">): readonly KeyInterval[] {
    return type === "READ" ? this.read : this.write;
  }
}

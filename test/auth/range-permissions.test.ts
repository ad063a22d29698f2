// The merged permission checker against a naive model that never merges: a single key is allowed
// when one granted permission holds it; a range is allowed when every point where coverage could
// stop (its start, and each permission's end inside it) is held by some permission. fast-check
// prints the seed and the shrunk case on failure.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Permission, PermissionType } from "../../src/api/auth.js";
import { bytesToLatin1, isFromKeyEnd, latin1ToBytes } from "../../src/lib/bytes.js";
import {
  isValidPermissionRange,
  permissionInterval,
  RangePermissions,
} from "../../src/auth/range-permissions.js";

const k = (s: string): Uint8Array => latin1ToBytes(s);

// A small alphabet makes touching and overlapping ranges likely; "\0" and "\xff" cover the edges.
const keyArb = fc
  .array(fc.constantFrom("\u0000", "a", "b", "c", "\u00ff"), { minLength: 1, maxLength: 3 })
  .map((cs) => cs.join(""));

/** A range end: single key, from-key ("\0"), or another key (possibly before the start). */
const endArb = fc.oneof(fc.constant(""), fc.constant("\u0000"), keyArb);

const permArb: fc.Arbitrary<Permission> = fc.record({
  permType: fc.constantFrom<PermissionType>("READ", "WRITE", "READWRITE"),
  key: keyArb.map(k),
  range_end: endArb.map(k),
});

/** Whether raw permission `p` (already of the right type) holds the single key `key`. */
function holds(p: Permission, key: string): boolean {
  const begin = bytesToLatin1(p.key);
  if (p.range_end.length === 0) return key === begin;
  if (isFromKeyEnd(p.range_end)) return key >= begin;
  return key >= begin && key < bytesToLatin1(p.range_end);
}

function naiveAllows(
  perms: readonly Permission[],
  type: "READ" | "WRITE",
  key: string,
  rangeEnd: string,
): boolean {
  const granted = perms.filter((p) => p.permType === type || p.permType === "READWRITE");
  const heldByAny = (point: string) => granted.some((p) => holds(p, point));
  if (rangeEnd === "") return heldByAny(key);
  const toEnd = rangeEnd === "\u0000";
  if (!toEnd && rangeEnd <= key) return false; // an empty range: etcd refuses it
  const inside = (point: string) => point > key && (toEnd || point < rangeEnd);
  // The keys a permission holds end just before its end: a single key's end is key + "\0".
  const ends = granted.flatMap((p) => {
    if (p.range_end.length === 0) return [bytesToLatin1(p.key) + "\u0000"];
    if (isFromKeyEnd(p.range_end)) return [];
    return [bytesToLatin1(p.range_end)];
  });
  // Coverage can only stop at the start or where some permission ends; with no upper bound the
  // greatest such end must be held too, which only a permission without an end can do.
  return [key, ...ends.filter(inside)].every(heldByAny);
}

describe("RangePermissions", () => {
  it("agrees with the naive model on single keys and ranges", () => {
    fc.assert(
      fc.property(
        fc.array(permArb, { maxLength: 8 }),
        fc.constantFrom<"READ" | "WRITE">("READ", "WRITE"),
        keyArb,
        endArb,
        (perms, type, key, rangeEnd) => {
          const merged = RangePermissions.of(perms);
          expect(merged.allows(type, k(key), k(rangeEnd))).toBe(
            naiveAllows(perms, type, key, rangeEnd),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("merges into sorted intervals that neither overlap nor touch", () => {
    fc.assert(
      fc.property(fc.array(permArb, { maxLength: 10 }), (perms) => {
        for (const type of ["READ", "WRITE"] as const) {
          const list = RangePermissions.of(perms).intervals(type);
          for (let i = 1; i < list.length; i++) {
            const prev = list[i - 1]!;
            expect(prev.end).toBeDefined();
            expect(prev.end! < list[i]!.begin).toBe(true);
          }
        }
      }),
    );
  });

  it("allows a range that two roles cover only together", () => {
    const perms: Permission[] = [
      { permType: "READ", key: k("/a"), range_end: k("/c") },
      { permType: "READWRITE", key: k("/c"), range_end: k("/e") },
    ];
    const p = RangePermissions.of(perms);
    expect(p.allows("READ", k("/b"), k("/d"))).toBe(true);
    expect(p.allows("READ", k("/b"), k("/f"))).toBe(false);
    expect(p.allows("WRITE", k("/b"), k("/d"))).toBe(false);
    expect(p.allows("WRITE", k("/c"), k("/e"))).toBe(true);
    expect(p.allows("WRITE", k("/d"), new Uint8Array(0))).toBe(true);
    expect(p.intervals("READ")).toEqual([{ begin: "/a", end: "/e" }]);
  });

  it("treats a single-key permission as that key alone and \\0 as no upper bound", () => {
    const p = RangePermissions.of([
      { permType: "READ", key: k("x"), range_end: new Uint8Array(0) },
      { permType: "WRITE", key: k("m"), range_end: k("\u0000") },
    ]);
    expect(p.allows("READ", k("x"), new Uint8Array(0))).toBe(true);
    expect(p.allows("READ", k("x\u0000"), new Uint8Array(0))).toBe(false);
    expect(p.allows("READ", k("x"), k("x\u0000"))).toBe(true);
    expect(p.allows("READ", k("x"), k("x\u0001"))).toBe(false);
    expect(p.allows("WRITE", k("zzz"), k("\u0000"))).toBe(true);
    expect(p.allows("WRITE", k("a"), k("\u0000"))).toBe(false);
    // An inverted range holds no key and is refused, as etcd refuses it.
    expect(p.allows("WRITE", k("z"), k("n"))).toBe(false);
  });

  it("checks permission ranges as etcd's isValidPermissionRange", () => {
    expect(isValidPermissionRange(k(""), k(""))).toBe(false);
    expect(isValidPermissionRange(k("a"), k(""))).toBe(true);
    expect(isValidPermissionRange(k("a"), k("\u0000"))).toBe(true);
    expect(isValidPermissionRange(k("a"), k("b"))).toBe(true);
    expect(isValidPermissionRange(k("b"), k("a"))).toBe(false);
    expect(isValidPermissionRange(k("a"), k("a"))).toBe(false);
    expect(permissionInterval(k("b"), k("a"))).toBeUndefined();
  });
});

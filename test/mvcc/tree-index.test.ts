import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TreeIndex } from "../../src/mvcc/tree-index.js";

type Op = { kind: "set"; key: string; value: number } | { kind: "delete"; key: string };

describe("tree index", () => {
  it("behaves like a sorted map under random inserts and deletes", () => {
    const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "\xff", "\x00"), maxLength: 4 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), key, value: fc.nat() }),
      fc.record({ kind: fc.constant("delete" as const), key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: "max" }), key, key, (ops, low, high) => {
        const tree = new TreeIndex<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === "set") {
            tree.set(o.key, o.value);
            model.set(o.key, o.value);
          } else {
            expect(tree.delete(o.key)).toBe(model.delete(o.key));
          }
        }
        const sorted = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(tree.entries()).toEqual(sorted);
        expect(tree.size).toBe(model.size);
        for (const [k, v] of sorted) expect(tree.get(k)).toBe(v);
        const seen: string[] = [];
        tree.forEachRange(low, high, (k) => (seen.push(k), true));
        expect(seen).toEqual(sorted.map(([k]) => k).filter((k) => k >= low && k < high));
      }),
      { numRuns: 200 },
    );
  });

  it("splits and empties through many levels", () => {
    const tree = new TreeIndex<number>();
    const n = 50_000;
    const order = Array.from({ length: n }, (_v, i) => (i * 7919) % n);
    for (const i of order) tree.set(i.toString().padStart(6, "0"), i);
    expect(tree.size).toBe(n);
    let count = 0;
    tree.forEachRange("010000", "010100", () => (count++, true));
    expect(count).toBe(100);
    for (const i of order) expect(tree.delete(i.toString().padStart(6, "0"))).toBe(true);
    expect(tree.size).toBe(0);
    expect(tree.entries()).toEqual([]);
    tree.set("x", 1);
    expect(tree.entries()).toEqual([["x", 1]]);
  });
});

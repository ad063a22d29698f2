// The Random contract on both worlds: the seeded PRNG and crypto randomness.
import { describe, expect, it } from "vitest";
import type { Random } from "../../src/env/random.js";
import { Prng } from "../../src/lib/prng.js";
import { SystemRandom } from "../../src/real/system-clock.js";

function randomContract(name: string, make: () => Random): void {
  describe(`Random contract: ${name}`, () => {
    it("draws integers within inclusive bounds, reaching both", () => {
      const r = make();
      const seen = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const v = r.int(3, 6);
        expect(v >= 3 && v <= 6 && Number.isInteger(v)).toBe(true);
        seen.add(v);
      }
      expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    });

    it("draws floats in [0, 1) and honours certain chances", () => {
      const r = make();
      for (let i = 0; i < 500; i++) {
        const f = r.float();
        expect(f >= 0 && f < 1).toBe(true);
      }
      expect(r.chance(0)).toBe(false);
      expect(r.chance(1)).toBe(true);
    });

    it("picks members and shuffles into permutations", () => {
      const r = make();
      const items = ["a", "b", "c", "d", "e"];
      expect(items).toContain(r.pick(items));
      expect([...r.shuffle(items)].sort()).toEqual(items);
      expect(() => r.pick([])).toThrow(/empty/);
      expect(() => r.int(2, 1)).toThrow(/int\(2, 1\)/);
    });
  });
}

randomContract("seeded PRNG", () => Prng.fromSeed(1));
randomContract("system randomness", () => new SystemRandom());

// WAL property: random batches (synced or not), random segment sizes, a crash at a random moment in
// every crash mode of the simulated disk; the recovered log is a prefix of what was written and
// holds every entry of every save acknowledged as durable.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { CRASH_MODES } from "../../sim/disk.js";
import { entries, okValue, openWal, rig } from "./helpers.js";

const batchArb = fc.record({ count: fc.integer({ min: 1, max: 8 }), mustSync: fc.boolean() });

describe("WAL crash recovery", () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.constantFrom(300, 1500, 1 << 20),
      fc.array(batchArb, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(...CRASH_MODES),
    ],
    { numRuns: 150 },
  )(
    "recovers a prefix holding every durable entry",
    (seed, segmentBytes, batches, crashAfterEvents, mode) => {
      const r = rig(seed, { jitterMs: 3 });
      const { wal } = okValue(openWal(r, segmentBytes));
      let next = 1;
      let durableLast = 0;
      for (const b of batches) {
        const last = next + b.count - 1;
        wal.save({ entries: entries(next, last, 1), mustSync: b.mustSync }, (result) => {
          if (result.ok && b.mustSync) durableLast = Math.max(durableLast, last);
        });
        next = last + 1;
      }
      r.world.runUntil({ maxEvents: crashAfterEvents });
      r.disk.crash(mode);
      const recovered = okValue(openWal(r, segmentBytes)).recovered;
      const got = recovered.entries;
      expect(got.length).toBeGreaterThanOrEqual(durableLast);
      expect(got.length).toBeLessThanOrEqual(next - 1);
      expect(got).toEqual(entries(1, got.length, 1));
    },
  );
});

import { describe, expect, it } from "vitest";
import {
  check,
  etcdModel,
  parseHistoryJson,
  resolveUnknownWrites,
} from "../../../src/porcupine/index.js";
import { historyJsonLines } from "../../../sim/member/kv-workload.js";
import { runKvSimulation } from "../../../sim/member/run-kv.js";

function linearizable(history: Parameters<typeof historyJsonLines>[0]): string {
  const parsed = parseHistoryJson(historyJsonLines(history));
  if (!parsed.ok) throw new Error(parsed.error.message);
  return check(etcdModel, resolveUnknownWrites(parsed.value.operations)).result;
}

describe("simulated 3-member KV cluster under network faults", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: converges, watchers see exactly the committed events (re-listing after compaction), history is linearizable`, () => {
      const s = runKvSimulation({ seed, durationMs: 120_000 });
      expect(s.violations).toEqual([]);
      expect(s.ops).toBeGreaterThan(500);
      expect(s.revision).toBeGreaterThan(100);
      expect(s.watchEvents).toBeGreaterThan(100);
      expect(s.watchReconnects).toBeGreaterThan(0); // the faults did break streams
      expect(s.compactRevision).toBeGreaterThan(1); // compaction ran under the watchers
      expect(s.history.some((op) => op.return === undefined)).toBe(true); // and left outcomes unknown
      expect(linearizable(s.history)).toBe("ok");
    });
  }

  it("short leases expire under virtual time on every member once keepalives stop", () => {
    for (const seed of [4, 5]) {
      const s = runKvSimulation({ seed, durationMs: 60_000, expiringLeases: true });
      expect(s.violations).toEqual([]);
    }
  });

  it("the same seed gives the same trace hash; another seed does not", () => {
    const a = runKvSimulation({ seed: 9, durationMs: 20_000 });
    const b = runKvSimulation({ seed: 9, durationMs: 20_000 });
    const c = runKvSimulation({ seed: 10, durationMs: 20_000 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(historyJsonLines(b.history)).toBe(historyJsonLines(a.history));
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it("a calm network loses nothing: every operation has a known outcome", () => {
    const s = runKvSimulation({ seed: 11, durationMs: 20_000, faults: false });
    expect(s.violations).toEqual([]);
    expect(s.history.every((op) => op.return !== undefined)).toBe(true);
    expect(s.watchReconnects).toBe(0);
    expect(linearizable(s.history)).toBe("ok");
  });
});

// checkLinearizable: each classic anomaly is "illegal" with a "linearizable" violation, a search that
// gives up is "unknown" and reported as a failure, and a correct history is "ok".
import { describe, expect, it } from "vitest";
import { checkLinearizable, type EtcdHistoryOperation } from "../../../sim/check/linearizable.js";
import type { KeyValue } from "../../../src/porcupine/index.js";
import { kv, op } from "../../porcupine/etcd-ops.js";

const put = (key: string, value: string, revision: number | undefined, clientId = 0) =>
  op(
    { type: "put", key, value },
    revision === undefined ? undefined : { type: "put", header: { revision } },
    clientId,
  );

const get = (key: string, revision: number, kvs: KeyValue[], clientId = 0) =>
  op(
    { type: "range", key },
    { type: "range", header: { revision }, kvs, count: kvs.length },
    clientId,
  );

const fakeClock = () => {
  let t = 0;
  return () => (t += 1);
};

const unknownWrites = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    op({ type: "put", key: "k", value: "v" }, undefined, i, [0, 0]),
  );

const run = (history: EtcdHistoryOperation[]) => checkLinearizable(history, { now: fakeClock() });

describe("checkLinearizable", () => {
  it("accepts a correct history, including a write whose outcome a read proved", () => {
    const result = run([
      put("a", "1", 2),
      put("b", "1", undefined, 1),
      get("b", 3, [kv("b", "1", 3, 3, 1)], 2),
      get("a", 3, [kv("a", "1", 2, 2, 1)]),
    ]);
    expect(result.verdict).toBe("ok");
    expect(result.violations).toEqual([]);
    // The unknown put was resolved to "persisted at 3" before the search.
    expect(result.operations[1]?.output).toEqual({ type: "persisted", revision: 3 });
    expect(result.ms).toBeGreaterThan(0);
  });

  it("reports a lost write as illegal", () => {
    const result = run([put("a", "1", 2), get("a", 2, [])]);
    expect(result.verdict).toBe("illegal");
    expect(result.violations.map((v) => v.check)).toEqual(["linearizable"]);
    expect(result.violations[0]?.message).toMatch(/illegal: .*range\("a"\)/);
  });

  it("reports a stale read as illegal", () => {
    const result = run([
      put("a", "1", 2),
      put("a", "2", 3),
      get("a", 2, [kv("a", "1", 2, 2, 1)], 1),
    ]);
    expect(result.verdict).toBe("illegal");
    expect(result.violations.map((v) => v.check)).toEqual(["linearizable"]);
    expect(result.violations[0]?.message).toContain("client 1");
  });

  it("reports the revision going backwards as illegal", () => {
    const result = run([put("a", "1", 2), put("b", "1", 3), put("c", "1", 2, 1)]);
    expect(result.verdict).toBe("illegal");
    expect(result.violations.map((v) => v.check)).toEqual(["linearizable"]);
    expect(result.violations[0]?.atMs).toBeGreaterThan(0);
  });

  it("reports a search that ran out of time as unknown, and as a failure", () => {
    // Many concurrent writes of unknown outcome and one impossible read: the search tries every
    // subset of the writes before giving up. (One key and one value keep each state set small.)
    const writes = unknownWrites(24);
    const read = op(
      { type: "range", key: "zz" },
      { type: "range", header: { revision: 9 }, kvs: [kv("zz", "never", 2, 2, 1)], count: 1 },
      99,
      [1, 2],
    );
    const result = checkLinearizable([...writes, read], { timeoutMs: 5, now: fakeClock() });
    expect(result.verdict).toBe("unknown");
    expect(result.unknownReason).toBe("timeout");
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.check).toBe("linearizable");
    expect(result.violations[0]?.message).toMatch(/^unknown: .*ran out of time \(5 ms budget\)/);
  });

  it("reports the cache limit as unknown", () => {
    const writes = unknownWrites(24);
    const read = op(
      { type: "range", key: "zz" },
      { type: "range", header: { revision: 9 }, kvs: [kv("zz", "never", 2, 2, 1)], count: 1 },
      99,
      [1, 2],
    );
    const result = checkLinearizable([...writes, read], { now: fakeClock(), maxCacheEntries: 50 });
    expect(result.verdict).toBe("unknown");
    expect(result.violations[0]?.message).toContain("cache limit");
  });
});

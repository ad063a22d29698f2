import { describe, expect, it } from "vitest";
import { KvStore } from "../../src/mvcc/kv-store.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/mvcc/snapshot.js";
import { crc32c } from "../../src/mvcc/crc32c.js";
import { b, expectError, unwrap } from "./helpers.js";

function build(values: string[], lease = 0n): KvStore {
  const s = new KvStore();
  values.forEach((v, i) => unwrap(s.put({ key: b(`k${i % 3}`), value: b(v), lease })));
  unwrap(s.deleteRange({ key: b("k1") }));
  return s;
}

describe("crc32c", () => {
  it("matches the standard check value", () => {
    expect(crc32c(b("123456789"))).toBe(0xe3069283);
  });
});

describe("hashKV", () => {
  it("agrees between members with the same history, before and after compaction", () => {
    const a = build(["1", "2", "3", "4", "5"]);
    const c = build(["1", "2", "3", "4", "5"]);
    expect(unwrap(a.hashKV())).toEqual(unwrap(c.hashKV()));
    unwrap(a.compact({ revision: 4 }));
    unwrap(c.compact({ revision: 4 }));
    const h = unwrap(a.hashKV({ revision: 5 }));
    expect(h).toEqual(unwrap(c.hashKV({ revision: 5 })));
    expect(h).toMatchObject({ compact_revision: 4, hash_revision: 5 });
  });

  it("detects any difference in value, key, lease or history", () => {
    const base = unwrap(build(["1", "2", "3", "4", "5"]).hashKV()).hash;
    expect(unwrap(build(["1", "2", "3", "4", "6"]).hashKV()).hash).not.toBe(base);
    expect(unwrap(build(["1", "2", "3", "4", "5"], 7n).hashKV()).hash).not.toBe(base);
    const extra = build(["1", "2", "3", "4", "5"]);
    unwrap(extra.put({ key: b("k0"), value: b("5") }));
    expect(unwrap(extra.hashKV()).hash).not.toBe(base);
    expect(unwrap(extra.hashKV({ revision: 7 })).hash).toBe(base);
  });

  it("is stable for a past revision while the store moves on", () => {
    const s = build(["1", "2", "3"]);
    const before = unwrap(s.hashKV({ revision: 3 }));
    unwrap(s.put({ key: b("zz"), value: b("later") }));
    const after = unwrap(s.hashKV({ revision: 3 }));
    expect({ ...after, header: undefined }).toEqual({ ...before, header: undefined });
    expect(after.header.revision).toBe(before.header.revision + 1);
    expectError(s.hashKV({ revision: 99 }), "FutureRev");
    unwrap(s.compact({ revision: 4 }));
    expectError(s.hashKV({ revision: 3 }), "Compacted");
  });
});

describe("snapshot", () => {
  it("round-trips history, revisions, leases and the hash", () => {
    const s = build(["1", "2", "3", "4"], 0x7fff_ffff_ffff_ff01n);
    unwrap(s.compact({ revision: 3 }));
    const restored = decodeSnapshot(encodeSnapshot(s));
    expect(restored.ok).toBe(true);
    if (!restored.ok) return;
    const r = restored.value;
    expect(r.currentRevision).toBe(s.currentRevision);
    expect(r.compactRevision).toBe(3);
    expect(r.exportState()).toEqual(s.exportState());
    expect(unwrap(r.hashKV())).toEqual(unwrap(s.hashKV()));
    const all = { key: Uint8Array.of(0), range_end: Uint8Array.of(0) };
    for (let rev = 3; rev <= s.currentRevision; rev++) {
      expect(r.range({ ...all, revision: rev })).toEqual(s.range({ ...all, revision: rev }));
    }
    unwrap(r.put({ key: b("k0"), value: b("after") }));
    expect(unwrap(r.range({ key: b("k0") })).kvs[0]?.version).toBe(3);
  });

  it("round-trips a fresh store and rejects damaged input", () => {
    const fresh = decodeSnapshot(encodeSnapshot(new KvStore()));
    expect(fresh.ok && fresh.value.currentRevision).toBe(1);
    expect(fresh.ok && fresh.value.compactRevision).toBe(-1);
    const bytes = encodeSnapshot(build(["1", "2"]));
    expect(decodeSnapshot(bytes.slice(0, bytes.length - 1)).ok).toBe(false);
    expect(decodeSnapshot(new Uint8Array([1, 2, 3, 4, 5])).ok).toBe(false);
    expect(decodeSnapshot(new Uint8Array([...bytes, 0])).ok).toBe(false);
  });
});

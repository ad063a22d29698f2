import { describe, expect, it } from "vitest";
import { KvStore } from "../../src/mvcc/kv-store.js";
import { prefixEnd } from "../../src/lib/bytes.js";
import type { CommittedTxn } from "../../src/mvcc/kv-store.js";
import { b, expectError, keys, show, unwrap } from "./helpers.js";

function storeWith(...pairs: [string, string][]): KvStore {
  const s = new KvStore();
  for (const [k, v] of pairs) unwrap(s.put({ key: b(k), value: b(v) }));
  return s;
}

describe("revisions and generations", () => {
  it("starts at revision 1 and gives each write txn the next revision", () => {
    const s = new KvStore();
    expect(s.currentRevision).toBe(1);
    expect(unwrap(s.put({ key: b("a"), value: b("1") })).header.revision).toBe(2);
    expect(unwrap(s.put({ key: b("a"), value: b("2") })).header.revision).toBe(3);
    expect(s.currentRevision).toBe(3);
  });

  it("restarts the version at 1 after a delete and keeps create_revision within a generation", () => {
    const s = new KvStore();
    unwrap(s.put({ key: b("k"), value: b("1") })); // 2
    unwrap(s.put({ key: b("k"), value: b("2") })); // 3
    unwrap(s.deleteRange({ key: b("k") })); // 4
    unwrap(s.put({ key: b("k"), value: b("3") })); // 5
    const at3 = unwrap(s.range({ key: b("k"), revision: 3 })).kvs.map(show);
    expect(at3).toEqual([{ key: "k", value: "2", create: 2, mod: 3, version: 2, lease: 0n }]);
    expect(unwrap(s.range({ key: b("k"), revision: 4 })).kvs).toEqual([]);
    const now = unwrap(s.range({ key: b("k") })).kvs.map(show);
    expect(now).toEqual([{ key: "k", value: "3", create: 5, mod: 5, version: 1, lease: 0n }]);
  });

  it("does not bump the revision for a delete of nothing or a read-only txn", () => {
    const s = storeWith(["a", "1"]);
    const del = unwrap(s.deleteRange({ key: b("zzz") }));
    expect(del).toMatchObject({ deleted: 0, header: { revision: 2 } });
    const t = unwrap(
      s.txn({ success: [{ request: "request_range", request_range: { key: b("a") } }] }),
    );
    expect(t.header.revision).toBe(2);
    expect(s.currentRevision).toBe(2);
  });

  it("rejects future and compacted revisions", () => {
    const s = storeWith(["a", "1"], ["a", "2"], ["a", "3"]); // revisions 2..4
    expectError(s.range({ key: b("a"), revision: 5 }), "FutureRev");
    unwrap(s.compact({ revision: 3 }));
    expectError(s.range({ key: b("a"), revision: 2 }), "Compacted");
    expect(unwrap(s.range({ key: b("a"), revision: 3 })).kvs.map(show)[0]?.value).toBe("2");
    expectError(s.compact({ revision: 3 }), "Compacted");
    expectError(s.compact({ revision: 9 }), "FutureRev");
  });
});

describe("range", () => {
  const s = storeWith(["a", "5"], ["b", "4"], ["c", "3"], ["c", "33"], ["d", "2"], ["e\xff", "1"]);

  it("reads one key, a prefix, from a key on, and an explicit interval", () => {
    expect(keys(unwrap(s.range({ key: b("c") })).kvs)).toEqual(["c"]);
    expect(keys(unwrap(s.range({ key: b("b"), range_end: b("d") })).kvs)).toEqual(["b", "c"]);
    expect(keys(unwrap(s.range({ key: b("c"), range_end: Uint8Array.of(0) })).kvs)).toEqual([
      "c",
      "d",
      "e\xff",
    ]);
    expect(unwrap(s.range({ key: Uint8Array.of(0), range_end: Uint8Array.of(0) })).count).toBe(5);
    expect(keys(unwrap(s.range({ key: b("e"), range_end: prefixEnd(b("e")) })).kvs)).toEqual([
      "e\xff",
    ]);
    expect(unwrap(s.range({ key: b("d"), range_end: b("b") })).kvs).toEqual([]);
  });

  it("applies limit with more and a count of every key in range", () => {
    const r = unwrap(s.range({ key: b("a"), range_end: b("z"), limit: 2 }));
    expect(keys(r.kvs)).toEqual(["a", "b"]);
    expect(r.more).toBe(true);
    expect(r.count).toBe(5);
    const all = unwrap(s.range({ key: b("a"), range_end: b("z"), limit: 5 }));
    expect(all.more).toBe(false);
  });

  it("filters by mod/create revision without changing count", () => {
    const r = unwrap(
      s.range({
        key: b("a"),
        range_end: b("z"),
        min_mod_revision: 4,
        max_create_revision: 6,
        limit: 1,
      }),
    );
    expect(keys(r.kvs)).toEqual(["c"]);
    expect(r.more).toBe(true); // d also passes the filters
    expect(r.count).toBe(5);
  });

  it("sorts by every target in both orders, ties in key order", () => {
    const range = { key: b("a"), range_end: b("z") };
    const desc = unwrap(s.range({ ...range, sort_order: "DESCEND" }));
    expect(keys(desc.kvs)).toEqual(["e\xff", "d", "c", "b", "a"]);
    const byValue = unwrap(s.range({ ...range, sort_target: "VALUE" }));
    expect(keys(byValue.kvs)).toEqual(["e\xff", "d", "c", "b", "a"]);
    const byVersion = unwrap(s.range({ ...range, sort_target: "VERSION", sort_order: "DESCEND" }));
    expect(keys(byVersion.kvs)).toEqual(["c", "a", "b", "d", "e\xff"]);
    const byMod = unwrap(
      s.range({ ...range, sort_target: "MOD", sort_order: "DESCEND", limit: 2 }),
    );
    expect(keys(byMod.kvs)).toEqual(["e\xff", "d"]);
    expect(byMod.more).toBe(true);
    const byCreate = unwrap(s.range({ ...range, sort_target: "CREATE", sort_order: "ASCEND" }));
    expect(keys(byCreate.kvs)).toEqual(["a", "b", "c", "d", "e\xff"]);
  });

  it("answers keys_only and count_only", () => {
    const ko = unwrap(s.range({ key: b("a"), range_end: b("c"), keys_only: true }));
    expect(ko.kvs.map((kv) => kv.value.length)).toEqual([0, 0]);
    expect(ko.kvs[0]?.version).toBe(1);
    const co = unwrap(s.range({ key: b("a"), range_end: b("z"), count_only: true }));
    expect(co).toMatchObject({ kvs: [], count: 5, more: false });
  });

  it("rejects an empty key", () => {
    expectError(s.range({ key: new Uint8Array(0) }), "EmptyKey");
  });
});

describe("put options", () => {
  it("returns prev_kv and honours ignore_value / ignore_lease", () => {
    const s = new KvStore();
    unwrap(s.put({ key: b("k"), value: b("v1"), lease: 7n }));
    const p = unwrap(s.put({ key: b("k"), ignore_value: true, prev_kv: true }));
    expect(show(p.prev_kv!)).toMatchObject({ value: "v1", lease: 7n });
    expect(show(unwrap(s.range({ key: b("k") })).kvs[0]!)).toMatchObject({
      value: "v1",
      lease: 0n,
    });
    unwrap(s.put({ key: b("k"), value: b("v2"), lease: 9n }));
    unwrap(s.put({ key: b("k"), value: b("v3"), ignore_lease: true }));
    expect(show(unwrap(s.range({ key: b("k") })).kvs[0]!)).toMatchObject({
      value: "v3",
      lease: 9n,
    });
  });

  it("fails ignore_value / ignore_lease on a missing key and with an explicit value or lease", () => {
    const s = new KvStore();
    expectError(s.put({ key: b("k"), ignore_value: true }), "KeyNotFound");
    expectError(s.put({ key: b("k"), ignore_lease: true }), "KeyNotFound");
    unwrap(s.put({ key: b("k"), value: b("v") }));
    expectError(s.put({ key: b("k"), value: b("x"), ignore_value: true }), "ValueProvided");
    expectError(s.put({ key: b("k"), lease: 1n, ignore_lease: true }), "LeaseProvided");
    expectError(s.put({ key: new Uint8Array(0), value: b("x") }), "EmptyKey");
    expect(s.currentRevision).toBe(2);
  });

  it("checks lease existence through the injected lookup", () => {
    const s = new KvStore({ leaseExists: (id) => id === 5n });
    expectError(s.put({ key: b("k"), value: b("v"), lease: 6n }), "LeaseNotFound");
    unwrap(s.put({ key: b("k"), value: b("v"), lease: 5n }));
  });
});

describe("delete", () => {
  it("returns deleted and prev_kvs", () => {
    const s = storeWith(["a", "1"], ["b", "2"], ["c", "3"]);
    const d = unwrap(s.deleteRange({ key: b("a"), range_end: b("c"), prev_kv: true }));
    expect(d.deleted).toBe(2);
    expect(keys(d.prev_kvs)).toEqual(["a", "b"]);
    expect(d.header.revision).toBe(5);
  });
});

describe("txn", () => {
  it("compares a missing key as zeros, except VALUE which fails", () => {
    const s = new KvStore();
    const cmp = (c: Parameters<KvStore["txn"]>[0]["compare"]) =>
      unwrap(s.txn({ compare: c })).succeeded;
    expect(cmp([{ key: b("x"), result: "EQUAL", target: "MOD", mod_revision: 0 }])).toBe(true);
    expect(cmp([{ key: b("x"), result: "EQUAL", target: "VERSION", version: 0 }])).toBe(true);
    expect(cmp([{ key: b("x"), result: "EQUAL", target: "CREATE" }])).toBe(true);
    expect(cmp([{ key: b("x"), result: "EQUAL", target: "LEASE", lease: 0n }])).toBe(true);
    expect(cmp([{ key: b("x"), result: "EQUAL", target: "VALUE", value: new Uint8Array(0) }])).toBe(
      false,
    );
    expect(cmp([{ key: b("x"), result: "NOT_EQUAL", target: "VALUE", value: b("a") }])).toBe(false);
  });

  it("applies a compare with range_end to every key in the range", () => {
    const s = storeWith(["a", "1"], ["b", "1"], ["c", "2"]);
    const c = (end: string) =>
      unwrap(
        s.txn({
          compare: [
            { key: b("a"), range_end: b(end), result: "EQUAL", target: "VALUE", value: b("1") },
          ],
        }),
      ).succeeded;
    expect(c("c")).toBe(true);
    expect(c("d")).toBe(false);
  });

  it("runs the chosen branch at one revision with sub-revisions and reads its own writes", () => {
    const s = storeWith(["k", "0"]);
    const events: CommittedTxn[] = [];
    s.onCommit((t) => events.push(t));
    const r = unwrap(
      s.txn({
        compare: [{ key: b("k"), result: "EQUAL", target: "VERSION", version: 1 }],
        success: [
          { request: "request_put", request_put: { key: b("x"), value: b("1") } },
          { request: "request_put", request_put: { key: b("y"), value: b("2") } },
          { request: "request_range", request_range: { key: b("x"), range_end: b("z") } },
          { request: "request_delete_range", request_delete_range: { key: b("k"), prev_kv: true } },
        ],
        failure: [{ request: "request_put", request_put: { key: b("never"), value: b("") } }],
      }),
    );
    expect(r.succeeded).toBe(true);
    expect(r.header.revision).toBe(3);
    const range = r.responses[2];
    expect(range?.response === "response_range" && keys(range.response_range.kvs)).toEqual([
      "x",
      "y",
    ]);
    expect(range?.response === "response_range" && range.response_range.header.revision).toBe(3);
    expect(events).toHaveLength(1);
    expect(events[0]?.events.map((e) => [e.type, show(e.kv).key, e.kv.mod_revision])).toEqual([
      ["PUT", "x", 3],
      ["PUT", "y", 3],
      ["DELETE", "k", 3],
    ]);
    expect(show(events[0]!.events[2]!.prev_kv!).value).toBe("0");
  });

  it("decides nested compares against the state before the txn", () => {
    const s = new KvStore();
    const r = unwrap(
      s.txn({
        success: [
          { request: "request_put", request_put: { key: b("a"), value: b("1") } },
          {
            request: "request_txn",
            request_txn: {
              compare: [{ key: b("a"), result: "EQUAL", target: "VERSION", version: 0 }],
              success: [
                { request: "request_put", request_put: { key: b("b"), value: b("seen-empty") } },
              ],
              failure: [
                { request: "request_put", request_put: { key: b("b"), value: b("seen-a") } },
              ],
            },
          },
        ],
      }),
    );
    const nested = r.responses[1];
    expect(nested?.response === "response_txn" && nested.response_txn.succeeded).toBe(true);
    expect(show(unwrap(s.range({ key: b("b") })).kvs[0]!).value).toBe("seen-empty");
  });

  it("rejects duplicate writes and too many ops, changing nothing", () => {
    const s = new KvStore({ maxTxnOps: 3 });
    const put = (k: string) => ({
      request: "request_put" as const,
      request_put: { key: b(k), value: b("") },
    });
    const del = (k: string, end?: string) => ({
      request: "request_delete_range" as const,
      request_delete_range: end === undefined ? { key: b(k) } : { key: b(k), range_end: b(end) },
    });
    expectError(s.txn({ success: [put("a"), put("a")] }), "DuplicateKey");
    expectError(s.txn({ success: [del("a", "c"), put("b")] }), "DuplicateKey");
    expectError(s.txn({ success: [put("a"), put("b"), put("c"), put("d")] }), "TooManyOps");
    unwrap(s.txn({ success: [put("a")], failure: [put("a")] }));
    unwrap(s.txn({ success: [del("a", "c"), del("b")] })); // overlapping deletes are fine
    expect(s.currentRevision).toBe(3);
  });

  it("fails the whole txn when a checked op would fail", () => {
    const s = storeWith(["a", "1"]);
    const r = s.txn({
      success: [
        { request: "request_put", request_put: { key: b("b"), value: b("x") } },
        { request: "request_put", request_put: { key: b("c"), ignore_value: true } },
      ],
    });
    expectError(r, "KeyNotFound");
    const r2 = s.txn({
      success: [{ request: "request_range", request_range: { key: b("a"), revision: 3 } }],
    });
    expectError(r2, "FutureRev");
    expect(s.currentRevision).toBe(2);
  });
});

describe("compaction", () => {
  it("keeps the latest revision at or below the compact revision and drops tombstones", () => {
    const s = new KvStore();
    unwrap(s.put({ key: b("a"), value: b("1") })); // 2
    unwrap(s.put({ key: b("a"), value: b("2") })); // 3
    unwrap(s.put({ key: b("b"), value: b("1") })); // 4
    unwrap(s.deleteRange({ key: b("b") })); // 5
    unwrap(s.put({ key: b("a"), value: b("3") })); // 6
    unwrap(s.compact({ revision: 5 }));
    expect(unwrap(s.range({ key: b("a"), revision: 5 })).kvs.map(show)[0]?.value).toBe("2");
    expect(unwrap(s.range({ key: b("b"), revision: 5 })).kvs).toEqual([]);
    expect(s.exportState().records.map((r) => [r.main, r.tombstone])).toEqual([
      [3, false],
      [5, true], // kept in the log only, for watchers starting at the compact revision
      [6, false],
    ]);
    unwrap(s.compact({ revision: 6 }));
    expect(s.exportState().records.map((r) => r.main)).toEqual([6]);
  });

  it("replays events from the compact revision on, not before", () => {
    const s = storeWith(["a", "1"], ["b", "2"]);
    unwrap(s.deleteRange({ key: b("a") })); // 4
    unwrap(s.compact({ revision: 4 }));
    expectError(s.events(b("a"), Uint8Array.of(0), 3, 10), "Compacted");
    const batch = unwrap(s.events(b("a"), Uint8Array.of(0), 4, 10));
    expect(batch.events.map((e) => [e.type, e.kv.mod_revision])).toEqual([["DELETE", 4]]);
    expect(batch.nextRevision).toBe(5);
  });
});

describe("events", () => {
  it("reads changes in a range between revisions, whole revisions per batch, with prev_kv", () => {
    const s = new KvStore();
    unwrap(s.put({ key: b("a"), value: b("1") })); // 2
    unwrap(
      s.txn({
        success: [
          { request: "request_put", request_put: { key: b("a"), value: b("2") } },
          { request: "request_put", request_put: { key: b("b"), value: b("2") } },
        ],
      }),
    ); // 3
    unwrap(s.put({ key: b("c"), value: b("3") })); // 4
    const first = unwrap(s.events(b("a"), b("z"), 2, 4, { maxEvents: 2, withPrevKv: true }));
    expect(first.events.map((e) => [show(e.kv).key, e.kv.mod_revision])).toEqual([
      ["a", 2],
      ["a", 3],
      ["b", 3],
    ]);
    expect(first.nextRevision).toBe(4);
    expect(show(first.events[1]!.prev_kv!).value).toBe("1");
    const onlyB = unwrap(s.events(b("b"), new Uint8Array(0), 1, 10));
    expect(onlyB.events.map((e) => show(e.kv).key)).toEqual(["b"]);
  });
});

// The etcd model: exact responses, revisions, compaction, leases, txns, unknown outcomes, and the
// classic anomalies (stale read, lost write, revision going backwards, duplicated apply).
import { describe, expect, it } from "vitest";
import {
  check,
  etcdModel,
  resolveUnknownWrites,
  type EtcdInput,
  type EtcdOutput,
  type KeyValue,
  type Operation,
} from "../../src/porcupine/index.js";
import { kv, op } from "./etcd-ops.js";

type Op = Operation<EtcdInput, EtcdOutput>;
const put = (
  key: string,
  value: string,
  revision: number | undefined,
  clientId = 0,
  times?: [number, number],
) =>
  op(
    { type: "put", key, value },
    revision === undefined ? undefined : { type: "put", header: { revision } },
    clientId,
    times,
  );
const get = (
  key: string,
  revision: number,
  kvs: KeyValue[],
  clientId = 0,
  times?: [number, number],
  at?: number,
) =>
  op(
    { type: "range", key, ...(at !== undefined ? { revision: at } : {}) },
    { type: "range", header: { revision }, kvs, count: kvs.length },
    clientId,
    times,
  );
const verdict = (history: Op[]) => check(etcdModel, history).result;

describe("etcd model", () => {
  it("accepts a sequential history with exact revisions, versions and past-revision reads", () => {
    const h = [
      get("a", 1, []),
      put("a", "1", 2),
      get("a", 2, [kv("a", "1", 2, 2, 1)]),
      put("a", "2", 3),
      get("a", 3, [kv("a", "2", 2, 3, 2)]),
      op(
        { type: "delete-range", key: "a" },
        { type: "delete-range", header: { revision: 4 }, deleted: 1 },
      ),
      get("a", 4, []),
      get("a", 4, [kv("a", "1", 2, 2, 1)], 0, undefined, 2),
      put("a", "3", 5),
      get("a", 5, [kv("a", "3", 5, 5, 1)]),
      op({ type: "compaction", revision: 3 }, { type: "compaction", header: { revision: 5 } }),
      op({ type: "range", key: "a", revision: 2 }, { type: "error", error: "compacted" }),
      get("a", 5, [kv("a", "2", 2, 3, 2)], 0, undefined, 3),
      op({ type: "range", key: "a", revision: 9 }, { type: "error", error: "future-revision" }),
    ];
    expect(verdict(h)).toBe("ok");
  });

  it("rejects a wrong version or mod_revision", () => {
    expect(verdict([put("a", "1", 2), get("a", 2, [kv("a", "1", 2, 2, 2)])])).toBe("illegal");
    expect(verdict([put("a", "1", 2), get("a", 2, [kv("a", "1", 2, 3, 1)])])).toBe("illegal");
  });

  it("rejects a stale read", () => {
    // The put is acknowledged before the read starts, yet the read shows the old state.
    expect(verdict([put("a", "1", 2, 0), get("a", 1, [], 1)])).toBe("illegal");
  });

  it("rejects a lost write", () => {
    // An acknowledged put disappears while the revision moves on.
    const h = [put("a", "1", 2, 0), put("b", "1", 3, 1), get("a", 3, [], 2)];
    expect(verdict(h)).toBe("illegal");
  });

  it("rejects a revision going backwards", () => {
    const h = [
      put("a", "1", 2),
      put("a", "2", 3),
      get("a", 3, [kv("a", "2", 2, 3, 2)], 1),
      get("b", 2, [], 2),
    ];
    expect(verdict(h)).toBe("illegal");
  });

  it("rejects a duplicated apply", () => {
    // The same put applied twice: version 2 and one revision too many.
    const h = [put("a", "1", 2), get("a", 3, [kv("a", "1", 2, 3, 2)])];
    expect(verdict(h)).toBe("illegal");
  });

  it("accepts concurrent writes in either order, as their revisions say", () => {
    const h = [
      put("a", "x", 3, 0, [0, 10]),
      put("a", "y", 2, 1, [1, 9]),
      get("a", 3, [kv("a", "x", 2, 3, 2)], 2, [11, 12]),
    ];
    expect(verdict(h)).toBe("ok");
  });

  it("forks an unknown write into applied and not applied", () => {
    const applied = [put("a", "1", undefined, 0), get("a", 2, [kv("a", "1", 2, 2, 1)], 1)];
    expect(verdict(applied)).toBe("ok");
    const notApplied = [put("a", "1", undefined, 0), get("a", 1, [], 1), put("b", "1", 2, 1)];
    expect(verdict(notApplied)).toBe("ok");
    const appliedLater = [
      put("a", "1", undefined, 0),
      put("b", "1", 2, 1),
      get("a", 3, [kv("a", "1", 3, 3, 1)], 1),
    ];
    expect(verdict(appliedLater)).toBe("ok");
    const impossible = [
      put("a", "1", undefined, 0),
      get("a", 2, [kv("a", "1", 2, 2, 1)], 1),
      get("a", 2, [], 1),
    ];
    expect(verdict(impossible)).toBe("illegal");
  });

  it("resolves unknown writes that a later read proves", () => {
    const h = [
      put("a", "1", undefined, 0),
      put("b", "1", 2, 1),
      get("a", 3, [kv("a", "1", 3, 3, 1)], 1),
    ];
    const resolved = resolveUnknownWrites(h);
    expect(resolved[0]?.output).toEqual({ type: "persisted", revision: 3 });
    expect(resolved[0]?.return).toBe(h[2]?.return);
    expect(check(etcdModel, resolved).result).toBe("ok");
    // A value written twice proves nothing about either write.
    const twice = [
      put("a", "1", undefined, 0),
      put("a", "1", 2, 1),
      get("a", 2, [kv("a", "1", 2, 2, 1)], 1),
    ];
    expect(resolveUnknownWrites(twice)[0]?.return).toBeUndefined();
  });

  it("evaluates txn compares on mod revision, create revision, version and value", () => {
    const cas = (modRevision: number, value: string, succeeded: boolean, revision: number): Op =>
      op(
        {
          type: "txn",
          compare: [{ target: "mod", result: "equal", key: "a", mod_revision: modRevision }],
          success: [{ type: "put", key: "a", value }],
          failure: [{ type: "range", key: "a" }],
        },
        {
          type: "txn",
          header: { revision },
          succeeded,
          responses: succeeded
            ? [{ type: "put" }]
            : [{ type: "range", kvs: [kv("a", "2", 2, 3, 2)], count: 1 }],
        },
      );
    expect(verdict([put("a", "1", 2), cas(2, "2", true, 3), cas(2, "3", false, 3)])).toBe("ok");
    expect(verdict([put("a", "1", 2), cas(2, "2", true, 3), cas(2, "3", true, 4)])).toBe("illegal");
    const first = put("a", "1", 2);
    const create = op(
      {
        type: "txn",
        compare: [
          { target: "create", result: "equal", key: "n", create_revision: 0 },
          { target: "version", result: "less", key: "a", version: 3 },
          { target: "value", result: "greater", key: "a", value: "0" },
        ],
        success: [{ type: "put", key: "n", value: "v" }],
        failure: [],
      },
      { type: "txn", header: { revision: 3 }, succeeded: true, responses: [{ type: "put" }] },
    );
    expect(verdict([first, create])).toBe("ok");
  });

  it("attaches keys to leases and deletes them on revoke", () => {
    const h = [
      op(
        { type: "lease-grant", id: 5, ttl: 60 },
        { type: "lease-grant", header: { revision: 1 }, id: 5, ttl: 60 },
      ),
      op({ type: "put", key: "a", value: "1", lease: 5 }, { type: "put", header: { revision: 2 } }),
      get("a", 2, [kv("a", "1", 2, 2, 1, 5)]),
      op(
        { type: "put", key: "b", value: "1", lease: 6 },
        { type: "error", error: "lease-not-found" },
      ),
      op({ type: "lease-revoke", id: 5 }, { type: "lease-revoke", header: { revision: 3 } }),
      get("a", 3, []),
      op({ type: "lease-revoke", id: 5 }, { type: "error", error: "lease-not-found" }),
    ];
    expect(verdict(h)).toBe("ok");
    expect(verdict([...h.slice(0, 5), get("a", 3, [kv("a", "1", 2, 2, 1, 5)])])).toBe("illegal");
  });

  it("rejects compaction errors that do not match the state", () => {
    const h = [
      put("a", "1", 2),
      op({ type: "compaction", revision: 2 }, { type: "error", error: "compacted" }),
    ];
    expect(verdict(h)).toBe("illegal");
  });
});

describe("etcd model with auth", () => {
  const auth = (change: "enable" | "disable" | "grant-write" | "revoke-write", revision: number) =>
    op({ type: "auth", change }, { type: "auth", header: { revision } });
  const as = (
    who: "root" | "writer" | "anonymous",
    input: EtcdInput,
    output: EtcdOutput | undefined,
    clientId = 0,
    times?: [number, number],
  ) => op({ ...input, as: who } as EtcdInput, output, clientId, times);
  const error = (e: "permission-denied" | "user-empty" | "auth-old-revision"): EtcdOutput => ({
    type: "error",
    error: e,
  });
  const putA = { type: "put", key: "a", value: "1" } as const;

  it("refuses anonymous requests and a writer's writes without WRITE while auth is on", () => {
    const h = [
      as("anonymous", putA, { type: "put", header: { revision: 2 } }),
      auth("enable", 2),
      as("anonymous", { type: "range", key: "a" }, error("user-empty")),
      as(
        "writer",
        { type: "range", key: "a" },
        {
          type: "range",
          header: { revision: 2 },
          kvs: [kv("a", "1", 2, 2, 1)],
          count: 1,
        },
      ),
      auth("revoke-write", 2),
      as("writer", { ...putA, value: "2" }, error("permission-denied")),
      as("root", { ...putA, value: "3" }, { type: "put", header: { revision: 3 } }),
      // Lease grants and compactions are never checked.
      as(
        "anonymous",
        { type: "lease-grant", id: 7, ttl: 60 },
        {
          type: "lease-grant",
          header: { revision: 3 },
          id: 7,
          ttl: 60,
        },
      ),
      auth("grant-write", 3),
      as("writer", { ...putA, value: "4" }, { type: "put", header: { revision: 4 } }),
      auth("disable", 4),
      as("anonymous", { ...putA, value: "5" }, { type: "put", header: { revision: 5 } }),
    ];
    expect(verdict(h)).toBe("ok");
  });

  it("finds a write that succeeded after its permission was revoked, and a refusal without cause", () => {
    const base = [auth("enable", 1), auth("revoke-write", 1)];
    expect(verdict([...base, as("writer", putA, { type: "put", header: { revision: 2 } })])).toBe(
      "illegal",
    );
    const refusedWhileOff = [as("anonymous", { type: "range", key: "a" }, error("user-empty"))];
    expect(verdict(refusedWhileOff)).toBe("illegal");
    const rootRefused = [auth("enable", 1), as("root", putA, error("permission-denied"))];
    expect(verdict(rootRefused)).toBe("illegal");
  });

  it("accepts an old auth revision only for a named user's checked request with auth on", () => {
    expect(verdict([auth("enable", 1), as("writer", putA, error("auth-old-revision"))])).toBe("ok");
    expect(verdict([as("writer", putA, error("auth-old-revision"))])).toBe("illegal");
    const grant = { type: "lease-grant", id: 1, ttl: 5 } as const;
    expect(verdict([auth("enable", 1), as("root", grant, error("auth-old-revision"))])).toBe(
      "illegal",
    );
  });

  it("orders a concurrent revoke either way, never both", () => {
    // The revoke overlaps both puts: one put may precede it, but not one after the other's refusal.
    const h = [
      op({ type: "auth", change: "enable" }, { type: "auth", header: { revision: 1 } }, 8, [1, 2]),
      op(
        { type: "auth", change: "revoke-write" },
        { type: "auth", header: { revision: 2 } },
        9,
        [10, 40],
      ),
      as("writer", putA, { type: "put", header: { revision: 2 } }, 1, [12, 14]),
      as("writer", { ...putA, value: "2" }, error("permission-denied"), 2, [16, 18]),
      as("writer", { ...putA, value: "3" }, { type: "put", header: { revision: 3 } }, 3, [20, 22]),
    ];
    expect(verdict(h)).toBe("illegal");
    expect(verdict(h.slice(0, 4))).toBe("ok");
  });
});

// Model-based property test: random sequences of put / delete / txn / compact / range (with every
// range option, at random revisions including compacted and future ones) run against the store and
// the naive model of model.ts; every answer, every committed event and every retained revision must
// agree, and a snapshot round trip must preserve all of it. fast-check prints the seed and the
// shrunk command list on failure.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { KvStore, type CommittedTxn } from "../../src/mvcc/kv-store.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/mvcc/snapshot.js";
import { prefixEnd } from "../../src/lib/bytes.js";
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from "../../src/api/rpc.js";
import type { Event } from "../../src/api/kv.js";
import { Model } from "./model.js";

const KEYS = ["a", "a\x00", "ab", "b", "ba", "c", "\xff", "\xff\xff"].map((s) =>
  Uint8Array.from(s, (ch) => ch.charCodeAt(0)),
);
const VALUES = ["", "x", "y", "xy"].map((s) => new TextEncoder().encode(s));
const LEASES = [0n, 0n, 1n, 2n, 0n, 1n, 2n, 9n]; // 9 does not exist
const leaseExists = (id: bigint): boolean => id !== 9n;
const MAX_TXN_OPS = 4;

const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);

/** A range end relative to the start key: single key, from-key, prefix, or another key. */
const rangeEnd = fc.oneof(
  fc.constant<"none" | "from" | "prefix">("none"),
  fc.constant<"none" | "from" | "prefix">("from"),
  fc.constant<"none" | "from" | "prefix">("prefix"),
  key,
);

function resolveEnd(
  start: Uint8Array,
  end: "none" | "from" | "prefix" | Uint8Array,
): Uint8Array | undefined {
  if (end === "none") return undefined;
  if (end === "from") return Uint8Array.of(0);
  if (end === "prefix") return prefixEnd(start);
  return end;
}

/**
 * Revisions are picked at run time, relative to the live history, so they land on the interesting
 * ones: current (0 or negative), the compact revision and its neighbours, one future revision, or
 * any revision so far.
 */
type RevPick = {
  mode: "zero" | "negative" | "compact" | "belowCompact" | "future" | "any";
  n: number;
};
const revPick: fc.Arbitrary<RevPick> = fc.record({
  mode: fc.constantFrom(
    "zero",
    "negative",
    "compact",
    "belowCompact",
    "future",
    "any",
    "any",
    "any",
  ),
  n: fc.nat(1000),
});

let liveCompactRevision = -1;

function resolveRev(pick: RevPick, current: number): number {
  switch (pick.mode) {
    case "zero":
      return 0;
    case "negative":
      return -1 - (pick.n % 3);
    case "compact":
      return Math.max(liveCompactRevision, 0);
    case "belowCompact":
      return Math.max(liveCompactRevision - 1, 0);
    case "future":
      return current + 1;
    case "any":
      return 1 + (pick.n % current);
  }
}

const rangeArb = fc.record({
  key,
  end: rangeEnd,
  limit: fc.constantFrom(0, 1, 2, 5),
  revision: revPick,
  sort_order: fc.constantFrom("NONE", "ASCEND", "DESCEND") as fc.Arbitrary<
    RangeRequest["sort_order"]
  >,
  sort_target: fc.constantFrom("KEY", "VERSION", "CREATE", "MOD", "VALUE") as fc.Arbitrary<
    RangeRequest["sort_target"]
  >,
  keys_only: fc.boolean(),
  count_only: fc.boolean(),
  filters: fc.array(
    fc.tuple(fc.constantFrom("min_mod", "max_mod", "min_create", "max_create"), revPick),
    {
      maxLength: 2,
    },
  ),
});
type RangeSpec = typeof rangeArb extends fc.Arbitrary<infer T> ? T : never;

function toRange(s: RangeSpec, current: number): RangeRequest {
  const r: RangeRequest = {
    key: s.key,
    limit: s.limit,
    revision: resolveRev(s.revision, current),
    sort_order: s.sort_order,
    sort_target: s.sort_target,
    keys_only: s.keys_only,
    count_only: s.count_only,
  };
  const end = resolveEnd(s.key, s.end);
  if (end !== undefined) r.range_end = end;
  for (const [name, pick] of s.filters) {
    const rev = Math.max(resolveRev(pick, current), 0);
    if (name === "min_mod") r.min_mod_revision = rev;
    if (name === "max_mod") r.max_mod_revision = rev;
    if (name === "min_create") r.min_create_revision = rev;
    if (name === "max_create") r.max_create_revision = rev;
  }
  return r;
}

const putArb = fc.record({
  key,
  value,
  lease: fc.constantFrom(...LEASES),
  prev_kv: fc.boolean(),
  ignore: fc.oneof(
    { arbitrary: fc.constant("none"), weight: 6 },
    { arbitrary: fc.constantFrom("value", "lease", "both"), weight: 1 },
  ),
});
type PutSpec = typeof putArb extends fc.Arbitrary<infer T> ? T : never;

function toPut(s: PutSpec): PutRequest {
  const r: PutRequest = { key: s.key, value: s.value, lease: s.lease, prev_kv: s.prev_kv };
  if (s.ignore === "value" || s.ignore === "both") {
    r.ignore_value = true;
    r.value = new Uint8Array(0);
  }
  if (s.ignore === "lease" || s.ignore === "both") {
    r.ignore_lease = true;
    r.lease = 0n;
  }
  return r;
}

const deleteArb = fc.record({ key, end: rangeEnd, prev_kv: fc.boolean() });
type DeleteSpec = typeof deleteArb extends fc.Arbitrary<infer T> ? T : never;

function toDelete(s: DeleteSpec): DeleteRangeRequest {
  const r: DeleteRangeRequest = { key: s.key, prev_kv: s.prev_kv };
  const end = resolveEnd(s.key, s.end);
  if (end !== undefined) r.range_end = end;
  return r;
}

const compareArb = fc.record({
  key,
  end: fc.constantFrom<"none" | "from" | "prefix">("none", "none", "prefix", "from"),
  result: fc.constantFrom("EQUAL", "GREATER", "LESS", "NOT_EQUAL") as fc.Arbitrary<
    Compare["result"]
  >,
  target: fc.constantFrom("VERSION", "CREATE", "MOD", "VALUE", "LEASE"),
  operand: fc.integer({ min: 0, max: 20 }),
  value,
});
type CompareSpec = typeof compareArb extends fc.Arbitrary<infer T> ? T : never;

function toCompare(s: CompareSpec): Compare {
  const end = resolveEnd(s.key, s.end);
  const base =
    end === undefined
      ? { key: s.key, result: s.result }
      : { key: s.key, result: s.result, range_end: end };
  switch (s.target) {
    case "VERSION":
      return { ...base, target: "VERSION", version: s.operand % 4 };
    case "CREATE":
      return { ...base, target: "CREATE", create_revision: s.operand };
    case "MOD":
      return { ...base, target: "MOD", mod_revision: s.operand };
    case "VALUE":
      return { ...base, target: "VALUE", value: s.value };
    default:
      return { ...base, target: "LEASE", lease: LEASES[s.operand % LEASES.length] as bigint };
  }
}

type OpSpec =
  | { kind: "range"; spec: RangeSpec }
  | { kind: "put"; spec: PutSpec }
  | { kind: "delete"; spec: DeleteSpec }
  | { kind: "txn"; spec: TxnSpec };
interface TxnSpec {
  compare: CompareSpec[];
  success: OpSpec[];
  failure: OpSpec[];
}

const { txnSpec } = fc.letrec<{ txnSpec: TxnSpec; op: OpSpec }>((tie) => ({
  op: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ kind: fc.constant("range" as const), spec: rangeArb }),
    fc.record({ kind: fc.constant("put" as const), spec: putArb }),
    fc.record({ kind: fc.constant("delete" as const), spec: deleteArb }),
    fc.record({ kind: fc.constant("txn" as const), spec: tie("txnSpec") as fc.Arbitrary<TxnSpec> }),
  ),
  txnSpec: fc.record({
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(tie("op") as fc.Arbitrary<OpSpec>, { maxLength: 3 }),
    failure: fc.array(tie("op") as fc.Arbitrary<OpSpec>, { maxLength: 2 }),
  }),
}));

function toOp(s: OpSpec, current: number): RequestOp {
  switch (s.kind) {
    case "range":
      return { request: "request_range", request_range: toRange(s.spec, current) };
    case "put":
      return { request: "request_put", request_put: toPut(s.spec) };
    case "delete":
      return { request: "request_delete_range", request_delete_range: toDelete(s.spec) };
    case "txn":
      return { request: "request_txn", request_txn: toTxn(s.spec, current) };
  }
}

function toTxn(s: TxnSpec, current: number): TxnRequest {
  return {
    compare: s.compare.map(toCompare),
    success: s.success.map((o) => toOp(o, current)),
    failure: s.failure.map((o) => toOp(o, current)),
  };
}

type Command =
  | { kind: "range"; spec: RangeSpec }
  | { kind: "put"; spec: PutSpec }
  | { kind: "delete"; spec: DeleteSpec }
  | { kind: "txn"; spec: TxnSpec }
  | { kind: "compact"; pick: RevPick }
  | {
      kind: "events";
      key: Uint8Array;
      end: "none" | "from" | "prefix" | Uint8Array;
      pick: RevPick;
    };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("range" as const), spec: rangeArb }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("put" as const), spec: putArb }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant("delete" as const), spec: deleteArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("txn" as const), spec: txnSpec }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("compact" as const), pick: revPick }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("events" as const),
      key,
      end: rangeEnd,
      pick: revPick,
    }),
    weight: 1,
  },
);

function stripPrev(events: readonly Event[]): Event[] {
  return events.map((e) => ({ type: e.type, kv: e.kv }));
}

function run(store: KvStore, model: Model, cmd: Command): void {
  const current = model.currentRevision;
  liveCompactRevision = model.compactRevision;
  switch (cmd.kind) {
    case "range": {
      const r = toRange(cmd.spec, current);
      expect(store.range(r)).toEqual(model.range(r));
      return;
    }
    case "put":
      expect(store.put(toPut(cmd.spec))).toEqual(model.put(toPut(cmd.spec)));
      return;
    case "delete":
      expect(store.deleteRange(toDelete(cmd.spec))).toEqual(model.deleteRange(toDelete(cmd.spec)));
      return;
    case "txn": {
      const t = toTxn(cmd.spec, current);
      expect(store.txn(t)).toEqual(model.txn(t));
      return;
    }
    case "compact": {
      const rev = resolveRev(cmd.pick, current);
      expect(store.compactTo(rev)).toEqual(model.compact(rev));
      return;
    }
    case "events": {
      const end = resolveEnd(cmd.key, cmd.end) ?? new Uint8Array(0);
      const from = Math.max(resolveRev(cmd.pick, current), 1);
      const got = store.events(cmd.key, end, from, current);
      const want = model.eventsFrom(cmd.key, end, from);
      expect(got.ok ? got.value.events.map((e) => ({ type: e.type, kv: e.kv })) : got).toEqual(
        want.ok ? stripPrev(want.value) : want,
      );
    }
  }
}

/** Every retained revision reads the same in the store as in the model. */
function expectSameHistory(store: KvStore, model: Model): void {
  const all = { key: Uint8Array.of(0), range_end: Uint8Array.of(0) };
  for (let rev = Math.max(model.compactRevision, 1); rev <= model.currentRevision; rev++) {
    expect(store.range({ ...all, revision: rev })).toEqual(model.range({ ...all, revision: rev }));
  }
}

describe("kv store against the naive model", () => {
  it("agrees on every answer, event and retained revision", () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 60, size: "max" }),
        (commands) => {
          const store = new KvStore({ maxTxnOps: MAX_TXN_OPS, leaseExists });
          const model = new Model(MAX_TXN_OPS, leaseExists);
          const committed: CommittedTxn[] = [];
          store.onCommit((t) => committed.push(t));
          for (const cmd of commands) run(store, model, cmd);
          expect(store.currentRevision).toBe(model.currentRevision);
          expect(committed.map((t) => t.revision)).toEqual(
            model.events.slice(2).map((_e, i) => i + 2),
          );
          expect(committed.map((t) => t.events)).toEqual(model.events.slice(2));
          expectSameHistory(store, model);

          const restored = decodeSnapshot(encodeSnapshot(store), {
            maxTxnOps: MAX_TXN_OPS,
            leaseExists,
          });
          expect(restored.ok).toBe(true);
          if (!restored.ok) return;
          expectSameHistory(restored.value, model);
          expect(restored.value.hashAt(0)).toEqual(store.hashAt(0));
          expect(restored.value.exportState()).toEqual(store.exportState());
        },
      ),
      { numRuns: 300 },
    );
  });
});

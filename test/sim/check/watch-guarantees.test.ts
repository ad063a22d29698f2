// The watch guarantees: each check must catch its violation and only its own, a faithful replay of
// the committed history must pass them all, and one mutation of a faithful replay must fail with
// the guarantee it breaks.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  checkWatchGuarantees,
  CommitLog,
  committedFromKvStore,
  recordWatchResponse,
  WATCH_CHECKS,
  type CommittedHistory,
  type RecordedWatchResponse,
  type WatchRecord,
} from "../../../sim/check/watch-guarantees.js";
import type { Event, KeyValue } from "../../../src/api/kv.js";
import {
  header,
  type RequestOp,
  type WatchCreateRequest,
  type WatchResponse,
} from "../../../src/api/rpc.js";
import { latin1ToBytes as b } from "../../../src/lib/bytes.js";
import { KvStore } from "../../../src/mvcc/kv-store.js";
import { WatchableStore } from "../../../src/watch/watchable-store.js";

// ---- building records --------------------------------------------------------------------------

let atMs = 0;

function response(
  events: readonly Event[],
  fields: Partial<RecordedWatchResponse> = {},
): RecordedWatchResponse {
  const last = events[events.length - 1];
  return {
    atMs: (atMs += 10),
    revision: last?.kv.mod_revision ?? 0,
    watch_id: 1,
    created: false,
    canceled: false,
    compact_revision: 0,
    fragment: false,
    events,
    ...fields,
  };
}

const created = (revision: number) => response([], { created: true, revision });
const progress = (revision: number) => response([], { revision, watch_id: -1 });

/** The committed events `request` selects at `revision`, as a faithful watch delivers them. */
function eventsAt(history: CommittedHistory, request: WatchCreateRequest, revision: number) {
  const r = history.revisions.find((x) => x.revision === revision);
  return (r?.events ?? []).filter((e) => selected(request, e)).map((e) => asDelivered(request, e));
}

function selected(request: WatchCreateRequest, e: Event): boolean {
  const key = String.fromCharCode(...e.kv.key);
  const start = String.fromCharCode(...request.key);
  const end = String.fromCharCode(...(request.range_end ?? []));
  const inRange = end === "" ? key === start : key >= start && (end === "\0" || key < end);
  const filters = request.filters ?? [];
  return inRange && !filters.includes(e.type === "PUT" ? "NOPUT" : "NODELETE");
}

function asDelivered(request: WatchCreateRequest, e: Event): Event {
  if (request.prev_kv === true || e.prev_kv === undefined) return e;
  return { type: e.type, kv: e.kv };
}

function record(request: WatchCreateRequest, responses: RecordedWatchResponse[]): WatchRecord {
  return { watcher: "w1", member: "m2", request, responses };
}

const namesOf = (history: CommittedHistory, records: WatchRecord[]) => [
  ...new Set(checkWatchGuarantees(records, history).map((v) => v.check)),
];

// ---- a fixed history ------------------------------------------------------------------------------

const putOp = (key: string, value: string): RequestOp => ({
  request: "request_put",
  request_put: { key: b(key), value: b(value) },
});

/**
 * rev 2 put a, rev 3 put b, rev 4 txn(put a, put b), rev 5 delete a, rev 6 put a (a new generation),
 * rev 7 put c.
 */
function fixedHistory(): { kv: KvStore; history: CommittedHistory } {
  const kv = new KvStore();
  const log = new CommitLog();
  kv.onCommit(log.listener);
  kv.put({ key: b("a"), value: b("a1") });
  kv.put({ key: b("b"), value: b("b1") });
  kv.txn({ success: [putOp("a", "a2"), putOp("b", "b2")] });
  kv.deleteRange({ key: b("a") });
  kv.put({ key: b("a"), value: b("a3") });
  kv.put({ key: b("c"), value: b("c1") });
  return { kv, history: log.history() };
}

const { history: fixed } = fixedHistory();
/** [a, c) from revision 2 with prev_kv: revisions 2..6 (c@7 is out of range). */
const W: WatchCreateRequest = { key: b("a"), range_end: b("c"), start_revision: 2, prev_kv: true };

/** One response per revision from..to, then a progress notification at 7. */
function faithful(request = W, from = 2, to = 7): RecordedWatchResponse[] {
  const out = [created(1)];
  for (let r = from; r <= to; r++) {
    const events = eventsAt(fixed, request, r);
    if (events.length > 0) out.push(response(events));
  }
  out.push(progress(7));
  return out;
}

const at = (responses: RecordedWatchResponse[], revision: number) =>
  responses.findIndex((r) => r.events[0]?.kv.mod_revision === revision);

function withEvents(r: RecordedWatchResponse, events: Event[]): RecordedWatchResponse {
  return { ...r, events };
}

function withKv(e: Event, fields: Partial<KeyValue>): Event {
  return { ...e, kv: { ...e.kv, ...fields } };
}

// ---- tests ------------------------------------------------------------------------------------------

describe("checkWatchGuarantees on hand-made histories", () => {
  it("the history has the shape the tests assume", () => {
    expect(fixed.revisions.map((r) => r.revision)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(fixed.revisions[2]?.events).toHaveLength(2);
  });

  it("passes a faithful watch, a fragmented revision, a watch from 0 and a compacted cancel", () => {
    const fragmented = faithful();
    const i = at(fragmented, 4);
    const [first, second] = fragmented[i]?.events ?? [];
    fragmented.splice(
      i,
      1,
      response([first as Event], { fragment: true }),
      response([second as Event]),
    );
    const fromNow: WatchCreateRequest = { key: b("a"), range_end: b("c") };
    const fromNowResponses = [created(4), ...faithful(fromNow, 5).slice(1)];
    const cancel = [created(7), response([], { canceled: true, compact_revision: 5, revision: 7 })];
    const records = [
      record(W, faithful()),
      record(W, fragmented),
      record(fromNow, fromNowResponses),
      record({ key: b("a"), start_revision: 1 }, cancel),
      record({ key: b("a"), range_end: b("\0"), filters: ["NOPUT"] }, [
        created(1),
        ...[5].map((r) =>
          response(eventsAt(fixed, { key: b("a"), range_end: b("\0"), filters: ["NOPUT"] }, r)),
        ),
      ]),
    ];
    expect(checkWatchGuarantees(records, fixed)).toEqual([]);
  });

  it("watch-ordered: a revision delivered after a later one", () => {
    const rs = faithful();
    const [five, six] = [at(rs, 5), at(rs, 6)];
    [rs[five], rs[six]] = [rs[six] as RecordedWatchResponse, rs[five] as RecordedWatchResponse];
    const violations = checkWatchGuarantees([record(W, rs)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-ordered"]);
    expect(violations[0]?.message).toBe(
      'w1#1 on ["a", "c"): DELETE "a"@5 arrived after revision 6 (response 5)',
    );
    expect(violations[0]?.member).toBe("m2");
  });

  it("watch-unique: an event delivered twice", () => {
    const rs = faithful();
    const i = at(rs, 3);
    const r = rs[i] as RecordedWatchResponse;
    rs[i] = withEvents(r, [...r.events, ...r.events]);
    expect(namesOf(fixed, [record(W, rs)])).toEqual(["watch-unique"]);
  });

  it("watch-atomic: a revision split across responses without fragment", () => {
    const rs = faithful();
    const i = at(rs, 4);
    const [first, second] = rs[i]?.events ?? [];
    rs.splice(i, 1, response([first as Event]), response([second as Event]));
    const violations = checkWatchGuarantees([record(W, rs)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-atomic"]);
    expect(violations[0]?.message).toContain("revision 4 split across responses 3 and 4");
  });

  it("watch-reliable: a missing event, and a phantom one", () => {
    const missing = faithful();
    missing.splice(at(missing, 3), 1);
    const violations = checkWatchGuarantees([record(W, missing)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-reliable"]);
    expect(violations[0]?.message).toContain('missing committed PUT "b"@3');

    const phantom = faithful();
    const i = at(phantom, 6);
    const e = phantom[i]?.events[0] as Event;
    phantom[i] = withEvents(phantom[i] as RecordedWatchResponse, [withKv(e, { value: b("zz") })]);
    const more = checkWatchGuarantees([record(W, phantom)], fixed);
    expect(more.map((v) => v.check)).toEqual(["watch-reliable"]);
    expect(more[0]?.message).toContain('PUT "a"@6 differs from the committed change');
  });

  it("watch-reliable: a progress notification past a change that never arrives", () => {
    const rs = [created(1), progress(3)];
    const request: WatchCreateRequest = { ...W, start_revision: 3 };
    expect(namesOf(fixed, [record(request, rs)])).toEqual(["watch-reliable"]);
  });

  it("watch-resumable: a watch that starts late, and one that starts early", () => {
    const late = faithful();
    late.splice(at(late, 2), 1);
    const violations = checkWatchGuarantees([record(W, late)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-resumable"]);
    expect(violations[0]?.message).toContain("watch from revision 2 began at revision 3");

    const early = faithful(W, 3);
    expect(namesOf(fixed, [record({ ...W, start_revision: 4 }, early)])).toEqual([
      "watch-resumable",
    ]);
  });

  it("watch-bookmarkable: a progress notification ahead of its events", () => {
    const rs = faithful();
    rs.splice(at(rs, 4), 0, progress(4));
    const violations = checkWatchGuarantees([record(W, rs)], fixed);
    expect([...new Set(violations.map((v) => v.check))]).toEqual(["watch-bookmarkable"]);
    expect(violations[0]?.message).toContain(
      'PUT "a"@4 arrived after a progress notification at revision 4',
    );
  });

  it("watch-bookmarkable: progress going back", () => {
    const rs = faithful();
    rs.push(progress(6));
    expect(namesOf(fixed, [record(W, rs)])).toEqual(["watch-bookmarkable"]);
  });

  it("watch-prevkv: a wrong, a missing and an unasked prev_kv", () => {
    const rs = faithful();
    const i = at(rs, 4);
    const [a, bEvent] = rs[i]?.events ?? [];
    const wrong = { ...(a as Event), prev_kv: (bEvent as Event).prev_kv as KeyValue };
    const missing = { type: "PUT" as const, kv: (bEvent as Event).kv };
    rs[i] = withEvents(rs[i] as RecordedWatchResponse, [wrong, missing]);
    const violations = checkWatchGuarantees([record(W, rs)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-prevkv", "watch-prevkv"]);
    expect(violations[0]?.message).toContain('PUT "a"@4 has prev_kv "b"="b1"');
    expect(violations[1]?.message).toContain('PUT "b"@4 lacks prev_kv');

    const unasked: WatchCreateRequest = { ...W, prev_kv: false };
    const withPrev = faithful().map((r) => ({ ...r }));
    const j = at(withPrev, 4);
    withPrev[j] = withEvents(withPrev[j] as RecordedWatchResponse, eventsAt(fixed, W, 4));
    expect(namesOf(fixed, [record(unasked, withPrev)])).toEqual(["watch-prevkv"]);
  });

  it("watch-prevkv: a prev_kv below the compaction may be missing", () => {
    const compacted: CommittedHistory = { ...fixed, compactRevision: 5 };
    const rs = faithful();
    const i = at(rs, 4);
    rs[i] = withEvents(
      rs[i] as RecordedWatchResponse,
      (rs[i]?.events ?? []).map((e) => ({ type: e.type, kv: e.kv })),
    );
    expect(namesOf(compacted, [record(W, rs)])).toEqual([]);
    expect(namesOf(fixed, [record(W, rs)])).toEqual(["watch-prevkv"]);
  });

  it("watch-iscreate: a re-created key reported as an update", () => {
    const rs = faithful();
    const i = at(rs, 6);
    const e = rs[i]?.events[0] as Event;
    rs[i] = withEvents(rs[i] as RecordedWatchResponse, [
      withKv(e, { create_revision: 2, version: 3 }),
    ]);
    const violations = checkWatchGuarantees([record(W, rs)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-iscreate"]);
    expect(violations[0]?.message).toBe(
      'w1#1 on ["a", "c"): PUT "a"@6 creates the key, but has create_revision 2, version 3',
    );
  });

  it("watch-filter: a filtered DELETE and an event outside the range", () => {
    const noDelete: WatchCreateRequest = { ...W, prev_kv: false, filters: ["NODELETE"] };
    const rs = faithful(noDelete);
    rs.splice(at(rs, 6), 0, response([{ type: "DELETE", kv: eventsAt(fixed, W, 5)[0]!.kv }]));
    expect(namesOf(fixed, [record(noDelete, rs)])).toEqual(["watch-filter"]);

    const outside = faithful();
    outside.splice(outside.length - 1, 0, response(eventsAt(fixed, { key: b("c") }, 7)));
    const violations = checkWatchGuarantees([record(W, outside)], fixed);
    expect(violations.map((v) => v.check)).toEqual(["watch-filter"]);
    expect(violations[0]?.message).toContain('PUT "c"@7 is outside the watched range');
  });

  it("reports the first few findings per check and counts the rest", () => {
    const rs = [created(1), progress(7)];
    const violations = checkWatchGuarantees([record(W, rs)], fixed, { maxPerCheck: 2 });
    expect(violations.map((v) => v.check)).toEqual(Array(3).fill("watch-reliable"));
    expect(violations[2]?.message).toContain("4 more watch-reliable violation(s)");
  });

  it("builds the committed history from a store, and records WatchResponses", () => {
    const { kv } = fixedHistory();
    const fromStore = committedFromKvStore(kv);
    expect(fromStore.ok && fromStore.value.revisions.map((r) => r.revision)).toEqual([
      2, 3, 4, 5, 6, 7,
    ]);
    kv.compactTo(5);
    expect(committedFromKvStore(kv).ok).toBe(false);
    const r = recordWatchResponse(3, {
      header: header(9),
      watch_id: 2,
      created: false,
      canceled: false,
      compact_revision: 0,
      cancel_reason: "",
      fragment: false,
      events: [],
    });
    expect(r).toEqual({
      atMs: 3,
      revision: 9,
      watch_id: 2,
      created: false,
      canceled: false,
      compact_revision: 0,
      fragment: false,
      events: [],
    });
  });

  it("refuses a committed history with a hole", () => {
    const holed: CommittedHistory = { ...fixed, revisions: fixed.revisions.slice(1) };
    expect(() => checkWatchGuarantees([record(W, faithful())], holed)).toThrow(
      /revision 3 at position 0; expected 2/,
    );
  });

  it("names every check", () => {
    expect(WATCH_CHECKS).toEqual([
      "watch-ordered",
      "watch-unique",
      "watch-atomic",
      "watch-reliable",
      "watch-resumable",
      "watch-bookmarkable",
      "watch-prevkv",
      "watch-iscreate",
      "watch-filter",
    ]);
  });
});

// ---- property: faithful replays pass, one mutation fails with its name -------------------------------

const KEYS = ["a", "b", "c", "d"];
const keyArb = fc.constantFrom(...KEYS);

type HistoryOp =
  | { kind: "put"; key: string }
  | { kind: "delete"; key: string; ranged: boolean }
  | { kind: "txn"; keys: string[]; del: string | null };

const historyOpArb: fc.Arbitrary<HistoryOp> = fc.oneof(
  fc.record({ kind: fc.constant("put" as const), key: keyArb }),
  fc.record({ kind: fc.constant("delete" as const), key: keyArb, ranged: fc.boolean() }),
  fc.record({
    kind: fc.constant("txn" as const),
    keys: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 3 }),
    del: fc.option(keyArb),
  }),
);

/** Applies one op; `tag` makes its values unique. */
function applyOp(kv: KvStore, op: HistoryOp, tag: string): void {
  switch (op.kind) {
    case "put":
      kv.put({ key: b(op.key), value: b(`v${tag}`) });
      return;
    case "delete":
      kv.deleteRange({ key: b(op.key), ...(op.ranged ? { range_end: b("c") } : {}) });
      return;
    case "txn": {
      const puts = op.keys.map((k) => putOp(k, `v${tag}${k}`));
      const del: RequestOp[] =
        op.del !== null && !op.keys.includes(op.del)
          ? [{ request: "request_delete_range", request_delete_range: { key: b(op.del) } }]
          : [];
      kv.txn({ success: [...puts, ...del] });
      return;
    }
  }
}

/** Applies the ops to a fresh store and returns what it committed. */
function commitAll(ops: readonly HistoryOp[]): { history: CommittedHistory; current: number } {
  const kv = new KvStore();
  const log = new CommitLog();
  kv.onCommit(log.listener);
  ops.forEach((op, i) => applyOp(kv, op, String(i)));
  return { history: log.history(), current: kv.currentRevision };
}

interface WatchPlan {
  key: string;
  rangeMode: "single" | "range" | "from";
  endKey: string;
  start: number;
  createdAt: number;
  upTo: number;
  filter: "none" | "NOPUT" | "NODELETE";
  prevKv: boolean;
  /** Per delivered revision: start a new response / fragment it / progress after it. */
  cuts: boolean[];
  fragments: boolean[];
  progress: number[];
}

const planArb: fc.Arbitrary<WatchPlan> = fc.record({
  key: keyArb,
  rangeMode: fc.constantFrom("single" as const, "range" as const, "from" as const),
  endKey: fc.constantFrom("b", "c", "d", "e"),
  start: fc.nat(30),
  createdAt: fc.nat(30),
  upTo: fc.nat(30),
  filter: fc.constantFrom("none" as const, "NOPUT" as const, "NODELETE" as const),
  prevKv: fc.boolean(),
  cuts: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  fragments: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  progress: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 40, maxLength: 40 }),
});

function requestOf(plan: WatchPlan, current: number): WatchCreateRequest {
  const rangeEnd =
    plan.rangeMode === "single"
      ? {}
      : plan.rangeMode === "from"
        ? { range_end: b("\0") }
        : { range_end: b(plan.endKey > plan.key ? plan.endKey : "e") };
  return {
    key: b(plan.key),
    ...rangeEnd,
    start_revision: plan.start % (current + 3),
    prev_kv: plan.prevKv,
    ...(plan.filter === "none" ? {} : { filters: [plan.filter] }),
  };
}

/** What a correct server would send for `plan`: every selected change from the start up to upTo. */
function replayFaithfully(history: CommittedHistory, current: number, plan: WatchPlan) {
  const request = requestOf(plan, current);
  const createdAt = 1 + (plan.createdAt % current);
  const start = request.start_revision || createdAt + 1;
  const upTo = Math.max(Math.min(start - 1, current), 1 + (plan.upTo % current));
  const revisions = history.revisions
    .filter((r) => r.revision >= start && r.revision <= upTo)
    .map((r) => eventsAt(history, request, r.revision))
    .filter((events) => events.length > 0);
  const responses: RecordedWatchResponse[] = [created(createdAt)];
  let open: Event[] | undefined;
  let lastProgress = 0;
  const flush = (fragment = false) => {
    if (open !== undefined && open.length > 0) responses.push(response(open, { fragment }));
    open = undefined;
  };
  revisions.forEach((events, i) => {
    if (open === undefined || plan.cuts[i % 40]) flush();
    open ??= [];
    if (events.length > 1 && plan.fragments[i % 40]) {
      open.push(events[0] as Event);
      flush(true);
      open = events.slice(1);
    } else {
      open.push(...events);
    }
    // A progress notification may go out once this revision is sent, up to the next one.
    const step = plan.progress[i % 40] ?? -1;
    const delivered = (events[0] as Event).kv.mod_revision;
    const next = revisions[i + 1]?.[0]?.kv.mod_revision ?? upTo + 1;
    const p = Math.max(lastProgress, Math.min(delivered + step, next - 1));
    if (step >= 0 && p >= delivered) {
      flush();
      responses.push(progress(p));
      lastProgress = p;
    }
  });
  flush();
  responses.push(progress(upTo));
  return record(request, responses);
}

type Mutation = "drop" | "duplicate" | "swap" | "move";

interface Position {
  readonly response: number;
  readonly event: number;
  readonly revision: number;
}

function positions(rs: readonly RecordedWatchResponse[]): Position[] {
  return rs.flatMap((r, response) =>
    r.events.map((e, event) => ({ response, event, revision: e.kv.mod_revision })),
  );
}

function setEvents(rs: RecordedWatchResponse[], i: number, events: Event[]): void {
  rs[i] = { ...(rs[i] as RecordedWatchResponse), events };
}

/** Applies one mutation; returns the check that must fire, or undefined if it does not apply. */
function mutate(
  rs: RecordedWatchResponse[],
  mutation: Mutation,
  pick: number,
  pick2: number,
): string | undefined {
  const all = positions(rs);
  if (all.length === 0) return undefined;
  const p = all[pick % all.length] as Position;
  const events = () => [...(rs[p.response]?.events ?? [])];
  switch (mutation) {
    case "drop": {
      const rest = events();
      rest.splice(p.event, 1);
      if (rest.length === 0) rs.splice(p.response, 1);
      else setEvents(rs, p.response, rest);
      const next = all[1];
      const skipsStart = p === all[0] && next !== undefined && next.revision > p.revision;
      return skipsStart ? "watch-resumable" : "watch-reliable";
    }
    case "duplicate": {
      const more = events();
      more.splice(p.event, 0, more[p.event] as Event);
      setEvents(rs, p.response, more);
      return "watch-unique";
    }
    case "swap": {
      const others = all.filter((q) => q.revision !== p.revision);
      const q = others[pick2 % Math.max(1, others.length)];
      if (q === undefined) return undefined;
      const a = rs[p.response]?.events[p.event] as Event;
      const c = rs[q.response]?.events[q.event] as Event;
      const first = events();
      first[p.event] = c;
      setEvents(rs, p.response, first);
      const second = [...(rs[q.response]?.events ?? [])];
      second[q.event] = a;
      setEvents(rs, q.response, second);
      return "watch-ordered";
    }
    case "move":
      return moveProgressAhead(rs, pick);
  }
}

/** Moves a progress notification before a response holding an event at or below its revision. */
function moveProgressAhead(rs: RecordedWatchResponse[], pick: number): string | undefined {
  const candidates = rs.flatMap((r, i) => {
    if (r.watch_id !== -1) return [];
    const earlier = rs
      .slice(0, i)
      .map((x, j) => (x.events.some((e) => e.kv.mod_revision <= r.revision) ? j : -1));
    const target = Math.max(...earlier);
    return target >= 0 ? [{ from: i, to: target }] : [];
  });
  const c = candidates[pick % Math.max(1, candidates.length)];
  if (c === undefined) return undefined;
  const [moved] = rs.splice(c.from, 1);
  rs.splice(c.to, 0, moved as RecordedWatchResponse);
  return "watch-bookmarkable";
}

describe("checkWatchGuarantees on replays of random histories", () => {
  it("passes faithful replays and catches one mutation by name", () => {
    const applied = new Map<Mutation, number>();
    fc.assert(
      fc.property(
        fc.array(historyOpArb, { minLength: 6, maxLength: 25 }),
        fc.array(planArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom<Mutation>("drop", "duplicate", "swap", "move"),
        fc.nat(),
        fc.nat(),
        (ops, plans, mutation, pick, pick2) => {
          const { history, current } = commitAll(ops);
          const records = plans.map((plan) => replayFaithfully(history, current, plan));
          expect(checkWatchGuarantees(records, history)).toEqual([]);
          // Mutate a watch that received something (the first one, if none did).
          const busy = records.filter((r) => positions([...r.responses]).length > 0);
          const target = (busy[pick % Math.max(1, busy.length)] ?? records[0]) as WatchRecord;
          const responses = [...target.responses];
          const expected = mutate(responses, mutation, pick, pick2);
          if (expected === undefined) return;
          applied.set(mutation, (applied.get(mutation) ?? 0) + 1);
          const mutated = records.map((r) => (r === target ? { ...r, responses } : r));
          const names = checkWatchGuarantees(mutated, history).map((v) => v.check);
          expect(names).toContain(expected);
        },
      ),
      { numRuns: 1000 },
    );
    for (const m of ["drop", "duplicate", "swap", "move"] as const) {
      expect(applied.get(m) ?? 0).toBeGreaterThan(20);
    }
  });
});

// ---- the real watchable store, recorded as a client would -----------------------------------------

type StoreStep =
  | { kind: "write"; op: HistoryOp }
  | { kind: "take"; max: number }
  | { kind: "sync" }
  | { kind: "tick" }
  | { kind: "progress" }
  | { kind: "compact"; back: number };

const storeStepArb: fc.Arbitrary<StoreStep> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("write" as const), op: historyOpArb }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant("take" as const),
      max: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.constant({ kind: "sync" as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: "tick" as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: "progress" as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("compact" as const), back: fc.nat(6) }), weight: 1 },
);

/** Sorts the responses of one stream into per-watch records, as a recording client would. */
class StreamRecorder {
  readonly records: { request: WatchCreateRequest; responses: RecordedWatchResponse[] }[] = [];
  private readonly pending: WatchCreateRequest[] = [];
  private readonly byId = new Map<number, RecordedWatchResponse[]>();

  created(request: WatchCreateRequest): void {
    this.pending.push(request);
  }

  receive(r: WatchResponse, nowMs: number): void {
    const recorded = recordWatchResponse(nowMs, r);
    if (r.created) {
      const request = this.pending.shift() as WatchCreateRequest;
      const responses = [recorded];
      this.records.push({ request, responses });
      this.byId.set(r.watch_id, responses);
    } else if (r.watch_id === -1) {
      for (const responses of this.byId.values()) responses.push(recorded);
    } else {
      this.byId.get(r.watch_id)?.push(recorded);
    }
  }
}

describe("checkWatchGuarantees on the watchable store", () => {
  it("finds nothing wrong with what the store sends", () => {
    fc.assert(
      fc.property(
        fc.array(historyOpArb, { maxLength: 10 }),
        fc.array(planArb, { minLength: 1, maxLength: 3 }),
        fc.array(storeStepArb, { maxLength: 80 }),
        fc.integer({ min: 1, max: 4 }),
        (before, plans, steps, maxQueuedResponses) => {
          const kv = new KvStore();
          const log = new CommitLog();
          kv.onCommit(log.listener);
          const ws = new WatchableStore(kv, {
            maxQueuedResponses,
            maxEventsPerRead: 2,
            // Small enough that a revision with two events is fragmented for watches that allow it.
            maxResponseBytes: 120,
          });
          const stream = ws.openStream();
          const recorder = new StreamRecorder();
          let nowMs = 0;
          const receive = (rs: WatchResponse[]) => rs.forEach((r) => recorder.receive(r, nowMs++));
          const write = (op: HistoryOp, i: number) => applyOp(kv, op, `s${i}`);
          before.forEach(write);
          for (const plan of plans) {
            const request = {
              ...requestOf(plan, kv.currentRevision),
              progress_notify: plan.cuts[0] === true,
              fragment: plan.fragments[0] === true,
            };
            recorder.created(request);
            stream.request({ request_union: "create_request", create_request: request });
          }
          steps.forEach((step, i) => {
            switch (step.kind) {
              case "write":
                return write(step.op, i);
              case "take":
                return receive(stream.take(step.max));
              case "sync":
                return ws.sync();
              case "tick":
                return ws.tickProgress();
              case "progress":
                return stream.request({ request_union: "progress_request", progress_request: {} });
              case "compact": {
                const revision = kv.currentRevision - step.back;
                if (kv.compactTo(revision).ok) log.noteCompaction(revision);
                return;
              }
            }
          });
          for (let i = 0; i < 1000 && stream.queued > 0; i++) receive(stream.take());
          stream.request({ request_union: "progress_request", progress_request: {} });
          receive(stream.take());
          const records = recorder.records.map((r) => record(r.request, r.responses));
          expect(checkWatchGuarantees(records, log.history())).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// The watch guarantees: each check must catch its violation and only its own, a faithful replay of
// the committed history must pass them all, and one mutation of a faithful replay must fail with
// the guarantee it breaks.
import { describe, expect, it } from "vitest";
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
import { header, type RequestOp, type WatchCreateRequest } from "../../../src/api/rpc.js";
import { latin1ToBytes as b } from "../../../src/lib/bytes.js";
import { KvStore } from "../../../src/mvcc/kv-store.js";

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

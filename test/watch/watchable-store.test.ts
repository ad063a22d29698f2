import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { KvStore } from "../../src/mvcc/kv-store.js";
import {
  WatchableStore,
  WATCH_DUPLICATE_ID,
  WATCH_RANGE_EMPTY,
} from "../../src/watch/watchable-store.js";
import type { WatchCreateRequest, WatchResponse } from "../../src/api/rpc.js";
import { fromUtf8, prefixEnd, utf8 } from "../../src/lib/bytes.js";
import { Errors } from "../../src/api/errors.js";

const b = utf8;

function setup(options = {}) {
  const kv = new KvStore();
  const ws = new WatchableStore(kv, options);
  const stream = ws.openStream();
  const watch = (req: WatchCreateRequest) =>
    stream.request({ request_union: "create_request", create_request: req });
  const put = (k: string, v = "v") => {
    const r = kv.put({ key: b(k), value: b(v) });
    if (!r.ok) throw new Error(r.error.message);
  };
  return { kv, ws, stream, watch, put };
}

const summary = (r: WatchResponse) =>
  r.events.map((e) => `${e.type}:${fromUtf8(e.kv.key)}@${e.kv.mod_revision}`);

describe("watchable store", () => {
  it("creates a watcher and delivers live events of its range, one response per revision", () => {
    const { kv, stream, watch, put } = setup();
    watch({ key: b("a"), range_end: prefixEnd(b("a")) });
    const [created] = stream.take();
    expect(created).toMatchObject({ watch_id: 0, created: true, canceled: false });
    put("a1");
    put("b1");
    kv.txn({
      success: [
        { request: "request_put", request_put: { key: b("a2"), value: b("x") } },
        { request: "request_delete_range", request_delete_range: { key: b("a1") } },
      ],
    });
    const out = stream.take();
    expect(out.map(summary)).toEqual([["PUT:a1@2"], ["PUT:a2@4", "DELETE:a1@4"]]);
    expect(out[1]?.header.revision).toBe(4);
  });

  it("replays from a start revision, then continues live without gaps or repeats", () => {
    const { stream, watch, put } = setup();
    put("k", "1");
    put("k", "2");
    put("k", "3");
    watch({ key: b("k"), start_revision: 3, prev_kv: true });
    put("k", "4");
    const out = stream.take();
    expect(out.slice(1).map(summary)).toEqual([["PUT:k@3"], ["PUT:k@4"], ["PUT:k@5"]]);
    expect(fromUtf8(out[1]!.events[0]!.prev_kv!.value)).toBe("1");
    expect(fromUtf8(out[3]!.events[0]!.prev_kv!.value)).toBe("3");
  });

  it("waits for a start revision above the current one, skipping the revisions before it", () => {
    const { stream, watch, put } = setup();
    put("k", "1"); // revision 2
    watch({ key: b("k"), start_revision: 4 });
    put("k", "2"); // revision 3: before the watcher's start
    put("k", "3"); // revision 4
    put("k", "4"); // revision 5
    const out = stream.take();
    expect(out[0]).toMatchObject({ created: true });
    expect(out.slice(1).map(summary)).toEqual([["PUT:k@4"], ["PUT:k@5"]]);
  });

  it("cancels a watcher whose start revision was compacted, with compact_revision", () => {
    const { kv, stream, watch, put } = setup();
    put("k");
    put("k");
    put("k");
    kv.compactTo(3);
    watch({ key: b("k"), start_revision: 2 });
    const out = stream.take();
    expect(out[1]).toMatchObject({ watch_id: 0, canceled: true, compact_revision: 3 });
    expect(stream.watchIds()).toEqual([]);
    watch({ key: b("k"), start_revision: -1 });
    expect(stream.take()[0]).toMatchObject({
      created: true,
      canceled: true,
      cancel_reason: Errors.Compacted.message,
    });
  });

  it("applies NOPUT / NODELETE filters and strips prev_kv unless asked", () => {
    const { kv, stream, watch, put } = setup();
    watch({ key: b("k"), filters: ["NOPUT"] });
    watch({ key: b("k"), filters: ["NODELETE"] });
    put("k");
    kv.deleteRange({ key: b("k") });
    const out = stream.take().filter((r) => r.events.length > 0);
    expect(out.map((r) => [r.watch_id, summary(r)])).toEqual([
      [1, ["PUT:k@2"]],
      [0, ["DELETE:k@3"]],
    ]);
    expect(out[1]!.events[0]!.prev_kv).toBeUndefined();
  });

  it("refuses duplicate IDs and empty ranges, and cancels on request", () => {
    const { stream, watch } = setup();
    watch({ key: b("k"), watch_id: 7 });
    watch({ key: b("k"), watch_id: 7 });
    watch({ key: b("z"), range_end: b("a") });
    stream.request({ request_union: "cancel_request", cancel_request: { watch_id: 7 } });
    const out = stream.take();
    expect(out.map((r) => [r.watch_id, r.created, r.canceled, r.cancel_reason])).toEqual([
      [7, true, false, ""],
      [-1, true, true, WATCH_DUPLICATE_ID],
      [-1, true, true, WATCH_RANGE_EMPTY],
      [7, false, true, ""],
    ]);
  });

  it("answers a progress request only once every watcher is synced", () => {
    const { stream, watch, put } = setup({ maxQueuedResponses: 1 });
    put("k");
    put("k");
    watch({ key: b("k"), start_revision: 2 }); // replays 2, then the queue is full
    stream.request({ request_union: "progress_request", progress_request: {} });
    const first = stream.take();
    expect(first.some((r) => r.watch_id === -1)).toBe(false);
    const rest = [...stream.take(), ...stream.take()];
    const progress = rest.find((r) => r.watch_id === -1);
    expect(progress?.header.revision).toBe(3);
    expect(rest.filter((r) => r.events.length > 0).map(summary)).toEqual([["PUT:k@3"]]);
  });

  it("sends progress_notify ticks only to idle synced watchers that asked", () => {
    const { ws, stream, watch, put } = setup();
    watch({ key: b("a"), progress_notify: true });
    watch({ key: b("b"), progress_notify: true });
    watch({ key: b("c") });
    stream.take();
    put("a");
    stream.take();
    ws.tickProgress();
    expect(stream.take().map((r) => [r.watch_id, r.events.length, r.header.revision])).toEqual([
      [1, 0, 2],
    ]);
  });

  it("fragments a large revision only for watchers that allow it", () => {
    const { kv, stream, watch } = setup({ maxResponseBytes: 300 });
    watch({ key: b("a"), range_end: b("b"), fragment: true });
    watch({ key: b("a"), range_end: b("b") });
    stream.take();
    const big = new Uint8Array(200);
    kv.txn({
      success: ["a1", "a2", "a3"].map((k) => ({
        request: "request_put" as const,
        request_put: { key: b(k), value: big },
      })),
    });
    const out = stream.take();
    const fragmented = out.filter((r) => r.watch_id === 0);
    expect(fragmented.map((r) => r.fragment)).toEqual([true, true, false]);
    expect(fragmented.flatMap(summary)).toEqual(["PUT:a1@2", "PUT:a2@2", "PUT:a3@2"]);
    expect(out.filter((r) => r.watch_id === 1).map((r) => r.events.length)).toEqual([3]);
  });

  it("never drops, repeats or reorders events for slow consumers (property)", () => {
    type Action =
      | { kind: "put"; key: number }
      | { kind: "delete"; key: number }
      | { kind: "txn"; keys: number[] }
      | { kind: "take"; max: number }
      | { kind: "sync" };
    const action: fc.Arbitrary<Action> = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("put" as const), key: fc.nat(5) }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.nat(5) }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant("txn" as const),
          keys: fc.uniqueArray(fc.nat(5), { minLength: 1, maxLength: 3 }),
        }),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant("take" as const),
          max: fc.integer({ min: 1, max: 3 }),
        }),
        weight: 3,
      },
      { arbitrary: fc.record({ kind: fc.constant("sync" as const) }), weight: 1 },
    );
    const watcherSpec = fc.record({
      first: fc.nat(5),
      width: fc.integer({ min: 1, max: 4 }),
      startPick: fc.nat(20),
      prevKv: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(action, { maxLength: 40 }),
        fc.array(watcherSpec, { minLength: 1, maxLength: 3 }),
        fc.array(action, { maxLength: 40 }),
        (capacity, before, watchers, after) => {
          const { kv, ws, stream, put } = setup({ maxQueuedResponses: capacity });
          const key = (i: number) => b(`k${i}`);
          const received: WatchResponse[] = [];
          const apply = (a: Action) => {
            if (a.kind === "put") put(`k${a.key}`);
            else if (a.kind === "delete") kv.deleteRange({ key: key(a.key) });
            else if (a.kind === "txn")
              kv.txn({
                success: a.keys.map((k) => ({
                  request: "request_put" as const,
                  request_put: { key: key(k) },
                })),
              });
            else if (a.kind === "take") received.push(...stream.take(a.max));
            else ws.sync();
          };
          before.forEach(apply);
          const starts = watchers.map((w) => 1 + (w.startPick % (kv.currentRevision + 1)));
          watchers.forEach((w, i) =>
            stream.request({
              request_union: "create_request",
              create_request: {
                key: key(w.first),
                range_end: b(`k${w.first + w.width}`),
                start_revision: starts[i],
                prev_kv: w.prevKv,
              },
            }),
          );
          after.forEach(apply);
          for (let i = 0; i < 1000 && stream.queued > 0; i++) received.push(...stream.take());
          expect(stream.queued).toBe(0);
          watchers.forEach((w, id) => {
            const mine = received.filter((r) => r.watch_id === id && r.events.length > 0);
            const want = kv.events(
              key(w.first),
              b(`k${w.first + w.width}`),
              starts[id] as number,
              kv.currentRevision,
              {
                withPrevKv: w.prevKv,
              },
            );
            expect(want.ok).toBe(true);
            if (!want.ok) return;
            expect(mine.flatMap((r) => r.events)).toEqual(want.value.events);
            const revs = mine.map((r) => r.events[0]!.kv.mod_revision);
            expect(new Set(revs).size).toBe(revs.length); // one response per revision
            for (const r of mine)
              expect(new Set(r.events.map((e) => e.kv.mod_revision)).size).toBe(1);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

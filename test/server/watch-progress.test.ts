// Progress notifications never run ahead of undelivered events: a progress response at revision R
// (periodic, per watcher, or requested, for the whole stream) goes out only once every event at or
// below R of the watchers it speaks for has been delivered on that stream. Checked on a member
// whose watch queue is tiny, so bursts of applied entries overflow it and watchers fall behind
// (a slow consumer) while progress is being asked for.
import { describe, expect, it } from "vitest";
import type { Event } from "../../src/api/kv.js";
import type { WatchResponse } from "../../src/api/rpc.js";
import { prefixEnd } from "../../src/lib/bytes.js";
import type { Member } from "../../src/server/member.js";
import { awaitLeader, b, makeCluster } from "./helpers.js";

interface WatcherSpec {
  readonly id: number;
  readonly start: number;
}

/** Every progress response must cover only delivered events; returns the first breach. */
function firstBreach(
  responses: readonly WatchResponse[],
  watchers: readonly WatcherSpec[],
  committed: readonly Event[],
): string | undefined {
  const delivered = new Map<number, number>(watchers.map((w) => [w.id, 0]));
  const expectedUpTo = (w: WatcherSpec, r: number) =>
    committed.filter((e) => e.kv.mod_revision >= w.start && e.kv.mod_revision <= r).length;
  for (const [i, r] of responses.entries()) {
    if (r.events.length > 0) {
      delivered.set(r.watch_id, (delivered.get(r.watch_id) ?? 0) + r.events.length);
      continue;
    }
    if (r.created || r.canceled) continue;
    const speaksFor = r.watch_id === -1 ? watchers : watchers.filter((w) => w.id === r.watch_id);
    for (const w of speaksFor) {
      const want = expectedUpTo(w, r.header.revision);
      const got = delivered.get(w.id) ?? 0;
      if (got < want) {
        return `response ${i}: progress at ${r.header.revision} for watcher ${w.id} after ${got} of its ${want} events`;
      }
    }
  }
  return undefined;
}

/** Proposes `n` puts at once on `m`; they commit in batches. */
function burst(m: Member, n: number, tag: string): void {
  for (let i = 0; i < n; i++) {
    m.put({ key: b(`p/${i % 7}`), value: b(`${tag}-${i}`) }, () => undefined);
  }
}

describe("member: progress notifications with slow consumers", () => {
  for (const seed of [31, 32, 33]) {
    it(`seed ${seed}: no progress response runs ahead of undelivered events`, () => {
      const { world, cluster } = makeCluster(3, seed, {
        memberConfig: { watchMaxQueuedResponses: 2, watchProgressNotifyMs: 150 },
      });
      const leader = awaitLeader(world, cluster);
      const lm = leader.member!;
      burst(lm, 40, "before");
      world.runUntil({ untilMs: world.nowMs + 1_000 });
      const follower = cluster.slots.find((s) => s !== leader)!.member!;
      const seen: WatchResponse[] = [];
      const stream = follower.watch((rs) => seen.push(...rs));
      const prefix = b("p/");
      const create = (watch_id: number, start_revision: number) =>
        stream.request({
          request_union: "create_request",
          create_request: {
            key: prefix,
            range_end: prefixEnd(prefix),
            start_revision,
            watch_id,
            progress_notify: true,
          },
        });
      create(1, 1); // far behind: catches up from the log through the tiny queue
      create(2, 0); // synced from now on
      const watchers: WatcherSpec[] = [
        { id: 1, start: 1 },
        { id: 2, start: follower.kv.currentRevision + 1 },
      ];
      for (let round = 0; round < 30; round++) {
        if (round % 3 === 0) burst(lm, 25, `r${round}`);
        stream.request({ request_union: "progress_request", progress_request: {} });
        world.runUntil({ untilMs: world.nowMs + 70 });
      }
      world.runUntil({ untilMs: world.nowMs + 2_000 });
      const kv = follower.kv;
      const all = kv.events(prefix, prefixEnd(prefix), 1, kv.currentRevision);
      if (!all.ok) throw new Error(all.error.message);
      const progress = seen.filter((r) => r.events.length === 0 && !r.created && !r.canceled);
      expect(progress.filter((r) => r.watch_id === -1).length).toBeGreaterThan(5);
      expect(progress.filter((r) => r.watch_id !== -1).length).toBeGreaterThan(0);
      expect(firstBreach(seen, watchers, all.value.events)).toBeUndefined();
      // And every watcher got all of its events in the end.
      const count = (id: number) =>
        seen.filter((r) => r.watch_id === id).reduce((n, r) => n + r.events.length, 0);
      const start2 = (watchers[1] as WatcherSpec).start;
      expect(count(1)).toBe(all.value.events.length);
      expect(count(2)).toBe(all.value.events.filter((e) => e.kv.mod_revision >= start2).length);
    });
  }

  it("the check itself catches a progress response sent ahead of an event", () => {
    const ev = (rev: number): Event => ({
      type: "PUT",
      kv: {
        key: b("p/1"),
        value: b("v"),
        create_revision: rev,
        mod_revision: rev,
        version: 1,
        lease: 0n,
      },
    });
    const header = (revision: number) => ({
      cluster_id: 1n,
      member_id: 1n,
      revision,
      raft_term: 1,
    });
    const base = {
      created: false,
      canceled: false,
      compact_revision: 0,
      cancel_reason: "",
      fragment: false,
    };
    const responses: WatchResponse[] = [
      { ...base, header: header(3), watch_id: -1, events: [] },
      { ...base, header: header(3), watch_id: 1, events: [ev(3)] },
    ];
    const breach = firstBreach(responses, [{ id: 1, start: 1 }], [ev(2), ev(3)]);
    expect(breach).toMatch(/progress at 3 for watcher 1 after 0 of its 2 events/);
  });
});

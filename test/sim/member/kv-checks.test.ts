// Each KV check can fail: a stale read fails linearizable ("unknown" never passes), a tampered
// store fails convergence, a watcher that missed or invented an event fails watch, and a cluster
// that cannot serve after the faults fails liveness.
import { describe, expect, it } from "vitest";
import { latin1ToBytes } from "../../../src/lib/bytes.js";
import { Violations } from "../../../sim/check/violation.js";
import {
  checkConvergence,
  checkLinearizable,
  checkWatchers,
  linearizableViolation,
} from "../../../sim/member/kv-checks.js";
import { runKv } from "../../../sim/member/run-kv-scenario.js";
import type { EtcdOperation } from "../../../sim/member/kv-workload.js";
import { parseScenario } from "../../../sim/scenario.js";
import { awaitLeader, b, client, makeCluster, value } from "../../server/helpers.js";

const kv = (key: string, v: string, rev: number) => ({
  key,
  value: v,
  create_revision: rev,
  mod_revision: rev,
  version: 1,
  lease: 0,
});

describe("KV checks fail when they should", () => {
  it("linearizable: a read that misses an acknowledged write fails", () => {
    const history: EtcdOperation[] = [
      {
        clientId: 0,
        call: 0,
        return: 10,
        input: { type: "put", key: "a", value: "1" },
        output: { type: "put", header: { revision: 2 } },
      },
      {
        clientId: 1,
        call: 20,
        return: 30,
        input: { type: "range", key: "a", limit: 0 },
        output: { type: "range", header: { revision: 1 }, kvs: [], count: 0 },
      },
    ];
    const outcome = checkLinearizable(history, 5_000);
    expect(outcome.result).toBe("illegal");
    const violations = new Violations();
    linearizableViolation(outcome, violations, 0);
    expect(violations.all()[0]?.check).toBe("linearizable");
    const fresh = {
      ...history[1]!,
      output: { type: "range" as const, header: { revision: 2 }, kvs: [kv("a", "1", 2)], count: 1 },
    };
    expect(checkLinearizable([history[0]!, fresh], 5_000).result).toBe("ok");
  });

  it("linearizable: an undecided search is a failure, never a pass", () => {
    const violations = new Violations();
    linearizableViolation({ result: "unknown", ms: 1, detail: "unknown: timeout" }, violations, 5);
    expect(violations.all()).toEqual([
      { check: "linearizable", atMs: 5, member: undefined, message: "unknown: timeout" },
    ]);
  });

  it("convergence: a member whose store was tampered with fails", () => {
    const { world, cluster } = makeCluster(3, 41);
    const leader = awaitLeader(world, cluster);
    value(client(world, leader.member!).put({ key: b("a"), value: b("1") }));
    world.runUntil({ untilMs: world.nowMs + 1_000 });
    const ok = new Violations();
    checkConvergence(cluster, ok, world.nowMs);
    expect(ok.count).toBe(0);
    const other = cluster.slots.find((s) => s !== leader)!.member!;
    other.kv.put({ key: b("a"), value: b("tampered") });
    const bad = new Violations();
    checkConvergence(cluster, bad, world.nowMs);
    expect(bad.all()[0]).toMatchObject({ check: "convergence" });
  });

  it("watch: a watcher that missed an event or saw one never committed fails", () => {
    const { world, cluster } = makeCluster(1, 42);
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    value(c.put({ key: b("k/a"), value: b("1") }));
    value(c.put({ key: b("k/b"), value: b("2") }));
    const events = cluster.committed.events(1, 10);
    expect(events.length).toBe(2);
    const watcher = (seen: typeof events) =>
      ({
        name: "w",
        segments: [{ startRevision: 1, events: seen, seenRevision: 3 }],
      }) as unknown as Parameters<typeof checkWatchers>[1][number];
    const check = (seen: typeof events) => {
      const v = new Violations();
      checkWatchers(cluster.committed, [watcher(seen)], "k/", v, world.nowMs);
      return v.all();
    };
    expect(check(events)).toEqual([]);
    expect(check([events[1]!])[0]).toMatchObject({ check: "watch" });
    const phantom = { ...events[0]!, kv: { ...events[0]!.kv, value: latin1ToBytes("x") } };
    expect(check([phantom, events[1]!])[0]?.message).toMatch(/saw "PUT k\/a@2/);
  });

  it("liveness: a cluster that stays partitioned after the faults fails", () => {
    const text = `
name: stuck
cluster: { members: 3 }
duration: 4s
workload: { profile: etcd-kv, rate-per-s: 50, clients: 2, watchers: 0 }
checks: [raft-safety, { liveness: { within: 2s } }]
`;
    const parsed = parseScenario(text, "stuck.yaml");
    if (!parsed.ok) throw new Error(parsed.error.message);
    const pass = runKv(parsed.value, 1, text);
    expect(pass.checks.find((c) => c.check === "liveness")?.ok).toBe(true);
    // Members that are paused for good never answer the probe.
    const stuck = {
      ...parsed.value,
      faults: [
        {
          atMs: 1_000,
          forMs: undefined,
          everyMs: undefined,
          jitterMs: 0,
          action: { kind: "pause" as const, target: "all" as const },
        },
      ],
      faultsEndMs: 100_000,
      durationMs: 4_000,
    };
    const fail = runKv(stuck, 1, text);
    expect(fail.checks.find((c) => c.check === "liveness")?.ok).toBe(false);
  });
});

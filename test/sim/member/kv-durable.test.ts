// The KV cluster on simulated disks: crash/restart cycles that lose unsynced data, a follower
// that catches up through InstallSnapshot, crashes at every member-level failpoint, the CORRUPT
// alarm and defragment. Every run checks the full client history for linearizability and every
// acknowledged put against the final store.
import { describe, expect, it } from "vitest";
import { bytesToLatin1, latin1ToBytes } from "../../../src/lib/bytes.js";
import type { FailpointName } from "../../../src/lib/failpoints.js";
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

function harness(
  seed: number,
  trafficEndMs: number,
  disk: Partial<KvDiskOptions> = {},
  heartbeatMs = 100,
) {
  return new KvHarness({
    seed,
    members: 3,
    heartbeatMs,
    electionMs: 10 * heartbeatMs,
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

/** Crashes a random up member every `everyMs` and restarts it `downMs` later; counts cycles. */
function crashLoop(h: KvHarness, everyMs: number, downMs: number, untilMs: number) {
  const { world, cluster } = h;
  const random = world.stream("crash-loop");
  const counter = { cycles: 0 };
  const next = (): void => {
    world.schedule(everyMs, "nemesis", "crash", 0, () => {
      if (world.nowMs >= untilMs) return;
      const up = cluster.slots.filter((s) => s.host.state !== "down" && s.corrupt === undefined);
      const target = random.pick(up);
      cluster.crash(target.name);
      counter.cycles++;
      world.schedule(downMs, "nemesis", "restart", 0, () => cluster.restart(target.name));
      next();
    });
  };
  next();
  return counter;
}

describe("crash/restart cycles with unsynced-data loss", () => {
  it("1,000 cycles over four seeds lose no acknowledged write and stay linearizable", () => {
    let cycles = 0;
    let puts = 0;
    for (const seed of [1, 2, 3, 4]) {
      // Fast elections (200 ms), so the cluster makes progress between crashes.
      const h = harness(seed, 80_000, {}, 20);
      h.start();
      const counter = crashLoop(h, 300, 150, 80_000);
      const r = settleAndCheck(h, 80_000);
      expect(r.violations).toEqual([]);
      expect(r.linearizable.result).toBe("ok");
      expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
      const modes = h.cluster.slots.flatMap((s) => Object.keys(s.durability.crashModes));
      expect(new Set(modes).size).toBeGreaterThanOrEqual(3);
      cycles += counter.cycles;
      puts += acknowledgedPuts(r.history);
      process.stdout.write(
        `seed ${seed}: ${counter.cycles} cycles, ${acknowledgedPuts(r.history)} puts, ${r.linearizable.detail}\n`,
      );
    }
    expect(cycles).toBeGreaterThanOrEqual(1000);
    expect(puts).toBeGreaterThan(200);
  });
});

describe("InstallSnapshot", () => {
  it("a follower partitioned past the compacted log catches up from a snapshot", () => {
    const h = harness(5, 30_000, { snapshotCount: 10, catchUpEntries: 2 });
    h.start();
    const endpoints = [...h.cluster.names, ...h.clientNames];
    h.world.runUntil({ untilMs: 2_000 });
    const cuts = h.cluster.network.isolate("m3", endpoints);
    h.world.runUntil({ untilMs: 22_000 });
    h.cluster.network.restore(cuts);
    const r = settleAndCheck(h, 30_000);
    expect(r.violations).toEqual([]);
    expect(r.linearizable.result).toBe("ok");
    expect(h.cluster.slot("m3").member!.durabilityStats.snapshotsInstalled).toBeGreaterThan(0);
    const sent = h.cluster.slots.reduce((n, s) => n + s.member!.durabilityStats.snapshotsSent, 0);
    expect(sent).toBeGreaterThan(0);
    expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
  });
});

describe("CORRUPT alarm", () => {
  it("a member whose snapshot fails its checksum refuses every request; the others carry on", () => {
    const h = harness(6, 12_000);
    h.start();
    h.world.runUntil({ untilMs: 5_000 });
    const slot = h.cluster.slot("m2");
    h.cluster.crash("m2", "lose-all");
    const snaps = slot.disk!.filesUnder("data/snap").filter((f) => f.endsWith(".snap"));
    const newest = snaps[snaps.length - 1];
    expect(newest).toBeDefined();
    slot.disk!.flipBitAtRest(newest!, 8 * 40);
    h.cluster.restart("m2");
    const r = settleAndCheck(h, 12_000);
    expect(slot.corrupt).toBeDefined();
    const member = slot.member!;
    expect(member.status().alarms).toEqual(["CORRUPT"]);
    const answers: string[] = [];
    member.range({ key: latin1ToBytes("k/0") }, (x) => answers.push(x.ok ? "ok" : x.error.message));
    member.put({ key: latin1ToBytes("k/0"), value: latin1ToBytes("v") }, (x) =>
      answers.push(x.ok ? "ok" : x.error.message),
    );
    const watchAnswers: string[] = [];
    const stream = member.watch((rs) =>
      rs.forEach((w) => watchAnswers.push(`${w.watch_id} ${w.canceled} ${w.cancel_reason}`)),
    );
    stream.request({
      request_union: "create_request",
      create_request: { key: latin1ToBytes("k/"), watch_id: 7 },
    });
    h.world.runUntil({ untilMs: h.world.nowMs + 100 });
    expect(answers).toEqual(["etcdserver: corrupt cluster", "etcdserver: corrupt cluster"]);
    // A watch is canceled at once, so its client moves to a healthy member instead of waiting.
    expect(watchAnswers).toEqual(["7 true etcdserver: corrupt cluster"]);
    // Its store differs from the others', yet convergence holds: corrupt members are left out.
    expect(r.violations).toEqual([]);
    expect(r.linearizable.result).toBe("ok");
    expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
  });
});

describe("defragment", () => {
  it("rewrites storage without losing data, also across a restart", () => {
    const h = harness(7, 8_000, { segmentBytes: 4096 });
    h.start();
    h.world.runUntil({ untilMs: 8_500 });
    const slot = h.cluster.slot("m1");
    const before = slot.member!.kv.hashAt(0);
    const segmentsBefore = slot.disk!.filesUnder("data/wal").length;
    const results: boolean[] = [];
    slot.member!.defragment((x) => results.push(x.ok));
    h.world.runUntil({ untilMs: 9_000 });
    expect(results).toEqual([true]);
    expect(slot.disk!.filesUnder("data/wal").length).toBeLessThanOrEqual(segmentsBefore);
    expect(slot.member!.kv.hashAt(0)).toEqual(before);
    h.cluster.crash("m1", "lose-all");
    h.cluster.restart("m1");
    const r = settleAndCheck(h, 9_000);
    expect(r.violations).toEqual([]);
    expect(slot.member!.durabilityStats.defragments).toBe(0);
    expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
  });
});

/** The failpoints the member and its storage pass under KV load, without MsgSnap. */
const LOAD_FAILPOINTS: FailpointName[] = [
  "raftBeforeSave",
  "raftAfterSave",
  "raftBeforeLeaderSend",
  "raftAfterLeaderSend",
  "raftBeforeFollowerSend",
  "raftAfterFollowerSend",
  "beforeApply",
  "afterApply",
  "raftBeforeSaveSnap",
  "raftAfterSaveSnap",
  "walBeforeFsync",
  "walAfterFsync",
  "compactBeforeReleaseWal",
  "compactAfterReleaseWal",
  "compactBeforePurgeSnap",
  "compactAfterPurgeSnap",
];

describe("failpoint crashes", () => {
  it("a crash at every member-level failpoint in turn, under load, loses no acknowledged write", () => {
    const h = harness(8, 5_000 + 3_000 * LOAD_FAILPOINTS.length);
    h.start();
    LOAD_FAILPOINTS.forEach((point, i) => {
      h.world.schedule(2_000 + 3_000 * i, "nemesis", "arm", i, () => {
        const leader = h.cluster.leader()?.name ?? "m1";
        const follower = h.cluster.names.find((n) => n !== leader) ?? "m2";
        const target = point.includes("Follower") ? follower : leader;
        h.cluster.slot(target).failpoints.arm(point, { action: { kind: "crash" }, times: 1 });
      });
    });
    const r = settleAndCheck(h, 5_000 + 3_000 * LOAD_FAILPOINTS.length);
    const fired = h.cluster.slots.flatMap((s) => s.durability.failpointCrashes);
    expect([...fired].sort()).toEqual([...LOAD_FAILPOINTS].sort());
    expect(r.violations).toEqual([]);
    expect(r.linearizable.result).toBe("ok");
    expect(lostAcknowledgedPuts(h, r.history)).toEqual([]);
    for (const s of h.cluster.slots) expect(s.member).toBeDefined();
  });
});

// Raft members on simulated disks through many crash/restart cycles: each crash loses the disk's
// unsynced writes in one of the four crash modes (all lost, a random suffix lost, a torn write,
// pages written back out of order), under the proposal workload and network faults. Nothing that
// any member applied is ever lost or changed (the safety checker verifies every apply, every
// recovered state machine and every new leader's log), and the cluster recovers every time.
import { describe, expect, it } from "vitest";
import { CRASH_MODES, type CrashMode } from "../../sim/disk.js";
import type { RaftMember } from "../../sim/raft/raft-member.js";
import { runRaftCluster, type RaftRunOptions } from "../../sim/raft/run-raft.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

const DURATION_S = 90;
const SEEDS = [1, 2, 3, 4];

function scenario(durationS: number, faults: string): Scenario {
  const text = `
name: raft-disk-crashes
cluster: { members: 3, heartbeat-ms: 20, election-ms: 200 }
duration: ${durationS}s
network: { latency-ms: 1, jitter-ms: 4, loss: 0.02, duplicate: 0.02, reorder: 0.03, reorder-ms: 20 }
workload: { profile: raft-proposals, rate-per-s: 100, read-ratio: 0.1 }
faults:
${faults}
checks: [raft-safety, { liveness: { within: 5s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

const NETWORK_FAULTS = `
  - { at: 3s, every: 7s, jitter: 3s, partition: random, for: 1500ms }
  - { at: 5s, every: 11s, jitter: 3s, partition: { isolate: leader }, for: 1s }
  - { at: 8s, every: 13s, network: { loss: 0.3, duplicate: 0.1, reorder: 0.3 }, for: 2s }`;

function crashRun(seed: number, extra: RaftRunOptions = {}, durationS = DURATION_S) {
  return runRaftCluster(scenario(durationS, NETWORK_FAULTS), seed, "", {
    storage: "disk",
    storageOptions: { snapshotCount: 100, catchUpEntries: 20, segmentBytes: 16 * 1024 },
    crashLoop: {
      startMs: 1000,
      endMs: (durationS - 3) * 1000,
      everyMs: 300,
      restartAfterMs: 120,
    },
    ...extra,
  });
}

function sumModes(members: readonly RaftMember[]): Record<CrashMode, number> {
  const total = { "lose-all": 0, "keep-prefix": 0, torn: 0, reorder: 0 };
  for (const m of members) {
    for (const mode of CRASH_MODES) total[mode] += m.stats.crashModes[mode] ?? 0;
  }
  return total;
}

/** Every running member ends with the same state machine: same index, proposals and digest. */
function expectConverged(members: readonly RaftMember[]): void {
  const states = members.filter((m) => m.phase === "running").map((m) => m.appliedState);
  expect(states.length).toBe(members.length);
  for (const s of states) expect(s).toEqual(states[0]);
}

describe("Raft on simulated disks through crash/restart cycles", () => {
  let cycles = 0;
  const modes = { "lose-all": 0, "keep-prefix": 0, torn: 0, reorder: 0 };

  it.each(SEEDS)("loses no applied entry and recovers (seed %i)", (seed) => {
    const run = crashRun(seed);
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.details.recoveryMs).not.toBeNull();
    expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.4);
    const members = run.cluster.members;
    // Recovery went through snapshots, not only through the whole log.
    expect(members.every((m) => m.stats.snapshotsCreated > 0)).toBe(true);
    expect(members.some((m) => m.stats.recoveredFromIndex.some((i) => i > 0))).toBe(true);
    expectConverged(members);
    cycles += run.crashLoop?.cycles ?? 0;
    const byMode = sumModes(members);
    for (const mode of CRASH_MODES) modes[mode] += byMode[mode];
  });

  it("ran at least 1000 crash/restart cycles in every crash mode", () => {
    expect(cycles).toBeGreaterThanOrEqual(1000);
    for (const mode of CRASH_MODES) expect(modes[mode]).toBeGreaterThan(100);
  });

  it.each<CrashMode>([...CRASH_MODES])("survives crashes forced into mode %s", (mode) => {
    const run = crashRun(7, { storageOptions: { snapshotCount: 50, crashMode: mode } }, 30);
    expect(run.artifacts.summary.details.violations).toEqual([]);
    expect(sumModes(run.cluster.members)[mode]).toBeGreaterThan(50);
    expectConverged(run.cluster.members);
  });
});

describe("Raft on failing disks", () => {
  it("stops a member whose write or fsync fails, restarts it and loses nothing", () => {
    // The disks fail now and then until the crash loop ends; then they are sound again, so the
    // cluster must be live within the liveness window like after any other fault.
    const run = crashRun(5, {
      storageOptions: {
        snapshotCount: 100,
        diskFaults: { writeErrorRate: 0.002, fsyncErrorRate: 0.002 },
      },
      prepare: ({ world, cluster }) => {
        world.schedule((DURATION_S - 3) * 1000, "test", "disks-sound", 0, () => {
          for (const disk of cluster.disks.values())
            disk.configure({ writeErrorRate: 0, fsyncErrorRate: 0 });
        });
      },
    });
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    const members = run.cluster.members;
    const failures = members.flatMap((m) => m.stats.storageFailures);
    expect(failures.length).toBeGreaterThan(5);
    expect(failures.every((f) => /EIO/.test(f))).toBe(true);
    expect(members.reduce((n, m) => n + m.stats.crashesByCause.storage, 0)).toBe(failures.length);
    expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.3);
  });

  it("keeps going with a slow fsync on one member, then on all", () => {
    const run = crashRun(6, {
      prepare: ({ world, cluster }) => {
        world.schedule(5_000, "test", "slow-fsync", 0, () =>
          cluster.disks.get("m1")?.configure({ fsyncMs: 80 }),
        );
        world.schedule(30_000, "test", "slow-fsync", 0, () => {
          for (const disk of cluster.disks.values()) disk.configure({ fsyncMs: 40 });
        });
      },
    });
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.3);
    expectConverged(run.cluster.members);
  });
});

describe("determinism with storage on disk", () => {
  it("gives the same trace hash for the same seed, and another for another seed", () => {
    const a = crashRun(11, {}, 15).artifacts.summary;
    const b = crashRun(11, {}, 15).artifacts.summary;
    const c = crashRun(12, {}, 15).artifacts.summary;
    expect({ hash: b.traceHash, events: b.events }).toEqual({
      hash: a.traceHash,
      events: a.events,
    });
    expect(c.traceHash).not.toBe(a.traceHash);
  });
});

// InstallSnapshot on simulated disks: a follower cut off long enough that the leader compacted its
// log past the follower's last entry can only catch up from a snapshot. The leader sends MsgSnap
// and reports the outcome to raft; the follower persists the snapshot, replaces its state machine
// (its applied index jumps) and then applies the same entries as every other member.
import { describe, expect, it } from "vitest";
import type { OneWayCut } from "../../sim/net.js";
import type { RaftCluster } from "../../sim/raft/raft-cluster.js";
import type { RaftMember } from "../../sim/raft/raft-member.js";
import { runRaftCluster } from "../../sim/raft/run-raft.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

const SNAPSHOT_COUNT = 50;
const CATCH_UP_ENTRIES = 10;

function scenario(): Scenario {
  const text = `
name: raft-disk-install-snapshot
cluster: { members: 3, heartbeat-ms: 20, election-ms: 200 }
duration: 20s
network: { latency-ms: 1, jitter-ms: 3, loss: 0.01, duplicate: 0.01, reorder: 0.02, reorder-ms: 10 }
workload: { profile: raft-proposals, rate-per-s: 100 }
checks: [raft-safety, { liveness: { within: 3s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

interface Isolation {
  follower: RaftMember | undefined;
  appliedWhenCut: number;
  leaderSnapshotWhenHealed: number;
}

/** Cuts a follower off from 3 s to 10 s of virtual time (7 s: ~700 entries, 14 snapshots). */
function isolateAFollower(cluster: RaftCluster, seen: Isolation): void {
  const world = cluster.world;
  let cuts: OneWayCut[] = [];
  world.schedule(3_000, "test", "isolate", 0, () => {
    const leader = cluster.leader();
    const follower = cluster.members.find((m) => m !== leader && m.phase === "running");
    if (follower === undefined) throw new Error("no follower to isolate");
    seen.follower = follower;
    seen.appliedWhenCut = follower.applied;
    cuts = cluster.network.isolate(follower.name, cluster.names);
  });
  world.schedule(10_000, "test", "heal", 0, () => {
    seen.leaderSnapshotWhenHealed = cluster.leader()?.snapshotIndex ?? 0;
    cluster.network.restore(cuts);
  });
}

describe("a follower behind the leader's compacted log", () => {
  it.each([1, 2, 3])("catches up through InstallSnapshot (seed %i)", (seed) => {
    const seen: Isolation = { follower: undefined, appliedWhenCut: 0, leaderSnapshotWhenHealed: 0 };
    const run = runRaftCluster(scenario(), seed, "", {
      storage: "disk",
      storageOptions: { snapshotCount: SNAPSHOT_COUNT, catchUpEntries: CATCH_UP_ENTRIES },
      prepare: ({ cluster }) => isolateAFollower(cluster, seen),
    });
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    const follower = seen.follower as RaftMember;
    // The leader compacted far past what the follower had.
    expect(seen.leaderSnapshotWhenHealed - CATCH_UP_ENTRIES).toBeGreaterThan(
      seen.appliedWhenCut + 100,
    );
    const members = run.cluster.members;
    expect(members.reduce((n, m) => n + m.stats.snapshotsSent, 0)).toBeGreaterThanOrEqual(1);
    expect(members.reduce((n, m) => n + m.stats.snapshotReports.ok, 0)).toBeGreaterThanOrEqual(1);
    // The follower's applied index jumped from where it was cut off to the snapshot's index.
    const jump = follower.stats.restores[0];
    expect(jump).toBeDefined();
    // (A Ready already in flight when the cut came may add a few entries.)
    expect(jump?.fromIndex).toBeGreaterThanOrEqual(seen.appliedWhenCut);
    expect(jump?.fromIndex).toBeLessThan(seen.appliedWhenCut + 20);
    expect((jump?.toIndex ?? 0) - (jump?.fromIndex ?? 0)).toBeGreaterThan(100);
    // Nobody else needed one.
    for (const m of members) if (m !== follower) expect(m.stats.restores).toEqual([]);
    // It then applied the same entries as the others: the same state machine at the end.
    const states = members.map((m) => m.appliedState);
    for (const state of states) expect(state).toEqual(states[0]);
    expect(follower.applied).toBeGreaterThan(jump?.toIndex ?? 0);
  });

  it("reports a lost MsgSnap as failed and sends it again", () => {
    const seen: Isolation = { follower: undefined, appliedWhenCut: 0, leaderSnapshotWhenHealed: 0 };
    let lostOnce = false;
    const run = runRaftCluster(scenario(), 4, "", {
      storage: "disk",
      storageOptions: { snapshotCount: SNAPSHOT_COUNT, catchUpEntries: CATCH_UP_ENTRIES },
      prepare: ({ cluster, world }) => {
        isolateAFollower(cluster, seen);
        // Watch for the first MsgSnap after the heal and cut its way before it lands (network
        // latency is at least 1 ms): the leader hears nothing back, reports a failure after the
        // timeout, probes again and sends a new one.
        const watch = (): void => {
          const leader = cluster.leader();
          const follower = seen.follower as RaftMember;
          if (leader !== undefined && leader.stats.snapshotsSent > 0) {
            lostOnce = true;
            cluster.network.cutOneWay(leader.name, follower.name);
            world.schedule(500, "test", "uncut", 0, () =>
              cluster.network.uncutOneWay(leader.name, follower.name),
            );
            return;
          }
          if (world.nowMs < 12_000) world.schedule(1, "test", "watch-snap", 0, watch);
        };
        world.schedule(10_000, "test", "watch-snap", 0, watch);
      },
    });
    expect(run.artifacts.summary.details.violations).toEqual([]);
    expect(lostOnce).toBe(true);
    const members = run.cluster.members;
    expect(members.reduce((n, m) => n + m.stats.snapshotReports.failed, 0)).toBeGreaterThan(0);
    expect(members.reduce((n, m) => n + m.stats.snapshotReports.ok, 0)).toBeGreaterThan(0);
    expect(members.reduce((n, m) => n + m.stats.snapshotsSent, 0)).toBeGreaterThan(1);
    expect((seen.follower as RaftMember).stats.restores.length).toBeGreaterThan(0);
    const states = members.map((m) => m.appliedState);
    for (const state of states) expect(state).toEqual(states[0]);
  });
});

// A crash at every failpoint a Raft member on disk passes, in turn, under load: around the save of
// a Ready (raftBeforeSave/raftAfterSave, the WAL's fsync and rotation), around sending (leader and
// follower), around applying an entry or an installed snapshot, around saving a snapshot file and
// around compaction. Each time the member goes down at that exact point, its supervisor restarts
// it from what its disk kept, and no applied entry is lost or changed.
import { describe, expect, it } from "vitest";
import type { FailpointAction, FailpointName } from "../../src/lib/failpoints.js";
import type { OneWayCut } from "../../sim/net.js";
import type { RaftCluster } from "../../sim/raft/raft-cluster.js";
import type { RaftMember } from "../../sim/raft/raft-member.js";
import { runRaftCluster } from "../../sim/raft/run-raft.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

function scenario(): Scenario {
  const text = `
name: raft-disk-failpoints
cluster: { members: 3, heartbeat-ms: 20, election-ms: 200 }
duration: 12s
network: { latency-ms: 1, jitter-ms: 3 }
workload: { profile: raft-proposals, rate-per-s: 100 }
checks: [raft-safety, { liveness: { within: 3s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

type Target = "leader" | "follower" | "lagging-follower";

/** Every point the Raft member on disk passes, and whom to arm it on so that it is reached. */
const POINTS: ReadonlyArray<readonly [FailpointName, Target]> = [
  ["raftBeforeSave", "leader"],
  ["raftAfterSave", "follower"],
  ["walBeforeFsync", "leader"],
  ["walAfterFsync", "follower"],
  ["walBeforeRotate", "leader"],
  ["walAfterRotate", "follower"],
  ["raftBeforeLeaderSend", "leader"],
  ["raftAfterLeaderSend", "leader"],
  ["raftBeforeFollowerSend", "follower"],
  ["raftAfterFollowerSend", "follower"],
  ["beforeApply", "leader"],
  ["afterApply", "follower"],
  ["raftBeforeSaveSnap", "leader"],
  ["raftAfterSaveSnap", "follower"],
  ["compactBeforeReleaseWal", "leader"],
  ["compactAfterReleaseWal", "follower"],
  ["compactBeforePurgeSnap", "leader"],
  ["compactAfterPurgeSnap", "follower"],
  // Reached only by a follower installing a leader's snapshot.
  ["raftBeforeApplySnap", "lagging-follower"],
  ["raftAfterApplySnap", "lagging-follower"],
];

/** Arms `point` at 3 s on the chosen member; a lagging follower is cut off from 2 s to 6 s. */
function armAt(
  cluster: RaftCluster,
  point: FailpointName,
  target: Target,
  action: FailpointAction,
  armed: { member: RaftMember | undefined },
): void {
  const world = cluster.world;
  const pick = (): RaftMember => {
    const leader = cluster.leader();
    const member =
      target === "leader"
        ? leader
        : cluster.members.find((m) => m !== leader && m.phase === "running");
    if (member === undefined) throw new Error(`no ${target} to arm ${point} on`);
    return member;
  };
  if (target === "lagging-follower") {
    let cuts: OneWayCut[] = [];
    world.schedule(2_000, "test", "isolate", 0, () => {
      const member = pick();
      armed.member = member;
      member.failpoints.arm(point, { action, times: 1 });
      cuts = cluster.network.isolate(member.name, cluster.names);
    });
    world.schedule(6_000, "test", "heal", 0, () => cluster.network.restore(cuts));
    return;
  }
  world.schedule(3_000, "test", "arm", 0, () => {
    const member = pick();
    armed.member = member;
    member.failpoints.arm(point, { action, times: 1 });
  });
}

function runWith(point: FailpointName, target: Target, action: FailpointAction) {
  const armed: { member: RaftMember | undefined } = { member: undefined };
  const run = runRaftCluster(scenario(), 1, "", {
    storage: "disk",
    storageOptions: {
      snapshotCount: 50,
      catchUpEntries: 10,
      segmentBytes: 4 * 1024,
      restartAfterMs: 300,
    },
    prepare: ({ cluster }) => armAt(cluster, point, target, action, armed),
  });
  return { run, member: armed.member as RaftMember };
}

function expectHealthy(run: ReturnType<typeof runWith>["run"]): void {
  const s = run.artifacts.summary;
  expect(s.details.violations).toEqual([]);
  expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.7);
  const states = run.cluster.members.map((m) => m.appliedState);
  for (const state of states) expect(state).toEqual(states[0]);
}

describe("a crash at each failpoint of a Raft member on disk", () => {
  it.each(POINTS)("crashes at %s (%s), restarts and loses nothing", (point, target) => {
    const { run, member } = runWith(point, target, { kind: "crash" });
    expect(member.stats.failpointCrashes).toEqual([point]);
    expect(member.stats.restarts).toBe(1);
    expect(member.phase).toBe("running");
    expectHealthy(run);
  });
});

describe("other failpoint actions", () => {
  it.each<FailpointName>(["raftBeforeSave", "walBeforeFsync", "raftBeforeSaveSnap"])(
    "an injected storage error at %s stops the member; it restarts and loses nothing",
    (point) => {
      const { run, member } = runWith(point, "leader", { kind: "error", message: "injected" });
      expect(member.stats.storageFailures).toEqual([`failpoint ${point}: injected`]);
      expect(member.stats.crashesByCause.storage).toBe(1);
      expect(member.phase).toBe("running");
      expectHealthy(run);
    },
  );

  it.each<FailpointName>(["raftAfterSave", "raftBeforeLeaderSend", "beforeApply"])(
    "a stall at %s delays the member without breaking the Ready order",
    (point) => {
      const { run, member } = runWith(point, "leader", { kind: "stall", forMs: 150 });
      expect(member.stats.crashes).toBe(0);
      expectHealthy(run);
    },
  );
});

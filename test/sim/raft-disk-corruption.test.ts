// Corruption at rest: a bit flipped in a stopped member's WAL or in its current snapshot file. At
// restart the member's storage fails a checksum; the member stays down, marked "corrupt", and never
// serves (its state machine does not move again), while the others carry on committing.
import { describe, expect, it } from "vitest";
import type { SimDisk } from "../../sim/disk.js";
import { DATA_DIR } from "../../sim/raft/member-log.js";
import type { RaftCluster } from "../../sim/raft/raft-cluster.js";
import type { RaftMember } from "../../sim/raft/raft-member.js";
import { runRaftCluster } from "../../sim/raft/run-raft.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

function scenario(): Scenario {
  const text = `
name: raft-disk-corruption
cluster: { members: 3, heartbeat-ms: 20, election-ms: 200 }
duration: 20s
network: { latency-ms: 1, jitter-ms: 3, loss: 0.01 }
workload: { profile: raft-proposals, rate-per-s: 80 }
checks: [raft-safety, { liveness: { within: 3s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

type Where = "wal" | "snapshot";

/** The member's current snapshot file: the one recovery must load (its WAL marker is durable). */
function currentSnapshotFile(disk: SimDisk, member: RaftMember): string {
  const suffix = `-${member.snapshotIndex.toString(16).padStart(16, "0")}.snap`;
  const file = disk.filesUnder(`${DATA_DIR}/snap`).find((f) => f.endsWith(suffix));
  if (file === undefined) throw new Error(`${member.name}: no snapshot file ${suffix}`);
  return file;
}

function flipOne(disk: SimDisk, member: RaftMember, where: Where): string | undefined {
  if (where === "wal") return disk.flipRandomBitAtRest(`${DATA_DIR}/wal`);
  const file = currentSnapshotFile(disk, member);
  const bits = (disk.peek(file)?.length ?? 0) * 8;
  disk.flipBitAtRest(file, (member.snapshotIndex * 7919) % bits);
  return file;
}

interface Seen {
  victim: RaftMember | undefined;
  appliedAtStop: number;
  flipped: string | undefined;
  committedAtRestart: number;
}

/** At 5 s a follower stops (nothing unsynced survives); a bit flips; at 6 s it restarts. */
function corruptAFollower(cluster: RaftCluster, where: Where, seen: Seen): void {
  const world = cluster.world;
  world.schedule(5_000, "test", "stop", 0, () => {
    const leader = cluster.leader();
    const victim = cluster.members.find((m) => m !== leader && m.phase === "running");
    if (victim === undefined) throw new Error("no follower to stop");
    seen.victim = victim;
    victim.crash("lose-all");
    seen.appliedAtStop = victim.applied;
    seen.flipped = flipOne(cluster.disks.get(victim.name) as SimDisk, victim, where);
  });
  world.schedule(6_000, "test", "restart", 0, () => {
    seen.committedAtRestart = cluster.checker.committedIndex;
    seen.victim?.restart();
  });
}

describe("corruption at rest in a stopped member's storage", () => {
  const cases: Array<[Where, number]> = [
    ["wal", 1],
    ["wal", 2],
    ["wal", 3],
    ["wal", 4],
    ["snapshot", 1],
    ["snapshot", 2],
    ["snapshot", 3],
  ];
  it.each(cases)("a flipped bit in the %s is detected at restart (seed %i)", (where, seed) => {
    const seen: Seen = {
      victim: undefined,
      appliedAtStop: 0,
      flipped: undefined,
      committedAtRestart: 0,
    };
    const run = runRaftCluster(scenario(), seed, "", {
      storage: "disk",
      storageOptions: { snapshotCount: 50, catchUpEntries: 10, segmentBytes: 8 * 1024 },
      prepare: ({ cluster }) => corruptAFollower(cluster, where, seen),
    });
    const victim = seen.victim as RaftMember;
    expect(seen.flipped).toBeDefined();
    expect(victim.phase).toBe("corrupt");
    expect(victim.corruptionFound?.kind).toBe("corrupt");
    expect(victim.stats.storageFailures).toHaveLength(1);
    expect(victim.stats.storageFailures[0]).toMatch(where === "wal" ? /wal/ : /snap/);
    // It never served again: down since the restart, its state machine never moved.
    expect(victim.host.state).toBe("down");
    expect(victim.applied).toBe(seen.appliedAtStop);
    expect(victim.propose(new Uint8Array(8))).toBe("dropped");
    // A later restart (an operator retrying) does not bring it back either.
    victim.restart();
    expect(victim.phase).toBe("corrupt");
    // The others carried on: the run's checks pass and they committed much more since.
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(run.cluster.checker.committedIndex).toBeGreaterThan(seen.committedAtRestart + 500);
    expect(run.cluster.corruptMembers()).toEqual([victim]);
    const others = run.cluster.members.filter((m) => m !== victim).map((m) => m.appliedState);
    expect(others[1]).toEqual(others[0]);
  });
});

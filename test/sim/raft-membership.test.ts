// Membership changes in Raft-only clusters under partitions and message loss: a cluster grows
// from 3 to 5 voters (a learner joins with an empty log, catches up, is promoted) and shrinks from
// 5 to 3 (a follower and then the leader are removed), with the safety checker watching across
// every configuration and proposals still committing after the last change.
import { describe, expect, it } from "vitest";
import type { NodeId } from "../../src/raft/types.js";
import { runRaftCluster, type RaftRun } from "../../sim/raft/run-raft.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

function scenario(members: number): Scenario {
  const text = `
name: membership-${members}
cluster: { members: ${members}, heartbeat-ms: 100, election-ms: 1000 }
duration: 40s
network: { latency-ms: 2, jitter-ms: 10, loss: 0.05, duplicate: 0.03, reorder: 0.05, reorder-ms: 40 }
workload: { profile: raft-proposals, rate-per-s: 40 }
faults:
  - { at: 2s, every: 7s, jitter: 3s, partition: random, for: 3s }
  - { at: 9s, every: 13s, partition: { isolate: leader }, for: 3s }
checks: [raft-safety, { liveness: { within: 10s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

/** Runs `step` `afterMs` of virtual time from now. */
function at(run: RaftRun, afterMs: number, step: () => void): void {
  run.world.schedule(afterMs, "test", "membership", 0, step);
}

/** The voters of the leader's applied configuration at the end, sorted. */
function finalVoters(run: RaftRun): NodeId[] {
  const conf = run.cluster.leader()?.confState;
  return [...(conf?.voters ?? [])].sort((a, b) => a - b);
}

/** Proposals made after `fromMs` that committed. */
function committedAfter(run: RaftRun, fromMs: number): number {
  return run.workload.proposals.filter(
    (p) => p.proposedAtMs >= fromMs && p.committedAtMs !== undefined,
  ).length;
}

describe("membership changes under partitions and loss", () => {
  it.each([1, 2, 3])("grows 3 -> 5: add a learner, promote it, twice (seed %i)", (seed) => {
    const run = runRaftCluster(scenario(3), seed, "", {
      prepare: (r) => {
        const grow = (startMs: number): void => {
          let learner: NodeId = 0;
          at(r, startMs, () => (learner = r.cluster.addLearner().id));
          at(r, startMs + 5_000, () => r.cluster.promote(learner));
        };
        grow(4_000);
        grow(14_000);
      },
    });
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(finalVoters(run)).toEqual([1, 2, 3, 4, 5]);
    expect(run.cluster.members.every((m) => m.phase === "running")).toBe(true);
    expect(committedAfter(run, 30_000)).toBeGreaterThan(100);
  });

  it.each([1, 2, 3])("shrinks 5 -> 3: remove a follower, then the leader (seed %i)", (seed) => {
    const removed: NodeId[] = [];
    const run = runRaftCluster(scenario(5), seed, "", {
      prepare: (r) => {
        // A pick can find nobody (no leader mid-partition): it looks again a little later.
        const removeOne = (pick: () => NodeId | undefined): void => {
          const id = pick();
          if (id === undefined) return at(r, 200, () => removeOne(pick));
          removed.push(id);
          r.cluster.remove(id);
        };
        const leaderId = (): NodeId | undefined => r.cluster.leader()?.id;
        const followerId = (): NodeId | undefined =>
          r.cluster.members.find((m) => m.role === "StateFollower" && m.host.state === "up")?.id;
        at(r, 4_000, () => removeOne(followerId));
        at(r, 14_000, () => removeOne(leaderId));
      },
    });
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(removed).toHaveLength(2);
    const kept = [1, 2, 3, 4, 5].filter((id) => !removed.includes(id));
    expect(finalVoters(run)).toEqual(kept);
    for (const m of run.cluster.members) {
      expect(m.phase).toBe(removed.includes(m.id) ? "removed" : "running");
    }
    expect(committedAfter(run, 30_000)).toBeGreaterThan(100);
  });
});

/** A scenario file with membership faults on top of partitions and loss. */
function memberScenario(members: number, changes: string): string {
  return `
name: member-faults
cluster: { members: ${members}, heartbeat-ms: 100, election-ms: 1000 }
duration: 40s
network: { latency-ms: 2, jitter-ms: 10, loss: 0.05 }
workload: { profile: raft-proposals, rate-per-s: 40 }
faults:
  - { at: 2s, every: 7s, jitter: 3s, partition: random, for: 3s }
${changes}
checks: [raft-safety, { liveness: { within: 10s } }]
`;
}

function parsed(text: string): Scenario {
  const r = parseScenario(text, "m.yaml");
  if (!r.ok) throw new Error(formatScenarioError(r.error));
  return r.value;
}

function errorOf(text: string): string {
  const r = parseScenario(text, "m.yaml");
  return r.ok ? "parsed" : formatScenarioError(r.error);
}

describe("member faults in scenario files", () => {
  it.each([1, 2])("grow and shrink through the nemesis (seed %i)", (seed) => {
    const text = memberScenario(
      3,
      `  - { at: 4s, member: { add-learner: true } }
  - { at: 9s, member: { promote: newest-learner } }
  - { at: 14s, member: { add-learner: true } }
  - { at: 19s, member: { promote: m5 } }
  - { at: 24s, member: { remove: leader } }`,
    );
    const run = runRaftCluster(parsed(text), seed, text);
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    const changes = s.details.faults.filter((f) => f.kind === "member").map((f) => f.description);
    expect(changes.slice(0, 4)).toEqual([
      "member add-learner m4",
      "member promote m4",
      "member add-learner m5",
      "member promote m5",
    ]);
    expect(finalVoters(run)).toHaveLength(4);
    expect(committedAfter(run, 30_000)).toBeGreaterThan(100);
  });

  it("adds a voter straight away (seed 3)", () => {
    const text = memberScenario(3, "  - { at: 4s, member: { add-voter: true } }");
    const run = runRaftCluster(parsed(text), 3, text);
    const s = run.artifacts.summary;
    expect(s.details.violations).toEqual([]);
    expect(s.details.faults.filter((f) => f.kind === "member").map((f) => f.description)).toEqual([
      "member add-voter m4",
    ]);
    expect(finalVoters(run)).toEqual([1, 2, 3, 4]);
    expect(committedAfter(run, 30_000)).toBeGreaterThan(100);
  });

  it("names file, line and field of a bad member fault", () => {
    expect(errorOf(memberScenario(3, "  - { at: 4s, member: { promote: m9 } }"))).toBe(
      "m.yaml:9: faults[1].member.promote: no member m9: the cluster has members 1..3",
    );
    expect(errorOf(memberScenario(3, "  - { at: 4s, member: { remove: m2, promote: m3 } }"))).toBe(
      "m.yaml:9: faults[1].member: member has exactly one of add-learner, add-voter, promote, remove, replace (found promote, remove)",
    );
    expect(
      errorOf(memberScenario(3, "  - { at: 4s, member: { add-learner: true }, for: 2s }")),
    ).toBe("m.yaml:9: faults[1].for: a member change is an operation: it has no for");
    expect(errorOf(memberScenario(3, "  - { at: 4s, member: { add-learner: false } }"))).toMatch(
      /^m\.yaml:9: faults\[1\]\.member\.add-learner: /,
    );
  });
});

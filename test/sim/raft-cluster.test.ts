// Simulated Raft clusters under random partitions, loss, duplication, reordering, crashes and
// pauses for many virtual minutes, with the safety invariants checked after every event and
// liveness checked once the faults end.
import { describe, expect, it } from "vitest";
import { runRaftScenario } from "../../sim/raft/run-raft.js";
import { CALM_LINK } from "../../sim/net.js";
import { RaftCluster } from "../../sim/raft/raft-cluster.js";
import type { RaftMember } from "../../sim/raft/raft-member.js";
import { encodeOpId, RaftProposalWorkload } from "../../sim/workload/raft-proposals.js";
import { World } from "../../sim/world.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../sim/scenario.js";

function scenario(
  members: number,
  extra = "",
  network = "{ latency-ms: 2, jitter-ms: 10, loss: 0.03, duplicate: 0.03, reorder: 0.05, reorder-ms: 40 }",
): Scenario {
  const text = `
name: chaos-${members}
cluster: { members: ${members}, heartbeat-ms: 100, election-ms: 1000 }
duration: 4m
network: ${network}
workload: { profile: raft-proposals, rate-per-s: 40 }
faults:
  - { at: 2s, every: 9s, jitter: 4s, partition: random, for: 4s }
  - { at: 5s, every: 23s, jitter: 5s, partition: { isolate: leader }, for: 5s }
  - { at: 8s, every: 31s, jitter: 5s, partition: { one-way: { from: leader, to: random-follower } }, for: 4s }
  - { at: 11s, every: 37s, partition: { bridge: true }, for: 6s }
  - { at: 14s, every: 29s, crash: { target: random }, restart-after: 3s }
  - { at: 17s, every: 41s, pause: { target: leader }, for: 2s }
  - { at: 20s, every: 43s, clog: { target: random-follower }, for: 2s }
  - { at: 26s, every: 47s, network: { loss: 0.4, duplicate: 0.2, reorder: 0.4 }, for: 5s }
  - { at: 32s, every: 53s, clock-drift: { target: random, rate: 1.3 }, for: 10s }
${extra}
checks: [raft-safety, { liveness: { within: 10s } }]
`;
  const parsed = parseScenario(text, "inline");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return parsed.value;
}

describe.each([3, 5])("a %i-member cluster under chaos", (members) => {
  it.each([1, 2, 3])("keeps every safety property and recovers (seed %i)", (seed) => {
    const s = runRaftScenario(scenario(members), seed);
    expect(s.details.violations).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.virtualMs).toBeGreaterThan(250_000);
    expect(s.details.faults.length).toBeGreaterThan(30);
    expect(s.details.leaderElections).toBeGreaterThan(5);
    expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.5);
    expect(s.details.answeredReads).toBeGreaterThan(s.ops * 0.1);
    expect(s.details.recoveryMs).not.toBeNull();
    expect(s.details.recoveryMs as number).toBeLessThanOrEqual(10_000);
  });
});

describe("a single-member cluster", () => {
  it("commits every proposal it accepts (it applies inside propose)", () => {
    const text = `
name: single
cluster: { members: 1, heartbeat-ms: 100, election-ms: 1000 }
duration: 10s
workload: { profile: raft-proposals, rate-per-s: 20 }
faults:
  - { at: 3s, pause: { target: leader }, for: 1s }
checks: [raft-safety, { liveness: { within: 3s } }]
`;
    const parsed = parseScenario(text, "single");
    if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
    const s = runRaftScenario(parsed.value, 1);
    expect(s.details.violations).toEqual([]);
    expect(s.details.committedOps).toBeGreaterThan(s.ops * 0.6);
  });
});

describe("the read-index check", () => {
  it("flags a read point below an index committed before the request", () => {
    const world = new World(1);
    const workload = new RaftProposalWorkload(world, 0, 0);
    const cluster = new RaftCluster(world, {
      members: 1,
      heartbeatMs: 100,
      electionMs: 1000,
      preVote: true,
      checkQuorum: true,
      link: CALM_LINK,
      onApply: () => undefined,
      onReadState: () => undefined,
    });
    workload.start(cluster, 0);
    const member = cluster.members[0] as RaftMember;
    workload.reads.push({
      id: 0,
      requestedAtMs: 0,
      member: "m1",
      committedAtRequest: 10,
      answeredIndex: undefined,
      answeredAtMs: undefined,
    });
    workload.reads.push({
      id: 1,
      requestedAtMs: 0,
      member: "m1",
      committedAtRequest: 10,
      answeredIndex: undefined,
      answeredAtMs: undefined,
    });
    workload.onReadState(member, { index: 10, requestCtx: encodeOpId(0) });
    expect(cluster.violations.count).toBe(0);
    workload.onReadState(member, { index: 9, requestCtx: encodeOpId(1) });
    expect(cluster.violations.all().map((v) => v.check)).toEqual(["read-index"]);
    expect(cluster.violations.all()[0]?.message).toMatch(/stale read/);
  });
});

describe("the liveness check", () => {
  it("fails a cluster whose network never heals", () => {
    const s = runRaftScenario(scenario(3, "", "{ loss: 1 }"), 1);
    expect(s.ok).toBe(false);
    expect(s.details.violations.map((v) => v.check)).toContain("liveness");
    expect(s.details.violations[0]?.message).toMatch(/no leader 10000ms after the faults ended/);
  });
});

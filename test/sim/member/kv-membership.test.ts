// Membership of the etcd-member cluster under KV load, through the Cluster API: members added as
// learners (promoted once in sync) or as voters, removed (the leader too), replaced on a wiped
// machine, in memory and on disks, with partitions and crashes. Every run passes every check:
// linearizable, watch, raft-safety, convergence of the final configuration, liveness.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KvCluster } from "../../../sim/member/kv-cluster.js";
import { runKvCluster, type KvRun } from "../../../sim/member/run-kv-scenario.js";
import type { RunArtifacts } from "../../../sim/run-artifacts.js";
import { formatScenarioError, parseScenario, type Scenario } from "../../../sim/scenario.js";

type Storage = "memory" | "disk";

/** A KV scenario with `faults` (YAML list items) on `members` members. */
function scenarioText(members: number, storage: Storage, faults: string, durationS = 18): string {
  const disk =
    storage === "disk" ? ", storage: disk, snapshot-count: 100, catch-up-entries: 20" : "";
  return `
name: kv-membership
cluster: { members: ${members}, heartbeat-ms: 100, election-ms: 1000${disk} }
duration: ${durationS}s
network: { latency-ms: 1, jitter-ms: 2 }
workload: { profile: etcd-kv, rate-per-s: 100, clients: 5, keys: 10, watchers: 2 }
faults:
${faults}
checks: [linearizable, watch, raft-safety, convergence, { liveness: { within: 6s } }]
`;
}

function parsed(text: string, file = "m.yaml"): Scenario {
  const r = parseScenario(text, file);
  if (!r.ok) throw new Error(formatScenarioError(r.error));
  return r.value;
}

function errorOf(text: string): string {
  const r = parseScenario(text, "m.yaml");
  return r.ok ? "parsed" : formatScenarioError(r.error);
}

/** Runs `text` with `seed`; fails with the violations if any check failed. */
function run(text: string, seed: number): KvRun & { readonly artifacts: RunArtifacts } {
  const r = runKvCluster(parsed(text), seed, text);
  const s = r.artifacts.summary;
  expect(s.details.violations, `seed ${seed}`).toEqual([]);
  expect(r.artifacts.checks.filter((c) => !c.ok)).toEqual([]);
  expect(s.details.recoveryMs).not.toBeNull();
  return r;
}

/** Each member change's description and outcome, in order. */
function changes(a: RunArtifacts): string[] {
  return a.summary.details.faults
    .filter((w) => w.kind === "member")
    .map((w) => `${w.description} -> ${w.outcome ?? "(none)"}`);
}

/** The names of the committed configuration's voters and learners, in slot order. */
function configuration(cluster: KvCluster): { voters: string[]; learners: string[] } {
  const members = cluster.committedMembers();
  const role = (id: number) => members.find((m) => m.id === id);
  const inConf = cluster.slots.filter((s) => s.phase === "member" && role(s.id) !== undefined);
  return {
    voters: inConf.filter((s) => role(s.id)?.isLearner === false).map((s) => s.name),
    learners: inConf.filter((s) => role(s.id)?.isLearner === true).map((s) => s.name),
  };
}

/** Every member of the final configuration applied up to the same index. */
function appliedIndexes(cluster: KvCluster): number[] {
  return cluster.slots
    .filter((s) => s.phase === "member")
    .map((s) => s.member?.status().appliedIndex ?? -1);
}

const GROW = `  - { at: 2s, member: { add-learner: true } }
  - { at: 3s, partition: { isolate: random-follower }, for: 2s }
  - { at: 4s, member: { promote: newest-learner } }
  - { at: 8s, member: { add-voter: true } }
  - { at: 11s, crash: { target: m4 }, restart-after: 2s }`;

describe("KV cluster membership: grow 3 -> 5 under load", () => {
  it.each<[Storage, number]>([
    ["memory", 1],
    ["memory", 2],
    ["disk", 1],
    ["disk", 2],
  ])("%s, seed %i: a learner promoted once in sync, then a voter", (storage, seed) => {
    const r = run(scenarioText(3, storage, GROW), seed);
    const log = changes(r.artifacts);
    expect(log[0]).toMatch(/^member add-learner m4 -> m4: ok \(id \d+\)$/);
    expect(log[1]).toMatch(/^member promote m4 -> m4: ok/);
    expect(log[2]).toMatch(/^member add-voter m5 -> m5: ok \(id \d+\)$/);
    expect(configuration(r.cluster)).toEqual({
      voters: ["m1", "m2", "m3", "m4", "m5"],
      learners: [],
    });
    expect(r.cluster.endpoints).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    // The added members got ids the cluster chose, and their names: the crash hit m4 (added).
    const m4 = r.cluster.slot("m4");
    expect(m4.id).toBeGreaterThan(3);
    expect(m4.durability.crashes + (storage === "memory" ? 1 : 0)).toBeGreaterThan(0);
    expect(r.artifacts.summary.details.faults.find((w) => w.kind === "crash")?.description).toBe(
      "crash m4",
    );
    expect(new Set(appliedIndexes(r.cluster)).size).toBe(1);
    // In memory the log is never compacted: the new members caught up through it, from entry 1.
    // On disks, by 8 s the leader's log was compacted below a snapshot: m5 got the snapshot.
    const m5 = r.cluster.slot("m5");
    if (storage === "memory") {
      expect(m4.durability.installedSnapshots).toEqual([]);
      expect(m5.durability.installedSnapshots).toEqual([]);
    } else {
      expect(m5.durability.installedSnapshots.length).toBeGreaterThan(0);
    }
    // The added members served clients once they were voters.
    const operator = r.artifacts.operations.filter((o) => o.client === "operator");
    expect(operator.some((o) => o.kind === "member-add" && o.result === "ok")).toBe(true);
    expect(operator.some((o) => o.kind === "member-promote" && o.result === "ok")).toBe(true);
  });
});

const SHRINK = `  - { at: 2s, partition: { isolate: random-follower }, for: 2s }
  - { at: 5s, member: { remove: random-follower } }
  - { at: 9s, crash: { target: random-follower }, restart-after: 2s }
  - { at: 12s, member: { remove: leader } }`;

describe("KV cluster membership: shrink 5 -> 3 under load", () => {
  it.each<[Storage, number]>([
    ["memory", 1],
    ["memory", 2],
    ["disk", 1],
    ["disk", 2],
  ])("%s, seed %i: a follower, then the leader", (storage, seed) => {
    let leaderAtRemoval = "";
    const r = runKvCluster(parsed(scenarioText(5, storage, SHRINK)), seed, "", {
      prepare: (k) =>
        k.world.schedule(12_000, "test", "probe", 0, () => {
          leaderAtRemoval = k.cluster.leader()?.name ?? "";
        }),
    });
    expect(r.artifacts.summary.details.violations).toEqual([]);
    const log = changes(r.artifacts);
    expect(log).toHaveLength(2);
    const removed = log.map((l) => /^member remove (m\d)/.exec(l)?.[1] ?? "");
    expect(removed[1]).toBe(leaderAtRemoval);
    for (const l of log) expect(l).toMatch(/-> m\d: ok \(id \d\)/);
    const kept = ["m1", "m2", "m3", "m4", "m5"].filter((n) => !removed.includes(n));
    expect(configuration(r.cluster)).toEqual({ voters: kept, learners: [] });
    expect(r.cluster.endpoints).toEqual(kept);
    for (const name of removed) {
      const slot = r.cluster.slot(name);
      expect(slot.phase).toBe("retired");
      expect(slot.host.state).toBe("down");
      expect(slot.exit).toBeDefined();
    }
    // The removed leader applied its own removal and stepped down; it stopped by itself, or when
    // a follower that had applied the removal refused its next message.
    expect(["stopped", "refused"]).toContain(r.cluster.slot(leaderAtRemoval).exit);
    expect(new Set(appliedIndexes(r.cluster)).size).toBe(1);
  });

  it("a member removed while cut off learns it when it comes back: its peers refuse it", () => {
    const text = scenarioText(
      3,
      "memory",
      `  - { at: 2s, partition: { isolate: m3 }, for: 6s }
  - { at: 3s, member: { remove: m3 } }`,
      12,
    );
    const r = run(text, 3);
    expect(changes(r.artifacts)).toEqual(["member remove m3 -> m3: ok (id 3)"]);
    const m3 = r.cluster.slot("m3");
    expect(m3.phase).toBe("retired");
    expect(m3.exit).toBe("refused");
    expect(configuration(r.cluster).voters).toEqual(["m1", "m2"]);
  });
});

const REPLACE = `  - { at: 2s, member: { replace: m2 } }
  - { at: 9s, partition: { isolate: leader }, for: 2s }
  - { at: 12s, member: { replace: leader } }`;

describe("KV cluster membership: replace a member on a wiped machine", () => {
  it.each<[Storage, number]>([
    ["memory", 1],
    ["disk", 1],
    ["disk", 2],
  ])("%s, seed %i: removed, wiped, added back with a fresh id, promoted", (storage, seed) => {
    const r = run(scenarioText(3, storage, REPLACE), seed);
    const log = changes(r.artifacts);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(
      /^member replace m2 -> m2: removed ok \(id 2\), wiped, added ok \(id (\d+)\)(.*), promoted ok/,
    );
    // The leader at 12 s was replaced too: m2's new member, or one of the others.
    const second = /^member replace (m\d) -> \1: removed ok .* promoted ok/.exec(log[1] ?? "")?.[1];
    expect(second).toBeDefined();
    const m2 = r.cluster.slot("m2");
    expect(m2.life).toBe(second === "m2" ? 3 : 2);
    const lastAdded = log.filter((l) => l.includes("replace m2 ")).at(-1) ?? "";
    expect(m2.id).toBe(Number(/added ok \(id (\d+)\)/.exec(lastAdded)?.[1]));
    expect(m2.id).toBeGreaterThan(3);
    expect(configuration(r.cluster)).toEqual({ voters: ["m1", "m2", "m3"], learners: [] });
    const ids = r.cluster.committedMembers().map((m) => m.id);
    expect(ids).not.toContain(2);
    expect(new Set(appliedIndexes(r.cluster)).size).toBe(1);
    if (storage === "disk") {
      // A wiped member caught up through the leader's snapshot (the log below it was compacted;
      // at 2 s there may be no snapshot yet, by 12 s there is).
      const replaced = r.cluster.slots.filter((s) => s.life > 1);
      expect(replaced.some((s) => s.durability.installedSnapshots.length > 0)).toBe(true);
    }
  });
});

describe("the operator under faults", () => {
  it("an addition while no quorum is up is tried again and settles once the members are back", () => {
    const text = scenarioText(
      3,
      "disk",
      `  - { at: 2s, crash: { target: m1 }, restart-after: 4s }
  - { at: 2s, crash: { target: m2 }, restart-after: 4s }
  - { at: 3s, member: { add-learner: true } }
  - { at: 10s, member: { promote: m4 } }`,
      16,
    );
    const r = run(text, 4);
    const log = changes(r.artifacts);
    expect(log[0]).toMatch(/^member add-learner m4 -> m4: ok \(id \d+\) after \d+ tries \(/);
    expect(log[1]).toMatch(/^member promote m4 -> m4: ok/);
    const failed = r.artifacts.operations.filter(
      (o) => o.client === "operator" && o.result !== "ok",
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(configuration(r.cluster).voters).toEqual(["m1", "m2", "m3", "m4"]);
  });
});

describe("membership-kv.yaml", () => {
  const file = "scenarios/membership-kv.yaml";
  const text = readFileSync(file, "utf8");
  const scenario = parsed(text, file);

  it("grows to 5, replaces one, shrinks to 3 with the leader, on disks (seeds 1..4)", () => {
    expect(scenario.storage.mode).toBe("disk");
    let snapshots = 0;
    for (const seed of [1, 2, 3, 4]) {
      const r = run(text, seed);
      const log = changes(r.artifacts);
      expect(log, `seed ${seed}`).toHaveLength(6);
      for (const line of log) expect(line, `seed ${seed}`).toMatch(/-> m\d: (ok|removed ok)/);
      expect(log[3], `seed ${seed}`).toMatch(/wiped, added ok .* promoted ok/);
      expect(configuration(r.cluster).voters, `seed ${seed}`).toHaveLength(3);
      expect(r.cluster.slots.map((s) => s.name)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
      expect(r.cluster.slots.filter((s) => s.phase === "retired")).toHaveLength(2);
      snapshots += r.cluster.slots.reduce((n, s) => n + s.durability.installedSnapshots.length, 0);
    }
    expect(snapshots).toBeGreaterThan(0);
  });

  it("replays a seed to the same trace hash", () => {
    const a = runKvCluster(scenario, 7, text).artifacts.summary;
    const b = runKvCluster(scenario, 7, text).artifacts.summary;
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
  });
});

describe("member faults in KV scenario files", () => {
  const base = (fault: string, profile = "etcd-kv") => `
name: m
cluster: { members: 3 }
duration: 10s
workload: { profile: ${profile}, rate-per-s: 10 }
faults:
  - { at: 1s, member: { add-voter: true } }
${fault}
checks: [raft-safety]
`;

  it("take every member change, targets of added members included", () => {
    const s = parsed(base("  - { at: 4s, member: { replace: m4 } }"));
    expect(s.faults.map((f) => f.action)).toEqual([
      { kind: "member", change: { op: "add-voter" } },
      { kind: "member", change: { op: "replace", target: "m4" } },
    ]);
  });

  it("name file, line and field of a bad one", () => {
    expect(errorOf(base("  - { at: 4s, member: { replace: m4 } }", "raft-proposals"))).toBe(
      "m.yaml:8: faults[1].member.replace: replace needs a KV profile (a Raft-only member has no data to wipe)",
    );
    expect(errorOf(base("  - { at: 4s, member: { replace: leader, remove: m2 } }"))).toBe(
      "m.yaml:8: faults[1].member: member has exactly one of add-learner, add-voter, promote, remove, replace (found remove, replace)",
    );
    expect(errorOf(base("  - { at: 4s, member: { replace: nobody } }"))).toMatch(
      /^m\.yaml:8: faults\[1\]\.member\.replace: /,
    );
    expect(errorOf(base("  - { at: 4s, member: { add-voter: true }, for: 1s }"))).toBe(
      "m.yaml:8: faults[1].for: a member change is an operation: it has no for",
    );
  });
});

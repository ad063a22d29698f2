import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { swarmOptionsFor, swarmScenario } from "../../sim/campaign/swarm.js";
import { formatScenarioError, parseScenario } from "../../sim/scenario.js";

const good = `
name: small
cluster: { members: 3, heartbeat-ms: 50, election-ms: 500 }
duration: 30s
workload: { profile: raft-proposals, rate-per-s: 10 }
faults:
  - { at: 1s, partition: { isolate: leader }, for: 2s }
  - { at: 2s, every: 5s, jitter: 1s, partition: random, for: 1.5s }
  - { at: 3s, crash: { target: m2 }, restart-after: 500ms }
  - { at: 4s, partition: { groups: [[1], [2, 3]] } }
checks: [raft-safety, { liveness: { within: 5s } }]
`;

function errorOf(text: string): string {
  const r = parseScenario(text, "s.yaml");
  if (r.ok) throw new Error("expected an error");
  return formatScenarioError(r.error);
}

describe("scenario files", () => {
  it("parses durations, defaults, targets and checks", () => {
    const r = parseScenario(good, "good.yaml");
    if (!r.ok) throw new Error(formatScenarioError(r.error));
    const s = r.value;
    expect(s.cluster).toEqual({
      members: 3,
      heartbeatMs: 50,
      electionMs: 500,
      preVote: true,
      checkQuorum: true,
    });
    expect(s.durationMs).toBe(30_000);
    expect(s.faultsEndMs).toBe(30_000);
    expect(s.network.loss).toBe(0);
    expect(s.faults[1]).toEqual({
      atMs: 2000,
      forMs: 1500,
      everyMs: 5000,
      jitterMs: 1000,
      action: { kind: "partition", shape: { type: "random" } },
    });
    expect(s.faults[2]?.action).toEqual({ kind: "crash", target: "m2", restartAfterMs: 500 });
    expect(s.faults[3]?.action).toEqual({
      kind: "partition",
      shape: { type: "groups", groups: [[1], [2, 3]] },
    });
    expect(s.checks).toEqual({
      names: ["raft-safety", "liveness"],
      raftSafety: true,
      livenessWithinMs: 5000,
    });
  });

  it("loads the standard raft scenario", () => {
    const r = parseScenario(
      readFileSync("scenarios/raft-partitions.yaml", "utf8"),
      "raft-partitions.yaml",
    );
    expect(r.ok).toBe(true);
  });

  it("names file, line and field of an unknown field", () => {
    expect(errorOf(good.replace("election-ms: 500", "election-ms: 500, bogus: 1"))).toBe(
      "s.yaml:3: cluster.bogus: unknown field",
    );
  });

  it("names the line of a bad duration", () => {
    expect(errorOf(good.replace("duration: 30s", "duration: 30 seconds"))).toMatch(
      /^s\.yaml:4: duration: expected a duration like 500ms, 10s, 2m/,
    );
  });

  it("names the fault with two kinds", () => {
    expect(
      errorOf(
        good.replace(
          "partition: random, for: 1.5s",
          "partition: random, pause: { target: leader }",
        ),
      ),
    ).toMatch(/^s\.yaml:8: faults\[1\]: a fault has exactly one of .* \(found partition, pause\)/);
  });

  it("rejects a member outside the cluster with its line", () => {
    expect(errorOf(good.replace("target: m2", "target: m7"))).toBe(
      "s.yaml:9: faults[2].crash.target: no member m7: the cluster has members 1..3",
    );
  });

  it("uses etcd's words for an election timeout under 5 heartbeats", () => {
    expect(errorOf(good.replace("election-ms: 500", "election-ms: 200"))).toBe(
      "s.yaml:3: cluster.election-ms: --election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[50ms]",
    );
  });

  it("reports a missing required field and invalid YAML with lines", () => {
    expect(errorOf(good.replace("duration: 30s\n", ""))).toMatch(/^s\.yaml(:\d+)?: duration: /);
    expect(errorOf("name: x\ncluster: [1, 2\n")).toMatch(/^s\.yaml:\d+: invalid YAML/);
    expect(errorOf("- just\n- a list\n")).toMatch(/^s\.yaml/);
  });

  it("parses KV workloads and their checks", () => {
    const text = `
name: kv
cluster: { members: 3 }
duration: 10s
workload: { profile: kubernetes, rate-per-s: 50, clients: 4, keys: 20, watchers: 3 }
checks: [linearizable, watch, convergence, raft-safety, { liveness: { within: 5s } }]
`;
    const r = parseScenario(text, "kv.yaml");
    if (!r.ok) throw new Error(formatScenarioError(r.error));
    expect(r.value.workload).toMatchObject({
      profile: "kubernetes",
      ratePerS: 50,
      clients: 4,
      keys: 20,
      watchers: 3,
    });
    expect(r.value.checks.names).toEqual([
      "linearizable",
      "watch",
      "convergence",
      "raft-safety",
      "liveness",
    ]);
    const defaults = parseScenario(
      text.replace(", clients: 4, keys: 20, watchers: 3", ""),
      "kv.yaml",
    );
    if (!defaults.ok) throw new Error(formatScenarioError(defaults.error));
    expect(defaults.value.workload).toMatchObject({ clients: 8, keys: 10, watchers: 2 });
  });

  it("names file, line and field for bad KV workload fields and checks", () => {
    const base = (workload: string, checks = "[linearizable]") => `name: kv
cluster: { members: 3 }
duration: 10s
workload: ${workload}
checks: ${checks}
`;
    expect(errorOf(base("{ profile: etcd-kv, rate-per-s: 10, clients: 0 }"))).toMatch(
      /^s\.yaml:4: workload\.clients: /,
    );
    expect(errorOf(base("{ profile: etcd-kv, rate-per-s: 10, watchers: 1.5 }"))).toMatch(
      /^s\.yaml:4: workload\.watchers: /,
    );
    expect(errorOf(base("{ profile: etcd, rate-per-s: 10 }"))).toMatch(
      /^s\.yaml:4: workload\.profile: /,
    );
    expect(errorOf(base("{ profile: etcd-kv, rate-per-s: 10 }", "[linearizable, sane]"))).toMatch(
      /^s\.yaml:5: checks\[1\]: /,
    );
    expect(
      errorOf(base("{ profile: raft-proposals, rate-per-s: 10 }", "[raft-safety, watch]")),
    ).toBe("s.yaml:5: checks[1]: watch needs a KV workload (profile etcd-kv or kubernetes)");
  });

  describe("durable members", () => {
    const file = (storage: string, profile: string, fault: string) => `name: d
cluster: { members: 3${storage} }
duration: 10s
workload: { profile: ${profile}, rate-per-s: 10 }
faults:
  - ${fault}
checks: [raft-safety]
`;
    const disk = ", storage: disk";

    it("parses storage, crash modes, failpoint, disk and admin faults", () => {
      const text = `name: d
cluster: { members: 3, storage: disk, snapshot-count: 50, catch-up-entries: 5 }
duration: 10s
workload: { profile: etcd-kv, rate-per-s: 10 }
faults:
  - { at: 1s, crash: { target: m1, lose-unsynced: true, mode: torn }, restart-after: 1s }
  - { at: 2s, crash-at: { target: leader, failpoint: walAfterFsync }, restart-after: 2s }
  - { at: 3s, for: 1s, stall-at: { target: m2, failpoint: beforeApply } }
  - { at: 4s, for: 1s, disk: { target: m3, slow-fsync-ms: 50, eio-rate: 0.1, enospc-bytes: 10 } }
  - { at: 5s, compact: {} }
  - { at: 6s, defragment: { target: all } }
checks: [linearizable]
`;
      const r = parseScenario(text, "d.yaml");
      if (!r.ok) throw new Error(formatScenarioError(r.error));
      const s = r.value;
      expect(s.storage).toEqual({ mode: "disk", snapshotCount: 50, catchUpEntries: 5 });
      expect(s.faults.map((f) => f.action)).toEqual([
        { kind: "crash", target: "m1", restartAfterMs: 1000, loseUnsynced: true, mode: "torn" },
        { kind: "crash-at", target: "leader", failpoint: "walAfterFsync", restartAfterMs: 2000 },
        { kind: "stall-at", target: "m2", failpoint: "beforeApply" },
        {
          kind: "disk",
          target: "m3",
          disk: { slowFsyncMs: 50, eioRate: 0.1, enospcBytes: 10, corrupt: false },
        },
        { kind: "compact" },
        { kind: "defragment", target: "all" },
      ]);
    });

    it("defaults to memory storage", () => {
      const r = parseScenario(good, "good.yaml");
      if (!r.ok) throw new Error(formatScenarioError(r.error));
      expect(r.value.storage).toEqual({
        mode: "memory",
        snapshotCount: undefined,
        catchUpEntries: undefined,
      });
    });

    it("names file, line and field for faults the storage or profile cannot run", () => {
      expect(
        errorOf(file("", "etcd-kv", "{ at: 1s, crash: { target: m1, lose-unsynced: true } }")),
      ).toBe(
        "s.yaml:6: faults[0].crash.lose-unsynced: lose-unsynced needs cluster storage: disk (storage is memory)",
      );
      expect(
        errorOf(
          file(disk, "raft-proposals", "{ at: 1s, crash: { target: m1, lose-unsynced: false } }"),
        ),
      ).toMatch(
        /^s\.yaml:6: faults\[0\]\.crash\.lose-unsynced: lose-unsynced: false needs a KV profile/,
      );
      expect(
        errorOf(file(disk, "etcd-kv", "{ at: 1s, crash-at: { target: m1, failpoint: nowhere } }")),
      ).toMatch(/^s\.yaml:6: faults\[0\]\.crash-at\.failpoint: not a failpoint name/);
      expect(
        errorOf(
          file(
            disk,
            "raft-proposals",
            "{ at: 1s, crash-at: { target: m1, failpoint: defragBeforeRename } }",
          ),
        ),
      ).toMatch(
        /faults\[0\]\.crash-at\.failpoint: a Raft-only member never passes defragBeforeRename/,
      );
      expect(
        errorOf(file("", "etcd-kv", "{ at: 1s, for: 1s, disk: { target: m1, corrupt: true } }")),
      ).toBe(
        "s.yaml:6: faults[0].disk: a disk fault needs cluster storage: disk (storage is memory)",
      );
      expect(
        errorOf(
          file(disk, "etcd-kv", "{ at: 1s, stall-at: { target: m1, failpoint: beforeApply } }"),
        ),
      ).toBe("s.yaml:6: faults[0].stall-at: stall-at needs for (the stall)");
      expect(errorOf(file(disk, "raft-proposals", "{ at: 1s, compact: {} }"))).toBe(
        "s.yaml:6: faults[0].compact: compact needs a KV profile",
      );
      expect(errorOf(file("", "etcd-kv", "{ at: 1s, defragment: { target: m1 } }"))).toBe(
        "s.yaml:6: faults[0].defragment: defragment needs cluster storage: disk (storage is memory)",
      );
      expect(
        errorOf(file(disk, "etcd-kv", "{ at: 1s, disk: { target: m9, eio-rate: 0.1 } }")),
      ).toMatch(/^s\.yaml:6: faults\[0\]\.disk\.target: no member m9/);
      expect(
        errorOf(file(disk, "etcd-kv", "{ at: 1s, crash: { target: m1, mode: melt } }")),
      ).toMatch(/^s\.yaml:6: faults\[0\]\.crash\.mode: /);
    });
  });

  it("swarm KV scenarios draw storage per seed and disk kinds only on disks", () => {
    const disky = new Set(["crash-at", "stall-at", "disk", "defragment"]);
    const storages = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const { name, text } = swarmScenario(seed, swarmOptionsFor("kv", seed));
      const parsed = parseScenario(text, name);
      if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
      const s = parsed.value;
      storages.add(s.storage.mode);
      if (s.storage.mode === "memory") {
        expect(
          s.faults.some((f) => disky.has(f.action.kind)),
          name,
        ).toBe(false);
      }
    }
    expect([...storages].sort()).toEqual(["disk", "memory"]);
  });
});

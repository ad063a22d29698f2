import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
});

// The simulated 3-member KV cluster through the scenario runner: a lossy, duplicating, reordering
// network, members and the leader cut off now and then, crashes with restarts; recording clients
// with the etcd-kv traffic and its compactor, watchers that resume and re-list. The run's checks
// (linearizable, watch, raft-safety, convergence, liveness) pass, and the run did meet its faults.
import { describe, expect, it } from "vitest";
import { Violations } from "../../../sim/check/violation.js";
import { checkLeasesExpired } from "../../../sim/member/kv-checks.js";
import { runKvCluster, type KvRunOptions } from "../../../sim/member/run-kv-scenario.js";
import { formatScenarioError, parseScenario } from "../../../sim/scenario.js";

const FAULTY_NETWORK =
  "{ latency-ms: 1, jitter-ms: 3, loss: 0.02, duplicate: 0.02, reorder: 0.05, reorder-ms: 30 }";

const FAULTS = `faults:
  - { at: 3s, every: 9s, jitter: 4s, partition: { isolate: random }, for: 3s }
  - { at: 6s, every: 11s, jitter: 4s, partition: { isolate: leader }, for: 2s }
  - { at: 9s, every: 13s, jitter: 4s, crash: { target: random }, restart-after: 3s }`;

const ALL_CHECKS = "[linearizable, watch, raft-safety, convergence, { liveness: { within: 8s } }]";

function scenario(o: { durationS: number; faults: boolean; checks?: string }): string {
  return `
name: kv-cluster
cluster: { members: 3, heartbeat-ms: 100, election-ms: 1000 }
duration: ${o.durationS}s
network: ${o.faults ? FAULTY_NETWORK : "{ latency-ms: 1, jitter-ms: 3 }"}
workload: { profile: etcd-kv, rate-per-s: 200, clients: 4, keys: 8, watchers: 2 }
${o.faults ? FAULTS : ""}
checks: ${o.checks ?? ALL_CHECKS}
`;
}

function run(text: string, seed: number, options: KvRunOptions = {}) {
  const parsed = parseScenario(text, "kv-cluster.yaml");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return runKvCluster(parsed.value, seed, text, options);
}

describe("simulated 3-member KV cluster under network faults", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: converges, watchers see exactly the committed events (re-listing after compaction), history is linearizable`, () => {
      const r = run(scenario({ durationS: 60, faults: true }), seed);
      const s = r.artifacts.summary;
      expect(s.details.violations).toEqual([]);
      expect(r.artifacts.checks.every((c) => c.ok)).toBe(true);
      expect(r.artifacts.checks.find((c) => c.check === "linearizable")?.detail).toMatch(
        /^linearizable \(/,
      );
      expect(s.ops).toBeGreaterThan(500);
      const kv = r.cluster.member("m1").kv;
      expect(kv.currentRevision).toBeGreaterThan(100);
      const watchers = r.harness.watchers;
      expect(watchers.reduce((n, w) => n + w.events.length, 0)).toBeGreaterThan(100);
      expect(watchers.reduce((n, w) => n + w.reconnects, 0)).toBeGreaterThan(0); // faults broke streams
      expect(kv.compactRevision).toBeGreaterThan(1); // compaction ran under the watchers
      const history = r.harness.traffic.history;
      expect(history.some((op) => op.return === undefined)).toBe(true); // outcomes left unknown
      const kinds = new Set(s.details.faults.map((w) => w.kind));
      expect(kinds).toEqual(new Set(["partition", "crash"]));
    });
  }

  it("short leases expire under virtual time on every member once keepalives stop", () => {
    // The model cannot check a history whose leases expire on their own: no linearizable check.
    const text = scenario({
      durationS: 40,
      faults: true,
      checks: "[watch, raft-safety, convergence, { liveness: { within: 8s } }]",
    });
    for (const seed of [4, 5]) {
      const r = run(text, seed, { leaseTtlS: 3 });
      expect(r.artifacts.summary.details.violations).toEqual([]);
      const granted = r.harness.traffic.history.filter(
        (op) => op.input.type === "lease-grant" && op.output?.type === "lease-grant",
      );
      expect(granted.length).toBeGreaterThan(0);
      const violations = new Violations();
      checkLeasesExpired(r.cluster, violations, r.world.nowMs);
      expect(violations.all()).toEqual([]);
    }
  });

  it("the same seed gives the same trace hash and history; another seed does not", () => {
    const text = scenario({ durationS: 20, faults: true });
    const a = run(text, 9).artifacts;
    const b = run(text, 9).artifacts;
    const c = run(text, 10).artifacts;
    expect(b.summary.traceHash).toBe(a.summary.traceHash);
    expect(b.summary.events).toBe(a.summary.events);
    expect(b.historyJsonLines).toBe(a.historyJsonLines);
    expect(c.summary.traceHash).not.toBe(a.summary.traceHash);
  });

  it("a calm network loses nothing: every operation has a known outcome", () => {
    const r = run(scenario({ durationS: 20, faults: false }), 11);
    expect(r.artifacts.summary.details.violations).toEqual([]);
    expect(r.harness.traffic.history.every((op) => op.return !== undefined)).toBe(true);
    expect(r.harness.watchers.reduce((n, w) => n + w.reconnects, 0)).toBe(0);
    expect(r.artifacts.checks.every((c) => c.ok)).toBe(true);
  });
});

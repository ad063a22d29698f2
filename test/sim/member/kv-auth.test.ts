// Auth traffic in the simulator: clients act as root, a writer and anonymously while root enables
// and disables auth and gives and takes the writer's WRITE, under a lossy network, partitions and
// crashes. Every check passes; the refusals really happen and fit the model; every member ends with
// the same auth store; runs without auth traffic keep their traces.
import { describe, expect, it } from "vitest";
import { runKvCluster } from "../../../sim/member/run-kv-scenario.js";
import { formatScenarioError, parseScenario } from "../../../sim/scenario.js";
import { check, etcdModel } from "../../../src/porcupine/index.js";

function scenario(o: { auth: boolean; faults: boolean }): string {
  return `
name: kv-auth
cluster: { members: 3, heartbeat-ms: 100, election-ms: 1000 }
duration: 16s
network: ${o.faults ? "{ latency-ms: 1, jitter-ms: 3, loss: 0.02, duplicate: 0.02 }" : "{ latency-ms: 1, jitter-ms: 2 }"}
workload: { profile: etcd-kv, rate-per-s: 150, clients: 6, keys: 8, watchers: 2${o.auth ? ", auth: true" : ""} }
${
  o.faults
    ? `faults:
  - { at: 3s, partition: { isolate: leader }, for: 2s }
  - { at: 7s, crash: { target: random }, restart-after: 2s }
  - { at: 10s, partition: { isolate: random-follower }, for: 2s }`
    : ""
}
checks: [linearizable, watch, raft-safety, convergence, { liveness: { within: 6s } }]
`;
}

function run(text: string, seed: number) {
  const parsed = parseScenario(text, "kv-auth.yaml");
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return runKvCluster(parsed.value, seed, text);
}

function outcomes(history: ReturnType<typeof run>["harness"]["traffic"]["history"]) {
  const count = (pred: (o: (typeof history)[number]) => boolean) => history.filter(pred).length;
  const error = (e: string) => (o: (typeof history)[number]) =>
    o.output?.type === "error" && o.output.error === e;
  return {
    authChanges: count((o) => o.input.type === "auth" && o.output !== undefined),
    userEmpty: count(error("user-empty")),
    permissionDenied: count(error("permission-denied")),
    writerWrites: count(
      (o) => o.input.type === "put" && o.input.as === "writer" && o.output?.type === "put",
    ),
  };
}

describe("auth traffic in a simulated KV cluster", () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: auth changes under faults keep every check green`, () => {
      const r = run(scenario({ auth: true, faults: true }), seed);
      expect(r.artifacts.summary.details.violations).toEqual([]);
      expect(r.artifacts.checks.every((c) => c.ok)).toBe(true);
      const seen = outcomes(r.harness.traffic.history);
      expect(r.harness.auth?.ready).toBe(true);
      expect(seen.authChanges).toBeGreaterThan(5);
      expect(seen.userEmpty).toBeGreaterThan(10);
      expect(seen.permissionDenied).toBeGreaterThan(0);
      expect(seen.writerWrites).toBeGreaterThan(10);
      // Every member holds the same users, roles, permissions and auth revision.
      const stores = r.cluster.slots.map((s) =>
        Buffer.from(s.member!.auth.encode()).toString("hex"),
      );
      expect(new Set(stores).size).toBe(1);
      expect(r.cluster.slots[0]!.member!.auth.revision).toBeGreaterThan(6);
    });
  }

  it("the model refuses the history once a refusal names the wrong cause", () => {
    const r = run(scenario({ auth: true, faults: false }), 3);
    const history = r.harness.traffic.history;
    expect(check(etcdModel, history).result).toBe("ok");
    const i = history.findIndex(
      (o) => o.output?.type === "error" && o.output.error === "user-empty",
    );
    expect(i).toBeGreaterThanOrEqual(0);
    // An anonymous request is refused for having no user, never for its permissions.
    const forged = history.map((o, j) =>
      j === i
        ? { ...o, output: { type: "error" as const, error: "permission-denied" as const } }
        : o,
    );
    expect(check(etcdModel, forged).result).toBe("illegal");
  });

  it("a run without auth traffic sends no credentials and records no users", () => {
    const r = run(scenario({ auth: false, faults: false }), 1);
    expect(r.harness.auth).toBeUndefined();
    expect(
      r.harness.traffic.history.some((o) => o.input.type !== "auth" && o.input.as !== undefined),
    ).toBe(false);
    expect(r.cluster.slots[0]!.member!.auth.revision).toBe(1);
  });
});

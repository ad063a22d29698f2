import { describe, expect, it } from "vitest";
import { swarmOptionsFor, swarmScenario } from "../../sim/campaign/swarm.js";
import { parseScenario } from "../../sim/scenario.js";

function profileOf(workload: "raft" | "kv" | "mixed", seed: number): string {
  const { name, text } = swarmScenario(seed, swarmOptionsFor(workload, seed));
  const parsed = parseScenario(text, name);
  if (!parsed.ok) throw new Error(`${name}: ${parsed.error.message}`);
  return parsed.value.workload.profile;
}

describe("swarm workloads", () => {
  it("generates KV scenarios with the KV checks, raft ones, or both by seed parity", () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      expect(profileOf("raft", seed)).toBe("raft-proposals");
      expect(["etcd-kv", "kubernetes"]).toContain(profileOf("kv", seed));
      expect(profileOf("mixed", seed) === "raft-proposals").toBe(seed % 2 === 1);
    }
    const { text } = swarmScenario(2, swarmOptionsFor("kv", 2));
    expect(text).toContain("checks: [linearizable, watch, raft-safety, convergence");
  });
});

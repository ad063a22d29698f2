// sim/testing.ts as a user writes with it: a fault property over generated scenarios and seeds
// with @fast-check/vitest, and the failure message a broken run produces.
import { fc, test } from "@fast-check/vitest";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "../../sim/scenario.js";
import {
  expectRunPasses,
  RunFailedError,
  scenarioArbitrary,
  seedArbitrary,
  type GeneratedScenario,
} from "../../sim/testing.js";

describe("sim/testing", () => {
  test.prop(
    [
      scenarioArbitrary({
        members: [3],
        minDurationMs: 3000,
        maxDurationMs: 8000,
        maxFaultsPerKind: 2,
      }),
      seedArbitrary,
    ],
    { numRuns: 4, seed: 7 },
  )("Raft stays safe and recovers under a random fault mix", (s, seed) => {
    const artifacts = expectRunPasses(s, seed);
    expect(artifacts.summary.ok).toBe(true);
  });

  it("generated scenarios respect their bounds", () => {
    for (const s of fc.sample(scenarioArbitrary({ members: [5], maxDurationMs: 12_000 }), {
      seed: 1,
      numRuns: 10,
    })) {
      expect(s.scenario.cluster.members).toBe(5);
      expect(s.scenario.durationMs).toBeLessThanOrEqual(12_000);
    }
  });

  it("a failing run throws with the failed check, the seed and the scenario to replay", () => {
    const file = "test/campaign/testdata/never-heals.yaml";
    const text = readFileSync(file, "utf8");
    const parsed = parseScenario(text, file);
    if (!parsed.ok) throw new Error("unreachable");
    const s: GeneratedScenario = { scenario: parsed.value, text, toString: () => text };
    let error: unknown;
    try {
      expectRunPasses(s, 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunFailedError);
    const message = (error as Error).message;
    expect(message).toContain("run failed: liveness");
    expect(message).toMatch(/detcd-sim replay --scenario FILE --seed 3 --trace-hash [0-9a-f]{16}/);
    expect(message).toContain("name: never-heals");
  });
});

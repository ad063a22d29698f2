// Helpers for users' own fault properties with fast-check (and @fast-check/vitest's test.prop):
// arbitraries of scenarios and seeds, and an assertion that runs a simulation and fails with
// everything needed to reproduce it: the failed checks, the first violation, the seed, the trace
// hash and the scenario as YAML (save it and run `detcd-sim replay --scenario FILE --seed N`).
//
//   test.prop([scenarioArbitrary({ maxDurationMs: 10_000 }), seedArbitrary])(
//     "raft stays safe and live", (s, seed) => { expectRunPasses(s, seed); });
//
// When the property fails, fast-check shrinks the scenario (fewer faults, shorter runs) and the
// seed before reporting.
import fc from "fast-check";
import { swarmScenarioArbitrary, type SwarmOptions } from "./campaign/swarm.js";
import type { RunArtifacts } from "./run-artifacts.js";
import { runScenario } from "./run-scenario.js";
import type { ScenarioInput } from "./scenario-schema.js";
import { scenarioToYaml } from "./scenario-yaml.js";
import { formatScenarioError, parseScenario, type Scenario } from "./scenario.js";

export type { SwarmOptions as ScenarioArbitraryOptions } from "./campaign/swarm.js";

/** A generated scenario: the typed form to run and the YAML text that reproduces it. */
export interface GeneratedScenario {
  readonly scenario: Scenario;
  readonly text: string;
  /** fast-check prints this when a property fails. */
  toString(): string;
}

function generated(input: ScenarioInput): GeneratedScenario {
  const text = scenarioToYaml(input);
  const parsed = parseScenario(text, "generated.yaml");
  if (!parsed.ok)
    throw new Error(`generated an invalid scenario: ${formatScenarioError(parsed.error)}\n${text}`);
  return { scenario: parsed.value, text, toString: () => `\n${text}` };
}

/** Scenarios with a random fault mix (swarm testing); options bound their size. */
export function scenarioArbitrary(options: SwarmOptions = {}): fc.Arbitrary<GeneratedScenario> {
  return swarmScenarioArbitrary(options).map(generated);
}

/** Seeds for runs. */
export const seedArbitrary: fc.Arbitrary<number> = fc.integer({ min: 0, max: 2 ** 31 - 1 });

export class RunFailedError extends Error {
  override name = "RunFailedError";
  constructor(
    message: string,
    readonly artifacts: RunArtifacts,
  ) {
    super(message);
  }
}

/** Runs `s` with `seed` and returns the artifacts; throws RunFailedError if any check fails. */
export function expectRunPasses(s: GeneratedScenario, seed: number): RunArtifacts {
  const artifacts = runScenario(s.scenario, seed, s.text);
  if (artifacts.summary.ok) return artifacts;
  const failed = artifacts.checks.filter((c) => !c.ok);
  const lines = [
    `run failed: ${failed.map((c) => `${c.check} (${c.detail})`).join("; ")}`,
    `seed ${seed}, trace hash ${artifacts.summary.traceHash}`,
    `reproduce: save the scenario below and run detcd-sim replay --scenario FILE --seed ${seed} --trace-hash ${artifacts.summary.traceHash}`,
    s.text,
  ];
  throw new RunFailedError(lines.join("\n"), artifacts);
}

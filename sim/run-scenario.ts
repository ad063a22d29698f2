// One run of any scenario: picks the cluster and workload the scenario's profile needs.
import { unreachable } from "../src/lib/assert.js";
import { runKv } from "./member/run-kv-scenario.js";
import { runRaft } from "./raft/run-raft.js";
import type { RunArtifacts } from "./run-artifacts.js";
import type { Scenario } from "./scenario.js";

/** Runs `scenario` with `seed`; `scenarioText` is kept in the artifacts for the report. */
export function runScenario(scenario: Scenario, seed: number, scenarioText: string): RunArtifacts {
  const profile = scenario.workload.profile;
  switch (profile) {
    case "raft-proposals":
      return runRaft(scenario, seed, scenarioText);
    case "etcd-kv":
    case "kubernetes":
      return runKv(scenario, seed, scenarioText);
    default:
      return unreachable(profile, "workload profile");
  }
}

// The durable standard scenarios (members on simulated disks) pass every check over seeds 1..5,
// and their faults really happened: crashes, failpoint crashes, disk faults and admin operations.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../sim/run-scenario.js";
import { formatScenarioError, parseScenario } from "../../sim/scenario.js";

const DURABLE_SCENARIOS = [
  "kv-crash-unsynced-loss.yaml",
  "kv-slow-fsync.yaml",
  "kv-disk-corruption.yaml",
  "kv-failpoint-crashes.yaml",
  "raft-disk-crashes.yaml",
];

describe("durable standard scenarios", () => {
  it("pass every check over seeds 1..5", () => {
    for (const file of DURABLE_SCENARIOS) {
      const text = readFileSync(`scenarios/${file}`, "utf8");
      const parsed = parseScenario(text, file);
      if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
      const scenario = parsed.value;
      expect(scenario.storage.mode, file).toBe("disk");
      for (const seed of [1, 2, 3, 4, 5]) {
        const a = runScenario(scenario, seed, text);
        expect(
          a.checks.filter((c) => !c.ok),
          `${file} seed ${seed}`,
        ).toEqual([]);
        expect(a.summary.ok, `${file} seed ${seed}`).toBe(true);
        expect(a.summary.details.recoveryMs, `${file} seed ${seed}`).not.toBeNull();
        const kinds = new Set(a.summary.details.faults.map((w) => w.kind));
        expect(kinds.size, `${file} seed ${seed}`).toBe(
          new Set(scenario.faults.map((f) => f.action.kind)).size,
        );
      }
    }
  });
});

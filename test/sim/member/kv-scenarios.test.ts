// Every KV scenario file passes every check over seeds 1..5; a KV run is reproducible from its seed.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../../sim/run-scenario.js";
import { parseScenario, type Scenario } from "../../../sim/scenario.js";

const DIR = "scenarios";
/** Scenarios on disks run in test/sim/standard-scenarios-durable.test.ts. */
const DURABLE = new Set([
  "kv-crash-unsynced-loss.yaml",
  "kv-slow-fsync.yaml",
  "kv-disk-corruption.yaml",
  "kv-failpoint-crashes.yaml",
]);
const FILES = readdirSync(DIR)
  .filter((f) => /^(kv-|kubernetes-).*\.yaml$/.test(f) && !DURABLE.has(f))
  .sort();

function load(file: string): { scenario: Scenario; text: string } {
  const text = readFileSync(`${DIR}/${file}`, "utf8");
  const parsed = parseScenario(text, file);
  if (!parsed.ok)
    throw new Error(`${parsed.error.file}:${parsed.error.line}: ${parsed.error.message}`);
  return { scenario: parsed.value, text };
}

describe("KV scenario files", () => {
  it("cover the KV stories", () => {
    expect(FILES).toEqual([
      "kubernetes-partitions.yaml",
      "kv-asymmetric-partition.yaml",
      "kv-clock-skew-leases.yaml",
      "kv-compaction-under-watchers.yaml",
      "kv-crash-restart.yaml",
      "kv-flaky-network.yaml",
      "kv-leader-isolation.yaml",
      "kv-minority-partition.yaml",
      "kv-pause.yaml",
    ]);
  });

  for (const file of FILES) {
    it(`${file}: every check passes over seeds 1..5`, () => {
      const { scenario, text } = load(file);
      for (const seed of [1, 2, 3, 4, 5]) {
        const a = runScenario(scenario, seed, text);
        const failed = a.checks.filter((c) => !c.ok);
        expect(failed, `seed ${seed}`).toEqual([]);
        expect(a.checks.map((c) => c.check)).toEqual(scenario.checks.names);
        expect(a.summary.ok).toBe(true);
        expect(a.operations.length).toBeGreaterThan(200);
        expect(a.summary.details.faults.length).toBeGreaterThan(0);
        expect(a.summary.details.recoveryMs).not.toBeNull();
        expect(a.historyJsonLines?.split("\n").length).toBeGreaterThan(100);
        expect(a.timeline.length).toBeGreaterThan(0);
      }
    });
  }

  it("the same seed gives the same trace hash and history; another seed does not", () => {
    const { scenario, text } = load("kubernetes-partitions.yaml");
    const a = runScenario(scenario, 7, text);
    const b = runScenario(scenario, 7, text);
    const c = runScenario(scenario, 8, text);
    expect(b.summary.traceHash).toBe(a.summary.traceHash);
    expect(b.summary.events).toBe(a.summary.events);
    expect(b.historyJsonLines).toBe(a.historyJsonLines);
    expect(c.summary.traceHash).not.toBe(a.summary.traceHash);
  });
});

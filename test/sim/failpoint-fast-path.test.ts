// While no failpoint is armed, members run a Ready's sends and applies directly instead of through
// failpoint continuations. The two ways must be the same run: with every registry made to look
// armed (so each item goes through `pass`), each scenario gives the trace hash it gives normally.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Failpoints } from "../../src/lib/failpoints.js";
import { runScenario } from "../../sim/run-scenario.js";
import { parseScenarioOrThrow } from "../../sim/scenario.js";

function traceHash(file: string, seed: number): string {
  const text = readFileSync(file, "utf8");
  return runScenario(parseScenarioOrThrow(text, file).value, seed, text).summary.traceHash;
}

describe("the unarmed-failpoint fast path", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ["scenarios/raft-disk-crashes.yaml", 1],
    ["scenarios/kv-crash-unsynced-loss.yaml", 2],
    ["scenarios/kv-failpoint-crashes.yaml", 3],
    ["test/sim/testdata/raft-short.yaml", 4],
  ])("%s (seed %i) runs the same with every item passed through its failpoints", (file, seed) => {
    const direct = traceHash(file, seed);
    const quiet = vi.spyOn(Failpoints.prototype, "quiet", "get").mockReturnValue(false);
    const stepped = traceHash(file, seed);
    expect(quiet).toHaveBeenCalled();
    expect(stepped).toBe(direct);
  });
});

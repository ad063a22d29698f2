// Pinned seeds: these runs must reproduce their trace hashes exactly. A change to the engine or the
// simulator that alters any event changes a hash; update the pins only for a deliberate change, and
// say so in the commit.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runRaftScenario } from "../../sim/raft/run-raft.js";
import { parseScenario } from "../../sim/scenario.js";

const pins = [
  { file: "scenarios/raft-partitions.yaml", seed: 1, traceHash: "d90c4dfc13a4f240", events: 87134 },
  {
    file: "test/sim/testdata/raft-short.yaml",
    seed: 11,
    traceHash: "28b14d0255f9b83b",
    events: 9920,
  },
];

describe("pinned seeds", () => {
  it.each(pins)("$file seed $seed reproduces $traceHash", ({ file, seed, traceHash, events }) => {
    const parsed = parseScenario(readFileSync(file, "utf8"), file);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const s = runRaftScenario(parsed.value, seed);
    expect(s.ok).toBe(true);
    expect({ traceHash: s.traceHash, events: s.events }).toEqual({ traceHash, events });
  });
});

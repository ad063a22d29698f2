// Pinned seeds: these runs must reproduce their trace hashes exactly. A change to the engine or the
// simulator that alters any event changes a hash; update the pins only for a deliberate change, and
// say so in the commit.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runRaftScenario } from "../../sim/raft/run-raft.js";
import { parseScenario } from "../../sim/scenario.js";

const pins = [
  { file: "scenarios/raft-partitions.yaml", seed: 1, traceHash: "3f2221517c12d5d0", events: 88475 },
  {
    file: "test/sim/testdata/raft-short.yaml",
    seed: 11,
    traceHash: "cc8f34d29340ffdc",
    events: 10211,
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

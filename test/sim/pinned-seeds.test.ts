// Pinned seeds: these runs must reproduce their trace hashes exactly. A change to the engine or the
// simulator that alters any event changes a hash; update the pins only for a deliberate change, and
// say so in the commit.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runRaftScenario, type RaftRunOptions } from "../../sim/raft/run-raft.js";
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

// The same short scenario with every member's log on a simulated disk, snapshots, compaction and
// a crash/restart cycle every second: disk latency, crash modes and recovery are part of the trace.
const DISK_OPTIONS: RaftRunOptions = {
  storage: "disk",
  storageOptions: { snapshotCount: 100, catchUpEntries: 20 },
  crashLoop: { startMs: 1000, endMs: 18_000, everyMs: 1000, restartAfterMs: 300 },
};

const diskPins = [
  {
    file: "test/sim/testdata/raft-short.yaml",
    seed: 11,
    traceHash: "965a720d5d7ced9a",
    events: 12457,
  },
];

describe("pinned seeds with storage on disk", () => {
  it.each(diskPins)(
    "$file seed $seed reproduces $traceHash",
    ({ file, seed, traceHash, events }) => {
      const parsed = parseScenario(readFileSync(file, "utf8"), file);
      if (!parsed.ok) throw new Error(parsed.error.message);
      const s = runRaftScenario(parsed.value, seed, DISK_OPTIONS);
      expect(s.ok).toBe(true);
      expect({ traceHash: s.traceHash, events: s.events }).toEqual({ traceHash, events });
    },
  );
});

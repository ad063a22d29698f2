// The same seed and scenario give the same trace hash in separate processes; other seeds do not.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const scenario = "test/sim/testdata/raft-short.yaml";

function runInProcess(seed: number): { traceHash: string; events: number; ok: boolean } {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/detcd-sim.ts",
      "run",
      "--scenario",
      scenario,
      "--seed",
      String(seed),
      "--json",
    ],
    { encoding: "utf8" },
  );
  const last = out.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as { traceHash: string; events: number; ok: boolean };
}

describe("determinism across processes", () => {
  it("reproduces a seed's trace hash in two processes and differs across seeds", () => {
    const a = runInProcess(11);
    const b = runInProcess(11);
    const c = runInProcess(12);
    expect(a.ok).toBe(true);
    expect(a.events).toBeGreaterThan(5_000);
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(c.traceHash).not.toBe(a.traceHash);
  });
});

// Shrinking keeps the seed and makes a failing scenario smaller while it keeps failing the same
// check; the written file replays to that failure. Passing and invalid scenarios are refused.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../sim/run-scenario.js";
import { parseScenario } from "../../sim/scenario.js";
import { shrinkScenario } from "../../sim/shrink/shrink.js";

const failingFile = "test/campaign/testdata/never-heals.yaml";

function sim(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/detcd-sim.ts", ...args], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("shrinkScenario", () => {
  it("drops faults and shortens the run, and the result still fails the same check", () => {
    const outcome = shrinkScenario(readFileSync(failingFile, "utf8"), failingFile, {
      seed: 4,
      timeLimitMs: 20_000,
    });
    if (outcome.type !== "shrunk") throw new Error(`expected a shrink, got ${outcome.type}`);
    expect(outcome.original.faults).toBe(4);
    expect(outcome.shrunk.faults).toBeLessThan(outcome.original.faults);
    expect(outcome.shrunk.durationMs).toBeLessThan(outcome.original.durationMs);
    expect(outcome.failedChecks).toContain("liveness");
    expect(outcome.runs).toBeGreaterThan(1);

    const parsed = parseScenario(outcome.text, "shrunk.yaml");
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.name).toBe("never-heals-shrunk");
    const replay = runScenario(parsed.value, 4, outcome.text);
    expect(replay.summary.ok).toBe(false);
    expect(replay.summary.traceHash).toBe(outcome.traceHash);
    expect(outcome.text).toContain(`--seed 4 --trace-hash ${outcome.traceHash}`);
  });

  it("refuses a run that passes and a scenario that is not valid", () => {
    const passing = "test/sim/testdata/raft-short.yaml";
    expect(shrinkScenario(readFileSync(passing, "utf8"), passing, { seed: 1 }).type).toBe("passes");
    const invalid = shrinkScenario("name: x\nduration: 5s\n", "bad.yaml", { seed: 1 });
    expect(invalid).toMatchObject({ type: "invalid" });
  });
});

describe("detcd-sim shrink", () => {
  it("writes the shrunk scenario and a reproduction line; exit 1 when nothing fails", () => {
    const out = join(mkdtempSync(join(tmpdir(), "detcd-shrink-")), "small.yaml");
    const r = sim("shrink", "--scenario", failingFile, "--seed", "2", "--out", out, "--json");
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as {
      traceHash: string;
      shrunk: { faults: number };
    };
    expect(line.shrunk.faults).toBeLessThan(4);
    expect(r.stdout).toContain(
      `reproduce  detcd-sim replay --scenario ${out} --seed 2 --trace-hash ${line.traceHash}`,
    );
    const replay = sim("replay", "--scenario", out, "--seed", "2", "--trace-hash", line.traceHash);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain("trace hash matches");

    const passes = sim("shrink", "--scenario", "test/sim/testdata/raft-short.yaml", "--seed", "1");
    expect(passes.code).toBe(1);
    expect(passes.stdout).toContain("nothing to shrink");
    const missing = sim("shrink", "--scenario", "nope.yaml", "--seed", "1");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.yaml");
  });
});

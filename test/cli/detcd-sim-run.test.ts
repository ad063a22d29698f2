// detcd-sim run / replay as a user meets them: exit codes, error messages, the JSON line.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const scenario = "test/sim/testdata/raft-short.yaml";

function sim(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/detcd-sim.ts", ...args], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("detcd-sim run and replay", () => {
  it("runs, writes the run folder, and prints the JSON contract and a reproduction line", () => {
    const out = mkdtempSync(join(tmpdir(), "detcd-sim-"));
    const r = sim("run", "--scenario", scenario, "--seed", "3", "--out", out, "--json");
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as Record<
      string,
      unknown
    >;
    for (const key of [
      "seed",
      "traceHash",
      "events",
      "virtualMs",
      "wallMs",
      "ops",
      "violations",
      "ok",
      "report",
    ]) {
      expect(line).toHaveProperty(key);
    }
    expect(line.ok).toBe(true);
    expect(line.report).toBe(join(out, "raft-short-3"));
    const saved = JSON.parse(readFileSync(join(out, "raft-short-3", "summary.json"), "utf8")) as {
      traceHash: string;
    };
    expect(saved.traceHash).toBe(line.traceHash);
    expect(r.stdout).toContain(
      `reproduce  detcd-sim replay --scenario ${scenario} --seed 3 --trace-hash ${line.traceHash as string}`,
    );

    const replay = sim(
      "replay",
      "--scenario",
      scenario,
      "--seed",
      "3",
      "--trace-hash",
      line.traceHash as string,
    );
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain("trace hash matches");
    const diverged = sim(
      "replay",
      "--scenario",
      scenario,
      "--seed",
      "3",
      "--trace-hash",
      "0123456789abcdef",
    );
    expect(diverged.code).toBe(1);
    expect(diverged.stdout).toContain("trace hash differs: expected 0123456789abcdef");
  });

  it("exits 2 naming the file, line and field of a bad scenario", () => {
    const dir = mkdtempSync(join(tmpdir(), "detcd-sim-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      readFileSync(scenario, "utf8").replace("heartbeat-ms: 100", "heartbeat-ms: fast"),
    );
    const r = sim("run", "--scenario", bad, "--seed", "1");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^detcd-sim: ${bad.replace(/[.]/g, "\\.")}:2: cluster\\.heartbeat-ms: `),
    );
    const seed = sim("run", "--scenario", scenario, "--seed", "-4");
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("--seed must be a non-negative integer");
  });
});

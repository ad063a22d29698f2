// detcd-sim campaign as a user meets it: exit codes, the summary with reproduction lines, the JSON
// line, JUnit XML, shards, and swarm scenario files that replay.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sim(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/detcd-sim.ts", ...args], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLine(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as Record<string, unknown>;
}

describe("detcd-sim campaign", () => {
  it("exits 1 with every failing seed, its reproduction command, the JSON line and JUnit XML", () => {
    const out = mkdtempSync(join(tmpdir(), "detcd-campaign-cli-"));
    const junit = join(out, "junit.xml");
    const r = sim(
      "campaign",
      "--scenarios",
      "test/campaign/testdata/never-heals.yaml",
      "test/sim/testdata/raft-*.yaml",
      "--seeds",
      "2",
      "--workers",
      "2",
      "--out",
      out,
      "--json",
      "--junit",
      junit,
      "--no-png",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("4/4");
    expect(r.stdout).toContain("campaign   4 runs: 2 passed, 2 failed");
    const line = jsonLine(r.stdout);
    expect(line).toMatchObject({ runs: 4, passed: 2, failed: 2, ok: false, shard: "1/1" });
    expect(line.seedsPerMinute).toBeGreaterThan(0);
    const failures = line.failures as { reproduce: string; seed: number }[];
    expect(failures.map((f) => f.seed)).toEqual([1, 2]);
    for (const f of failures) expect(r.stdout).toContain(`reproduce  ${f.reproduce}`);
    expect(readFileSync(junit, "utf8")).toContain('failures="2"');
    expect(existsSync(join(out, "never-heals-1", "index.html"))).toBe(true);
  });

  it("runs one shard of the list and exits 0 when it passes", () => {
    const r = sim(
      "campaign",
      "--scenarios",
      "test/sim/testdata/raft-short.yaml",
      "--seeds",
      "3",
      "--shard",
      "2/2",
      "--workers",
      "1",
      "--json",
    );
    expect(r.code).toBe(0);
    expect(jsonLine(r.stdout)).toMatchObject({ runs: 1, failed: 0, shard: "2/2", ok: true });
  });

  it("--swarm writes each seed's scenario, and that file replays the run", () => {
    const out = mkdtempSync(join(tmpdir(), "detcd-swarm-"));
    const r = sim(
      "campaign",
      "--swarm",
      "--seeds",
      "2",
      "--first-seed",
      "5",
      "--workers",
      "1",
      "--out",
      out,
      "--json",
      "--keep-all",
      "--no-png",
    );
    expect([0, 1]).toContain(r.code);
    const file = join(out, "swarm", "swarm-6.yaml");
    expect(existsSync(file)).toBe(true);
    const run = sim("run", "--scenario", file, "--seed", "6", "--json");
    const summary = JSON.parse(readFileSync(join(out, "swarm-6-6", "summary.json"), "utf8")) as {
      traceHash: string;
    };
    expect(jsonLine(run.stdout).traceHash).toBe(summary.traceHash);
  });

  it("exits 2 on bad input and names what is wrong", () => {
    const none = sim("campaign", "--seeds", "2");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--scenarios GLOB or --swarm");
    const nomatch = sim("campaign", "--scenarios", "scenarios/nope-*.yaml", "--seeds", "2");
    expect(nomatch.code).toBe(2);
    expect(nomatch.stderr).toContain("nope-*.yaml: no file matches");
    const shard = sim("campaign", "--swarm", "--seeds", "2", "--shard", "3/2");
    expect(shard.code).toBe(2);
    expect(shard.stderr).toContain("--shard must be I/N");
  });
});

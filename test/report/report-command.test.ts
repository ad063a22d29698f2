// detcd-sim run --out renders the report into the run folder; detcd-sim report DIR rebuilds it and
// names the path when DIR is not a run folder.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sim(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/detcd-sim.ts", ...args], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("detcd-sim report", () => {
  it("run --out writes index.html and the PNGs; report DIR rebuilds them", () => {
    const out = mkdtempSync(join(tmpdir(), "detcd-sim-report-"));
    const run = sim(
      "run",
      "--scenario",
      "test/sim/testdata/raft-short.yaml",
      "--seed",
      "2",
      "--out",
      out,
    );
    expect(run.code).toBe(0);
    const dir = join(out, "raft-short-2");
    expect(run.stdout).toContain(`report     ${join(dir, "index.html")}`);
    for (const f of ["index.html", "latency.png", "throughput.png", "timeline.png"])
      expect(existsSync(join(dir, f))).toBe(true);
    rmSync(join(dir, "index.html"));
    rmSync(join(dir, "timeline.png"));
    const rebuilt = sim("report", dir);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toContain(join(dir, "index.html"));
    expect(existsSync(join(dir, "index.html"))).toBe(true);
    expect(existsSync(join(dir, "timeline.png"))).toBe(true);
  });

  it("exits 2 and names the path when DIR is not a run folder", () => {
    const empty = mkdtempSync(join(tmpdir(), "detcd-sim-empty-"));
    const r = sim("report", empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(empty, "run.json"));
  });
});

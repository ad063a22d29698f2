// Run reports: the page is self-contained and shows every check's verdict, the reproduction command
// and the fault windows; PNGs are drawn; a KV history gets its linearizability page; long series
// are thinned without losing their extremes.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { downsampleEnvelope, keepChanges } from "../../sim/report/downsample.js";
import { writeReport } from "../../sim/report/render.js";
import type { RunArtifacts } from "../../sim/run-artifacts.js";
import { readRunDir, writeRunDir } from "../../sim/run-dir.js";
import { runScenario } from "../../sim/run-scenario.js";
import { parseScenario } from "../../sim/scenario.js";

const scenarioFile = "test/sim/testdata/raft-short.yaml";

function shortRun(seed: number): RunArtifacts {
  const text = readFileSync(scenarioFile, "utf8");
  const parsed = parseScenario(text, scenarioFile);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return runScenario(parsed.value, seed, text);
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe("run report", () => {
  let dir: string;
  let artifacts: RunArtifacts;
  let html: string;
  beforeAll(async () => {
    artifacts = shortRun(3);
    dir = writeRunDir(mkdtempSync(join(tmpdir(), "detcd-report-")), artifacts);
    await writeReport(dir, artifacts);
    html = readFileSync(join(dir, "index.html"), "utf8");
  });

  it("is one self-contained page: no external scripts, styles or images", () => {
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/<img[^>]+src="https?:/i);
    // Chart.js is inlined, so the charts draw offline.
    expect(html).toContain("Chart.register(");
    expect(html.length).toBeLessThan(1_000_000);
  });

  it("shows the seed, each check's verdict, the reproduction command and the fault windows", () => {
    expect(html).toContain(`raft-short seed 3`);
    for (const c of artifacts.checks) expect(html).toContain(`<td>${c.check}</td>`);
    expect(html).toContain(
      `detcd-sim replay --scenario ${join(dir, "scenario.yaml")} --seed 3 --trace-hash ${artifacts.summary.traceHash}`,
    );
    expect(artifacts.summary.details.faults.length).toBeGreaterThan(0);
    expect(html).toContain(`Faults (${artifacts.summary.details.faults.length})`);
    expect(html).toContain('"faultWindows":{"windows":[{"start":3');
    for (const id of ["latency", "throughput", "roles", "term", "commit"])
      expect(html).toContain(`id="chart-${id}"`);
  });

  it("draws latency, throughput and timeline PNGs", () => {
    for (const name of ["latency.png", "throughput.png", "timeline.png"]) {
      const png = readFileSync(join(dir, name));
      expect(png.subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
      expect(png.length).toBeGreaterThan(5_000);
    }
  });

  it("rebuilds from the saved run.json alone", async () => {
    const again = await writeReport(dir, readRunDir(dir), { png: false });
    expect(readFileSync(again.indexHtml, "utf8")).toContain(artifacts.summary.traceHash);
    expect(again.pngNote).toMatch(/not drawn/);
  });

  it("checks a KV history for linearizability and links the visualization", async () => {
    const history = [
      '{"clientId":0,"call":1000,"return":1200,"input":{"type":"put","key":"a","value":"1"},"output":{"type":"put","header":{"revision":2}}}',
      '{"clientId":1,"call":1300,"return":1400,"input":{"type":"put","key":"a","value":"2"},"output":{"type":"put","header":{"revision":3}}}',
    ].join("\n");
    const kv: RunArtifacts = { ...artifacts, historyJsonLines: history, watch: { watchers: [] } };
    const kvDir = writeRunDir(mkdtempSync(join(tmpdir(), "detcd-report-kv-")), kv);
    const result = await writeReport(kvDir, kv, { png: false });
    expect(result.linearizability).toBe("checked");
    const page = readFileSync(join(kvDir, "index.html"), "utf8");
    expect(page).toMatch(/Linearizability: <span class="(pass|fail)">/);
    expect(page).toContain('href="linearizability.html"');
    expect(page).toContain("watch.json: watchers: 0");
    expect(existsSync(join(kvDir, "linearizability.html"))).toBe(true);
  });
});

describe("downsampling", () => {
  const points = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: (i * 7919) % 1000 }));

  it("keeps the envelope: the global extremes survive and the size is bounded", () => {
    const kept = downsampleEnvelope([...points, { x: 5000.5, y: 99_999 }], 200);
    expect(kept.length).toBeLessThanOrEqual(200);
    expect(Math.max(...kept.map((p) => p.y))).toBe(99_999);
    expect(Math.min(...kept.map((p) => p.y))).toBe(0);
    expect(kept.map((p) => p.x)).toEqual([...kept.map((p) => p.x)].sort((a, b) => a - b));
  });

  it("keeps only the changes of a step series, and its last point", () => {
    const steps = [0, 0, 0, 1, 1, 2, 2, 2].map((y, x) => ({ x, y }));
    expect(keepChanges(steps, 100)).toEqual([
      { x: 0, y: 0 },
      { x: 3, y: 1 },
      { x: 5, y: 2 },
      { x: 7, y: 2 },
    ]);
    expect(keepChanges(points, 50).length).toBeLessThanOrEqual(51);
  });
});

// Campaign building blocks: job lists and shards, globs, swarm scenarios that re-parse and replay,
// worker-thread runs with failures, fail-fast and JUnit XML, and where a job's scenario comes from.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCampaign } from "../../sim/campaign/campaign.js";
import { expandGlob } from "../../sim/campaign/glob.js";
import { parseShard, planJobs, WHOLE, type ScenarioSource } from "../../sim/campaign/jobs.js";
import { junitXml } from "../../sim/campaign/junit.js";
import { swarmScenario } from "../../sim/campaign/swarm.js";
import { runJob } from "../../sim/campaign/worker.js";
import { runScenario } from "../../sim/run-scenario.js";
import { parseScenario, readScenarioFile } from "../../sim/scenario.js";

const short: ScenarioSource = { type: "file", file: "test/sim/testdata/raft-short.yaml" };
const failing: ScenarioSource = { type: "file", file: "test/campaign/testdata/never-heals.yaml" };

describe("job list and shards", () => {
  it("parses I/N and rejects the rest", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "x", "1-2"]) expect(parseShard(bad)).toBeUndefined();
  });

  it("splits the list so the shards together run every job exactly once", () => {
    const whole = planJobs([short, failing], 10, 7, WHOLE);
    expect(whole.map((j) => j.seed)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 10, 11, 12, 13, 14, 15, 16,
    ]);
    const shards = [1, 2, 3].map((index) => planJobs([short, failing], 10, 7, { index, count: 3 }));
    const union = shards
      .flat()
      .map((j) => j.index)
      .sort((a, b) => a - b);
    expect(union).toEqual(whole.map((j) => j.index));
    expect(shards.map((s) => s.length)).toEqual([5, 5, 4]);
  });
});

describe("globs", () => {
  it("expands *, ** and plain paths, sorted", () => {
    expect(expandGlob("test/sim/testdata/*.yaml")).toContain("test/sim/testdata/raft-short.yaml");
    expect(expandGlob("./test/**/never-heals.yaml")).toEqual([
      "test/campaign/testdata/never-heals.yaml",
    ]);
    expect(expandGlob("scenarios/raft-partitions.yaml")).toEqual([
      "scenarios/raft-partitions.yaml",
    ]);
    expect(expandGlob("scenarios/nope-*.yaml")).toEqual([]);
  });
});

describe("swarm scenarios", () => {
  it("differ per seed, re-parse, and replay the same run from the written text", () => {
    const texts = [1, 2, 3, 4, 5, 6].map((seed) => swarmScenario(seed).text);
    expect(new Set(texts).size).toBe(6);
    expect(swarmScenario(4).text).toBe(texts[3]);
    for (const [i, text] of texts.entries()) {
      const parsed = parseScenario(text, `swarm-${i + 1}.yaml`);
      if (!parsed.ok) throw new Error(`${parsed.error.field}: ${parsed.error.message}\n${text}`);
      expect(parsed.value.name).toBe(`swarm-${i + 1}`);
      expect(parsed.value.faults.length).toBeGreaterThan(0);
    }
    const parsed = parseScenario(texts[1] as string, "swarm-2.yaml");
    if (!parsed.ok) throw new Error("unreachable");
    const a = runScenario(parsed.value, 2, texts[1] as string);
    const b = runScenario(parsed.value, 2, texts[1] as string);
    expect(a.summary.traceHash).toBe(b.summary.traceHash);
  });

  it("draw different fault mixes (swarm testing), not every kind every time", () => {
    const kindSets = Array.from({ length: 20 }, (_, i) => {
      const parsed = parseScenario(swarmScenario(i + 100).text, "s.yaml");
      if (!parsed.ok) throw new Error("unreachable");
      return [...new Set(parsed.value.faults.map((f) => f.action.kind))].sort().join(",");
    });
    expect(new Set(kindSets).size).toBeGreaterThan(5);
  });
});

describe("runCampaign on worker threads", () => {
  it("runs every job, reports failures with a reproduction command and writes their reports", async () => {
    const out = mkdtempSync(join(tmpdir(), "detcd-campaign-"));
    const jobs = planJobs([short, failing], 1, 2, WHOLE);
    const seen: number[] = [];
    const s = await runCampaign(
      { jobs, workers: 2, shard: WHOLE, outDir: out, keepAll: false, failFast: false, png: false },
      (r) => seen.push(r.index),
    );
    expect(seen.sort()).toEqual([0, 1, 2, 3]);
    expect([s.runs, s.passed, s.failed, s.skipped]).toEqual([4, 2, 2, 0]);
    expect(s.failures.map((f) => [f.scenario, f.seed])).toEqual([
      ["never-heals", 1],
      ["never-heals", 2],
    ]);
    const f = s.failures[0]!;
    expect(f.failedChecks).toEqual(["liveness"]);
    expect(f.reproduce).toBe(
      `detcd-sim replay --scenario test/campaign/testdata/never-heals.yaml --seed 1 --trace-hash ${f.traceHash}`,
    );
    expect(f.report).toBe(join(out, "never-heals-1"));
    expect(readFileSync(join(out, "never-heals-1", "index.html"), "utf8")).toContain("FAIL");
    // Passing runs leave no folder without --keep-all.
    expect(s.results.filter((r) => r.ok).every((r) => r.report === null)).toBe(true);

    const xml = junitXml(s);
    expect(xml).toContain('<testsuites name="detcd-sim campaign" tests="4" failures="2"');
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toContain('<failure message="failed: liveness" type="check">');
    expect(xml).toContain(`reproduce: ${f.reproduce}`);
  });

  it("--fail-fast stops handing out jobs after the first failure", async () => {
    const jobs = planJobs([failing], 1, 12, WHOLE);
    const s = await runCampaign({
      jobs,
      workers: 1,
      shard: WHOLE,
      outDir: undefined,
      keepAll: false,
      failFast: true,
    });
    expect(s.failed).toBeGreaterThanOrEqual(1);
    expect(s.runs).toBeLessThanOrEqual(2);
    expect(s.skipped).toBe(12 - s.runs);
  });
});

describe("campaign jobs and their scenarios", () => {
  it("a job run from the campaign's parse and one that reads its file give the same run", async () => {
    const [job] = planJobs([short], 3, 1, WHOLE);
    const base = { job: job!, outDir: undefined, keepAll: false, png: false };
    const fromFile = await runJob(base);
    const fromParse = await runJob({ ...base, scenario: readScenarioFile(short.file) });
    expect(fromFile.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(fromParse.traceHash).toBe(fromFile.traceHash);
    expect(fromParse.events).toBe(fromFile.events);
  });

  it("a bad scenario file stops the campaign before any run, naming file, line and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "detcd-campaign-bad-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      readFileSync(short.file, "utf8").replace("profile: raft-proposals", "profile: nope"),
    );
    const jobs = planJobs([{ type: "file", file }], 1, 2, WHOLE);
    const seen: number[] = [];
    await expect(
      runCampaign(
        { jobs, workers: 1, shard: WHOLE, outDir: undefined, keepAll: false, failFast: false },
        (r) => seen.push(r.index),
      ),
    ).rejects.toThrow(`${file}:5: workload.profile:`);
    expect(seen).toEqual([]);
  });
});

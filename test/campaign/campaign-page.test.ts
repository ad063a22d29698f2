import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CampaignSummary } from "../../sim/campaign/campaign.js";
import { writeCampaignPage } from "../../sim/campaign/campaign-page.js";
import type { JobResult } from "../../sim/campaign/worker.js";

function result(seed: number, ok: boolean, report: string | null): JobResult {
  return {
    index: seed,
    scenario: "s<x>",
    scenarioFile: "scenarios/s.yaml",
    seed,
    ok,
    traceHash: `000000000000000${seed}`,
    events: 100,
    virtualMs: 10_000,
    wallMs: 50,
    ops: 7,
    violations: ok ? 0 : 1,
    failedChecks: ok ? [] : ["liveness"],
    firstViolation: ok ? undefined : "no leader",
    report,
  };
}

describe("the campaign page", () => {
  it("lists every run, links kept reports and gives failures their reproduction line", () => {
    const out = mkdtempSync(join(tmpdir(), "campaign-"));
    const results = [result(1, true, join(out, "s-1")), result(2, false, join(out, "s-2"))];
    const summary: CampaignSummary = {
      runs: 2,
      passed: 1,
      failed: 1,
      skipped: 0,
      wallMs: 1000,
      seedsPerMinute: 120,
      workers: 2,
      shard: "1/1",
      failures: [],
      results,
    };
    const page = readFileSync(writeCampaignPage(out, summary), "utf8");
    expect(page).toContain('detcd campaign: <span class="fail">FAIL</span>');
    expect(page).toContain("s&lt;x&gt;");
    expect(page).toContain('<a href="s-1/index.html">report</a>');
    expect(page).toContain("liveness: no leader");
    const json = JSON.parse(readFileSync(join(out, "campaign.json"), "utf8")) as {
      ok: boolean;
      reproduce: string[];
    };
    expect(json.ok).toBe(false);
    expect(json.reproduce).toEqual([
      "detcd-sim replay --scenario scenarios/s.yaml --seed 2 --trace-hash 0000000000000002",
    ]);
  });
});

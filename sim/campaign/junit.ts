// JUnit XML for CI systems: one testsuite per scenario, one testcase per (scenario, seed) run; a
// failing run's message names the failed checks and its body holds the reproduction command.
import type { CampaignSummary } from "./campaign.js";
import { reproduceLine } from "./campaign.js";
import type { JobResult } from "./worker.js";

function xml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function testcase(r: JobResult): string {
  const open = `    <testcase classname="detcd-sim.${xml(r.scenario)}" name="seed ${r.seed}" time="${seconds(r.wallMs)}"`;
  if (r.ok) return `${open}/>`;
  const message = `failed: ${r.failedChecks.join(", ")}`;
  const body = [
    r.firstViolation ?? "",
    `reproduce: ${reproduceLine(r)}`,
    r.report ? `report: ${r.report}` : "",
  ]
    .filter((l) => l !== "")
    .join("\n");
  return `${open}>\n      <failure message="${xml(message)}" type="check">${xml(body)}</failure>\n    </testcase>`;
}

export function junitXml(summary: CampaignSummary): string {
  const byScenario = new Map<string, JobResult[]>();
  for (const r of summary.results)
    byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const suites = [...byScenario].map(([scenario, runs]) => {
    const failures = runs.filter((r) => !r.ok).length;
    const time = runs.reduce((sum, r) => sum + r.wallMs, 0);
    return `  <testsuite name="${xml(scenario)}" tests="${runs.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(time)}">\n${runs.map(testcase).join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="detcd-sim campaign" tests="${summary.runs}" failures="${summary.failed}" time="${seconds(summary.wallMs)}">\n${suites.join("\n")}\n</testsuites>\n`;
}

// The campaign's own report: OUT/campaign.json (the whole summary) and OUT/campaign.html, one
// self-contained page with the verdict, every run (scenario, seed, result, trace hash, size and
// speed) and, for each run that has a folder, a link to its report.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { escapeHtml } from "../report/html.js";
import type { CampaignSummary } from "./campaign.js";
import { reproduceLine } from "./campaign.js";
import type { JobResult } from "./worker.js";

function runRow(outDir: string, r: JobResult): string {
  const link =
    r.report === null
      ? ""
      : `<a href="${escapeHtml(relative(outDir, join(r.report, "index.html")))}">report</a>`;
  const verdict = r.ok ? `<td class="pass">pass</td>` : `<td class="fail">FAIL</td>`;
  const why = r.ok ? "" : escapeHtml(`${r.failedChecks.join(", ")}: ${r.firstViolation ?? ""}`);
  const ratio = r.wallMs > 0 ? Math.round(r.virtualMs / r.wallMs) : 0;
  return `<tr><td>${escapeHtml(r.scenario)}</td><td>${r.seed}</td>${verdict}<td><code>${r.traceHash}</code></td><td>${r.events}</td><td>${r.ops}</td><td>${(r.virtualMs / 1000).toFixed(0)} s</td><td>${ratio}x</td><td>${link}</td><td>${why}</td></tr>`;
}

export function campaignHtml(outDir: string, s: CampaignSummary): string {
  const verdict =
    s.failed === 0 ? `<span class="pass">PASS</span>` : `<span class="fail">FAIL</span>`;
  const failures = s.failures
    .map((f) => `<li><code>${escapeHtml(f.reproduce)}</code></li>`)
    .join("");
  const rows = s.results.map((r) => runRow(outDir, r)).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>detcd campaign</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}.pass{color:#17803d;font-weight:600}
.fail{color:#c62828;font-weight:600}code{font-size:12px}</style></head><body>
<h1>detcd campaign: ${verdict}</h1>
<p>${s.runs} runs: ${s.passed} passed, ${s.failed} failed${s.skipped > 0 ? `, ${s.skipped} not run` : ""}; shard ${escapeHtml(s.shard)}, ${s.workers} workers, ${(s.wallMs / 1000).toFixed(1)} s, ${s.seedsPerMinute} seeds/min.</p>
${failures === "" ? "" : `<h2>Reproduce the failures</h2><ul>${failures}</ul>`}
<h2>Runs</h2><table><tr><th>scenario</th><th>seed</th><th>result</th><th>trace hash</th><th>events</th><th>ops</th><th>virtual</th><th>speed</th><th></th><th>failed checks</th></tr>
${rows}</table></body></html>
`;
}

/** Writes campaign.json and campaign.html under `outDir`; returns the page's path. */
export function writeCampaignPage(outDir: string, s: CampaignSummary): string {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const json = {
    ...s,
    ok: s.failed === 0,
    reproduce: s.results.filter((r) => !r.ok).map(reproduceLine),
  };
  writeFileSync(join(dir, "campaign.json"), JSON.stringify(json, null, 2) + "\n");
  const page = join(dir, "campaign.html");
  writeFileSync(page, campaignHtml(dir, s));
  return page;
}

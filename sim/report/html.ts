// index.html of a run report: one self-contained page (inline CSS, inline Chart.js, no network) with
// the verdict of every check, the run's facts, the reproduction command, the fault windows, the
// charts, the watch results, links to the linearizability page and the raw files, and the
// scenario text. Pure: everything it shows comes in through ReportPage.
import type { RunArtifacts } from "../run-artifacts.js";
import type { ChartSpec } from "./charts.js";
import { FAULT_COLORS } from "./charts.js";
import { FAULT_WINDOWS_PLUGIN_JS } from "./fault-windows-plugin.js";
import type { LinearizabilityOutcome } from "./linearizability.js";

export interface ReportPage {
  readonly artifacts: RunArtifacts;
  /** The command that replays this run from its folder. */
  readonly reproduce: string;
  readonly charts: readonly ChartSpec[];
  /** Chart.js's UMD bundle, inlined. */
  readonly chartJs: string;
  /** PNG file names written beside index.html (none when PNGs could not be drawn). */
  readonly pngs: readonly string[];
  /** Why PNGs are missing, if they are. */
  readonly pngNote: string | undefined;
  readonly linearizability: LinearizabilityOutcome | undefined;
  /** Raw files present in the folder, linked at the bottom. */
  readonly files: readonly string[];
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1240px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.unknown{color:#9a6700;font-weight:600}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f8fa;padding:10px;overflow:auto;border-radius:4px}
.cmd{background:#0d1117;color:#e6edf3;padding:8px 10px;border-radius:4px;display:block;overflow:auto;white-space:pre}
.caption{color:#555;font-size:12.5px;margin:2px 0 6px}canvas{max-width:100%;border:1px solid #eee}
.facts td:first-child{color:#555}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border:1px solid #ccc}
iframe{width:100%;height:520px;border:1px solid #ddd}`;

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

function verdictClass(ok: boolean): string {
  return ok ? "pass" : "fail";
}

function factsTable(a: RunArtifacts): string {
  const s = a.summary;
  const d = s.details;
  const rows: [string, string][] = [
    ["scenario", s.scenario],
    ["seed", String(s.seed)],
    ["trace hash", s.traceHash],
    ["events", s.events.toLocaleString("en-US")],
    ["virtual time", `${(s.virtualMs / 1000).toFixed(1)} s`],
    ["wall time", `${(s.wallMs / 1000).toFixed(2)} s`],
    ["operations", `${s.ops} (${d.committedOps} committed, ${d.answeredReads} reads answered)`],
    ["leader elections", String(d.leaderElections)],
    ["recovery after faults", d.recoveryMs === null ? "n/a" : `${d.recoveryMs} ms`],
    ["violations", String(s.violations)],
  ];
  const body = rows
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td><code>${escapeHtml(v)}</code></td></tr>`)
    .join("");
  return `<table class="facts">${body}</table>`;
}

function checksTable(a: RunArtifacts): string {
  const rows = a.checks
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.check)}</td><td class="${verdictClass(c.ok)}">${c.ok ? "pass" : "FAIL"}</td><td>${escapeHtml(c.detail)}</td></tr>`,
    )
    .join("");
  return `<table><tr><th>check</th><th>verdict</th><th>detail</th></tr>${rows}</table>`;
}

function violationsList(a: RunArtifacts): string {
  const all = a.summary.details.violations;
  if (all.length === 0) return "";
  const items = all
    .slice(0, 25)
    .map(
      (v) =>
        `<li><code>[${escapeHtml(v.check)}]</code> at ${v.atMs} ms${v.member ? ` on ${escapeHtml(v.member)}` : ""}: ${escapeHtml(v.message)}</li>`,
    )
    .join("");
  const more = all.length > 25 ? `<p>… and ${all.length - 25} more (run.json has all).</p>` : "";
  return `<h2>Violations</h2><ol>${items}</ol>${more}`;
}

function faultsTable(a: RunArtifacts): string {
  const faults = a.summary.details.faults;
  if (faults.length === 0) return `<h2>Faults</h2><p>No faults were injected.</p>`;
  const rows = faults
    .map((w) => {
      const end = w.endMs === undefined ? "end of run" : `${(w.endMs / 1000).toFixed(2)} s`;
      // A membership change's outcome, once it settled.
      const what = w.outcome === undefined ? w.description : `${w.description} \u2192 ${w.outcome}`;
      return `<tr><td><span class="swatch" style="background:${FAULT_COLORS[w.kind]}"></span>${escapeHtml(w.kind)}</td><td>${(w.startMs / 1000).toFixed(2)} s</td><td>${end}</td><td>${escapeHtml(what)}</td></tr>`;
    })
    .join("");
  return `<h2>Faults (${faults.length})</h2><p class="caption">Shaded in every chart below, in these colours.</p><table><tr><th>kind</th><th>start</th><th>end</th><th>what</th></tr>${rows}</table>`;
}

function chartSection(spec: ChartSpec): string {
  return `<h3>${escapeHtml(spec.title)}</h3><p class="caption">${escapeHtml(spec.caption)}</p><canvas id="chart-${spec.id}" width="1200" height="${spec.heightPx}"></canvas>`;
}

function watchSection(a: RunArtifacts): string {
  const verdicts = a.checks.filter((c) => c.check.includes("watch"));
  if (verdicts.length === 0 && a.watch === undefined) return "";
  const table =
    verdicts.length === 0
      ? "<p>No watch check was named in the scenario.</p>"
      : `<table><tr><th>check</th><th>verdict</th><th>detail</th></tr>${verdicts
          .map(
            (c) =>
              `<tr><td>${escapeHtml(c.check)}</td><td class="${verdictClass(c.ok)}">${c.ok ? "pass" : "FAIL"}</td><td>${escapeHtml(c.detail)}</td></tr>`,
          )
          .join("")}</table>`;
  const data = a.watch === undefined ? "" : `<p>${escapeHtml(describeWatch(a.watch))}</p>`;
  return `<h2>Watch</h2>${table}${data}`;
}

/** A one-line description of watch.json's contents, whatever its exact shape. */
function describeWatch(watch: unknown): string {
  if (Array.isArray(watch)) return `watch.json: ${watch.length} entries.`;
  if (typeof watch === "object" && watch !== null) {
    const parts = Object.entries(watch).map(([k, v]) =>
      Array.isArray(v) ? `${k}: ${v.length}` : `${k}`,
    );
    return `watch.json: ${parts.join(", ")}.`;
  }
  return "watch.json: recorded.";
}

function linearizabilitySection(l: LinearizabilityOutcome | undefined): string {
  if (l === undefined) return "";
  if (l.type === "unreadable")
    return `<h2>Linearizability</h2><p class="fail">history.json could not be read: ${escapeHtml(l.message)}</p>`;
  const cls = l.result === "ok" ? "pass" : l.result === "illegal" ? "fail" : "unknown";
  return `<h2>Linearizability: <span class="${cls}">${l.result}</span></h2>
<p class="caption">${l.operations} operations checked against the etcd model; fault windows shaded. <a href="linearizability.html">Open full page</a>.</p>
<iframe src="linearizability.html" title="linearizability"></iframe>`;
}

function pngLine(p: ReportPage): string {
  if (p.pngs.length > 0)
    return `<p class="caption">PNG versions: ${p.pngs.map((f) => `<a href="${f}">${f}</a>`).join(" · ")}</p>`;
  return p.pngNote === undefined ? "" : `<p class="caption">${escapeHtml(p.pngNote)}</p>`;
}

function chartScript(p: ReportPage): string {
  const specs = p.charts.map((c) => ({ id: `chart-${c.id}`, config: c.config }));
  const chartJs = p.chartJs.replaceAll("</script", "<\\/script");
  return `<script>${chartJs}</script>
<script>(function(){Chart.register(${FAULT_WINDOWS_PLUGIN_JS});
var specs=${scriptJson(specs)};
specs.forEach(function(s){new Chart(document.getElementById(s.id),s.config);});})();</script>`;
}

export function reportHtml(p: ReportPage): string {
  const a = p.artifacts;
  const s = a.summary;
  const title = `${s.scenario} seed ${s.seed}`;
  const files = p.files.map((f) => `<a href="${f}">${f}</a>`).join(" · ");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}: ${s.ok ? "PASS" : "FAIL"}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}: <span class="${verdictClass(s.ok)}">${s.ok ? "PASS" : "FAIL"}</span></h1>
<h2>Reproduce</h2><code class="cmd">${escapeHtml(p.reproduce)}</code>
<h2>Checks</h2>${checksTable(a)}
${violationsList(a)}
<h2>Run</h2>${factsTable(a)}
${faultsTable(a)}
<h2>Charts</h2>${pngLine(p)}
${p.charts.map(chartSection).join("\n")}
${watchSection(a)}
${linearizabilitySection(p.linearizability)}
<h2>Scenario</h2><pre>${escapeHtml(a.scenarioText)}</pre>
<h2>Files</h2><p>${files}</p>
${chartScript(p)}
</body></html>
`;
}

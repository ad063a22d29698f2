// Writes a run's report into its run folder: index.html (self-contained), latency.png,
// throughput.png, timeline.png and, for runs with a client history, linearizability.html.
// `detcd-sim run --out` calls it after writeRunDir; `detcd-sim report DIR` calls it on a saved run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { RunArtifacts } from "../run-artifacts.js";
import { reportCharts, type ChartSpec } from "./charts.js";
import { reportHtml } from "./html.js";
import { checkLinearizability, type LinearizabilityOutcome } from "./linearizability.js";

export interface ReportResult {
  readonly indexHtml: string;
  /** PNG files written (absolute paths); empty if they could not be drawn (see pngNote). */
  readonly pngs: readonly string[];
  readonly pngNote: string | undefined;
  readonly linearizability: LinearizabilityOutcome["type"] | undefined;
}

export interface ReportOptions {
  /** Draw the PNGs (default true). Campaigns may skip them for speed. */
  readonly png?: boolean;
}

let chartJsSource: string | undefined;

/** Chart.js's browser bundle, read once from node_modules and inlined into every page. */
function chartJs(): string {
  if (chartJsSource === undefined) {
    const main = createRequire(import.meta.url).resolve("chart.js");
    chartJsSource = readFileSync(join(dirname(main), "chart.umd.min.js"), "utf8");
  }
  return chartJsSource;
}

export function reproduceCommand(dir: string, a: RunArtifacts): string {
  return `detcd-sim replay --scenario ${join(dir, "scenario.yaml")} --seed ${a.summary.seed} --trace-hash ${a.summary.traceHash}`;
}

type PngOutcome = { files: string[]; note: string | undefined };

/** PNG drawing loads a native module; a platform without its binary still gets the HTML report. */
async function writePngs(
  dir: string,
  charts: ReturnType<typeof reportCharts>,
): Promise<PngOutcome> {
  let renderPng: (specs: readonly ChartSpec[]) => Buffer;
  try {
    ({ renderPng } = await import("./png.js"));
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    return { files: [], note: `PNG charts skipped: @napi-rs/canvas could not load (${why}).` };
  }
  const targets: [string, ChartSpec[]][] = [
    ["latency.png", [charts.latency]],
    ["throughput.png", [charts.throughput]],
    ["timeline.png", charts.timeline],
  ];
  for (const [name, specs] of targets) writeFileSync(join(dir, name), renderPng(specs));
  return { files: targets.map(([name]) => name), note: undefined };
}

function linearizabilityOf(dir: string, a: RunArtifacts): LinearizabilityOutcome | undefined {
  if (a.historyJsonLines === undefined) return undefined;
  const title = `${a.summary.scenario} seed ${a.summary.seed}: linearizability`;
  const outcome = checkLinearizability(
    a.historyJsonLines,
    a.summary.details.faults,
    a.summary.virtualMs,
    title,
  );
  if (outcome.type === "checked") writeFileSync(join(dir, "linearizability.html"), outcome.html);
  return outcome;
}

const RAW_FILES = ["summary.json", "scenario.yaml", "run.json", "history.json", "watch.json"];

/** Renders the report of `artifacts` into `dir` (a run folder written by writeRunDir). */
export async function writeReport(
  dir: string,
  artifacts: RunArtifacts,
  options: ReportOptions = {},
): Promise<ReportResult> {
  const charts = reportCharts(artifacts);
  const png =
    options.png === false
      ? { files: [], note: "PNG charts were not drawn for this run." }
      : await writePngs(dir, charts);
  const linearizability = linearizabilityOf(dir, artifacts);
  const indexHtml = join(dir, "index.html");
  const html = reportHtml({
    artifacts,
    reproduce: reproduceCommand(dir, artifacts),
    charts: [charts.latency, charts.throughput, ...charts.timeline],
    chartJs: chartJs(),
    pngs: png.files,
    pngNote: png.note,
    linearizability,
    files: RAW_FILES.filter((f) => existsSync(join(dir, f))),
  });
  writeFileSync(indexHtml, html);
  return {
    indexHtml,
    pngs: png.files.map((f) => join(dir, f)),
    pngNote: png.note,
    linearizability: linearizability?.type,
  };
}

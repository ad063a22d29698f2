// One campaign job, run inside a worker thread (or in-process by tests): load or generate the
// scenario, run it, and for a failing run (or every run with keepAll) write its folder and report.
// Results are plain data, so they cross the thread boundary as structured clones.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeReport } from "../report/render.js";
import { writeRunDir } from "../run-dir.js";
import { runScenario } from "../run-scenario.js";
import { formatScenarioError, parseScenario } from "../scenario.js";
import type { CampaignJob } from "./jobs.js";
import { swarmOptionsFor, swarmScenario } from "./swarm.js";

export interface JobTask {
  readonly job: CampaignJob;
  /** Where failing runs' folders (and swarm scenario files) go; undefined = nowhere. */
  readonly outDir: string | undefined;
  readonly keepAll: boolean;
  /** Draw PNG charts in the reports written. */
  readonly png: boolean;
}

export interface JobResult {
  readonly index: number;
  readonly scenario: string;
  /** The file that replays this run (for swarm runs, the generated scenario file). */
  readonly scenarioFile: string;
  readonly seed: number;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly ops: number;
  readonly violations: number;
  readonly failedChecks: readonly string[];
  readonly firstViolation: string | undefined;
  /** The run folder, if one was written. */
  readonly report: string | null;
}

const texts = new Map<string, string>();

function fileText(file: string): string {
  let text = texts.get(file);
  if (text === undefined) {
    text = readFileSync(file, "utf8");
    texts.set(file, text);
  }
  return text;
}

/** The scenario text of a job and the file that holds it (swarm scenarios are written first). */
function scenarioOf(task: JobTask): { file: string; text: string } {
  const { source, seed } = task.job;
  if (source.type === "file") return { file: source.file, text: fileText(source.file) };
  const { name, text } = swarmScenario(seed, swarmOptionsFor(source.workload, seed));
  const dir = resolve(task.outDir ?? "reports", "swarm");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return { file, text };
}

export async function runJob(task: JobTask): Promise<JobResult> {
  const { file, text } = scenarioOf(task);
  const parsed = parseScenario(text, file);
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  const artifacts = runScenario(parsed.value, task.job.seed, text);
  const s = artifacts.summary;
  let report: string | null = null;
  if (task.outDir !== undefined && (!s.ok || task.keepAll)) {
    report = writeRunDir(task.outDir, artifacts);
    await writeReport(report, artifacts, { png: task.png });
  }
  const first = s.details.violations[0];
  return {
    index: task.job.index,
    scenario: s.scenario,
    scenarioFile: file,
    seed: s.seed,
    ok: s.ok,
    traceHash: s.traceHash,
    events: s.events,
    virtualMs: s.virtualMs,
    wallMs: s.wallMs,
    ops: s.ops,
    violations: s.violations,
    failedChecks: artifacts.checks.filter((c) => !c.ok).map((c) => c.check),
    firstViolation:
      first === undefined ? undefined : `[${first.check}] at ${first.atMs}ms: ${first.message}`,
    report,
  };
}

export default runJob;

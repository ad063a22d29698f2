// One campaign job, run inside a worker thread (or in-process by tests): load or generate the
// scenario, run it, and for a failing run (or every run with keepAll) write its folder and report.
// Results are plain data, so they cross the thread boundary as structured clones.
//
// A worker starts by loading this module, so it imports only what every run needs. A file
// scenario arrives parsed (the campaign parses each file once); the YAML parser, the schema, the
// swarm generator and the report writer are loaded the first time a job needs them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runScenario } from "../run-scenario.js";
import type { ParsedScenario } from "../scenario.js";
import type { CampaignJob } from "./jobs.js";

export interface JobTask {
  readonly job: CampaignJob;
  /** A file job's scenario, parsed once by the campaign; without it the worker reads the file. */
  readonly scenario?: ParsedScenario;
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

/** Files parsed in this thread, for tasks that come without their scenario. */
const parsedFiles = new Map<string, ParsedScenario>();

/** The scenario of a job and the file that replays it (swarm scenarios are written first). */
async function scenarioOf(task: JobTask): Promise<{ file: string; scenario: ParsedScenario }> {
  const { source, seed } = task.job;
  if (source.type === "file") {
    let scenario = task.scenario ?? parsedFiles.get(source.file);
    if (scenario === undefined) {
      const { readScenarioFile } = await import("../scenario.js");
      scenario = readScenarioFile(source.file);
      parsedFiles.set(source.file, scenario);
    }
    return { file: source.file, scenario };
  }
  const { swarmOptionsFor, swarmScenario } = await import("./swarm.js");
  const { name, text } = swarmScenario(seed, swarmOptionsFor(source.workload, seed));
  const dir = resolve(task.outDir ?? "reports", "swarm");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const { parseScenarioOrThrow } = await import("../scenario.js");
  return { file, scenario: parseScenarioOrThrow(text, file) };
}

export async function runJob(task: JobTask): Promise<JobResult> {
  const { file, scenario } = await scenarioOf(task);
  const artifacts = runScenario(scenario.value, task.job.seed, scenario.text);
  const s = artifacts.summary;
  let report: string | null = null;
  if (task.outDir !== undefined && (!s.ok || task.keepAll)) {
    const [{ writeRunDir }, { writeReport }] = await Promise.all([
      import("../run-dir.js"),
      import("../report/render.js"),
    ]);
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

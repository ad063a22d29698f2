// A campaign: many (scenario, seed) runs spread over worker threads. The job list is fixed before
// the first run (jobs.ts), results are reported in completion order to `onResult` and summarized in
// job order, so the summary of a campaign does not depend on which worker was faster.
import { fileURLToPath } from "node:url";
import Tinypool from "tinypool";
import { readScenarioFile, type ParsedScenario } from "../scenario.js";
import { wallNowMs } from "../wall-time.js";
import type { CampaignJob, Shard } from "./jobs.js";
import type { JobResult, JobTask } from "./worker.js";

export interface CampaignOptions {
  readonly jobs: readonly CampaignJob[];
  readonly workers: number;
  readonly shard: Shard;
  readonly outDir: string | undefined;
  readonly keepAll: boolean;
  readonly failFast: boolean;
  /** Draw PNGs in failing runs' reports (default true). */
  readonly png?: boolean;
}

export interface CampaignFailure {
  readonly scenario: string;
  readonly scenarioFile: string;
  readonly seed: number;
  readonly traceHash: string;
  readonly failedChecks: readonly string[];
  readonly firstViolation: string | undefined;
  readonly reproduce: string;
  readonly report: string | null;
}

export interface CampaignSummary {
  readonly runs: number;
  readonly passed: number;
  readonly failed: number;
  /** Jobs not run because --fail-fast stopped the campaign. */
  readonly skipped: number;
  readonly wallMs: number;
  readonly seedsPerMinute: number;
  readonly workers: number;
  readonly shard: string;
  readonly failures: readonly CampaignFailure[];
  /** Every finished run in job order (for JUnit). */
  readonly results: readonly JobResult[];
}

export function reproduceLine(r: JobResult): string {
  return `detcd-sim replay --scenario ${r.scenarioFile} --seed ${r.seed} --trace-hash ${r.traceHash}`;
}

/**
 * The worker module: built into dist/ this file is JavaScript and worker.js runs as is; under tsx
 * (and vitest) it is TypeScript, and worker-tsx.mjs loads worker.ts through tsx in the thread.
 */
function workerFile(): string {
  const typescript = import.meta.url.endsWith(".ts");
  return fileURLToPath(new URL(typescript ? "./worker-tsx.mjs" : "./worker.js", import.meta.url));
}

function failureOf(r: JobResult): CampaignFailure {
  return {
    scenario: r.scenario,
    scenarioFile: r.scenarioFile,
    seed: r.seed,
    traceHash: r.traceHash,
    failedChecks: r.failedChecks,
    firstViolation: r.firstViolation,
    reproduce: reproduceLine(r),
    report: r.report,
  };
}

/** Tasks handed to the pool at once per worker: one running, one queued, so no worker idles. */
const LANES_PER_WORKER = 2;

export async function runCampaign(
  options: CampaignOptions,
  onResult: (r: JobResult, done: number, total: number) => void = () => {},
): Promise<CampaignSummary> {
  const started = wallNowMs();
  const workers = Math.max(1, options.workers);
  // Each scenario file is parsed once, here, and travels with its jobs: workers never parse it.
  const files = new Map<string, ParsedScenario>();
  for (const { source } of options.jobs) {
    if (source.type === "file" && !files.has(source.file))
      files.set(source.file, readScenarioFile(source.file));
  }
  const pool = new Tinypool({
    filename: workerFile(),
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: LANES_PER_WORKER,
  });
  const results: JobResult[] = [];
  const total = options.jobs.length;
  let next = 0;
  let stopped = false;
  // Each lane takes the next job when its last one returns; --fail-fast stops handing out jobs
  // (runs already started finish and are reported).
  const lane = async (): Promise<void> => {
    while (!stopped && next < total) {
      const job = options.jobs[next++] as CampaignJob;
      const task: JobTask = {
        job,
        scenario: job.source.type === "file" ? files.get(job.source.file) : undefined,
        outDir: options.outDir,
        keepAll: options.keepAll,
        png: options.png ?? true,
      };
      const r = (await pool.run(task)) as JobResult;
      results.push(r);
      onResult(r, results.length, total);
      if (!r.ok && options.failFast) stopped = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: workers * LANES_PER_WORKER }, lane));
  } finally {
    await pool.destroy();
  }
  return summarize(options, results, wallNowMs() - started, workers);
}

function summarize(
  options: CampaignOptions,
  unordered: readonly JobResult[],
  wallMs: number,
  workers: number,
): CampaignSummary {
  const results = [...unordered].sort((a, b) => a.index - b.index);
  const failures = results.filter((r) => !r.ok).map(failureOf);
  return {
    runs: results.length,
    passed: results.length - failures.length,
    failed: failures.length,
    skipped: options.jobs.length - results.length,
    wallMs: Math.round(wallMs),
    seedsPerMinute: wallMs > 0 ? Math.round((results.length / wallMs) * 60_000) : 0,
    workers,
    shard: `${options.shard.index}/${options.shard.count}`,
    failures,
    results,
  };
}

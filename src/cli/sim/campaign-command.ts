// detcd-sim campaign: many runs over worker threads, from scenario files (--scenarios GLOB) or
// generated per seed (--swarm). Prints a progress bar on stderr, every failing seed with its
// reproduction command, seeds per minute, and optionally a JSON line and JUnit XML.
// Exit codes: 0 = every run passed, 1 = a run failed, 2 = bad input.
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { runCampaign, type CampaignSummary } from "../../../sim/campaign/campaign.js";
import { expandGlob } from "../../../sim/campaign/glob.js";
import {
  parseShard,
  planJobs,
  SWARM_WORKLOADS,
  type ScenarioSource,
  type SwarmWorkload,
} from "../../../sim/campaign/jobs.js";
import { junitXml } from "../../../sim/campaign/junit.js";
import { writeCampaignPage } from "../../../sim/campaign/campaign-page.js";
import type { JobResult } from "../../../sim/campaign/worker.js";
import { BadInputError, loadScenarioFile, parseSeed } from "./scenario-file.js";

interface CampaignArgs {
  scenarios?: string[];
  swarm: boolean;
  "swarm-workload": string;
  seeds: string;
  "first-seed": string;
  workers?: string;
  shard: string;
  out: string;
  json: boolean;
  junit?: string;
  "fail-fast": boolean;
  "keep-all": boolean;
  png: boolean;
}

/** Every scenario file the patterns name, validated up front so a typo fails before any run. */
function scenarioSources(patterns: readonly string[]): ScenarioSource[] {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const matched = expandGlob(pattern);
    if (matched.length === 0) throw new BadInputError(`--scenarios ${pattern}: no file matches`);
    matched.forEach((f) => files.add(f));
  }
  const sorted = [...files].sort();
  sorted.forEach((f) => loadScenarioFile(f));
  return sorted.map((file) => ({ type: "file", file }));
}

function sourcesOf(args: CampaignArgs): ScenarioSource[] {
  const given = args.scenarios ?? [];
  if (args.swarm === given.length > 0)
    throw new BadInputError("give either --scenarios GLOB or --swarm (exactly one)");
  if (!args.swarm) return scenarioSources(given);
  const workload = args["swarm-workload"];
  if (!SWARM_WORKLOADS.includes(workload as SwarmWorkload)) {
    throw new BadInputError(
      `--swarm-workload must be one of ${SWARM_WORKLOADS.join(", ")} (got ${JSON.stringify(workload)})`,
    );
  }
  return [{ type: "swarm", workload: workload as SwarmWorkload }];
}

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = parseSeed(value, flag);
  if (n < 1) throw new BadInputError(`${flag} must be at least 1 (got ${value})`);
  return n;
}

/** A progress bar redrawn in place on a terminal; on a pipe, one line per tenth of the jobs. */
function progress(total: number, startedMs: number): (r: JobResult, done: number) => void {
  const tty = process.stderr.isTTY === true;
  let failed = 0;
  let lastTenth = 0;
  return (r, done) => {
    if (!r.ok) {
      failed += 1;
      if (tty) process.stderr.write("\r\x1b[K");
      process.stderr.write(
        `FAIL ${r.scenario} seed ${r.seed}: ${r.firstViolation ?? "check failed"}\n`,
      );
    }
    const perMin = Math.round((done / Math.max(1, Date.now() - startedMs)) * 60_000);
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}  ${failed} failed  ${perMin} seeds/min`;
    if (tty) process.stderr.write(`\r\x1b[K${line}${done === total ? "\n" : ""}`);
    else if (Math.floor((done * 10) / total) > lastTenth || done === total) {
      lastTenth = Math.floor((done * 10) / total);
      process.stderr.write(`${line}\n`);
    }
  };
}

function printSummary(s: CampaignSummary): void {
  console.log(
    `campaign   ${s.runs} runs: ${s.passed} passed, ${s.failed} failed${s.skipped > 0 ? `, ${s.skipped} not run (--fail-fast)` : ""} (shard ${s.shard}, ${s.workers} workers)`,
  );
  console.log(`wall       ${(s.wallMs / 1000).toFixed(1)} s   ${s.seedsPerMinute} seeds/min`);
  for (const f of s.failures) {
    console.log(`FAIL       ${f.scenario} seed ${f.seed}: ${f.failedChecks.join(", ")}`);
    if (f.firstViolation !== undefined) console.log(`  first    ${f.firstViolation}`);
    console.log(`  reproduce  ${f.reproduce}`);
    if (f.report !== null) console.log(`  report   ${join(f.report, "index.html")}`);
  }
  console.log(`result     ${s.failed === 0 ? "PASS" : "FAIL"}`);
}

async function execute(args: CampaignArgs): Promise<void> {
  const sources = sourcesOf(args);
  const seeds = positive(args.seeds, "--seeds", 1);
  const firstSeed = parseSeed(args["first-seed"], "--first-seed");
  const workers = positive(args.workers, "--workers", availableParallelism());
  const shard = parseShard(args.shard);
  if (shard === undefined)
    throw new BadInputError(
      `--shard must be I/N with 1 <= I <= N (got ${JSON.stringify(args.shard)})`,
    );
  const jobs = planJobs(sources, firstSeed, seeds, shard);
  const summary = await runCampaign(
    {
      jobs,
      workers,
      shard,
      outDir: args.out,
      keepAll: args["keep-all"],
      failFast: args["fail-fast"],
      png: args.png,
    },
    progress(Math.max(1, jobs.length), Date.now()),
  );
  printSummary(summary);
  console.log(`summary    ${writeCampaignPage(args.out, summary)}`);
  if (args.junit !== undefined) {
    writeFileSync(args.junit, junitXml(summary));
    console.log(`junit      ${args.junit}`);
  }
  if (args.json) {
    const { results: _results, ...line } = summary;
    console.log(JSON.stringify({ ...line, ok: summary.failed === 0 }));
  }
  process.exitCode = summary.failed === 0 ? 0 : 1;
}

export const campaignCommand: CommandModule<object, CampaignArgs> = {
  command: "campaign",
  describe:
    "run many seeds over worker threads (exit 0 = all passed, 1 = a run failed, 2 = bad input)",
  builder: (y: Argv<object>) =>
    y
      .option("scenarios", {
        type: "string",
        array: true,
        describe: "scenario files or globs (scenarios/*.yaml)",
      })
      .option("swarm", {
        type: "boolean",
        default: false,
        describe: "generate a random fault mix per seed; each scenario is written under OUT/swarm/",
      })
      .option("swarm-workload", {
        type: "string",
        default: "raft",
        describe:
          "what swarm scenarios run: raft (Raft alone), kv (the etcd member), mixed (per seed)",
      })
      .option("seeds", { type: "string", demandOption: true, describe: "seeds per scenario" })
      .option("first-seed", { type: "string", default: "1", describe: "the first seed" })
      .option("workers", { type: "string", describe: "worker threads (default: available CPUs)" })
      .option("shard", {
        type: "string",
        default: "1/1",
        describe: "run shard I of N of the (scenario, seed) list",
      })
      .option("out", {
        type: "string",
        default: "reports",
        describe: "folder for failing runs' reports (and swarm scenarios)",
      })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "end with one JSON line of the summary",
      })
      .option("junit", { type: "string", describe: "write JUnit XML here (one testcase per run)" })
      .option("fail-fast", {
        type: "boolean",
        default: false,
        describe: "stop handing out runs after the first failure",
      })
      .option("keep-all", {
        type: "boolean",
        default: false,
        describe: "write every run's folder and report, not only failing ones",
      })
      .option("png", {
        type: "boolean",
        default: true,
        describe: "draw PNG charts in reports (--no-png to skip)",
      }) as unknown as Argv<CampaignArgs>,
  handler: execute,
};

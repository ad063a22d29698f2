// detcd-sim run / replay: one simulation run from a scenario file and a seed.
import { join } from "node:path";
import type { ArgumentsCamelCase, Argv, CommandModule } from "yargs";
import type { CheckVerdict } from "../../../sim/run-artifacts.js";
import { writeReport } from "../../../sim/report/render.js";
import { writeRunDir } from "../../../sim/run-dir.js";
import { runScenario } from "../../../sim/run-scenario.js";
import type { RunSummary } from "../../../sim/run-summary.js";
import { BadInputError, loadScenarioFile, parseSeed } from "./scenario-file.js";

interface RunArgs {
  scenario: string;
  seed: string;
  out?: string;
  json: boolean;
  "trace-hash"?: string;
}

function options(y: Argv): Argv<RunArgs> {
  return y
    .option("scenario", { type: "string", demandOption: true, describe: "scenario file (YAML)" })
    .option("seed", {
      type: "string",
      demandOption: true,
      describe: "the run's seed (integer >= 0)",
    })
    .option("out", {
      type: "string",
      describe:
        "write the run folder and its report (index.html, PNG charts) under DIR/<scenario>-<seed>/",
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "end with one JSON line of the summary",
    })
    .option("trace-hash", {
      type: "string",
      describe: "replay: the trace hash the run must reproduce",
    });
}

function printHuman(s: RunSummary, checks: readonly CheckVerdict[], scenarioFile: string): void {
  const ratio = s.wallMs > 0 ? Math.round(s.virtualMs / s.wallMs) : Infinity;
  console.log(`scenario   ${s.scenario}`);
  console.log(`seed       ${s.seed}`);
  console.log(`trace hash ${s.traceHash}`);
  console.log(`events     ${s.events}`);
  console.log(
    `virtual    ${(s.virtualMs / 1000).toFixed(1)} s   wall ${(s.wallMs / 1000).toFixed(2)} s   (${ratio}x)`,
  );
  console.log(
    `ops        ${s.ops} (${s.details.committedOps} writes committed, ${s.details.answeredReads} reads answered)`,
  );
  console.log(`faults     ${s.details.faults.length}`);
  for (const c of checks)
    console.log(`check      ${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.detail}`);
  console.log(`violations ${s.violations}`);
  for (const v of s.details.violations.slice(0, 10)) {
    console.log(
      `  - [${v.check}] at ${v.atMs}ms${v.member ? ` on ${v.member}` : ""}: ${v.message}`,
    );
  }
  if (s.report !== null) console.log(`report     ${join(s.report, "index.html")}`);
  console.log(`result     ${s.ok ? "PASS" : "FAIL"}`);
  console.log(
    `reproduce  detcd-sim replay --scenario ${scenarioFile} --seed ${s.seed} --trace-hash ${s.traceHash}`,
  );
}

async function execute(args: ArgumentsCamelCase<RunArgs>, replay: boolean): Promise<void> {
  const seed = parseSeed(args.seed);
  const { scenario, text } = loadScenarioFile(args.scenario);
  const expected = args["trace-hash"];
  if (expected !== undefined && !/^[0-9a-f]{16}$/.test(expected)) {
    throw new BadInputError(`--trace-hash must be 16 hex digits (got ${JSON.stringify(expected)})`);
  }
  const artifacts = runScenario(scenario, seed, text);
  let summary = artifacts.summary;
  if (args.out !== undefined) {
    const dir = writeRunDir(args.out, artifacts);
    const report = await writeReport(dir, artifacts);
    if (report.pngNote !== undefined) console.error(`detcd-sim: ${report.pngNote}`);
    summary = { ...summary, report: dir };
  }
  printHuman(summary, artifacts.checks, args.scenario);
  const mismatch = expected !== undefined && expected !== summary.traceHash;
  if (mismatch)
    console.log(`replay     trace hash differs: expected ${expected}, got ${summary.traceHash}`);
  else if (replay && expected !== undefined) console.log("replay     trace hash matches");
  if (args.json) {
    const { details: _details, ...line } = summary;
    console.log(
      JSON.stringify({
        ...line,
        ...(expected !== undefined ? { traceHashMatches: !mismatch } : {}),
      }),
    );
  }
  process.exitCode = summary.ok && !mismatch ? 0 : 1;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: "run",
  describe: "run one simulation (exit 0 = all checks passed, 1 = a check failed, 2 = bad input)",
  builder: options,
  handler: (args) => execute(args, false),
};

export const replayCommand: CommandModule<object, RunArgs> = {
  command: "replay",
  describe: "re-run a seed; with --trace-hash, fail unless the run reproduces it exactly",
  builder: options,
  handler: (args) => execute(args, true),
};

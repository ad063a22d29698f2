// detcd-sim shrink: minimizes a failing run into a smaller scenario file that still fails with the
// same seed (fewer faults, a shorter fault phase, fewer members, a lighter workload).
// Exit codes: 0 = a shrunk failing scenario was written, 1 = the run does not fail (nothing to
// shrink), 2 = bad input.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { parseDurationMs } from "../../../sim/duration.js";
import { shrinkScenario, type ScenarioSize } from "../../../sim/shrink/shrink.js";
import { BadInputError, parseSeed } from "./scenario-file.js";

interface ShrinkArgs {
  scenario: string;
  seed: string;
  out?: string;
  "time-limit": string;
  json: boolean;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new BadInputError(
      `${file}: cannot read scenario (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

function describeSize(s: ScenarioSize): string {
  const workload = Object.entries(s.workload).map(([k, v]) => `${k} ${v}`);
  const network = Object.entries(s.network).map(([k, v]) => `${k} ${v}`);
  return [
    `${s.faults} faults`,
    `duration ${s.durationMs} ms`,
    `${s.members} members`,
    ...workload,
    network.length > 0 ? `network ${network.join(", ")}` : "clean network",
  ].join(", ");
}

function execute(args: ShrinkArgs): void {
  const seed = parseSeed(args.seed);
  const timeLimitMs = parseDurationMs(args["time-limit"]);
  if (timeLimitMs === undefined || timeLimitMs <= 0)
    throw new BadInputError(
      `--time-limit must be a duration like 60s (got ${JSON.stringify(args["time-limit"])})`,
    );
  const text = readText(args.scenario);
  let lastProgress = 0;
  const outcome = shrinkScenario(text, args.scenario, {
    seed,
    timeLimitMs,
    onRun: (_fails, runs) => {
      if (runs - lastProgress >= 10) {
        lastProgress = runs;
        process.stderr.write(`shrinking: ${runs} runs\n`);
      }
    },
  });
  if (outcome.type === "invalid") throw new BadInputError(outcome.message);
  if (outcome.type === "passes") {
    console.log(`${args.scenario} seed ${seed} passes every check: nothing to shrink`);
    if (args.json) console.log(JSON.stringify({ result: "passes", scenario: args.scenario, seed }));
    process.exitCode = 1;
    return;
  }
  const base = args.scenario.replace(/\.ya?ml$/, "");
  const out = args.out ?? join("reports", `${base.split("/").at(-1)}-${seed}-shrunk.yaml`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outcome.text);
  console.log(`original   ${describeSize(outcome.original)}`);
  console.log(`shrunk     ${describeSize(outcome.shrunk)}`);
  console.log(
    `still fails ${outcome.failedChecks.join(", ")} (${outcome.runs} runs${outcome.interrupted ? ", stopped at the time limit" : ""})`,
  );
  console.log(`written    ${out}`);
  console.log(
    `reproduce  detcd-sim replay --scenario ${out} --seed ${seed} --trace-hash ${outcome.traceHash}`,
  );
  if (args.json) {
    const { text: _text, ...line } = outcome;
    console.log(JSON.stringify({ result: "shrunk", out, seed, ...line }));
  }
  process.exitCode = 0;
}

export const shrinkCommand: CommandModule<object, ShrinkArgs> = {
  command: "shrink",
  describe:
    "minimize a failing run into a smaller scenario that still fails (exit 0 = written, 1 = the run passes, 2 = bad input)",
  builder: (y: Argv<object>) =>
    y
      .option("scenario", {
        type: "string",
        demandOption: true,
        describe: "the failing scenario file",
      })
      .option("seed", {
        type: "string",
        demandOption: true,
        describe: "the failing seed (kept fixed)",
      })
      .option("out", {
        type: "string",
        describe: "where to write the shrunk scenario (default reports/<name>-<seed>-shrunk.yaml)",
      })
      .option("time-limit", {
        type: "string",
        default: "60s",
        describe: "stop shrinking after this long, keeping the smallest failure found",
      })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "end with one JSON line",
      }) as unknown as Argv<ShrinkArgs>,
  handler: execute,
};

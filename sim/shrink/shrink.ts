// Shrinking a failing run: the seed stays fixed and the scenario gets smaller. A fast-check
// arbitrary describes the reductions of the original scenario (which faults to keep, a shorter
// fault phase, fewer members, a lighter workload, a cleaner base network); the property "the run
// passes" is checked first on the original (given as fast-check's example), and fast-check's
// shrinker then walks the reductions toward the smallest one that still fails.
//
// "Still fails" means one of the checks that failed originally fails again, so a shrink cannot
// wander off to a different failure. Reductions that are not valid scenarios (a fault aimed at a
// member that no longer exists) count as passing, so they are never kept.
import fc from "fast-check";
import { parseDurationMs } from "../duration.js";
import type { RunArtifacts } from "../run-artifacts.js";
import { runScenario } from "../run-scenario.js";
import type { ScenarioInput } from "../scenario-schema.js";
import { durationText, scenarioObject, scenarioToYaml } from "../scenario-yaml.js";
import { formatScenarioError, parseScenario } from "../scenario.js";

type FaultInput = NonNullable<ScenarioInput["faults"]>[number];

/** The size of a scenario as shrinking sees it. */
export interface ScenarioSize {
  readonly faults: number;
  readonly durationMs: number;
  readonly members: number;
  readonly workload: Readonly<Record<string, number>>;
  readonly network: Readonly<Record<string, number>>;
}

export interface ShrinkOptions {
  readonly seed: number;
  /** Stop shrinking after this long and keep the smallest failure so far (default 60 s). */
  readonly timeLimitMs?: number;
  /** Called after every candidate run. */
  readonly onRun?: (fails: boolean, runs: number) => void;
}

export type ShrinkOutcome =
  | { readonly type: "invalid"; readonly message: string }
  /** The original run passes: there is nothing to shrink. */
  | { readonly type: "passes" }
  | {
      readonly type: "shrunk";
      readonly text: string;
      readonly original: ScenarioSize;
      readonly shrunk: ScenarioSize;
      readonly failedChecks: readonly string[];
      readonly runs: number;
      /** The time limit ended shrinking early: smaller failing scenarios may exist. */
      readonly interrupted: boolean;
      readonly traceHash: string;
    };

/** Workload numbers shrinking may lower, with the smallest value each may take. */
const WORKLOAD_FLOORS: Readonly<Record<string, number>> = {
  "rate-per-s": 1,
  clients: 1,
  keys: 1,
  watchers: 0,
};
/** Base-network faults shrinking may switch off. */
const NETWORK_FAULTS = ["loss", "duplicate", "reorder"] as const;
const MIN_DURATION_MS = 1000;

interface Reduction {
  readonly keepFaults: readonly boolean[];
  readonly durationMs: number;
  readonly members: number;
  readonly workload: Readonly<Record<string, number>>;
  readonly keepNetwork: readonly boolean[];
}

function sizeOf(input: ScenarioInput): ScenarioSize {
  const workload: Record<string, number> = {};
  for (const key of Object.keys(WORKLOAD_FLOORS)) {
    const v = (input.workload as Record<string, unknown>)[key];
    if (typeof v === "number") workload[key] = v;
  }
  const network: Record<string, number> = {};
  for (const key of NETWORK_FAULTS) {
    const v = input.network?.[key];
    if (typeof v === "number" && v > 0) network[key] = v;
  }
  return {
    faults: input.faults?.length ?? 0,
    durationMs: parseDurationMs(input.duration) ?? 0,
    members: input.cluster.members,
    workload,
    network,
  };
}

/** Reductions of `size`; each part shrinks toward less (false = drop, integers toward floor). */
function reductionArbitrary(size: ScenarioSize): fc.Arbitrary<Reduction> {
  const workload = Object.fromEntries(
    Object.entries(size.workload).map(([key, value]) => {
      const floor = Math.min(WORKLOAD_FLOORS[key] ?? 1, Math.floor(value));
      return [key, fc.integer({ min: floor, max: Math.max(floor, Math.floor(value)) })];
    }),
  );
  return fc.record({
    keepFaults: fc.tuple(...Array.from({ length: size.faults }, () => fc.boolean())),
    durationMs: fc.integer({
      min: Math.min(MIN_DURATION_MS, size.durationMs),
      max: size.durationMs,
    }),
    members: fc.integer({ min: 1, max: size.members }),
    workload: fc.record(workload),
    keepNetwork: fc.tuple(...NETWORK_FAULTS.map(() => fc.boolean())),
  });
}

/** The reduction that changes nothing: the original scenario. */
function identity(size: ScenarioSize): Reduction {
  return {
    keepFaults: Array.from({ length: size.faults }, () => true),
    durationMs: size.durationMs,
    members: size.members,
    workload: Object.fromEntries(
      Object.entries(size.workload).map(([k, v]) => [k, Math.max(Math.floor(v), 0)]),
    ),
    keepNetwork: NETWORK_FAULTS.map(() => true),
  };
}

function startsBefore(fault: FaultInput, durationMs: number): boolean {
  return (parseDurationMs(fault.at) ?? 0) < durationMs;
}

function applyReduction(input: ScenarioInput, size: ScenarioSize, r: Reduction): ScenarioInput {
  const faults = (input.faults ?? []).filter(
    (f, i) => r.keepFaults[i] === true && startsBefore(f, r.durationMs),
  );
  const network = { ...input.network };
  NETWORK_FAULTS.forEach((key, i) => {
    if (!r.keepNetwork[i] && size.network[key] !== undefined) network[key] = 0;
  });
  // Integers are kept as given when unchanged, so a fractional rate is not rounded for nothing.
  const workload = { ...input.workload } as Record<string, unknown>;
  for (const [key, value] of Object.entries(r.workload)) {
    if (value !== Math.floor(size.workload[key] ?? value)) workload[key] = value;
  }
  return {
    ...input,
    cluster: { ...input.cluster, members: r.members },
    duration: r.durationMs === size.durationMs ? input.duration : durationText(r.durationMs),
    ...(input.network === undefined ? {} : { network }),
    workload: workload as ScenarioInput["workload"],
    faults,
  };
}

function failedChecks(a: RunArtifacts): string[] {
  return a.checks.filter((c) => !c.ok).map((c) => c.check);
}

interface Candidate {
  readonly input: ScenarioInput;
  readonly artifacts: RunArtifacts;
}

/** Shrinks the failing run of `text` with `options.seed`; see the file comment. */
export function shrinkScenario(text: string, file: string, options: ShrinkOptions): ShrinkOutcome {
  const parsed = parseScenario(text, file);
  if (!parsed.ok) return { type: "invalid", message: formatScenarioError(parsed.error) };
  const input = scenarioObject(text);
  if (input === undefined) return { type: "invalid", message: `${file}: not a YAML mapping` };
  const original = runScenario(parsed.value, options.seed, text);
  const target = failedChecks(original);
  if (target.length === 0) return { type: "passes" };

  const size = sizeOf(input);
  let best: Candidate = { input, artifacts: original };
  let runs = 1;
  const property = fc.property(reductionArbitrary(size), (r) => {
    const candidate = applyReduction(input, size, r);
    const candidateText = scenarioToYaml(candidate);
    const p = parseScenario(candidateText, file);
    if (!p.ok) return true;
    const artifacts = runScenario(p.value, options.seed, candidateText);
    runs += 1;
    const fails = failedChecks(artifacts).some((c) => target.includes(c));
    options.onRun?.(fails, runs);
    // fast-check only moves to smaller failing values, so the latest failure is the smallest.
    if (fails) best = { input: candidate, artifacts };
    return !fails;
  });
  const result = fc.check(property, {
    examples: [[identity(size)]],
    numRuns: 1,
    interruptAfterTimeLimit: options.timeLimitMs ?? 60_000,
  });
  return shrunkOutcome(best, file, options.seed, size, runs, result.interrupted);
}

/** Runs the final scenario text once more: its trace hash is what the written file replays. */
function finalRun(text: string, file: string, seed: number): RunArtifacts {
  const parsed = parseScenario(text, file);
  if (!parsed.ok)
    throw new Error(`shrink wrote an invalid scenario: ${formatScenarioError(parsed.error)}`);
  return runScenario(parsed.value, seed, text);
}

function shrunkOutcome(
  best: Candidate,
  file: string,
  seed: number,
  size: ScenarioSize,
  runs: number,
  interrupted: boolean,
): ShrinkOutcome {
  const name = best.input.name.endsWith("-shrunk") ? best.input.name : `${best.input.name}-shrunk`;
  const input = { ...best.input, name };
  const final = finalRun(scenarioToYaml(input), file, seed);
  const shrunk = sizeOf(input);
  const comment = [
    `Shrunk by detcd-sim shrink from ${file} with seed ${seed} (${runs} runs); it still fails: ${failedChecks(final).join(", ")}.`,
    `faults ${size.faults} -> ${shrunk.faults}, duration ${durationText(size.durationMs)} -> ${durationText(shrunk.durationMs)}, members ${size.members} -> ${shrunk.members}`,
    `Replay: detcd-sim replay --scenario <this file> --seed ${seed} --trace-hash ${final.summary.traceHash}`,
  ].join("\n");
  return {
    type: "shrunk",
    text: scenarioToYaml(input, comment),
    original: size,
    shrunk,
    failedChecks: failedChecks(final),
    runs,
    interrupted,
    traceHash: final.summary.traceHash,
  };
}

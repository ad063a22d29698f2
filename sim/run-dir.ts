// A run's folder: reports/<scenario>-<seed>/ with summary.json, scenario.yaml, run.json (all the
// artifacts, from which `detcd-sim report DIR` rebuilds the report), and for KV runs history.json
// (JSON Lines, for `detcd-sim check --format history`) and watch.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RunArtifacts } from "./run-artifacts.js";

export function runDirName(a: RunArtifacts): string {
  return `${a.summary.scenario}-${a.summary.seed}`;
}

/** Writes the run's files under `outDir` and returns the run folder's absolute path. */
export function writeRunDir(outDir: string, artifacts: RunArtifacts): string {
  const dir = resolve(join(outDir, runDirName(artifacts)));
  mkdirSync(dir, { recursive: true });
  const withReport: RunArtifacts = { ...artifacts, summary: { ...artifacts.summary, report: dir } };
  writeFileSync(join(dir, "summary.json"), JSON.stringify(withReport.summary, null, 2) + "\n");
  writeFileSync(join(dir, "scenario.yaml"), artifacts.scenarioText);
  writeFileSync(join(dir, "run.json"), JSON.stringify(withReport) + "\n");
  if (artifacts.historyJsonLines !== undefined)
    writeFileSync(join(dir, "history.json"), artifacts.historyJsonLines);
  if (artifacts.watch !== undefined)
    writeFileSync(join(dir, "watch.json"), JSON.stringify(artifacts.watch) + "\n");
  return dir;
}

/** Reads a run folder written by writeRunDir; throws with the path named if it is not one. */
export function readRunDir(dir: string): RunArtifacts {
  const file = join(dir, "run.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`${file}: not found: is ${dir} a run folder written by detcd-sim run --out?`);
  }
  try {
    return JSON.parse(text) as RunArtifacts;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

// Linearizability checker benchmark: every shared history (../shared/data/porcupine) with its
// usual model (the kv logs partitioned per key), then kv c10-ok and c10-bad without partitioning.
// Parsing is excluded from the times. Each figure is measured on the first (cold) pass and as the
// best of three passes; the reference is Go Porcupine's time on the same histories.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  casRegisterModel,
  check,
  kvModel,
  makeKvStoreModel,
  parseJepsenLog,
  parsePorcupineKv,
  type AnyModel,
  type Operation,
} from "../src/porcupine/index.js";
import { emit } from "./emit.js";

const DATA = "/work/shared/data/porcupine";

interface Case {
  readonly file: string;
  readonly expected: "ok" | "illegal";
  readonly model: AnyModel<unknown, unknown, unknown>;
  readonly operations: readonly Operation<unknown, unknown>[];
}

const erase = <S, I, O>(m: AnyModel<S, I, O>) =>
  m as unknown as AnyModel<unknown, unknown, unknown>;

function load(file: string, expected: "ok" | "illegal"): Case {
  const text = readFileSync(join(DATA, file), "utf8");
  const parsed = file.startsWith("jepsen/") ? parseJepsenLog(text) : parsePorcupineKv(text);
  if (!parsed.ok) throw new Error(`${file}:${parsed.error.line}: ${parsed.error.message}`);
  const model = file.startsWith("jepsen/") ? erase(casRegisterModel) : erase(kvModel);
  return {
    file,
    expected,
    model,
    operations: parsed.value as readonly Operation<unknown, unknown>[],
  };
}

function timed(c: Case, model = c.model, noPartition = false): number {
  const started = performance.now();
  const report = check(model, c.operations, { noPartition });
  const ms = performance.now() - started;
  if (report.result !== c.expected)
    throw new Error(`${c.file}: ${report.result}, expected ${c.expected}`);
  return ms;
}

function sharedPass(cases: readonly Case[]): {
  totalMs: number;
  slowest: string;
  slowestMs: number;
} {
  let totalMs = 0;
  let slowest = "";
  let slowestMs = -1;
  for (const c of cases) {
    const ms = timed(c);
    totalMs += ms;
    if (ms > slowestMs) [slowest, slowestMs] = [c.file, ms];
  }
  return { totalMs, slowest, slowestMs };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export default function bench(): void {
  const cases = readFileSync(join(DATA, "expected.tsv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const [file, linearizable] = line.split("\t");
      return load(file ?? "", linearizable === "true" ? "ok" : "illegal");
    });
  const passes = [sharedPass(cases), sharedPass(cases), sharedPass(cases)];
  const cold = passes[0] as ReturnType<typeof sharedPass>;
  const best = passes.reduce((a, b) => (b.totalMs < a.totalMs ? b : a));
  emit("porcupine", {
    figure: "shared-histories",
    histories: cases.length,
    operations: cases.reduce((n, c) => n + c.operations.length, 0),
    coldMs: round(cold.totalMs),
    bestOf3Ms: round(best.totalMs),
    slowest: cold.slowest,
    slowestMs: round(cold.slowestMs),
  });
  for (const name of ["kv/c10-ok.txt", "kv/c10-bad.txt"]) {
    const c = cases.find((x) => x.file === name);
    if (c === undefined) throw new Error(`missing ${name}`);
    const runs = [0, 1, 2].map(() => timed(c, erase(makeKvStoreModel()), true));
    emit("porcupine", {
      figure: `${name.replace("kv/", "").replace(".txt", "")}-unpartitioned`,
      operations: c.operations.length,
      result: c.expected,
      coldMs: round(runs[0] as number),
      bestOf3Ms: round(Math.min(...runs)),
      goPorcupineMs: name.includes("ok") ? 2900 : 2200,
    });
  }
}

// `detcd-sim check`: checks a recorded history for linearizability with src/porcupine.
// Exit codes: 0 = linearizable, 1 = not linearizable, 2 = bad input, 3 = unknown (timeout or
// search-cache limit). With --json the last line of output is one JSON object.
import { readFileSync, writeFileSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import {
  casRegisterModel,
  check,
  etcdModel,
  formatParseError,
  kvModel,
  parseHistoryJson,
  parseJepsenLog,
  parsePorcupineKv,
  resolveUnknownWrites,
  visualize,
  type Annotation,
  type AnyModel,
  type CheckReport,
  type Operation,
  type ParseResult,
} from "../../porcupine/index.js";

const FORMATS = ["jepsen", "porcupine-kv", "history"] as const;
type Format = (typeof FORMATS)[number];

interface CheckArgs {
  file: string;
  format: Format;
  json: boolean;
  html: string | undefined;
  "timeout-ms": number | undefined;
}

export const EXIT_OK = 0;
export const EXIT_ILLEGAL = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNKNOWN = 3;

/** A parsed history with the model that checks it; type parameters erased for the CLI. */
interface Loaded {
  readonly model: AnyModel<unknown, unknown, unknown>;
  readonly operations: readonly Operation<unknown, unknown>[];
  readonly annotations: readonly Annotation[];
}

function load(format: Format, text: string): ParseResult<Loaded> {
  const erase = <S, I, O>(m: AnyModel<S, I, O>) =>
    m as unknown as AnyModel<unknown, unknown, unknown>;
  switch (format) {
    case "jepsen": {
      const parsed = parseJepsenLog(text);
      return parsed.ok
        ? {
            ok: true,
            value: { model: erase(casRegisterModel), operations: parsed.value, annotations: [] },
          }
        : parsed;
    }
    case "porcupine-kv": {
      const parsed = parsePorcupineKv(text);
      return parsed.ok
        ? { ok: true, value: { model: erase(kvModel), operations: parsed.value, annotations: [] } }
        : parsed;
    }
    case "history": {
      const parsed = parseHistoryJson(text);
      if (!parsed.ok) return parsed;
      // Unknown writes that a later response proves applied are resolved before the search.
      const operations = resolveUnknownWrites(parsed.value.operations);
      return {
        ok: true,
        value: { model: erase(etcdModel), operations, annotations: parsed.value.annotations },
      };
    }
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

function exitCodeOf(result: CheckReport<unknown, unknown>["result"]): number {
  switch (result) {
    case "ok":
      return EXIT_OK;
    case "illegal":
      return EXIT_ILLEGAL;
    case "unknown":
      return EXIT_UNKNOWN;
    default: {
      const never: never = result;
      throw new Error(`unknown result ${String(never)}`);
    }
  }
}

function badInput(message: string): void {
  console.error(`detcd-sim: ${message}`);
  process.exitCode = EXIT_BAD_INPUT;
}

function describeFailures(loaded: Loaded, report: CheckReport<unknown, unknown>): string[] {
  return report.partitions.flatMap((p, i) => {
    if (p.result !== "illegal" || p.stuck === undefined) return [];
    const op = p.operations[p.stuck] as Operation<unknown, unknown>;
    const output = op.return === undefined ? undefined : op.output;
    const text = loaded.model.describeOperation?.(op.input, output) ?? JSON.stringify(op.input);
    return [
      `  partition ${i + 1}: ${p.linearization.length} of ${p.operations.length} operations linearized; cannot linearize client ${op.clientId}: ${text} (call ${op.call})`,
    ];
  });
}

function run(argv: CheckArgs): void {
  let text: string;
  try {
    text = readFileSync(argv.file, "utf8");
  } catch (e) {
    badInput(`${argv.file}: cannot read: ${(e as Error).message}`);
    return;
  }
  const loaded = load(argv.format, text);
  if (!loaded.ok) {
    badInput(formatParseError({ ...loaded.error, file: argv.file }));
    return;
  }
  const timeoutMs = argv["timeout-ms"];
  const started = performance.now();
  const report = check(loaded.value.model, loaded.value.operations, {
    ...(timeoutMs !== undefined ? { timeoutMs, now: () => performance.now() } : {}),
  });
  const ms = performance.now() - started;
  if (argv.html !== undefined) {
    writeFileSync(
      argv.html,
      visualize(loaded.value.model, report, {
        title: argv.file,
        annotations: loaded.value.annotations,
      }),
    );
  }
  const steps = report.partitions.reduce((sum, p) => sum + p.steps, 0);
  if (argv.json) {
    console.log(
      JSON.stringify({
        result: report.result,
        ms: Math.round(ms * 1000) / 1000,
        operations: loaded.value.operations.length,
        partitions: report.partitions.length + report.skippedPartitions,
        illegalPartitions: report.partitions.filter((p) => p.result === "illegal").length,
        ...(report.unknownReason ? { unknownReason: report.unknownReason } : {}),
        steps,
        file: argv.file,
        format: argv.format,
        ...(argv.html !== undefined ? { html: argv.html } : {}),
      }),
    );
  } else {
    const why = report.unknownReason ? ` (${report.unknownReason})` : "";
    console.log(
      `${argv.file}: ${report.result}${why} — ${loaded.value.operations.length} operations, ${report.partitions.length} partitions, checked in ${ms.toFixed(1)} ms`,
    );
    for (const line of describeFailures(loaded.value, report)) console.log(line);
    if (argv.html !== undefined) console.log(`visualization: ${argv.html}`);
  }
  process.exitCode = exitCodeOf(report.result);
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: "check <file>",
  describe: "check a recorded history for linearizability",
  builder: (yargs: Argv<object>) =>
    yargs
      .positional("file", { type: "string", demandOption: true, describe: "history file" })
      .option("format", {
        choices: FORMATS,
        demandOption: true,
        describe:
          "jepsen: Jepsen etcd register log; porcupine-kv: Porcupine kv log (checked per key); history: detcd JSON Lines history (etcd model)",
      })
      .option("json", { type: "boolean", default: false, describe: "print one JSON line" })
      .option("html", {
        type: "string",
        describe: "write a self-contained HTML visualization here",
      })
      .option("timeout-ms", { type: "number", describe: "give up with 'unknown' after this long" })
      .epilogue(
        "Exit codes: 0 = linearizable, 1 = not linearizable, 2 = bad input (FILE:LINE: message), 3 = unknown (timeout or cache limit).",
      ) as unknown as Argv<CheckArgs>,
  handler: run,
};

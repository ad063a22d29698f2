// Parser for the Porcupine kv logs (one EDN-like map per line):
//   {:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}
//   {:process 1, :type :ok, :f :get, :key "9", :value "x 5 0 yx 7 0 y"}
// A get's value comes from its :ok line; :fail drops the operation, :info leaves it unknown.
import type { KvInput, KvOperation, KvOutput } from "../models/kv.js";
import { CompletionLog, type Completion } from "./completion.js";
import { numberedLines, parseFailure, type ParseResult } from "./parse-error.js";

const STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const LINE = new RegExp(
  String.raw`^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(get|put|append), :key (${STRING}), :value (nil|${STRING})\}$`,
);

function unquote(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

function inputFor(f: string, key: string, value: string | null): KvInput | string {
  if (f === "get") return { kind: "get", key };
  if (value === null) return `:${f} needs a string :value`;
  return f === "put" ? { kind: "put", key, value } : { kind: "append", key, value };
}

/** Parses a Porcupine kv log into kv operations (times are line numbers). */
export function parsePorcupineKv(text: string): ParseResult<KvOperation[]> {
  const log = new CompletionLog<KvInput, KvOutput>();
  for (const { line, text: raw } of numberedLines(text)) {
    const m = LINE.exec(raw.trim());
    if (m === null)
      return parseFailure(
        line,
        'not a kv event ({:process P, :type :T, :f :F, :key "K", :value V})',
      );
    const [, processText, type, f, keyText, valueText] = m as unknown as string[];
    const key = unquote(keyText ?? "");
    const value = valueText === "nil" ? null : unquote(valueText ?? "");
    if (key === undefined || value === undefined) return parseFailure(line, "bad string escape");
    const process = Number(processText);
    if (type === "invoke") {
      const input = inputFor(f ?? "", key, value);
      if (typeof input === "string") return parseFailure(line, input);
      const error = log.invoke(process, input, line);
      if (error !== undefined) return parseFailure(line, error);
      continue;
    }
    const completion = type as Completion;
    let mismatch: string | undefined;
    const error = log.complete(process, completion, line, (input): KvOutput | undefined => {
      if (input.kind !== f || input.key !== key)
        mismatch = `completion does not match the invocation of process ${process}`;
      if (completion === "fail") return undefined;
      return input.kind === "get" ? { kind: "get", value: value ?? "" } : { kind: "done" };
    });
    if (error !== undefined || mismatch !== undefined)
      return parseFailure(line, error ?? mismatch ?? "");
  }
  return { ok: true, value: log.operations() };
}

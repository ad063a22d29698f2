// Parser for Jepsen's etcd register logs (one event per line, see the checker's README):
//   INFO  jepsen.util - 2	:invoke	:write	4
//   INFO  jepsen.util - 0	:fail	:cas	[3 0]
// :ok completes, :fail means "did not happen" (a cas whose compare failed; a failed read or write
// is dropped), :info and a missing completion mean "unknown outcome".
import type { CasRegisterInput, CasRegisterOutput, RegisterValue } from "../models/cas-register.js";
import type { Operation } from "../types.js";
import { CompletionLog, type Completion } from "./completion.js";
import { numberedLines, parseFailure, type ParseResult } from "./parse-error.js";

export type JepsenOperation = Operation<CasRegisterInput, CasRegisterOutput>;

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\t:(invoke|ok|fail|info)\t:(read|write|cas)\t(.*)$/;
const CAS = /^\[\s*(-?\d+|nil)\s+(-?\d+|nil)\s*\]$/;

function parseValue(text: string): RegisterValue | undefined {
  const t = text.trim();
  if (t === "nil") return null;
  return /^-?\d+$/.test(t) ? Number(t) : undefined;
}

function parseInput(f: string, value: string): CasRegisterInput | string {
  switch (f) {
    case "read":
      return { kind: "read" };
    case "write": {
      const v = parseValue(value);
      return v === undefined
        ? `bad write value ${JSON.stringify(value)}`
        : { kind: "write", value: v };
    }
    default: {
      const m = CAS.exec(value.trim());
      if (m === null) return `bad cas value ${JSON.stringify(value)} (expected [FROM TO])`;
      return {
        kind: "cas",
        from: parseValue(m[1] ?? "") ?? null,
        to: parseValue(m[2] ?? "") ?? null,
      };
    }
  }
}

/** The output of a completed invocation, or undefined when the operation is dropped. */
function outputFor(
  input: CasRegisterInput,
  completion: Completion,
  readValue: RegisterValue,
): CasRegisterOutput | undefined {
  switch (input.kind) {
    case "read":
      return completion === "ok" ? { kind: "read", value: readValue } : undefined;
    case "write":
      return completion === "ok" ? { kind: "write" } : undefined;
    case "cas":
      return { kind: "cas", ok: completion === "ok" };
    default: {
      const never: never = input;
      throw new Error(`unexpected input ${JSON.stringify(never)}`);
    }
  }
}

/** Parses a Jepsen etcd log into cas-register operations (times are line numbers). */
export function parseJepsenLog(text: string): ParseResult<JepsenOperation[]> {
  const log = new CompletionLog<CasRegisterInput, CasRegisterOutput>();
  const kinds = new Map<number, string>();
  for (const { line, text: raw } of numberedLines(text)) {
    const m = LINE.exec(raw);
    if (m === null)
      return parseFailure(line, "not a Jepsen event (INFO jepsen.util - P\\t:type\\t:f\\tvalue)");
    const [, processText, type, f, value] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const process = Number(processText);
    if (type === "invoke") {
      const input = parseInput(f, value);
      if (typeof input === "string") return parseFailure(line, input);
      kinds.set(process, f);
      const error = log.invoke(process, input, line);
      if (error !== undefined) return parseFailure(line, error);
      continue;
    }
    if (kinds.get(process) !== undefined && kinds.get(process) !== f) {
      return parseFailure(
        line,
        `process ${process} completes :${f} but invoked :${kinds.get(process)}`,
      );
    }
    const readValue = parseValue(value);
    if (type === "ok" && f === "read" && readValue === undefined) {
      return parseFailure(line, `bad read value ${JSON.stringify(value)}`);
    }
    const error = log.complete(process, type as Completion, line, (input) =>
      outputFor(input, type as Completion, readValue ?? null),
    );
    if (error !== undefined) return parseFailure(line, error);
    kinds.delete(process);
  }
  return { ok: true, value: log.operations() };
}

// `txn` input, in etcdctl's grammar: compare lines, an empty line, success request lines, an empty
// line, failure request lines, an empty line. A compare is `target("key") op "operand"` with Go
// quoting; a request is a get, put or del command line with that command's flags. Errors carry
// etcdctl's message, prefixed by the number of the input line at fault.
//
// Input lines are byte strings (one latin1 character per byte) so keys and values keep every byte.

import { Parser } from "yargs/helpers";
import type { Compare, CompareResult, RequestOp, TxnRequest } from "../../api/rpc.js";
import { latin1ToBytes } from "../../lib/bytes.js";
import { CtlError, invalidInput } from "./exit.js";
import {
  PARSER_CONFIGURATION,
  parseGoBigInt,
  parserOptions,
  pinBoolFlags,
  readFlags,
  type FlagSpec,
} from "./flags.js";
import { goQuote } from "./go-format.js";
import { argify, scanQuoted } from "./go-quote-scan.js";
import { DEL_FLAGS, GET_FLAGS, PUT_FLAGS, delRequest, getRequest, putRequest } from "./kv-ops.js";

/** Text of a byte-string line for messages (the bytes decoded as UTF-8). */
function shown(line: string): string {
  return Buffer.from(line, "latin1").toString("utf8");
}

const RESULTS: ReadonlyMap<string, CompareResult> = new Map([
  ["=", "EQUAL"],
  ["!=", "NOT_EQUAL"],
  [">", "GREATER"],
  ["<", "LESS"],
]);

interface Scanned {
  n: number;
  key: string;
  op: string;
  val: string;
  error?: string;
}

function skipSpaces(s: string, at: number): number {
  while (s[at] === " " || s[at] === "\t") at++;
  return at;
}

/** fmt.Sscanf(rest, `%q) %s %q`, &key, &op, &val): how many were read, and why it stopped. */
function scanCompareOperands(rest: string): Scanned {
  const out: Scanned = { n: 0, key: "", op: "", val: "" };
  try {
    let at = skipSpaces(rest, 0);
    const key = scanQuoted(rest, at);
    [out.key, out.n, at] = [key.value, 1, key.end];
    if (rest[at] !== ")")
      throw new Error(at >= rest.length ? "EOF" : "input does not match format");
    at = skipSpaces(rest, at + 1);
    const opEnd = rest.slice(at).search(/[ \t]|$/) + at;
    if (opEnd === at) throw new Error("EOF");
    [out.op, out.n, at] = [rest.slice(at, opEnd), 2, skipSpaces(rest, opEnd)];
    const val = scanQuoted(rest, at);
    [out.val, out.n] = [val.value, 3];
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

function malformed(line: string, detail = ""): CtlError {
  return invalidInput(`malformed comparison: ${shown(line)}${detail}`);
}

/** One compare line (etcdctl's parseCompare). `line` is already trimmed. */
export function parseCompare(line: string): Compare {
  const paren = line.indexOf("(");
  if (paren < 0) throw malformed(line);
  const target = line.slice(0, paren);
  const s = scanCompareOperands(line.slice(paren + 1));
  if (s.n !== 3) {
    const got = `${shown(target)}(${goQuote(latin1ToBytes(s.key))}) ${shown(s.op)} ${goQuote(latin1ToBytes(s.val))}`;
    throw malformed(line, `; got ${got}`);
  }
  const result = RESULTS.get(s.op);
  if (result === undefined) throw malformed(line, ` (unknown operator ${shown(s.op)})`);
  const key = latin1ToBytes(s.key);
  const invalid = (): CtlError => invalidInput(`invalid txn compare request: ${shown(line)}`);
  const big = (): bigint => {
    try {
      return parseGoBigInt(s.val, 10);
    } catch {
      throw invalid();
    }
  };
  const number = (): number => Number(big());
  switch (target) {
    case "ver":
    case "version":
      return { target: "VERSION", result, key, version: number() };
    case "c":
    case "create":
      return { target: "CREATE", result, key, create_revision: number() };
    case "m":
    case "mod":
      return { target: "MOD", result, key, mod_revision: number() };
    case "val":
    case "value":
      return { target: "VALUE", result, key, value: latin1ToBytes(s.val) };
    case "lease":
      return { target: "LEASE", result, key, lease: big() };
    default:
      throw malformed(line, ` (unknown target ${shown(target)})`);
  }
}

const REQUEST_COMMANDS: readonly { name: string; specs: readonly FlagSpec[] }[] = [
  { name: "put", specs: PUT_FLAGS },
  { name: "get", specs: GET_FLAGS },
  { name: "del", specs: DEL_FLAGS },
];

/** The command a word names, by full name or by a unique prefix (cobra's prefix matching). */
function requestCommand(word: string): (typeof REQUEST_COMMANDS)[number] | undefined {
  const matches = REQUEST_COMMANDS.filter((c) => word !== "" && c.name.startsWith(word));
  return matches.length === 1 ? matches[0] : undefined;
}

/** One request line (etcdctl's parseRequestUnion). `line` is already trimmed. */
export function parseRequestOp(line: string): RequestOp {
  let args: string[];
  try {
    args = argify(line);
  } catch (e) {
    throw invalidInput((e as Error).message);
  }
  if (args.length < 2) throw invalidInput(`invalid txn compare request: ${shown(line)}`);
  const invalid = (): CtlError => invalidInput(`invalid txn request: ${shown(line)}`);
  const command = requestCommand(args[0] as string);
  if (command === undefined) throw invalid();
  const parsed = Parser.detailed(pinBoolFlags(args.slice(1), command.specs), {
    ...parserOptions(command.specs),
    configuration: PARSER_CONFIGURATION,
  });
  const known = new Set(["_", "--", ...command.specs.flatMap((s) => [s.name, s.short ?? ""])]);
  if (parsed.error !== null || Object.keys(parsed.argv).some((k) => !known.has(k))) throw invalid();
  let flags;
  try {
    flags = readFlags(parsed.argv, command.specs);
  } catch {
    throw invalid();
  }
  const positional = [...parsed.argv._, ...((parsed.argv["--"] as string[] | undefined) ?? [])];
  const words = positional.map((w) => latin1ToBytes(String(w)));
  switch (command.name) {
    case "put":
      return { request: "request_put", request_put: putRequest(words, flags, undefined) };
    case "get":
      return { request: "request_range", request_range: getRequest(words, flags) };
    default:
      return { request: "request_delete_range", request_delete_range: delRequest(words, flags) };
  }
}

/** A source of input lines: each with its "\n" removed, or eof when the input ended first. */
export interface LineSource {
  nextLine(): Promise<{ line: string; eof: boolean }>;
}

/** Lines of an in-memory byte input (non-interactive use and tests). */
export function bytesLineSource(input: Uint8Array): LineSource {
  const text = Buffer.from(input).toString("latin1");
  let at = 0;
  return {
    nextLine: () => {
      const nl = text.indexOf("\n", at);
      const line = nl < 0 ? text.slice(at) : text.slice(at, nl);
      at = nl < 0 ? text.length : nl + 1;
      return Promise.resolve({ line, eof: nl < 0 });
    },
  };
}

// Go's strings.TrimSpace over ASCII white space.
function trimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");
}

export const TXN_PROMPTS = {
  compares: "compares:",
  success: "success requests (get, put, del):",
  failure: "failure requests (get, put, del):",
} as const;

/**
 * Reads a txn from `source`: every section ends with an empty line, as in etcdctl (input that ends
 * before the third empty line is an error). `prompt` is called before each section.
 */
export async function readTxn(
  source: LineSource,
  prompt: (text: string) => void = () => {},
): Promise<TxnRequest> {
  let lineNumber = 0;
  const section = async <T>(parse: (line: string) => T): Promise<T[]> => {
    const items: T[] = [];
    for (;;) {
      const { line, eof } = await source.nextLine();
      lineNumber++;
      if (eof) {
        throw invalidInput(`line ${lineNumber}: EOF (each section must end with an empty line)`);
      }
      const trimmed = trimSpace(line);
      if (trimmed === "") return items;
      try {
        items.push(parse(trimmed));
      } catch (e) {
        if (!(e instanceof CtlError)) throw e;
        throw new CtlError(e.code, `line ${lineNumber}: ${e.message}`);
      }
    }
  };
  prompt(TXN_PROMPTS.compares);
  const compare = await section(parseCompare);
  prompt(TXN_PROMPTS.success);
  const success = await section(parseRequestOp);
  prompt(TXN_PROMPTS.failure);
  const failure = await section(parseRequestOp);
  return { compare, success, failure };
}

// Flag definitions shared by the command line (parsed by yargs) and by `txn` request lines (parsed
// by yargs-parser): one table per command, read back into typed values with etcdctl's (pflag's)
// parsing rules and error messages, so `--limit=0x10`, `--lease 694d77aa9e38260f` or
// `--dial-timeout 500ms` mean what they mean to etcdctl.

import type { Options } from "yargs";
import { CtlError, ExitCode } from "./exit.js";
import { parseGoDurationMs } from "../config/duration.js";
import { goQuote } from "./go-format.js";

export type FlagKind = "bool" | "string" | "int" | "duration" | "stringSlice";

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  /** Shown in help and used when neither the command line nor the environment sets the flag. */
  readonly default: boolean | string | number | readonly string[];
  readonly describe: string;
  readonly short?: string;
}

export function flag(
  name: string,
  kind: FlagKind,
  defaultValue: FlagSpec["default"],
  describe: string,
  short?: string,
): FlagSpec {
  return short === undefined
    ? { name, kind, default: defaultValue, describe }
    : { name, kind, default: defaultValue, describe, short };
}

function defaultText(spec: FlagSpec): string {
  if (spec.kind === "stringSlice") return `[${(spec.default as string[]).join(",")}]`;
  if (spec.kind === "string") return JSON.stringify(spec.default);
  return String(spec.default);
}

/** yargs options for the specs. Defaults stay out of yargs so "set on the command line" shows. */
export function yargsOptions(specs: readonly FlagSpec[]): Record<string, Options> {
  const options: Record<string, Options> = {};
  for (const spec of specs) {
    const o: Options = {
      describe: spec.describe,
      defaultDescription: defaultText(spec),
      ...(spec.kind === "bool" ? { type: "boolean" } : { type: "string", requiresArg: true }),
    };
    if (spec.short !== undefined) o.alias = spec.short;
    options[spec.name] = o;
  }
  return options;
}

/** yargs-parser's options for the specs (txn request lines). */
export function parserOptions(specs: readonly FlagSpec[]): {
  boolean: string[];
  string: string[];
  alias: Record<string, string[]>;
  narg: Record<string, number>;
} {
  const alias: Record<string, string[]> = {};
  const narg: Record<string, number> = {};
  for (const s of specs) {
    if (s.short !== undefined) alias[s.name] = [s.short];
    if (s.kind !== "bool") narg[s.name] = 1;
  }
  return {
    boolean: specs.filter((s) => s.kind === "bool").map((s) => s.name),
    string: specs.filter((s) => s.kind !== "bool").map((s) => s.name),
    alias,
    narg,
  };
}

/** yargs-parser settings that keep its reading close to pflag's. */
export const PARSER_CONFIGURATION = {
  "parse-numbers": false,
  "parse-positional-numbers": false,
  "camel-case-expansion": false,
  "dot-notation": false,
  "boolean-negation": false,
  "duplicate-arguments-array": true,
  "populate--": true,
  "strip-aliased": true,
  "greedy-arrays": false,
} as const;

export type FlagValue = boolean | string | number | string[];

function invalidArgument(name: string, text: string, reason: string): CtlError {
  return new CtlError(
    ExitCode.Error,
    `invalid argument ${goQuote(text)} for "--${name}" flag: ${reason}`,
    "",
  );
}

const DIGITS: Readonly<Record<number, RegExp>> = {
  2: /^[01]+$/,
  8: /^[0-7]+$/,
  10: /^[0-9]+$/,
  16: /^[0-9a-fA-F]+$/,
};

function int64(value: bigint, text: string, fn: string): bigint {
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) {
    throw new Error(`strconv.${fn}: parsing ${goQuote(text)}: value out of range`);
  }
  return value;
}

/** Go's strconv.ParseInt(text, base, 64) as a bigint; base 0 reads 0x, 0o, 0b and 0 prefixes. */
export function parseGoBigInt(text: string, base: 0 | 10 | 16): bigint {
  const syntax = new Error(`strconv.ParseInt: parsing ${goQuote(text)}: invalid syntax`);
  const negative = text.startsWith("-");
  let body = /^[+-]/.test(text) ? text.slice(1) : text;
  let radix: number = base;
  if (base === 0) {
    const prefix = /^0([xXoObB])/.exec(body);
    radix =
      prefix === null
        ? /^0./.test(body)
          ? 8
          : 10
        : { x: 16, o: 8, b: 2 }[(prefix[1] as string).toLowerCase() as "x" | "o" | "b"];
    body = prefix === null ? body.replace(/^0(?=.)/, "") : body.slice(2);
    // Go's integer literals allow underscores between digits.
    if (/^_|__|_$/.test(body)) throw syntax;
    body = body.replaceAll("_", "");
  }
  if (!(DIGITS[radix] as RegExp).test(body)) throw syntax;
  const magnitude = [...body.toLowerCase()].reduce(
    (acc, c) => acc * BigInt(radix) + BigInt(parseInt(c, 16)),
    0n,
  );
  return int64(negative ? -magnitude : magnitude, text, "ParseInt");
}

/** Go's strconv.ParseInt(text, base, 64) for values that fit a JavaScript number. */
export function parseGoInt(text: string, base: 0 | 10 | 16): number {
  return Number(parseGoBigInt(text, base));
}

/** Go's strconv.ParseInt(text, 16, 64) (lease ids use the full 64 bits). */
export function parseHexId(text: string): bigint {
  return parseGoBigInt(text, 16);
}

/** Go's strconv.ParseUint(text, 16, 64) (member ids). */
export function parseHexUint(text: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(text)) {
    throw new Error(`strconv.ParseUint: parsing ${goQuote(text)}: invalid syntax`);
  }
  const value = BigInt(`0x${text}`);
  if (value > 2n ** 64n - 1n) {
    throw new Error(`strconv.ParseUint: parsing ${goQuote(text)}: value out of range`);
  }
  return value;
}

const GO_BOOLS: ReadonlyMap<string, boolean> = new Map(
  ["1", "t", "T", "TRUE", "true", "True"]
    .map((s): [string, boolean] => [s, true])
    .concat(["0", "f", "F", "FALSE", "false", "False"].map((s): [string, boolean] => [s, false])),
);

/** Converts one flag's text (command line or environment) to its value, as pflag's Set would. */
export function convertFlag(spec: FlagSpec, text: string): FlagValue {
  try {
    switch (spec.kind) {
      case "bool": {
        const b = GO_BOOLS.get(text);
        if (b === undefined) {
          throw new Error(`strconv.ParseBool: parsing ${goQuote(text)}: invalid syntax`);
        }
        return b;
      }
      case "string":
        return text;
      case "int":
        return parseGoInt(text, 0);
      case "duration": {
        const ms = parseGoDurationMs(text);
        if (!ms.ok) throw new Error(`time: ${ms.error}`);
        return ms.value;
      }
      case "stringSlice":
        return text === "" ? [] : text.split(",").map((s) => s.trim());
    }
  } catch (e) {
    throw invalidArgument(spec.name, text, (e as Error).message);
  }
}

/** The values of one command's flags and which of them were given. */
export class Flags {
  constructor(
    private readonly values: ReadonlyMap<string, FlagValue>,
    readonly given: ReadonlySet<string>,
  ) {}

  private get(name: string): FlagValue {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`no flag --${name}`);
    return v;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  string(name: string): string {
    return this.get(name) as string;
  }

  /** An int flag, or a duration flag in milliseconds. */
  number(name: string): number {
    return this.get(name) as number;
  }

  list(name: string): string[] {
    return this.get(name) as string[];
  }
}

function asTexts(raw: unknown): string[] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((v) => String(v));
}

/**
 * Reads the specs' values out of a parsed argv (yargs or yargs-parser output). A flag given twice
 * keeps its last value, except a list flag, which collects every value. `fallback` supplies a text
 * for a flag the command line does not set (etcdctl's ETCDCTL_* environment variables).
 */
export function readFlags(
  argv: Readonly<Record<string, unknown>>,
  specs: readonly FlagSpec[],
  fallback: (spec: FlagSpec) => string | undefined = () => undefined,
): Flags {
  const values = new Map<string, FlagValue>();
  const given = new Set<string>();
  for (const spec of specs) {
    const texts = asTexts(argv[spec.name]);
    if (texts.length > 0) given.add(spec.name);
    const value = flagValue(spec, texts, fallback(spec));
    values.set(spec.name, value);
  }
  return new Flags(values, given);
}

function flagValue(spec: FlagSpec, texts: string[], fallback: string | undefined): FlagValue {
  if (texts.length === 0) {
    if (fallback !== undefined) return convertFlag(spec, fallback);
    if (spec.kind === "duration") return convertFlag(spec, spec.default as string);
    return Array.isArray(spec.default) ? [...spec.default] : (spec.default as FlagValue);
  }
  if (spec.kind === "stringSlice") return texts.flatMap((t) => convertFlag(spec, t) as string[]);
  return convertFlag(spec, texts[texts.length - 1] as string);
}

/**
 * pflag refuses `--flag=text` on a bool flag unless text is a Go bool; yargs would quietly read it
 * as false. Finds the first such argument, before anything else reads argv.
 */
export function checkBoolAssignments(args: readonly string[], specs: readonly FlagSpec[]): void {
  const bools = new Map(specs.filter((s) => s.kind === "bool").map((s) => [s.name, s]));
  for (const arg of args) {
    if (arg === "--") return;
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    const spec = m === null ? undefined : bools.get(m[1] as string);
    if (spec !== undefined) convertFlag(spec, (m as RegExpExecArray)[2] as string);
  }
}

/**
 * pflag never gives a bool flag the next word, where yargs takes a following "true" or "false"
 * as its value ("put k --prev-kv false" puts "false" for etcdctl). Writes each bare bool flag as
 * --name=true, up to a "--", so both read the arguments alike.
 */
export function pinBoolFlags(args: readonly string[], specs: readonly FlagSpec[]): string[] {
  const bools = new Map<string, string>();
  for (const s of specs.filter((spec) => spec.kind === "bool")) {
    bools.set(`--${s.name}`, s.name);
    if (s.short !== undefined) bools.set(`-${s.short}`, s.name);
  }
  const dash = args.indexOf("--");
  return args.map((a, i) => {
    const name = dash >= 0 && i > dash ? undefined : bools.get(a);
    return name === undefined ? a : `--${name}=true`;
  });
}

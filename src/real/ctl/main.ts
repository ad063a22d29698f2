// detcdctl's entry point: etcdctl's command line over detcd's gRPC API. main() parses the command
// line with yargs (global flags anywhere, ETCDCTL_* variables for global flags not given), runs the
// command against clients it closes afterwards, and answers an exit code. Failures print
// "Error: <message>" on stderr with etcdctl's exit codes; flag and command-name mistakes add a line
// pointing at the help.
//
// Everything the command touches comes through `io`, so tests run it in-process.

import type { Readable, Writable } from "node:stream";
import yargs, { type Argv } from "yargs";
import type {
  CommandArgs,
  CommandContext,
  CommandGroup,
  Command,
  GlobalOptions,
} from "./command.js";
import { checkCommand } from "./commands/check.js";
import { endpointCommand } from "./commands/endpoint.js";
import {
  compactionCommand,
  delCommand,
  getCommand,
  putCommand,
  txnCommand,
} from "./commands/kv.js";
import { leaseCommand } from "./commands/lease.js";
import { alarmCommand, defragCommand, moveLeaderCommand } from "./commands/maintenance.js";
import { authCommand, roleCommand, userCommand } from "./commands/auth.js";
import { askPassword, AUTH_GLOBAL_FLAGS, login, userCredentials } from "./auth-login.js";
import { memberCommand } from "./commands/member.js";
import { snapshotCommand } from "./commands/snapshot.js";
import { watchCommand } from "./commands/watch.js";
import type { ClientFactory, CtlClient } from "./ctl-client.js";
import { errorText } from "./errors.js";
import { grpcClientFactory } from "./grpc-client.js";
import { badFeature, CtlError, ExitCode } from "./exit.js";
import {
  checkBoolAssignments,
  flag,
  pinBoolFlags,
  PARSER_CONFIGURATION,
  readFlags,
  yargsOptions,
  type FlagSpec,
} from "./flags.js";
import { println, streamSink, type Output } from "./output.js";
import { newPrinter } from "./printer.js";
import { StdinReader } from "./stdin.js";
import { ETCD_SERVER_VERSION, DETCD_VERSION } from "../version.js";

export interface CtlIo {
  readonly stdin?: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** ETCDCTL_* variables and the environment of watch's exec command (default: none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops a long-running command (watch, lease keep-alive); main then answers 130. */
  readonly signal?: AbortSignal;
  /** Makes clients (default: the gRPC client). */
  readonly clientFactory?: ClientFactory;
}

/** The exit status of a command stopped by the caller, as a shell reports SIGINT. */
export const EXIT_INTERRUPTED_BY_SIGNAL = 130;

const GLOBAL_FLAGS: readonly FlagSpec[] = [
  flag("endpoints", "stringSlice", ["127.0.0.1:2379"], "gRPC endpoints"),
  flag("debug", "bool", false, "enable client-side debug logging"),
  flag("write-out", "string", "simple", "set the output format (fields, json, simple, table)", "w"),
  flag("hex", "bool", false, "print byte strings as hex encoded strings"),
  flag("dial-timeout", "duration", "2s", "dial timeout for client connections"),
  flag(
    "command-timeout",
    "duration",
    "5s",
    "timeout for short running command (excluding dial timeout)",
  ),
  flag("keepalive-time", "duration", "2s", "keepalive time for client connections"),
  flag("keepalive-timeout", "duration", "6s", "keepalive timeout for client connections"),
  flag("insecure-transport", "bool", true, "disable transport security for client connections"),
  flag(
    "insecure-skip-tls-verify",
    "bool",
    false,
    "skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)",
  ),
  flag(
    "cacert",
    "string",
    "",
    "verify certificates of TLS-enabled secure servers using this CA bundle",
  ),
  flag("cert", "string", "", "identify secure client using this TLS certificate file"),
  flag("key", "string", "", "identify secure client using this TLS key file"),
  ...AUTH_GLOBAL_FLAGS,
];

const versionCommand: Command = {
  name: "version",
  usage: "",
  describe: "Prints the version of etcdctl",
  flags: [],
  run: (ctx) => {
    // The first two lines are etcdctl's: scripts read the etcdctl release detcdctl follows.
    println(ctx.output.stdout, `etcdctl version: ${ETCD_SERVER_VERSION}`);
    println(
      ctx.output.stdout,
      `API version: ${ETCD_SERVER_VERSION.split(".").slice(0, 2).join(".")}`,
    );
    println(ctx.output.stdout, `detcdctl version: ${DETCD_VERSION}`);
    return Promise.resolve();
  },
};

type Entry = Command | CommandGroup;

const COMMANDS: readonly Entry[] = [
  getCommand,
  putCommand,
  delCommand,
  txnCommand,
  compactionCommand,
  alarmCommand,
  defragCommand,
  endpointCommand,
  moveLeaderCommand,
  watchCommand,
  versionCommand,
  leaseCommand,
  memberCommand,
  snapshotCommand,
  checkCommand,
  authCommand,
  userCommand,
  roleCommand,
];

function isGroup(e: Entry): e is CommandGroup {
  return "subcommands" in e;
}

/** A flag or command-name mistake: etcdctl's message plus a pointer to the help. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

/** What yargs chose: the command, its path ("lease grant") and its parsed argv. */
interface Selection {
  readonly command: Command;
  readonly path: string;
  readonly groupFlags: readonly FlagSpec[];
  readonly argv: Record<string, unknown>;
}

/** The entry named `word`, or the only one whose name starts with it. */
function abbreviated(entries: readonly Entry[], word: string): Entry | undefined {
  const exact = entries.find((c) => c.name === word);
  if (exact !== undefined) return exact;
  const matches = entries.filter((c) => c.name.startsWith(word));
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Replaces a command word by the command it uniquely abbreviates ("ge" for get), as etcdctl
 * accepts, looking at the first words that are not a global flag or its value. Answers the
 * arguments and the flags of the command they name (the global ones when they name none).
 */
function resolveCommand(args: readonly string[]): { args: string[]; specs: FlagSpec[] } {
  const out = [...args];
  const valued = new Set(
    GLOBAL_FLAGS.filter((s) => s.kind !== "bool").flatMap((s) => [
      `--${s.name}`,
      s.short ? `-${s.short}` : "",
    ]),
  );
  const specs = [...GLOBAL_FLAGS];
  let names: readonly Entry[] | undefined = COMMANDS;
  for (let i = 0; i < out.length && names !== undefined; i++) {
    const word = out[i] as string;
    if (word === "--") break;
    if (word.startsWith("-")) {
      if (valued.has(word)) i++;
      continue;
    }
    const chosen = abbreviated(names, word);
    if (chosen === undefined) break;
    out[i] = chosen.name;
    specs.push(...chosen.flags);
    names = isGroup(chosen) ? chosen.subcommands : undefined;
  }
  return { args: out, specs };
}

/** etcdctl's wording for a yargs complaint. */
function usageMessage(message: string, args: readonly string[], path: string): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  if (unknown !== null) {
    const name = (unknown[1] as string).split(", ")[0] as string;
    const long = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (long !== undefined) return `unknown flag: --${name}`;
    const short = args.find((a) => /^-[^-]/.test(a) && a.slice(1).includes(name));
    if (short !== undefined) return `unknown shorthand flag: '${name}' in ${short}`;
    return `unknown command ${JSON.stringify(name)} for ${JSON.stringify(path)}`;
  }
  const missing = /^Not enough arguments following: (.*)$/.exec(message);
  if (missing !== null) return `flag needs an argument: --${missing[1] as string}`;
  return message;
}

/**
 * Positional arguments and those after "--". yargs drops a "--" with nothing after it, which
 * watch must see ("watch foo --" is an error), so the raw arguments decide whether there was one.
 */
function commandArgs(
  argv: Record<string, unknown>,
  raw: readonly string[],
): { positional: string[]; afterDash: string[] | undefined } {
  const positional = ((argv["args"] as unknown[] | undefined) ?? []).map(String);
  const dash = argv["--"] as unknown[] | undefined;
  if (dash !== undefined) return { positional, afterDash: dash.map(String) };
  return { positional, afterDash: raw.includes("--") ? [] : undefined };
}

function buildParser(
  args: string[],
  select: (s: Selection) => void,
  currentPath: { path: string },
): Argv {
  let parser = yargs(args)
    .scriptName("detcdctl")
    .usage(
      "detcdctl - A simple command line client for detcd, compatible with etcdctl.\n\nUsage: detcdctl <command> [options]",
    )
    .parserConfiguration(PARSER_CONFIGURATION)
    .options(yargsOptions(GLOBAL_FLAGS));
  const leaf = (c: Command, path: string, groupFlags: readonly FlagSpec[]) => ({
    command: `${c.name} [args..]`,
    describe: c.describe,
    builder: (b: Argv) => {
      currentPath.path = `detcdctl ${path}`;
      return b
        .usage(`detcdctl ${path} ${c.usage}`.trimEnd())
        .options(yargsOptions(c.flags))
        .positional("args", {
          type: "string",
          array: true,
          describe: c.usage === "" ? "none" : c.usage,
          defaultDescription: "none",
        });
    },
    handler: (argv: Record<string, unknown>) => select({ command: c, path, groupFlags, argv }),
  });
  for (const entry of COMMANDS) {
    if (!isGroup(entry)) {
      parser = parser.command(leaf(entry, entry.name, []));
      continue;
    }
    parser = parser.command(entry.name, entry.describe, (b: Argv) => {
      currentPath.path = `detcdctl ${entry.name}`;
      let group = b.usage(`detcdctl ${entry.name} <subcommand>`).options(yargsOptions(entry.flags));
      for (const sub of entry.subcommands) {
        group = group.command(leaf(sub, `${entry.name} ${sub.name}`, entry.flags));
      }
      return group;
    });
  }
  return parser
    .strict()
    .help()
    .alias("help", "h")
    .version(false)
    .exitProcess(false)
    .wrap(100)
    .fail((message: string | undefined, error: Error | undefined) => {
      if (error !== undefined && error.name !== "YError") throw error;
      throw new UsageError(message ?? error?.message ?? "", currentPath.path);
    });
}

/** Parses `args`, calling `select` for a command to run; answers the help text yargs produced. */
async function parse(
  args: string[],
  select: (s: Selection) => void,
  currentPath: { path: string },
): Promise<string> {
  let text = "";
  await buildParser(args, select, currentPath).parseAsync(args, {}, (_err, _argv, output) => {
    text = output;
  });
  return text;
}

/** The global options from the command line, then ETCDCTL_* variables, then defaults. */
function globalOptions(
  argv: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const fromEnv = (spec: FlagSpec): string | undefined => {
    const text = env[`ETCDCTL_${spec.name.toUpperCase().replaceAll("-", "_")}`];
    if (text === undefined) return undefined;
    // etcdctl ignores a variable it cannot read.
    try {
      readFlags({ [spec.name]: text }, [spec]);
      return text;
    } catch {
      return undefined;
    }
  };
  const f = readFlags(argv, GLOBAL_FLAGS, fromEnv);
  const user = userCredentials(f);
  return {
    ...(user === undefined ? {} : { user }),
    endpoints: f.list("endpoints"),
    dialTimeoutMs: f.number("dial-timeout"),
    commandTimeoutMs: f.number("command-timeout"),
    commandTimeoutGiven:
      f.given.has("command-timeout") || env["ETCDCTL_COMMAND_TIMEOUT"] !== undefined,
    writeOut: f.string("write-out"),
    hex: f.bool("hex"),
    tls: {
      cacert: f.string("cacert"),
      cert: f.string("cert"),
      key: f.string("key"),
      insecureSkipVerify: f.bool("insecure-skip-tls-verify"),
      insecureTransport: f.bool("insecure-transport"),
    },
  };
}

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done);
  });
}

function makeContext(
  output: Output,
  global: GlobalOptions,
  io: CtlIo,
  factory: ClientFactory,
  clients: CtlClient[],
  stdin: StdinReader,
  token?: string,
): CommandContext {
  const signal = io.signal ?? new AbortController().signal;
  return {
    output,
    global,
    env: io.env ?? {},
    stdin,
    signal,
    printer: () => {
      const p = newPrinter(global.writeOut, global.hex, output);
      if (p === undefined) throw badFeature("unsupported output format");
      return p;
    },
    client: (endpoints = global.endpoints) => {
      const c = factory(endpoints, global.tls);
      clients.push(c);
      if (token !== undefined) c.setToken(token);
      return c;
    },
    call: () => ({ timeoutMs: global.commandTimeoutMs }),
    nowNs: () => process.hrtime.bigint(),
    sleep: (ms) => sleepFor(ms, signal),
  };
}

/**
 * A command context outside main (tests drive parts of commands with it, such as check perf with
 * a short model). close() closes the clients it made.
 */
export function standaloneContext(
  io: CtlIo,
  global: GlobalOptions,
): { ctx: CommandContext; close(): void } {
  const output: Output = { stdout: streamSink(io.stdout), stderr: streamSink(io.stderr) };
  const clients: CtlClient[] = [];
  const stdin = new StdinReader(io.stdin);
  const factory = io.clientFactory ?? grpcClientFactory;
  const ctx = makeContext(output, global, io, factory, clients, stdin);
  return {
    ctx,
    close: () => {
      clients.forEach((c) => c.close());
      stdin.close();
    },
  };
}

/** Runs detcdctl with `argv` (the arguments after the program name); answers the exit code. */
export async function main(argv: readonly string[], io: CtlIo): Promise<number> {
  const output: Output = { stdout: streamSink(io.stdout), stderr: streamSink(io.stderr) };
  const clients: CtlClient[] = [];
  const stdin = new StdinReader(io.stdin);
  const resolved = resolveCommand(argv);
  const args = pinBoolFlags(resolved.args, resolved.specs);
  const currentPath = { path: "detcdctl" };
  let selected: Selection | undefined;
  try {
    checkBoolAssignments(args, GLOBAL_FLAGS);
    let helpText = await parse(args, (s) => (selected = s), currentPath);
    if (selected === undefined) {
      // --help, no command, or a group without its subcommand: the help, as etcdctl shows it.
      if (helpText === "") helpText = await parse([...args, "--help"], () => {}, currentPath);
      output.stdout.write(`${helpText}\n`);
      return ExitCode.Success;
    }
    const s: Selection = selected;
    const specs = [...s.command.flags, ...s.groupFlags];
    checkBoolAssignments(args, specs);
    const global = globalOptions(s.argv, io.env ?? {});
    const factory = io.clientFactory ?? grpcClientFactory;
    const user = global.user;
    const token =
      user === undefined
        ? undefined
        : await login(
            factory(global.endpoints, global.tls),
            user,
            () => askPassword("Password: ", output.stderr, stdin),
            { timeoutMs: global.dialTimeoutMs + global.commandTimeoutMs },
          );
    const ctx = makeContext(output, global, io, factory, clients, stdin, token);
    const a: CommandArgs = { ...commandArgs(s.argv, args), flags: readFlags(s.argv, specs) };
    await s.command.run(ctx, a);
    return ctx.signal.aborted ? EXIT_INTERRUPTED_BY_SIGNAL : ExitCode.Success;
  } catch (e) {
    return reportFailure(e, output, args, currentPath.path, io.signal);
  } finally {
    for (const c of clients) c.close();
    stdin.close();
  }
}

function reportFailure(
  e: unknown,
  output: Output,
  args: readonly string[],
  path: string,
  signal?: AbortSignal,
): number {
  if (e instanceof UsageError) {
    println(output.stderr, `Error: ${usageMessage(e.message, args, e.command)}`);
    println(output.stderr, `Run '${e.command} --help' for usage.`);
    return ExitCode.Error;
  }
  if (e instanceof CtlError) {
    if (!e.silent) println(output.stderr, `Error: ${e.message}`);
    if (e.usageHint !== undefined) println(output.stderr, `Run '${path} --help' for usage.`);
    return e.code;
  }
  if (signal?.aborted === true) return EXIT_INTERRUPTED_BY_SIGNAL;
  if (e instanceof Error && e.name === "YError") {
    println(output.stderr, `Error: ${e.message}`);
    return ExitCode.Error;
  }
  println(output.stderr, `Error: ${errorText(e)}`);
  return ExitCode.Error;
}

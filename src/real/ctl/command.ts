// What a detcdctl command is and what it gets to run: the global options, the printer chosen by
// --write-out, clients for the endpoints, stdin, and a signal that ends long-running commands
// (watch, lease keep-alive) when the caller stops them.

import type { UserCredentials } from "./auth-login.js";
import type { CallOptions, CtlClient, CtlTls } from "./ctl-client.js";
import type { Flags, FlagSpec } from "./flags.js";
import type { Output } from "./output.js";
import type { Printer } from "./printer.js";
import type { StdinReader } from "./stdin.js";

/** The global flags after the command line and ETCDCTL_* variables. */
export interface GlobalOptions {
  readonly endpoints: readonly string[];
  readonly dialTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** --command-timeout was given (snapshot save has no deadline otherwise). */
  readonly commandTimeoutGiven: boolean;
  readonly writeOut: string;
  readonly hex: boolean;
  /** --cacert, --cert, --key, --insecure-skip-tls-verify, --insecure-transport. */
  readonly tls?: CtlTls;
  /** --user and --password: log in before the command. */
  readonly user?: UserCredentials;
}

export interface CommandContext {
  readonly output: Output;
  readonly global: GlobalOptions;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: StdinReader;
  /** Aborted when the caller stops the command (an interrupt). */
  readonly signal: AbortSignal;
  /** The --write-out printer; throws etcdctl's "unsupported output format" for an unknown one. */
  printer(): Printer;
  /** A client for `endpoints` (default: --endpoints); closed when the command ends. */
  client(endpoints?: readonly string[]): CtlClient;
  /** Options of a call bounded by --command-timeout. */
  call(): CallOptions;
  /** Monotonic nanoseconds. */
  nowNs(): bigint;
  /** Waits `ms`, or less if the signal aborts. */
  sleep(ms: number): Promise<void>;
}

export interface CommandArgs {
  /** Positional arguments before a "--". */
  readonly positional: readonly string[];
  /** Arguments after a "--"; undefined when there was none. */
  readonly afterDash: readonly string[] | undefined;
  readonly flags: Flags;
}

/** Every argument in pflag's sense: those after "--" are positional too. */
export function allArgs(a: CommandArgs): string[] {
  return [...a.positional, ...(a.afterDash ?? [])];
}

export interface Command {
  readonly name: string;
  /** The arguments part of the usage line, e.g. "<key> [range_end]". */
  readonly usage: string;
  readonly describe: string;
  readonly flags: readonly FlagSpec[];
  readonly run: (ctx: CommandContext, args: CommandArgs) => Promise<void>;
}

export interface CommandGroup {
  readonly name: string;
  readonly describe: string;
  /** Flags every subcommand takes (cobra's persistent flags). */
  readonly flags: readonly FlagSpec[];
  readonly subcommands: readonly Command[];
}

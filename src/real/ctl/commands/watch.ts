// watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...], and watch -i,
// which reads "watch ..." and "progress" lines from stdin. Every watcher shares one Watch stream;
// when the stream breaks without an etcd error the watchers are created again on a new stream from
// the revision after the last one seen, as etcd's client does.

import { spawn } from "node:child_process";
import type { WatchCreateRequest, WatchResponse } from "../../../api/rpc.js";
import { errorFromMessage } from "../../../api/errors.js";
import { latin1ToBytes, prefixEnd, utf8 } from "../../../lib/bytes.js";
import type { Command, CommandContext } from "../command.js";
import type { WatchStream } from "../ctl-client.js";
import { errorText } from "../errors.js";
import { badArgs, CtlError, ExitCode } from "../exit.js";
import {
  flag,
  PARSER_CONFIGURATION,
  parserOptions,
  pinBoolFlags,
  readFlags,
  type Flags,
} from "../flags.js";
import { goQuote } from "../go-format.js";
import { argify } from "../go-quote-scan.js";
import { println } from "../output.js";
import type { Printer } from "../printer.js";
import { Parser } from "yargs/helpers";

const WATCH_FLAGS = [
  flag("interactive", "bool", false, "Interactive mode", "i"),
  flag("prefix", "bool", false, "Watch on a prefix if prefix is set"),
  flag("rev", "int", 0, "Revision to start watching"),
  flag("prev-kv", "bool", false, "get the previous key-value pair before the event happens"),
  flag("progress-notify", "bool", false, "get periodic watch progress notification from server"),
];

const BAD_ARGS_NUM = "bad number of arguments";
const BAD_ARGS_CONFLICT_ENV = "bad number of arguments (found conflicting environment key)";
const BAD_ARGS_SEPARATOR = "bad number of arguments (found separator --, but no commands)";
const RECONNECT_DELAY_MS = 500;

interface WatchEnv {
  readonly key: string;
  readonly rangeEnd: string;
}

/** The key arguments and the exec command of one watch (etcdctl's parseWatchArgs, in short). */
function watchArgs(
  positional: readonly string[],
  afterDash: readonly string[] | undefined,
  env: WatchEnv,
): { keys: string[]; exec: string[] } {
  if (afterDash !== undefined && afterDash.length === 0) throw badArgs(BAD_ARGS_SEPARATOR);
  if (env.key !== "" && positional.length > 0) throw badArgs(BAD_ARGS_CONFLICT_ENV);
  if (afterDash === undefined && positional.length === 0 && env.key === "") {
    throw badArgs(BAD_ARGS_NUM);
  }
  const keys = env.key === "" ? [...positional] : [env.key, env.rangeEnd].filter((k) => k !== "");
  return { keys, exec: [...(afterDash ?? [])] };
}

/** The create request for key arguments and flags (etcdctl's getWatchChan). */
function createRequest(keys: readonly Uint8Array[], f: Flags): WatchCreateRequest {
  if (keys.length < 1) throw badArgs(BAD_ARGS_NUM);
  const prefix = f.bool("prefix");
  if (keys.length === 2 && prefix) {
    throw badArgs("`range_end` and `--prefix` are mutually exclusive");
  }
  let key = keys[0] as Uint8Array;
  let rangeEnd = keys.length === 2 ? keys[1] : undefined;
  if (prefix) {
    if (key.length === 0) [key, rangeEnd] = [Uint8Array.of(0), Uint8Array.of(0)];
    else rangeEnd = prefixEnd(key);
  }
  return {
    key,
    ...(rangeEnd === undefined ? {} : { range_end: rangeEnd }),
    start_revision: f.number("rev"),
    prev_kv: f.bool("prev-kv"),
    progress_notify: f.bool("progress-notify"),
  };
}

/** Why the server canceled a watcher, as etcd's client words it. */
function cancelText(r: WatchResponse): string {
  if (r.compact_revision !== 0) return "etcdserver: mvcc: required revision has been compacted";
  if (r.cancel_reason !== "") {
    return (
      errorFromMessage(r.cancel_reason)?.message ??
      `rpc error: code = FailedPrecondition desc = ${r.cancel_reason}`
    );
  }
  return "etcdserver: mvcc: required revision is a future revision";
}

function isProgressNotify(r: WatchResponse): boolean {
  return (
    r.events.length === 0 &&
    !r.canceled &&
    !r.created &&
    r.compact_revision === 0 &&
    r.header.revision !== 0
  );
}

/** Go's %q of a []string: ["echo" "hi"]. */
function quoteList(args: readonly string[]): string {
  return `[${args.map((a) => goQuote(a)).join(" ")}]`;
}

/** Runs the exec command once for an event, with etcdctl's ETCD_WATCH_* variables. */
async function runExec(
  ctx: CommandContext,
  exec: readonly string[],
  revision: number,
  event: WatchResponse["events"][number],
): Promise<void> {
  const env = {
    ...ctx.env,
    ETCD_WATCH_REVISION: String(revision),
    ETCD_WATCH_EVENT_TYPE: goQuote(event.type),
    ETCD_WATCH_KEY: goQuote(event.kv.key),
    ETCD_WATCH_VALUE: goQuote(event.kv.value),
  };
  const failure = await new Promise<string | undefined>((resolve) => {
    const child = spawn(exec[0] as string, exec.slice(1), {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => ctx.output.stdout.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => ctx.output.stderr.write(chunk));
    child.on("error", (e: NodeJS.ErrnoException) =>
      resolve(
        e.code === "ENOENT"
          ? `exec: ${goQuote(exec[0] as string)}: executable file not found in $PATH`
          : e.message,
      ),
    );
    child.on("close", (code, signal) =>
      resolve(
        code === 0 ? undefined : signal !== null ? `signal: ${signal}` : `exit status ${code}`,
      ),
    );
  });
  if (failure !== undefined) {
    println(ctx.output.stderr, `command ${quoteList(exec)} error (${failure})`);
    throw new CtlError(ExitCode.Error, "", undefined, true);
  }
}

interface Watcher {
  create: WatchCreateRequest;
  readonly exec: readonly string[];
  /** Resolves when the server cancels this watcher. */
  readonly canceled: () => void;
}

/**
 * The watchers of one command over one stream. Created responses arrive in the order of the create
 * requests, which is how a new watch id is matched to its watcher.
 */
class WatchSession {
  private stream: WatchStream | undefined;
  private readonly pending: Watcher[] = [];
  private readonly active = new Map<number, Watcher>();

  constructor(
    private readonly ctx: CommandContext,
    private readonly printer: Printer,
  ) {}

  add(w: Watcher): void {
    this.pending.push(w);
    this.stream?.create(w.create);
  }

  progress(): void {
    this.stream?.progress();
  }

  close(): void {
    this.stream?.close();
  }

  /** Runs the stream until the server ends it, reopening it after transport failures. */
  async run(): Promise<void> {
    const stop = (): void => this.stream?.close();
    this.ctx.signal.addEventListener("abort", stop);
    try {
      while (!this.ctx.signal.aborted) {
        if (await this.runStream()) return;
        await this.ctx.sleep(RECONNECT_DELAY_MS);
      }
    } finally {
      this.ctx.signal.removeEventListener("abort", stop);
    }
  }

  /** One stream's life; true when it ended for good (ended by the server, or stopped). */
  private async runStream(): Promise<boolean> {
    const stream = this.ctx.client().watch();
    this.stream = stream;
    const watchers = [...this.active.values(), ...this.pending];
    this.active.clear();
    this.pending.length = 0;
    for (const w of watchers) this.add(w);
    try {
      for await (const resp of stream) await this.deliver(resp);
      return true;
    } catch (e) {
      if (e instanceof CtlError) throw e;
      if ((e as { etcd?: unknown }).etcd === undefined) return false;
      for (const w of this.active.values()) this.cancel(w, errorText(e));
      return true;
    } finally {
      stream.close();
    }
  }

  private cancel(w: Watcher, why: string): void {
    println(this.ctx.output.stderr, `watch was canceled (${why})`);
    w.canceled();
  }

  private async deliver(resp: WatchResponse): Promise<void> {
    if (resp.created) {
      const w = this.pending.shift();
      if (w === undefined) return;
      if (resp.canceled) return this.cancel(w, cancelText(resp));
      this.active.set(resp.watch_id, w);
      return;
    }
    const targets =
      resp.watch_id === -1 ? [...this.active.values()] : [this.active.get(resp.watch_id)];
    for (const w of targets) if (w !== undefined) await this.deliverTo(w, resp);
  }

  private async deliverTo(w: Watcher, resp: WatchResponse): Promise<void> {
    if (resp.canceled) {
      this.active.delete(resp.watch_id);
      println(this.ctx.output.stderr, `watch was canceled (${cancelText(resp)})`);
    }
    if (isProgressNotify(resp)) {
      println(this.ctx.output.stdout, `progress notify: ${resp.header.revision}`);
    }
    this.printer.watch(resp);
    if (resp.events.length > 0)
      w.create = { ...w.create, start_revision: resp.header.revision + 1 };
    for (const event of resp.events) {
      if (w.exec.length > 0) await runExec(this.ctx, w.exec, resp.header.revision, event);
    }
    if (resp.canceled) w.canceled();
  }
}

function parseWatchLine(
  args: readonly string[],
  env: WatchEnv,
): { create: WatchCreateRequest; exec: string[] } {
  const parsed = Parser.detailed(pinBoolFlags(args.slice(1), WATCH_FLAGS), {
    ...parserOptions(WATCH_FLAGS),
    configuration: PARSER_CONFIGURATION,
  });
  if (parsed.error !== null) throw badArgs(parsed.error.message);
  const f = readFlags(parsed.argv, WATCH_FLAGS);
  const positional = parsed.argv._.map(String);
  const { keys, exec } = watchArgs(positional, parsed.argv["--"] as string[] | undefined, env);
  return { create: createRequest(keys.map(latin1ToBytes), f), exec };
}

/** watch -i: one watcher per "watch ..." line, "progress" asks for progress notifications. */
async function interactive(
  ctx: CommandContext,
  session: WatchSession,
  env: WatchEnv,
): Promise<void> {
  const running = session.run();
  for (;;) {
    const { line, eof } = await ctx.stdin.nextLine();
    if (eof || ctx.signal.aborted) {
      session.close();
      await running;
      if (ctx.signal.aborted) return;
      throw new CtlError(ExitCode.InvalidInput, "error reading watch request line: EOF");
    }
    const shown = Buffer.from(line, "latin1").toString("utf8");
    const args = argify(line);
    if (args.length < 1) {
      println(ctx.output.stderr, `Invalid command: ${shown} (watch and progress supported)`);
    } else if (args[0] === "watch") {
      if (args.length < 2 && env.key === "") {
        println(
          ctx.output.stderr,
          `Invalid command ${shown} (command type or key is not provided)`,
        );
        continue;
      }
      const { create, exec } = parseWatchLine(args, env);
      session.add({ create, exec, canceled: () => {} });
    } else if (args[0] === "progress") {
      session.progress();
    } else {
      println(ctx.output.stderr, `Invalid command ${shown} (only support watch)`);
    }
  }
}

export const watchCommand: Command = {
  name: "watch",
  usage: "[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
  describe: "Watches events stream on keys or prefixes",
  flags: WATCH_FLAGS,
  run: async (ctx, a) => {
    const env = {
      key: ctx.env["ETCDCTL_WATCH_KEY"] ?? "",
      rangeEnd: ctx.env["ETCDCTL_WATCH_RANGE_END"] ?? "",
    };
    if (env.key === "" && env.rangeEnd !== "") {
      throw badArgs(
        `ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${goQuote(env.rangeEnd)}`,
      );
    }
    const printer = ctx.printer();
    const session = new WatchSession(ctx, printer);
    if (a.flags.bool("interactive")) return interactive(ctx, session, env);
    const { keys, exec } = watchArgs(a.positional, a.afterDash, env);
    const create = createRequest(keys.map(utf8), a.flags);
    const ended = new Promise<void>((resolve) => {
      session.add({ create, exec, canceled: resolve });
    });
    await Promise.race([ended.then(() => session.close()), session.run()]);
    if (ctx.signal.aborted) return;
    throw new CtlError(ExitCode.Interrupted, "watch is canceled by the server");
  },
};

// check perf: etcdctl's performance check. Puts of 1 KiB values under a prefix at the model's rate
// from the model's number of clients for its duration, then PASS/FAIL lines on throughput (at least
// 90% of the rate), the slowest request (at most 0.5 s) and the latency spread (at most 0.1 s).

import { randomBytes } from "node:crypto";
import { prefixEnd, utf8 } from "../../../lib/bytes.js";
import type { Command, CommandContext, CommandGroup } from "../command.js";
import type { CtlClient } from "../ctl-client.js";
import { errorText, request } from "../errors.js";
import { badFeature, CtlError, ExitCode } from "../exit.js";
import { flag } from "../flags.js";
import { goFloat6, goQuote } from "../go-format.js";
import { println } from "../output.js";

export interface PerfModel {
  readonly writesPerS: number;
  readonly clients: number;
  readonly durationMs: number;
}

const PERF_MODELS: Readonly<Record<string, PerfModel>> = {
  s: { writesPerS: 150, clients: 50, durationMs: 60_000 },
  m: { writesPerS: 1000, clients: 200, durationMs: 60_000 },
  l: { writesPerS: 8000, clients: 500, durationMs: 60_000 },
  xl: { writesPerS: 15000, clients: 1000, durationMs: 60_000 },
};

const LOAD_ALIASES: Readonly<Record<string, string>> = {
  s: "s",
  small: "s",
  m: "m",
  medium: "m",
  l: "l",
  large: "l",
  xl: "xl",
  xLarge: "xl",
};

const KEY_BYTES = 256;
const VALUE_BYTES = 1024;
const CLEANUP_TIMEOUT_MS = 30_000;
const NS_PER_S = 1e9;

export interface PerfOptions {
  readonly prefix: string;
  readonly autoCompact: boolean;
  readonly autoDefrag: boolean;
}

/** Latencies of the successful puts (seconds) and the errors by message. */
interface PerfStats {
  readonly latenciesS: number[];
  readonly errors: Map<string, number>;
  totalS: number;
}

/** Waits for the first of `pending` to settle (pending holds in-flight puts). */
async function oneSettles(pending: Set<Promise<void>>): Promise<void> {
  await Promise.race(pending);
}

/**
 * Issues puts evenly spaced at the model's rate, at most one in flight per client, until the
 * duration is over; returns once every put has finished.
 */
async function runLoad(
  ctx: CommandContext,
  clients: readonly CtlClient[],
  model: PerfModel,
  prefix: Uint8Array,
): Promise<PerfStats> {
  const stats: PerfStats = { latenciesS: [], errors: new Map(), totalS: 0 };
  const value = new Uint8Array(VALUE_BYTES);
  const start = ctx.nowNs();
  const endNs = start + BigInt(model.durationMs) * 1_000_000n;
  const intervalNs = NS_PER_S / model.writesPerS;
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; ctx.nowNs() < endNs && !ctx.signal.aborted; i++) {
    const dueNs = start + BigInt(Math.round(i * intervalNs));
    const waitMs = Number(dueNs - ctx.nowNs()) / 1e6;
    if (waitMs > 0) await ctx.sleep(waitMs);
    while (inFlight.size >= clients.length) await oneSettles(inFlight);
    const key = new Uint8Array(prefix.length + KEY_BYTES);
    key.set(prefix);
    key.set(randomBytes(8), prefix.length);
    const client = clients[i % clients.length] as CtlClient;
    const sent = ctx.nowNs();
    const put: Promise<void> = client.put({ key, value }).then(
      () => void stats.latenciesS.push(Number(ctx.nowNs() - sent) / NS_PER_S),
      (e: unknown) => {
        const text = errorText(e);
        stats.errors.set(text, (stats.errors.get(text) ?? 0) + 1);
      },
    );
    const tracked = put.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  stats.totalS = Number(ctx.nowNs() - start) / NS_PER_S;
  return stats;
}

function slowest(latencies: readonly number[]): number {
  return latencies.reduce((m, l) => Math.max(m, l), 0);
}

function stddev(latencies: readonly number[]): number {
  if (latencies.length === 0) return 0;
  const mean = latencies.reduce((s, l) => s + l, 0) / latencies.length;
  return Math.sqrt(latencies.reduce((s, l) => s + (l - mean) ** 2, 0) / latencies.length);
}

/** etcdctl's verdict lines; true when every check passed. */
function printVerdict(ctx: CommandContext, stats: PerfStats, model: PerfModel): boolean {
  const say = (text: string): void => println(ctx.output.stdout, text);
  let ok = true;
  if (stats.errors.size !== 0) {
    say("FAIL: too many errors");
    for (const [text, count] of stats.errors) say(`FAIL: ERROR(${text}) -> ${count}`);
    ok = false;
  }
  const rps = stats.totalS > 0 ? stats.latenciesS.length / stats.totalS : 0;
  if (rps / model.writesPerS <= 0.9) {
    say(`FAIL: Throughput too low: ${Math.trunc(rps) + 1} writes/s`);
    ok = false;
  } else {
    say(`PASS: Throughput is ${Math.trunc(rps) + 1} writes/s`);
  }
  const slow = slowest(stats.latenciesS);
  if (slow > 0.5) {
    say(`Slowest request took too long: ${goFloat6(slow)}s`);
    ok = false;
  } else {
    say(`PASS: Slowest request took ${goFloat6(slow)}s`);
  }
  const spread = stddev(stats.latenciesS);
  if (spread > 0.1) {
    say(`Stddev too high: ${goFloat6(spread)}s`);
    ok = false;
  } else {
    say(`PASS: Stddev is ${goFloat6(spread)}s`);
  }
  say(ok ? "PASS" : "FAIL");
  return ok;
}

/** Deletes the check's keys; with autoCompact also compacts to the deletion's revision. */
async function cleanup(
  ctx: CommandContext,
  client: CtlClient,
  prefix: Uint8Array,
  autoCompact: boolean,
): Promise<void> {
  let revision: number;
  try {
    const resp = await client.deleteRange(
      { key: prefix, range_end: prefixEnd(prefix) },
      { timeoutMs: CLEANUP_TIMEOUT_MS },
    );
    revision = resp.header.revision;
  } catch (e) {
    println(ctx.output.stdout, `FAIL: Cleanup failed during key deletion: ERROR(${errorText(e)})`);
    return;
  }
  if (!autoCompact) return;
  println(ctx.output.stdout, `Compacting with revision ${revision}`);
  await request(client.compact({ revision, physical: true }, { timeoutMs: CLEANUP_TIMEOUT_MS }));
  println(ctx.output.stdout, `Compacted with revision ${revision}`);
}

/** Runs the check with `model`; true when it passed. */
export async function checkPerf(
  ctx: CommandContext,
  model: PerfModel,
  options: PerfOptions,
): Promise<boolean> {
  const clients = Array.from({ length: model.clients }, () => ctx.client());
  const first = clients[0] as CtlClient;
  const prefix = utf8(options.prefix);
  const existing = await request(
    first.range({ key: prefix, range_end: prefixEnd(prefix), limit: 1 }, ctx.call()),
  );
  if (existing.kvs.length > 0) {
    throw new CtlError(
      ExitCode.InvalidInput,
      `prefix ${goQuote(options.prefix)} has keys. Delete with 'detcdctl del --prefix ${options.prefix}' first`,
    );
  }
  const stats = await runLoad(ctx, clients, model, prefix);
  await cleanup(ctx, first, prefix, options.autoCompact);
  if (options.autoDefrag) {
    for (const endpoint of ctx.global.endpoints) {
      println(ctx.output.stdout, `Defragmenting ${goQuote(endpoint)}`);
      await request(ctx.client([endpoint]).defragment({ timeoutMs: CLEANUP_TIMEOUT_MS }));
      println(ctx.output.stdout, `Defragmented ${goQuote(endpoint)}`);
    }
  }
  return printVerdict(ctx, stats, model);
}

const perf: Command = {
  name: "perf",
  usage: "[options]",
  describe: "Check the performance of the etcd cluster",
  flags: [
    flag(
      "load",
      "string",
      "s",
      "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)",
    ),
    flag(
      "prefix",
      "string",
      "/etcdctl-check-perf/",
      "The prefix for writing the performance check's keys.",
    ),
    flag(
      "auto-compact",
      "bool",
      false,
      "Compact storage with last revision after test is finished.",
    ),
    flag("auto-defrag", "bool", false, "Defragment storage after test is finished."),
  ],
  run: async (ctx, a) => {
    const load = a.flags.string("load");
    const model = PERF_MODELS[LOAD_ALIASES[load] ?? ""];
    if (model === undefined) throw badFeature(`unknown load option ${load}`);
    ctx.printer();
    const passed = await checkPerf(ctx, model, {
      prefix: a.flags.string("prefix"),
      autoCompact: a.flags.bool("auto-compact"),
      autoDefrag: a.flags.bool("auto-defrag"),
    });
    if (!passed) throw new CtlError(ExitCode.Error, "", undefined, true);
  },
};

export const checkCommand: CommandGroup = {
  name: "check",
  describe: "commands for checking properties of the etcd cluster",
  flags: [],
  subcommands: [perf],
};

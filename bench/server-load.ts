// npm run bench:server: a load generator against a three-member detcd cluster on loopback, the
// way etcd's reference figures were taken (the etcd3 npm client, 64 concurrent workers): puts/s,
// then linearizable gets/s, each with p50 and p99 latency. One JSON line per figure.
// With --etcd PATH it then runs the same load against a cluster of that etcd binary of the same size
// (Debian's etcd-server installs /usr/bin/etcd), so both figures come from one machine and moment.
// --rounds N repeats the pair N times, detcd and etcd alternating so a slow spell of the machine
// hits both, and ends with the ratio detcd/etcd of each round and their median.
// Each load is preceded by --warmup-seconds (default 2) of the same load, not measured, so both
// servers are measured in their steady state (detcd's JIT has compiled its hot paths by then).
//   npm run bench:server -- [--seconds N] [--warmup-seconds N] [--workers N] [--value-bytes N]
//                            [--keys N] [--members N] [--etcd PATH] [--rounds N]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { emit } from "./emit.js";
import {
  clientFor,
  eventually,
  memberFlags,
  memberPorts,
  tempDir,
} from "../test/real/server/helpers.js";
import { startDetcd, stopDetcd } from "../test/real/server/processes.js";

interface Options {
  seconds: number;
  /** Unmeasured load before each measured one. */
  warmupSeconds: number;
  workers: number;
  valueBytes: number;
  keys: number;
  /** Cluster size (3 for the figures etcd's reference was taken with). */
  members: number;
  /** An etcd binary to measure after detcd, the same way. */
  etcd?: string;
  /** How many times to measure detcd (and etcd after it). */
  rounds: number;
}

function options(argv: readonly string[]): Options {
  const o: Options = {
    seconds: 10,
    warmupSeconds: 2,
    workers: 64,
    valueBytes: 256,
    keys: 1000,
    members: 3,
    rounds: 1,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, "");
    if (name === "etcd") {
      const path = argv[i + 1];
      if (path === undefined || path === "")
        throw new Error("--etcd needs the path of an etcd binary");
      o.etcd = path;
      continue;
    }
    const value = Number(argv[i + 1]);
    const least = name === "warmup-seconds" ? 0 : 1;
    if (!Number.isInteger(value) || value < least) throw new Error(`bad value for ${argv[i]}`);
    if (name === "seconds") o.seconds = value;
    else if (name === "warmup-seconds") o.warmupSeconds = value;
    else if (name === "workers") o.workers = value;
    else if (name === "value-bytes") o.valueBytes = value;
    else if (name === "keys") o.keys = value;
    else if (name === "members") o.members = value;
    else if (name === "rounds") o.rounds = value;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/PID/stat (Linux, 100 clock
 * ticks a second as on every Linux build we run on); 0 where there is no such file.
 */
function cpuMs(pid: number | "self"): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold anything.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Runs `op` from `workers` loops for `seconds`; returns ops/s and latency percentiles (ms). */
async function load(
  o: Options,
  seconds: number,
  op: (worker: number, i: number) => Promise<unknown>,
): Promise<{ opsPerSec: number; p50Ms: number; p99Ms: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: o.workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        try {
          await op(w, i);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    opsPerSec: Math.round(latencies.length / elapsedS),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
  };
}

interface Throughput {
  readonly puts: number;
  readonly gets: number;
}

/**
 * Starts a cluster of `o.members` (detcd's build, or the etcd binary `etcd` when given), loads it
 * and emits the figures; returns the ops/s of each load.
 */
async function measureCluster(o: Options, etcdBinary?: string): Promise<Throughput> {
  const dir = tempDir("bench");
  const ports = await memberPorts(Array.from({ length: o.members }, (_, i) => `bench${i}`));
  const procs = ports.map((m) =>
    startDetcd(
      m.name,
      memberFlags(m, ports, join(dir, m.name), ["--log-level=warn"]).map((f) =>
        // etcd's default timers, not the tests' short ones.
        f.startsWith("--heartbeat-interval")
          ? "--heartbeat-interval=100"
          : f.startsWith("--election-timeout")
            ? "--election-timeout=1000"
            : f,
      ),
      etcdBinary === undefined ? { compiled: true } : { executable: etcdBinary },
    ),
  );
  try {
    const probe = clientFor(ports.map((p) => p.client));
    await eventually(
      async () => ((await probe.status()).leader !== 0n ? true : undefined),
      60_000,
      "a leader",
    );
    probe.close();
    const etcd = new Etcd3({ hosts: ports.map((p) => `127.0.0.1:${p.client}`) });
    const value = "v".repeat(o.valueBytes);
    const key = (w: number, i: number) => `/bench/key-${(w * 7919 + i) % o.keys}`;
    // Warm up connections and fill the key space.
    for (let k = 0; k < o.keys; k += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, o.keys - k) }, (_, j) =>
          etcd.put(`/bench/key-${k + j}`).value(value),
        ),
      );
    }
    const cpu = () =>
      procs.map((p) => (p.child.pid === undefined ? 0 : cpuMs(p.child.pid))).concat(cpuMs("self"));
    const measured = async (op: (w: number, i: number) => Promise<unknown>) => {
      await load(o, o.warmupSeconds, op);
      const before = cpu();
      const r = await load(o, o.seconds, op);
      const used = cpu().map((c, i) => c - (before[i] ?? 0));
      const per = (ms: number) => Number((ms / (r.opsPerSec * o.seconds)).toFixed(3));
      // CPU per operation (ms): the three members together, and the load generator itself.
      return {
        ...r,
        cpuMsPerOpMembers: per(used.slice(0, -1).reduce((a, b) => a + b, 0)),
        cpuMsPerOpClient: per(used.at(-1) ?? 0),
      };
    };
    const puts = await measured((w, i) => etcd.put(key(w, i)).value(value).exec());
    const prefix = etcdBinary === undefined ? "server" : "etcd";
    emit(`${prefix}-puts`, {
      workers: o.workers,
      valueBytes: o.valueBytes,
      ...puts,
      ...(etcdBinary === undefined ? { etcdReferenceOpsPerSec: 3800, etcdReferenceP99Ms: 51 } : {}),
    });
    const gets = await measured((w, i) => etcd.get(key(w, i)).string());
    emit(`${prefix}-linearizable-gets`, {
      workers: o.workers,
      ...gets,
      ...(etcdBinary === undefined ? { etcdReferenceOpsPerSec: 2600, etcdReferenceP99Ms: 94 } : {}),
    });
    etcd.close();
    return { puts: puts.opsPerSec, gets: gets.opsPerSec };
  } finally {
    await Promise.all(procs.map((p) => stopDetcd(p)));
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const o = options(process.argv.slice(2));
const ratios: Throughput[] = [];
for (let round = 0; round < o.rounds; round++) {
  const ours = await measureCluster(o);
  if (o.etcd === undefined) continue;
  const theirs = await measureCluster(o, o.etcd);
  ratios.push({ puts: ours.puts / theirs.puts, gets: ours.gets / theirs.gets });
}
if (ratios.length > 0) {
  const round2 = (x: number) => Math.round(x * 100) / 100;
  emit("server-vs-etcd", {
    rounds: ratios.length,
    putsRatios: ratios.map((r) => round2(r.puts)).join(" "),
    getsRatios: ratios.map((r) => round2(r.gets)).join(" "),
    putsRatioMedian: round2(median(ratios.map((r) => r.puts))),
    getsRatioMedian: round2(median(ratios.map((r) => r.gets))),
  });
}

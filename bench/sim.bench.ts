// Simulator speed: virtual seconds per wall second and events per wall second.
// sim.idle: 3 members, heartbeats only, 1 virtual hour (target >= 2000x real time).
// sim.raft-load: 3 members, 200 proposals/s, 10 virtual minutes (target >= 200x).
// sim.raft-disk: the same load with every log on a simulated disk (WAL, snapshots every 1000
// entries, compaction) and a crash/restart cycle every 5 virtual seconds.
import { runRaftScenario, type RaftRunOptions } from "../sim/raft/run-raft.js";
import { parseScenario } from "../sim/scenario.js";
import { emit } from "./emit.js";

function scenario(name: string, duration: string, ratePerS: number) {
  const text = `
name: ${name}
cluster: { members: 3, heartbeat-ms: 100, election-ms: 1000 }
duration: ${duration}
network: { latency-ms: 1, jitter-ms: 2 }
workload: { profile: raft-proposals, rate-per-s: ${ratePerS} }
checks: [raft-safety]
`;
  const parsed = parseScenario(text, name);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function measure(
  bench: string,
  duration: string,
  ratePerS: number,
  options: RaftRunOptions = {},
): void {
  const s = runRaftScenario(scenario(bench.replace(".", "-"), duration, ratePerS), 1, options);
  if (!s.ok) throw new Error(`${bench}: ${s.violations} violations`);
  emit(bench, {
    virtualS: s.virtualMs / 1000,
    wallS: s.wallMs / 1000,
    virtualPerWall: Math.round(s.virtualMs / s.wallMs),
    eventsPerWallS: Math.round(s.events / (s.wallMs / 1000)),
    events: s.events,
    ops: s.ops,
  });
}

export default function run(): void {
  measure("sim.idle", "1h", 0);
  measure("sim.raft-load", "10m", 200);
  const tenMinutesMs = 10 * 60_000;
  measure("sim.raft-disk", "10m", 200, {
    storage: "disk",
    storageOptions: { snapshotCount: 1000, catchUpEntries: 200 },
    crashLoop: {
      startMs: 5_000,
      endMs: tenMinutesMs - 5_000,
      everyMs: 5_000,
      restartAfterMs: 1_000,
    },
  });
}

// Simulator speed with the whole member: 3 etcd members, 4 recording clients and 2 watchers under
// network faults (loss, duplicates, reordering, members and the leader cut off, crashes) for 5
// virtual minutes, through the scenario runner with the watch, Raft safety and convergence checks
// (the history is not checked for linearizability here: the figure is the simulator's speed);
// virtual seconds per wall second, events and client operations per wall second.
import { runKv } from "../sim/member/run-kv-scenario.js";
import { parseScenario } from "../sim/scenario.js";
import { emit } from "./emit.js";

const SCENARIO = `
name: sim-kv-3
cluster: { members: 3, heartbeat-ms: 100, election-ms: 1000 }
duration: 300s
network: { latency-ms: 1, jitter-ms: 3, loss: 0.02, duplicate: 0.02, reorder: 0.05, reorder-ms: 30 }
workload: { profile: etcd-kv, rate-per-s: 200, clients: 4, keys: 8, watchers: 2 }
faults:
  - { at: 3s, every: 9s, jitter: 4s, partition: { isolate: random }, for: 3s }
  - { at: 6s, every: 11s, jitter: 4s, partition: { isolate: leader }, for: 2s }
  - { at: 9s, every: 13s, jitter: 4s, crash: { target: random }, restart-after: 3s }
checks: [watch, raft-safety, convergence]
`;

export default function run(): void {
  const parsed = parseScenario(SCENARIO, "member.bench.ts");
  if (!parsed.ok) throw new Error(parsed.error.message);
  const s = runKv(parsed.value, 1, SCENARIO).summary;
  if (s.violations > 0) throw new Error(`sim.kv-3: ${s.violations} violations`);
  const wallS = s.wallMs / 1000;
  emit("sim.kv-3", {
    virtualPerWall: Math.round(s.virtualMs / s.wallMs),
    eventsPerWallS: Math.round(s.events / wallS),
    opsPerWallS: Math.round(s.ops / wallS),
    virtualS: s.virtualMs / 1000,
    wallS,
    events: s.events,
    ops: s.ops,
  });
}

// Simulator speed with the whole member: 3 etcd members, 4 recording clients and 2 watchers under
// network faults for 5 virtual minutes; virtual seconds per wall second, events and client
// operations per wall second.
import { runKvSimulation } from "../sim/member/run-kv.js";
import { emit } from "./emit.js";

export default function run(): void {
  const s = runKvSimulation({ seed: 1, durationMs: 300_000 });
  if (s.violations.length > 0) throw new Error(`sim.kv-3: ${s.violations.length} violations`);
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

// One run of the simulated KV cluster with a fault schedule drawn from the seed: 3 (or N) members,
// recording clients with the etcd-kv traffic and its compactor, watchers of the key prefix that
// resume and re-list like Kubernetes reflectors; lossy, duplicating, reordering links throughout,
// member isolation, crashes with restart and leader isolation now and then; then a healed quiet
// period and the checks:
//   convergence  every member ends with the same HashKV at the same revision and the same leases;
//   watch        each watcher saw exactly the committed events of its range in each of its
//                segments (a re-list after compaction starts a new one);
//   lease-expiry with expiring leases, none is left once its TTL has passed without keepalives;
//   raft-safety  the online Raft checker saw no violation.
// The client history is returned for the linearizability checker, unknown writes settled by the
// committed log. Scenario files run through
// run-kv-scenario.ts instead.
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import { Violations, type Violation } from "../check/violation.js";
import type { LinkFaults } from "../net.js";
import { wallNowMs } from "../wall-time.js";
import type { World } from "../world.js";
import type { KvCluster } from "./kv-cluster.js";
import { checkConvergence, checkWatchers, patchUnknownWrites } from "./kv-checks.js";
import { KvHarness } from "./kv-harness.js";
import type { EtcdOperation } from "./kv-workload.js";

export interface KvRunOptions {
  readonly seed: number;
  readonly members: number;
  readonly clients: number;
  readonly watchers: number;
  /** Virtual time with traffic and faults; healing and checks come after it. */
  readonly durationMs: number;
  readonly faults: boolean;
  /** Short leases that expire (the model cannot check histories then, so the run says so). */
  readonly expiringLeases: boolean;
  /** Operations per second over all clients. */
  readonly ratePerS: number;
  /** Compaction interval; 0 turns compaction off. */
  readonly compactEveryMs: number;
}

export const DEFAULT_KV_RUN: KvRunOptions = {
  seed: 1,
  members: 3,
  clients: 4,
  watchers: 2,
  durationMs: 60_000,
  faults: true,
  expiringLeases: false,
  ratePerS: 200,
  compactEveryMs: 3_000,
};

export interface KvRunSummary {
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly ops: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly violations: readonly Violation[];
  readonly history: readonly EtcdOperation[];
  readonly watchEvents: number;
  readonly watchReconnects: number;
  readonly watchRelists: number;
  readonly leaderElections: number;
}

const FAULTY_LINK: LinkFaults = {
  latencyMs: 1,
  jitterMs: 3,
  loss: 0.02,
  duplicate: 0.02,
  reorder: 0.05,
  reorderDelayMs: 30,
};
const CALM: LinkFaults = { ...FAULTY_LINK, loss: 0, duplicate: 0, reorder: 0 };

export function runKvSimulation(overrides: Partial<KvRunOptions> = {}): KvRunSummary {
  const o = { ...DEFAULT_KV_RUN, ...overrides };
  const wallStart = wallNowMs();
  const h = new KvHarness({
    seed: o.seed,
    members: o.members,
    heartbeatMs: 100,
    electionMs: 1000,
    link: o.faults ? FAULTY_LINK : CALM,
    profile: "etcd-kv",
    clients: o.clients,
    keys: 8,
    watchers: o.watchers,
    ratePerS: o.ratePerS,
    trafficEndMs: o.durationMs,
    leaseTtlS: o.expiringLeases ? 3 : 3_600,
    compactEveryMs: o.compactEveryMs,
  });
  const { world, cluster } = h;
  h.start();
  const endpoints = [...cluster.names, ...h.clientNames];
  if (o.faults) scheduleFaults(world, cluster, endpoints, o.durationMs);
  // Heal, let leases run out (if short) and everyone catch up, then check.
  world.runUntil({ untilMs: o.durationMs });
  cluster.network.heal();
  cluster.network.setAllLinks(CALM);
  for (const s of cluster.slots) if (s.host.state === "down") cluster.restart(s.name);
  const settleMs = o.expiringLeases ? 20_000 : 8_000;
  world.runUntil({ untilMs: o.durationMs + settleMs });
  h.stopWatchers();
  world.runUntil({ untilMs: o.durationMs + settleMs + 2_000 });

  const violations = new Violations();
  for (const v of cluster.violations.all()) violations.add(v);
  checkConvergence(cluster, violations, world.nowMs);
  checkWatchers(cluster.committed, h.watchers, h.keyPrefix, violations, world.nowMs);
  if (o.expiringLeases) checkLeasesExpired(cluster, violations, world.nowMs);
  const kv = cluster.member("m1").kv;
  return {
    seed: o.seed,
    traceHash: world.traceHash(),
    events: world.eventsProcessed,
    virtualMs: world.nowMs,
    wallMs: Math.round(wallNowMs() - wallStart),
    ops: h.traffic.issued,
    revision: kv.currentRevision,
    compactRevision: kv.compactRevision,
    violations: violations.all(),
    history: patchUnknownWrites(h.traffic.history, cluster),
    watchEvents: h.watchers.reduce((n, w) => n + w.events.length, 0),
    watchReconnects: h.watchers.reduce((n, w) => n + w.reconnects, 0),
    watchRelists: h.watchers.reduce((n, w) => n + w.relists, 0),
    leaderElections: cluster.checker.leaderElections,
  };
}

/** Every few seconds one fault for a few seconds: isolate a member, isolate the leader, or crash one. */
function scheduleFaults(
  world: World,
  cluster: KvCluster,
  endpoints: readonly string[],
  untilMs: number,
): void {
  const random = world.stream("faults");
  const next = () => {
    world.schedule(random.int(3_000, 8_000), "nemesis", "fault", 0, () => {
      if (world.nowMs >= untilMs - 5_000) return;
      const forMs = random.int(1_000, 5_000);
      const kind = random.int(0, 2);
      const target =
        kind === 1
          ? (cluster.leader()?.name ?? random.pick(cluster.names))
          : random.pick(cluster.names);
      if (kind === 2) {
        cluster.crash(target);
        world.schedule(forMs, "nemesis", "restart", 0, () => cluster.restart(target));
      } else {
        const cuts = cluster.network.isolate(target, endpoints);
        world.schedule(forMs, "nemesis", "heal", 0, () => cluster.network.restore(cuts));
      }
      world.schedule(forMs, "nemesis", "next", 0, next);
    });
  };
  next();
}

function checkLeasesExpired(cluster: KvCluster, violations: Violations, atMs: number): void {
  for (const s of cluster.slots) {
    const m = s.member;
    if (m === undefined) continue;
    const left = m.lessor.leases();
    const attached = m.lessor.attachments().map((a) => bytesToLatin1(a.key));
    if (left.length > 0 || attached.length > 0) {
      const message = `leases past their TTL still exist: ${left.join(",")} (keys ${attached.join(",")})`;
      violations.add({ check: "lease-expiry", atMs, member: s.name, message });
    }
  }
}

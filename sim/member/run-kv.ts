// One run of the simulated KV cluster: 3 (or N) members, recording clients, watchers on the key
// prefix from revision 1, a fault schedule drawn from the seed (lossy, duplicating, reordering links
// throughout; member isolation, crashes with restart, and leader isolation now and then), then a
// healed quiet period and the checks:
//   convergence  every member ends with the same HashKV at the same revision and the same leases;
//   watch        every watcher saw exactly the committed events of its range, in order, once;
//   lease-expiry with expiring leases, none is left once its TTL has passed without keepalives;
//   raft-safety  the online Raft checker saw no violation.
// The client history is returned for the linearizability checker.
import { bytesToLatin1, latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import { Violations, type Violation } from "../check/violation.js";
import type { LinkFaults } from "../net.js";
import { wallNowMs } from "../wall-time.js";
import { World } from "../world.js";
import { KvCluster } from "./kv-cluster.js";
import { describeEvent, SimClient, SimWatcher } from "./kv-client.js";
import { KvWorkload, type EtcdOperation } from "./kv-workload.js";

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
  readonly thinkMs: number;
}

export const DEFAULT_KV_RUN: KvRunOptions = {
  seed: 1,
  members: 3,
  clients: 4,
  watchers: 2,
  durationMs: 60_000,
  faults: true,
  expiringLeases: false,
  thinkMs: 20,
};

export interface KvRunSummary {
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly ops: number;
  readonly revision: number;
  readonly violations: readonly Violation[];
  readonly history: readonly EtcdOperation[];
  readonly watchEvents: number;
  readonly watchReconnects: number;
  readonly leaderElections: number;
}

const HEARTBEAT_MS = 100;
const ELECTION_MS = 1000;
const CLIENT_TIMEOUT_MS = 3_000;
const KEY_PREFIX = "k/";

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
  const world = new World(o.seed);
  const cluster = new KvCluster(world, {
    members: o.members,
    heartbeatMs: HEARTBEAT_MS,
    electionMs: ELECTION_MS,
    link: o.faults ? FAULTY_LINK : CALM,
    // Requests give up on the member before the client does, so most outcomes are known.
    memberConfig: { requestTimeoutMs: CLIENT_TIMEOUT_MS - 500, leaseCheckpointIntervalMs: 5_000 },
  });
  const random = world.stream("workload");
  const clients = Array.from(
    { length: o.clients },
    (_, i) => new SimClient(world, cluster.network, `client-${i}`, CLIENT_TIMEOUT_MS),
  );
  const prefix = latin1ToBytes(KEY_PREFIX);
  const watchers = Array.from(
    { length: o.watchers },
    (_, i) =>
      new SimWatcher(
        world,
        cluster.network,
        `watch-${i}`,
        cluster.names,
        world.stream(`watch-${i}`),
        {
          key: prefix,
          rangeEnd: prefixEnd(prefix),
          progressEveryMs: 1_000,
          staleAfterMs: 2_500,
        },
      ),
  );
  const leaseTtlS = o.expiringLeases ? 3 : 3_600;
  const workload = new KvWorkload(world, clients, cluster.names, random, {
    keyPrefix: KEY_PREFIX,
    keys: 8,
    thinkMs: o.thinkMs,
    leaseTtlS,
    endMs: o.durationMs,
  });
  workload.start();
  for (const w of watchers) w.start();
  const endpoints = [
    ...cluster.names,
    ...clients.map((c) => c.name),
    ...watchers.map((w) => w.name),
  ];
  if (o.faults) scheduleFaults(world, cluster, endpoints, o.durationMs);
  // Heal, let leases run out (if short) and everyone catch up, then check.
  world.runUntil({ untilMs: o.durationMs });
  cluster.network.heal();
  cluster.network.setAllLinks(CALM);
  for (const s of cluster.slots) if (s.host.state === "down") cluster.restart(s.name);
  const settleMs = o.expiringLeases ? 20_000 : 8_000;
  world.runUntil({ untilMs: o.durationMs + settleMs });
  for (const w of watchers) w.stop();
  world.runUntil({ untilMs: o.durationMs + settleMs + 2_000 });

  const violations = new Violations();
  for (const v of cluster.violations.all()) violations.add(v);
  checkConvergence(cluster, violations, world.nowMs);
  checkWatchers(cluster, watchers, violations, world.nowMs);
  if (o.expiringLeases) checkLeasesExpired(cluster, violations, world.nowMs);
  const revision = cluster.member("m1").kv.currentRevision;
  return {
    seed: o.seed,
    traceHash: world.traceHash(),
    events: world.eventsProcessed,
    virtualMs: world.nowMs,
    wallMs: Math.round(wallNowMs() - wallStart),
    ops: workload.issued,
    revision,
    violations: violations.all(),
    history: workload.history,
    watchEvents: watchers.reduce((n, w) => n + w.events.length, 0),
    watchReconnects: watchers.reduce((n, w) => n + w.reconnects, 0),
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

function checkConvergence(cluster: KvCluster, violations: Violations, atMs: number): void {
  const views = cluster.slots.map((s) => {
    const m = s.member;
    if (m === undefined) return `${s.name} down`;
    const h = m.kv.hashAt(0);
    const hash = h.ok ? `${h.value.hash}@${h.value.hash_revision}` : h.error.name;
    return `${hash} leases=${m.lessor.leases().join(",")}`;
  });
  if (new Set(views).size !== 1) {
    violations.add({
      check: "convergence",
      atMs,
      member: undefined,
      message: `members differ: ${views.join(" | ")}`,
    });
  }
}

function checkWatchers(
  cluster: KvCluster,
  watchers: readonly SimWatcher[],
  violations: Violations,
  atMs: number,
): void {
  const kv = cluster.member("m1").kv;
  const prefix = latin1ToBytes(KEY_PREFIX);
  const all = kv.events(prefix, prefixEnd(prefix), 1, kv.currentRevision);
  if (!all.ok)
    return violations.add({ check: "watch", atMs, member: "m1", message: all.error.message });
  const expected = all.value.events.map(describeEvent);
  for (const w of watchers) {
    const seen = w.events.map(describeEvent);
    const firstDiff = seen.findIndex((e, i) => e !== expected[i]);
    if (firstDiff >= 0) {
      const message = `event ${firstDiff}: saw "${seen[firstDiff]}", committed "${expected[firstDiff] ?? "nothing"}"`;
      violations.add({ check: "watch", atMs, member: w.name, message });
    } else if (seen.length !== expected.length) {
      const message = `saw ${seen.length} of ${expected.length} committed events (caught up to revision ${w.seenRevision} of ${kv.currentRevision})`;
      violations.add({ check: "watch", atMs, member: w.name, message });
    }
  }
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

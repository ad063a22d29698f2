// One run of a KV scenario file (profile etcd-kv or kubernetes): the KV cluster with recording
// clients, compactor and watchers; the nemesis plays the scenario's faults on it; after the faults
// a liveness probe; then the traffic stops, the cluster settles, and the scenario's checks run:
//   raft-safety   the online Raft checker (every member's appends, commits, applies);
//   liveness      within `within` of the faults' end, a write and a linearizable read succeed on
//                 every member (so a leader exists); the time it took is the recovery time;
//   convergence   HashKV, compact revision and leases equal on every member after healing;
//   watch         each watcher's events against the committed log (see kv-checks.ts) and etcd's
//                 nine watch guarantees per watch stream (sim/check/watch-guarantees.ts);
//   linearizable  the client history against the etcd model, 20 s of checking at most.
// Membership faults go through an operator (kv-operator.ts) that uses the Cluster API under the
// run's faults; each change's outcome ends its fault window in the report, and the operator's
// calls are operations of the run. Liveness probes, convergence compares and clients use the
// members of the final (committed) configuration; removed members are left out.
import { latin1ToBytes } from "../../src/lib/bytes.js";
import type { Event } from "../../src/api/kv.js";
import { verdicts } from "../check/verdicts.js";
import { Violations } from "../check/violation.js";
import type { SimDisk } from "../disk.js";
import { Nemesis, type DurableControls, type NemesisCluster } from "../nemesis.js";
import type { CheckVerdict, MemberSample, RunArtifacts } from "../run-artifacts.js";
import type { RunSummary } from "../run-summary.js";
import type { Scenario } from "../scenario.js";
import { wallNowMs } from "../wall-time.js";
import type { World } from "../world.js";
import {
  KV_DATA_DIR,
  type ClientRequest,
  type KvCluster,
  type KvDiskOptions,
} from "./kv-cluster.js";
import {
  checkConvergence,
  checkLinearizable,
  checkWatchers,
  checkWatchGuaranteesOfRun,
  linearizableViolation,
  patchUnknownWrites,
  type LinearizableOutcome,
} from "./kv-checks.js";
import { SimClient, type SimWatcher } from "./kv-client.js";
import { CLIENT_TIMEOUT_MS, KvHarness } from "./kv-harness.js";
import { KvOperator } from "./kv-operator.js";
import type { KvTraffic } from "./kv-traffic.js";
import { historyJsonLines } from "./kv-workload.js";

/** Wall time the linearizability search may take before answering "unknown". */
export const LINEARIZABLE_TIMEOUT_MS = 20_000;
const PROBE_EVERY_MS = 250;
/**
 * The probe gives up on one request sooner than the traffic's clients: it asks "is the cluster
 * live?", so on a lossy link a lost message should cost it one more try, not a long client timeout.
 */
const PROBE_TIMEOUT_MS = 1_000;

/** The recorded admin client the nemesis compacts with (absent: no compact faults). */
export interface KvAdmin {
  readonly client: SimClient;
  readonly traffic: KvTraffic;
}

/** The operator's pause between two tries of a membership change. */
const OPERATOR_RETRY_MS = 500;

/** Compactions stay this many revisions behind the newest, so recent reads still succeed. */
const COMPACT_LAG = 5;

export function kvNemesisView(
  cluster: KvCluster,
  admin?: KvAdmin,
  operator?: KvOperator,
): NemesisCluster {
  const host = (name: string) => cluster.slot(name).host;
  return {
    // Read at each fault: added members are targets too, removed ones no more.
    get names() {
      return cluster.names;
    },
    leaderName: () => cluster.leader()?.name,
    isDown: (n) => host(n).state === "down",
    crash: (n, how) => cluster.crash(n, how?.mode, how?.loseUnsynced ?? true),
    restart: (n) => cluster.restart(n),
    pause: (n) => host(n).pause(),
    resume: (n) => host(n).resume(),
    drift: (n, rate) => host(n).drift(rate),
    network: cluster.network as NemesisCluster["network"],
    durable: cluster.durable ? kvDurableControls(cluster) : undefined,
    compact: admin === undefined ? undefined : () => compactNow(cluster, admin),
    membership: operator,
  };
}

/** Issues a recorded compaction a little below the newest committed revision, at the leader. */
function compactNow(cluster: KvCluster, admin: KvAdmin): string {
  const leader = cluster.leader();
  const member = leader?.name ?? cluster.names[0] ?? "m1";
  // The leader's store is the newest; the committed log is the fallback without a leader.
  const current = leader?.member?.status().revision ?? cluster.committed.lastRevision;
  const revision = Math.max(1, current - COMPACT_LAG);
  const request: ClientRequest = { kind: "compaction", request: { revision } };
  admin.traffic.callRecorded(admin.client, member, request, () => undefined);
  return `compact at ${revision} via ${member}`;
}

function kvDurableControls(cluster: KvCluster): DurableControls {
  const disk = (name: string): SimDisk => {
    const d = cluster.slot(name).disk;
    if (d === undefined) throw new Error(`${name} has no disk`);
    return d;
  };
  return {
    crashAt: (n, point, restartAfterMs) => cluster.crashAt(n, point, restartAfterMs),
    stallAt: (n, point, forMs) =>
      cluster.slot(n).failpoints.arm(point, { action: { kind: "stall", forMs }, times: 1 }),
    disarm: (n, point) => cluster.slot(n).failpoints.disarm(point),
    diskFaults: (n) => disk(n).currentFaults,
    configureDisk: (n, faults) => disk(n).configure(faults),
    usedBytes: (n) => disk(n).usedBytes(),
    flipBitAtRest: (n) => disk(n).flipRandomBitAtRest(KV_DATA_DIR),
    // The outcome shows in the member's stats; a failure stops it like any storage failure.
    defragment: (n) => cluster.slot(n).member?.defragment(() => undefined),
  };
}

/** Disk options of a scenario with `storage: disk`: small snapshots and segments, so they rotate. */
function diskOptionsOf(s: Scenario): KvDiskOptions | undefined {
  if (s.storage.mode === "memory") return undefined;
  return {
    snapshotCount: s.storage.snapshotCount ?? 1000,
    catchUpEntries: s.storage.catchUpEntries ?? 200,
    segmentBytes: 64 * 1024,
    restartAfterMs: 500,
  };
}

/** When traffic stops (after the liveness window and a probe phase) and when the run ends. */
function phases(s: Scenario): { trafficEndMs: number; endMs: number } {
  const settleMs = 2 * s.cluster.electionMs;
  const trafficEndMs = s.durationMs + (s.checks.livenessWithinMs ?? 0) + settleMs;
  return { trafficEndMs, endMs: trafficEndMs + settleMs + CLIENT_TIMEOUT_MS + 2_000 };
}

/**
 * After the faults end, rounds of a put and a linearizable get on each member until every member
 * has answered both. A member that answered stays answered: a message lost on a lossy link fails
 * one round's request, not the liveness of the cluster. The probe's calls are recorded in the
 * history (they change the revision).
 */
class LivenessProbe {
  recoveryMs: number | undefined;
  private round = 0;
  private readonly client: SimClient;
  /** Members that answered a put and a linearizable get since the faults ended. */
  private readonly answered = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly cluster: KvCluster,
    private readonly traffic: KvTraffic,
    private readonly startMs: number,
    private readonly deadlineMs: number,
  ) {
    this.client = new SimClient(world, cluster.network, "probe", PROBE_TIMEOUT_MS);
  }

  start(): void {
    this.world.schedule(this.startMs - this.world.nowMs, "probe", "probe", 0, () => this.next());
  }

  finish(violations: Violations): void {
    if (this.recoveryMs !== undefined) return;
    const message = `no write and linearizable read succeeded on every member within ${this.deadlineMs - this.startMs}ms of the faults' end`;
    violations.add({ check: "liveness", atMs: this.deadlineMs, member: undefined, message });
  }

  private next(): void {
    if (this.recoveryMs !== undefined || this.world.nowMs > this.deadlineMs) return;
    const round = this.round++;
    this.probe(0, round, (allOk) => {
      if (allOk && this.world.nowMs <= this.deadlineMs) {
        this.recoveryMs = this.world.nowMs - this.startMs;
        return;
      }
      this.world.schedule(PROBE_EVERY_MS, "probe", "probe", round, () => this.next());
    });
  }

  /** Probes members from index `i` on; `done(true)` if all answered ok. */
  private probe(i: number, round: number, done: (allOk: boolean) => void): void {
    // The voters of the configuration now (learners serve no writes; removed members are gone).
    const member = this.cluster.endpoints[i];
    if (member === undefined) return done(true);
    // A member with the CORRUPT alarm is out for good: liveness asks the others.
    if (this.cluster.slot(member).corrupt !== undefined || this.answered.has(member)) {
      return this.probe(i + 1, round, done);
    }
    const key = latin1ToBytes(`probe/${member}`);
    const value = latin1ToBytes(`probe-${round}-${member}`);
    this.traffic.callRecorded(
      this.client,
      member,
      { kind: "put", request: { key, value } },
      (w) => {
        if (w.type !== "ok") return done(false);
        this.traffic.callRecorded(this.client, member, { kind: "range", request: { key } }, (r) => {
          if (r.type !== "ok") return done(false);
          this.answered.add(member);
          this.probe(i + 1, round, done);
        });
      },
    );
  }
}

/** Samples every member's Raft state at a fixed interval (the report's timeline). */
function sampleTimeline(world: World, cluster: KvCluster, intervalMs: number, endMs: number) {
  const samples: MemberSample[] = [];
  const sample = (): void => {
    for (const slot of cluster.slots) {
      const state = slot.host.state;
      const st = slot.member?.status();
      samples.push({
        atMs: world.nowMs,
        member: slot.name,
        role: state === "up" && st !== undefined ? st.role : state === "up" ? "down" : state,
        term: st?.raftTerm ?? 0,
        commitIndex: st?.commitIndex ?? 0,
      });
    }
    if (world.nowMs + intervalMs <= endMs) {
      world.schedule(intervalMs, "sampler", "sample", 0, sample);
    }
  };
  world.schedule(0, "sampler", "sample", 0, sample);
  return samples;
}

function describeWatchEvent(e: Event) {
  const text = (b: Uint8Array) => String.fromCharCode(...b);
  return {
    type: e.type,
    key: text(e.kv.key),
    modRevision: e.kv.mod_revision,
    createRevision: e.kv.create_revision,
    version: e.kv.version,
    value: text(e.kv.value),
    ...(e.prev_kv === undefined ? {} : { prevValue: text(e.prev_kv.value) }),
  };
}

/** Every watch response each watcher received, for watch.json. */
function watchArtifact(watchers: readonly SimWatcher[]) {
  return watchers.map((w) => ({
    watcher: w.name,
    reconnects: w.reconnects,
    relists: w.relists,
    segments: w.segments.map((s) => ({ startRevision: s.startRevision, seen: s.seenRevision })),
    responses: w.received.map(({ atMs, member, streamId, response: r }) => ({
      atMs,
      member,
      streamId,
      watchId: r.watch_id,
      revision: r.header.revision,
      created: r.created,
      canceled: r.canceled,
      compactRevision: r.compact_revision,
      fragment: r.fragment,
      events: r.events.map(describeWatchEvent),
    })),
  }));
}

/** What a KV run adds to its scenario, for tests and benchmarks. */
export interface KvRunOptions {
  /** TTL of the leases clients grant (default an hour: only revokes end them). */
  readonly leaseTtlS?: number;
  /** Runs once the cluster, traffic and nemesis are set up, before the world runs. */
  readonly prepare?: (run: KvRun) => void;
}

/** A finished (or, inside `prepare`, about to start) KV run, for tests that look inside it. */
export interface KvRun {
  readonly world: World;
  readonly cluster: KvCluster;
  readonly harness: KvHarness;
  /** The membership operator (scenarios with member faults). */
  readonly operator: KvOperator | undefined;
}

/** Runs a KV scenario with `seed`; everything the run leaves behind. */
export function runKv(scenario: Scenario, seed: number, scenarioText: string): RunArtifacts {
  return runKvCluster(scenario, seed, scenarioText).artifacts;
}

/** One KV run, with the run's insides (cluster, harness, operator) for tests. */
export function runKvCluster(
  scenario: Scenario,
  seed: number,
  scenarioText: string,
  options: KvRunOptions = {},
): KvRun & { readonly artifacts: RunArtifacts } {
  const profile = scenario.workload.profile;
  if (profile === "raft-proposals") throw new Error("runKv: raft-proposals is not a KV profile");
  const wallStart = wallNowMs();
  const { trafficEndMs, endMs } = phases(scenario);
  const disk = diskOptionsOf(scenario);
  const h = new KvHarness({
    seed,
    members: scenario.cluster.members,
    heartbeatMs: scenario.cluster.heartbeatMs,
    electionMs: scenario.cluster.electionMs,
    link: scenario.network,
    profile,
    clients: scenario.workload.clients,
    keys: scenario.workload.keys,
    watchers: scenario.workload.watchers,
    ratePerS: scenario.workload.ratePerS,
    trafficEndMs,
    leaseTtlS: options.leaseTtlS ?? 3_600,
    compactEveryMs: profile === "kubernetes" ? 5_000 : 2_000,
    ...(disk === undefined ? {} : { disk }),
    ...(scenario.workload.auth ? { auth: true } : {}),
  });
  const { world, cluster } = h;
  h.start();
  // Only scenarios that compact get the admin client, so others keep their traces.
  const admin = scenario.faults.some((f) => f.action.kind === "compact")
    ? {
        client: new SimClient(world, cluster.network, "admin", CLIENT_TIMEOUT_MS),
        traffic: h.traffic,
      }
    : undefined;
  // Likewise the membership operator.
  const operator = scenario.faults.some((f) => f.action.kind === "member")
    ? new KvOperator(world, cluster, {
        deadlineMs: scenario.faultsEndMs,
        retryMs: OPERATOR_RETRY_MS,
        timeoutMs: CLIENT_TIMEOUT_MS,
      })
    : undefined;
  const nemesis = new Nemesis(world, kvNemesisView(cluster, admin, operator), scenario);
  nemesis.start();
  const withinMs = scenario.checks.livenessWithinMs;
  const probe =
    withinMs === undefined
      ? undefined
      : new LivenessProbe(
          world,
          cluster,
          h.traffic,
          scenario.faultsEndMs,
          scenario.faultsEndMs + withinMs,
        );
  probe?.start();
  const interval = Math.max(scenario.cluster.heartbeatMs, Math.ceil(endMs / 1500));
  const timeline = sampleTimeline(world, cluster, interval, endMs);
  const run: KvRun = { world, cluster, harness: h, operator };
  options.prepare?.(run);
  world.runUntil({ untilMs: endMs - 2_000 });
  h.stopWatchers();
  world.runUntil({ untilMs: endMs });
  operator?.finish();

  const names = scenario.checks.names;
  const violations = new Violations();
  for (const v of cluster.violations.all()) violations.add(v);
  if (probe !== undefined) probe.finish(violations);
  if (names.includes("convergence")) checkConvergence(cluster, violations, world.nowMs);
  if (names.includes("watch")) {
    checkWatchers(cluster.committed, h.watchers, h.keyPrefix, violations, world.nowMs);
    checkWatchGuaranteesOfRun(cluster, h.watchers, violations);
  }
  // The history as checked: unknown writes settled by the committed log.
  const history = patchUnknownWrites(h.traffic.history, cluster);
  const linearizable = names.includes("linearizable")
    ? checkLinearizable(history, LINEARIZABLE_TIMEOUT_MS)
    : undefined;
  if (linearizable !== undefined) linearizableViolation(linearizable, violations, world.nowMs);
  const all = violations.all();
  const ops = h.traffic.operations;
  const summary: RunSummary = {
    scenario: scenario.name,
    seed,
    traceHash: world.traceHash(),
    events: world.eventsProcessed,
    virtualMs: world.nowMs,
    wallMs: Math.round(wallNowMs() - wallStart),
    ops: h.traffic.issued,
    violations: all.length,
    ok: all.length === 0,
    report: null,
    details: {
      violations: all,
      faults: nemesis.windows,
      committedOps: ops.filter((o) => o.result === "ok" && o.kind !== "range").length,
      answeredReads: ops.filter((o) => o.result === "ok" && o.kind === "range").length,
      leaderElections: cluster.checker.leaderElections,
      recoveryMs: probe?.recoveryMs ?? null,
      network: { ...cluster.network.stats },
    },
  };
  let historyText: string | undefined;
  let watch: unknown;
  const artifacts: RunArtifacts = {
    summary,
    scenarioText,
    checks: withLinearizableDetail(verdicts(names, all), linearizable),
    operations: operator === undefined ? ops : [...ops, ...operator.operations],
    timeline,
    // Built when read: only runs that write a folder (failing ones, or --keep-all) need them.
    get historyJsonLines() {
      return (historyText ??= historyJsonLines(history));
    },
    get watch() {
      return (watch ??= watchArtifact(h.watchers));
    },
  };
  return { ...run, artifacts };
}

/** The linearizable verdict says what the checker answered ("linearizable (...)", "unknown: ..."). */
function withLinearizableDetail(
  checks: CheckVerdict[],
  outcome: LinearizableOutcome | undefined,
): CheckVerdict[] {
  if (outcome === undefined) return checks;
  return checks.map((c) =>
    c.check === "linearizable" ? { ...c, ok: outcome.result === "ok", detail: outcome.detail } : c,
  );
}

// One run of a Raft-only scenario: build the cluster, start the workload, the nemesis and the
// checks, run the world to the end, and summarize.
import { RaftLivenessCheck } from "../check/raft-liveness.js";
import type { SimDisk } from "../disk.js";
import { Nemesis, type DurableControls, type NemesisCluster } from "../nemesis.js";
import { verdicts } from "../check/verdicts.js";
import type { RunArtifacts } from "../run-artifacts.js";
import type { RunSummary } from "../run-summary.js";
import type { Scenario } from "../scenario.js";
import { wallNowMs } from "../wall-time.js";
import { operationRecords, RaftProposalWorkload } from "../workload/raft-proposals.js";
import { World } from "../world.js";
import { CrashLoop, type CrashLoopOptions } from "./crash-loop.js";
import { RaftCluster, type RaftStorageOptions, type StorageMode } from "./raft-cluster.js";
import { memberName, type RaftMember } from "./raft-member.js";
import { RaftTimeline } from "./timeline.js";

/** What a Raft run adds to its scenario (or overrides of the file's `storage`). */
export interface RaftRunOptions {
  readonly storage?: StorageMode;
  readonly storageOptions?: Partial<RaftStorageOptions>;
  /** Crash/restart cycles on top of the scenario's faults. */
  readonly crashLoop?: CrashLoopOptions;
  /** Runs once the cluster, workload and nemesis are set up and before the world runs. */
  readonly prepare?: (run: RaftRun) => void;
}

/** A finished (or, inside `prepare`, about to start) run, for tests that look inside it. */
export interface RaftRun {
  readonly world: World;
  readonly cluster: RaftCluster;
  readonly workload: RaftProposalWorkload;
  readonly crashLoop: CrashLoop | undefined;
}

function nemesisView(cluster: RaftCluster): NemesisCluster {
  const get = (name: string): RaftMember => cluster.requireMember(name);
  return {
    // Read at each fault: members added at run time are targets too.
    get names() {
      return cluster.names;
    },
    leaderName: () => cluster.leader()?.name,
    isDown: (n) => get(n).host.state === "down",
    crash: (n, how) => {
      // The schema refuses lose-unsynced: false for Raft alone: its disk log cannot keep the cache.
      if (how?.loseUnsynced === false) throw new Error("a Raft member's crash loses unsynced data");
      get(n).crash(how?.mode);
    },
    restart: (n) => get(n).restart(),
    pause: (n) => get(n).host.pause(),
    resume: (n) => get(n).host.resume(),
    drift: (n, rate) => get(n).host.drift(rate),
    network: cluster.network as NemesisCluster["network"],
    durable: cluster.storage === "disk" ? durableControls(cluster) : undefined,
    compact: undefined,
    // Changes are offered through the leader until its configuration shows them; no outcome.
    membership: {
      add: (asLearner) => (asLearner ? cluster.addLearner() : cluster.addVoter()).name,
      newestLearner: () => {
        const id = cluster.learners().at(-1);
        return id === undefined ? undefined : memberName(id);
      },
      promote: (n) => cluster.promote(get(n).id),
      remove: (n) => cluster.remove(get(n).id),
      replace: () => {
        throw new Error("replace: a Raft-only member has no data to wipe (the schema refuses it)");
      },
    },
  };
}

function durableControls(cluster: RaftCluster): DurableControls {
  const disk = (name: string): SimDisk => {
    const d = cluster.disks.get(name);
    if (d === undefined) throw new Error(`${name} has no disk`);
    return d;
  };
  return {
    crashAt: (n, point, restartAfterMs) => cluster.crashAt(n, point, restartAfterMs),
    stallAt: (n, point, forMs) =>
      cluster.requireMember(n).failpoints.arm(point, {
        action: { kind: "stall", forMs },
        times: 1,
      }),
    disarm: (n, point) => cluster.requireMember(n).failpoints.disarm(point),
    diskFaults: (n) => disk(n).currentFaults,
    configureDisk: (n, faults) => disk(n).configure(faults),
    usedBytes: (n) => disk(n).usedBytes(),
    flipBitAtRest: (n) => disk(n).flipRandomBitAtRest(),
    defragment: () => {
      throw new Error("defragment: a Raft-only member has no store to defragment");
    },
  };
}

/** The storage a scenario file's `cluster:` asks for (memory: exactly the cluster of old). */
function storageOf(s: Scenario): Pick<RaftRunOptions, "storage" | "storageOptions"> {
  if (s.storage.mode === "memory" && s.storage.snapshotCount === undefined) return {};
  return {
    storage: s.storage.mode,
    storageOptions: {
      ...(s.storage.snapshotCount === undefined ? {} : { snapshotCount: s.storage.snapshotCount }),
      ...(s.storage.catchUpEntries === undefined
        ? {}
        : { catchUpEntries: s.storage.catchUpEntries }),
    },
  };
}

/** The phases of a run after `duration`: recover within W, probe, then drain with no new proposals. */
function phases(s: Scenario): { probeEndMs: number; endMs: number } {
  const settleMs = 2 * s.cluster.electionMs;
  const probeEndMs = s.durationMs + (s.checks.livenessWithinMs ?? 0) + settleMs;
  return { probeEndMs, endMs: probeEndMs + settleMs };
}

/** One run's summary (see runRaft for everything the run leaves behind). */
export function runRaftScenario(
  scenario: Scenario,
  seed: number,
  options: RaftRunOptions = {},
): RunSummary {
  return runRaft(scenario, seed, "", options).summary;
}

/** Timeline samples: about 1500 per member over the run, never finer than a heartbeat. */
function sampleIntervalMs(scenario: Scenario, endMs: number): number {
  return Math.max(scenario.cluster.heartbeatMs, Math.ceil(endMs / 1500));
}

export function runRaft(
  scenario: Scenario,
  seed: number,
  scenarioText: string,
  options: RaftRunOptions = {},
): RunArtifacts {
  return runRaftCluster(scenario, seed, scenarioText, options).artifacts;
}

/** One run, with the run's insides (cluster, workload, crash loop) for tests. */
export function runRaftCluster(
  scenario: Scenario,
  seed: number,
  scenarioText: string,
  options: RaftRunOptions = {},
): RaftRun & { readonly artifacts: RunArtifacts } {
  const wallStart = wallNowMs();
  // The run's options win over the file (tests pass their own storage).
  const fromFile = storageOf(scenario);
  const storage = options.storage ?? fromFile.storage;
  const storageOptions = { ...fromFile.storageOptions, ...options.storageOptions };
  const world = new World(seed);
  const workload = new RaftProposalWorkload(
    world,
    scenario.workload.ratePerS,
    scenario.workload.readRatio,
  );
  const cluster = new RaftCluster(world, {
    ...scenario.cluster,
    link: scenario.network,
    onApply: (member, entry) => workload.onApply(member, entry),
    onReadState: (member, state) => workload.onReadState(member, state),
    ...(storage === undefined ? {} : { storage }),
    ...(Object.keys(storageOptions).length === 0 ? {} : { storageOptions }),
  });
  const { probeEndMs, endMs } = phases(scenario);
  workload.start(cluster, probeEndMs);
  const nemesis = new Nemesis(world, nemesisView(cluster), scenario);
  nemesis.start();
  const withinMs = scenario.checks.livenessWithinMs;
  const liveness =
    withinMs === undefined
      ? undefined
      : new RaftLivenessCheck(world, cluster, {
          faultsEndMs: scenario.faultsEndMs,
          withinMs,
          probeEndMs,
        });
  liveness?.start();
  const timeline = new RaftTimeline(world, cluster, sampleIntervalMs(scenario, endMs));
  timeline.start(endMs);
  const crashLoop =
    options.crashLoop === undefined ? undefined : new CrashLoop(world, cluster, options.crashLoop);
  crashLoop?.start();
  const run: RaftRun = { world, cluster, workload, crashLoop };
  options.prepare?.(run);
  world.runUntil({ untilMs: endMs });
  liveness?.finish(workload.proposals);
  const violations = cluster.violations;
  const summary: RunSummary = {
    scenario: scenario.name,
    seed,
    traceHash: world.traceHash(),
    events: world.eventsProcessed,
    virtualMs: world.nowMs,
    wallMs: Math.round(wallNowMs() - wallStart),
    ops: workload.proposals.length + workload.reads.length,
    violations: violations.count,
    ok: violations.count === 0,
    report: null,
    details: {
      violations: violations.all(),
      faults: nemesis.windows,
      committedOps: workload.proposals.filter((p) => p.committedAtMs !== undefined).length,
      answeredReads: workload.reads.filter((r) => r.answeredIndex !== undefined).length,
      leaderElections: cluster.checker.leaderElections,
      recoveryMs: liveness?.recoveryMs ?? null,
      network: { ...cluster.network.stats },
    },
  };
  const artifacts: RunArtifacts = {
    summary,
    scenarioText,
    checks: verdicts(scenario.checks.names, violations.all()),
    operations: operationRecords(workload),
    timeline: timeline.samples,
    historyJsonLines: undefined,
    watch: undefined,
  };
  return { ...run, artifacts };
}

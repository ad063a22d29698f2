// One run of a Raft-only scenario: build the cluster, start the workload, the nemesis and the
// checks, run the world to the end, and summarize.
import { RaftLivenessCheck } from "../check/raft-liveness.js";
import { Nemesis, type NemesisCluster } from "../nemesis.js";
import { verdicts } from "../check/verdicts.js";
import type { RunArtifacts } from "../run-artifacts.js";
import type { RunSummary } from "../run-summary.js";
import type { Scenario } from "../scenario.js";
import { wallNowMs } from "../wall-time.js";
import { operationRecords, RaftProposalWorkload } from "../workload/raft-proposals.js";
import { World } from "../world.js";
import { RaftCluster } from "./raft-cluster.js";
import type { RaftMember } from "./raft-member.js";
import { RaftTimeline } from "./timeline.js";

function nemesisView(cluster: RaftCluster): NemesisCluster {
  const get = (name: string): RaftMember => {
    const m = cluster.member(name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  };
  return {
    names: cluster.names,
    leaderName: () => cluster.leader()?.name,
    isDown: (n) => get(n).host.state === "down",
    crash: (n) => get(n).crash(),
    restart: (n) => get(n).restart(),
    pause: (n) => get(n).host.pause(),
    resume: (n) => get(n).host.resume(),
    drift: (n, rate) => get(n).host.drift(rate),
    network: cluster.network as NemesisCluster["network"],
  };
}

/** The phases of a run after `duration`: recover within W, probe, then drain with no new proposals. */
function phases(s: Scenario): { probeEndMs: number; endMs: number } {
  const settleMs = 2 * s.cluster.electionMs;
  const probeEndMs = s.durationMs + (s.checks.livenessWithinMs ?? 0) + settleMs;
  return { probeEndMs, endMs: probeEndMs + settleMs };
}

/** One run's summary (see runRaft for everything the run leaves behind). */
export function runRaftScenario(scenario: Scenario, seed: number): RunSummary {
  return runRaft(scenario, seed, "").summary;
}

/** Timeline samples: about 1500 per member over the run, never finer than a heartbeat. */
function sampleIntervalMs(scenario: Scenario, endMs: number): number {
  return Math.max(scenario.cluster.heartbeatMs, Math.ceil(endMs / 1500));
}

export function runRaft(scenario: Scenario, seed: number, scenarioText: string): RunArtifacts {
  const wallStart = wallNowMs();
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
  return {
    summary,
    scenarioText,
    checks: verdicts(scenario.checks.names, violations.all()),
    operations: operationRecords(workload),
    timeline: timeline.samples,
    historyJsonLines: undefined,
    watch: undefined,
  };
}

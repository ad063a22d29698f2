// Swarm testing: each seed draws its own fault mix. First a random subset of the fault kinds is
// switched on (and the base network's loss, duplication and reordering), then each enabled kind gets
// its own number of occurrences, timings and strengths. Runs that leave some faults out entirely
// reach states that an always-everything mix hides (Groce and Regehr's swarm testing; TigerBeetle's
// VOPR draws every probability per seed the same way).
//
// Scenarios come from fast-check arbitraries, so the same generator serves campaigns (one sample
// per seed) and property tests (sim/testing.ts). The generated scenario is written to a file and the
// run replays from that file, never from the generator: a change of generator cannot change an old
// failure's reproduction.
import fc from "fast-check";
import { parseDurationMs } from "../duration.js";
import { FAILPOINT_NAMES, type FailpointName } from "../../src/lib/failpoints.js";
import type { FaultKind, ScenarioInput } from "../scenario-schema.js";
import { durationText, scenarioToYaml } from "../scenario-yaml.js";

type FaultInput = NonNullable<ScenarioInput["faults"]>[number];
type NetworkInput = NonNullable<ScenarioInput["network"]>;

export interface SwarmOptions {
  /** Member counts to draw from (default 3 and 5). */
  readonly members?: readonly number[];
  /** Bounds of the fault phase in ms (default 10 s to 40 s). */
  readonly minDurationMs?: number;
  readonly maxDurationMs?: number;
  /**
   * Fault kinds that may be switched on (default: those every cluster can run; a disk-storage
   * scenario adds DISK_KINDS, a KV one KV_KINDS).
   */
  readonly kinds?: readonly FaultKind[];
  /**
   * Where members keep their logs, drawn per seed (default: memory, not drawn, so the scenarios
   * of a seed stay what they were before disks existed).
   */
  readonly storage?: fc.Arbitrary<"memory" | "disk">;
  /** The workload is a KV profile: compact (and on disks defragment) may be drawn too. */
  readonly kv?: boolean;
  /** Most occurrences of one enabled kind (default 3). */
  readonly maxFaultsPerKind?: number;
  /** Liveness window in ms (default 10 s). */
  readonly livenessWithinMs?: number;
  /**
   * The workload of each scenario (default raft-proposals at 20 to 100 proposals/s); give a KV
   * profile here, with `checks` to match, for KV swarms.
   */
  readonly workload?: fc.Arbitrary<ScenarioInput["workload"]>;
  /** The checks of each scenario (default raft-safety and liveness within `livenessWithinMs`). */
  readonly checks?: ScenarioInput["checks"];
}

const TARGETS = ["leader", "follower", "random-follower", "random"] as const;

/** The kinds any cluster runs: the swarm's whole mix before members had disks. */
export const BASE_KINDS: readonly FaultKind[] = [
  "partition",
  "network",
  "clog",
  "crash",
  "pause",
  "clock-drift",
];
/** Kinds that need members on disks. */
export const DISK_KINDS: readonly FaultKind[] = ["crash-at", "stall-at", "disk"];
/** Kinds that need a KV store (defragment also a disk). */
export const KV_KINDS: readonly FaultKind[] = ["compact"];

/** Failpoints the Raft-only member passes (the mvcc and defragment points are the KV member's). */
const RAFT_FAILPOINTS = FAILPOINT_NAMES.filter(
  (n) => !n.startsWith("defrag") && !/Scheduled|Finished/.test(n),
);

/** The kinds a scenario of this storage and workload may switch on. */
function kindsFor(storage: "memory" | "disk", kv: boolean): FaultKind[] {
  return [
    ...BASE_KINDS,
    ...(storage === "disk" ? DISK_KINDS : []),
    ...(kv ? KV_KINDS : []),
    ...(kv && storage === "disk" ? (["defragment"] as const) : []),
  ];
}

/** What a fault of one kind may use from its scenario. */
interface DrawContext {
  readonly failpoints: readonly FailpointName[];
}
const DRIFT_RATES = [0.5, 0.8, 1.25, 1.5, 2];

/** Milliseconds rounded to 100 ms so generated files read cleanly. */
const ms100 = (min: number, max: number): fc.Arbitrary<number> =>
  fc
    .integer({
      min: Math.ceil(min / 100),
      max: Math.max(Math.ceil(min / 100), Math.floor(max / 100)),
    })
    .map((n) => n * 100);

const probability = (max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: Math.round(max * 100) }).map((n) => n / 100);

const target = fc.constantFrom(...TARGETS);

/** The fault of one kind, without its timing. */
function actionOf(kind: FaultKind, ctx: DrawContext): fc.Arbitrary<Partial<FaultInput>> {
  switch (kind) {
    case "partition":
      return fc.oneof(
        fc.constant({ partition: "random" as const }),
        target.map((t) => ({ partition: { isolate: t } })),
        fc.constant({ partition: { "one-way": { from: "leader", to: "random-follower" } } }),
        fc.constant({ partition: { bridge: true as const } }),
      );
    case "network":
      return fc
        .record({ loss: probability(0.5), duplicate: probability(0.3), reorder: probability(0.5) })
        .map((network) => ({ network }));
    case "clog":
      return target.map((t) => ({ clog: { target: t } }));
    case "crash":
      return fc
        .record({ t: target, restartMs: fc.option(ms100(500, 5000), { nil: undefined }) })
        .map(({ t, restartMs }) => ({
          crash: { target: t },
          ...(restartMs === undefined ? {} : { "restart-after": durationText(restartMs) }),
        }));
    case "pause":
      return target.map((t) => ({ pause: { target: t } }));
    case "clock-drift":
      return fc
        .record({ t: target, rate: fc.constantFrom(...DRIFT_RATES) })
        .map(({ t, rate }) => ({ "clock-drift": { target: t, rate } }));
    case "crash-at":
      return fc
        .record({
          t: target,
          failpoint: fc.constantFrom(...ctx.failpoints),
          restartMs: fc.option(ms100(200, 3000), { nil: undefined }),
        })
        .map(({ t, failpoint, restartMs }) => ({
          "crash-at": { target: t, failpoint },
          ...(restartMs === undefined ? {} : { "restart-after": durationText(restartMs) }),
        }));
    case "stall-at":
      return fc
        .record({ t: target, failpoint: fc.constantFrom(...ctx.failpoints) })
        .map(({ t, failpoint }) => ({ "stall-at": { target: t, failpoint } }));
    case "disk":
      return diskAction();
    case "compact":
      return fc.constant({ compact: {} });
    case "defragment":
      return target.map((t) => ({ defragment: { target: t } }));
    case "member":
      return fc.constantFrom(
        { member: { "add-learner": true as const } },
        { member: { promote: "newest-learner" as const } },
        { member: { remove: "random-follower" as const } },
      );
  }
}

/**
 * Slow fsync, EIO or a nearly full disk on any member; corruption only ever on m1, so a seed
 * never corrupts a quorum (a cluster that lost a quorum to corruption is down by design).
 */
function diskAction(): fc.Arbitrary<Partial<FaultInput>> {
  return fc.oneof(
    fc
      .record({ t: target, ms: fc.integer({ min: 20, max: 400 }) })
      .map(({ t, ms }) => ({ disk: { target: t, "slow-fsync-ms": ms } })),
    fc
      .record({ t: target, rate: probability(0.05) })
      .map(({ t, rate }) => ({ disk: { target: t, "eio-rate": rate } })),
    fc
      .record({ t: target, bytes: fc.integer({ min: 0, max: 256 * 1024 }) })
      .map(({ t, bytes }) => ({ disk: { target: t, "enospc-bytes": bytes } })),
    fc.constant({ disk: { target: "m1", corrupt: true as const } }),
  );
}

/** One occurrence of `kind` that starts after 1 s and ends before the fault phase does. */
function faultOf(kind: FaultKind, durationMs: number, ctx: DrawContext): fc.Arbitrary<FaultInput> {
  const maxForMs = Math.max(500, Math.min(8000, durationMs - 2000));
  return fc
    .record({ forMs: ms100(500, maxForMs), action: actionOf(kind, ctx) })
    .chain(({ forMs, action }) =>
      ms100(1000, Math.max(1000, durationMs - forMs - 500)).map((atMs) => {
        // A crash is undone by its restart (or the final heal), not by `for`; a membership
        // change is an operation with no end.
        const timing =
          kind === "crash" || kind === "crash-at" || kind === "member"
            ? { at: durationText(atMs) }
            : { at: durationText(atMs), for: durationText(forMs) };
        return { ...timing, ...action } as FaultInput;
      }),
    );
}

function networkOf(): fc.Arbitrary<NetworkInput> {
  const maybe = (max: number) => fc.option(probability(max), { nil: undefined, freq: 2 });
  return fc
    .record({
      latency: fc.integer({ min: 1, max: 5 }),
      jitter: fc.integer({ min: 0, max: 10 }),
      loss: maybe(0.05),
      duplicate: maybe(0.05),
      reorder: maybe(0.05),
    })
    .map((n) => ({
      "latency-ms": n.latency,
      "jitter-ms": n.jitter,
      ...(n.loss === undefined ? {} : { loss: n.loss }),
      ...(n.duplicate === undefined ? {} : { duplicate: n.duplicate }),
      ...(n.reorder === undefined ? {} : { reorder: n.reorder, "reorder-ms": 30 }),
    }));
}

/** Faults of the enabled kinds, ordered by start time. */
function faultsOf(
  kinds: readonly FaultKind[],
  durationMs: number,
  maxPerKind: number,
  ctx: DrawContext,
): fc.Arbitrary<FaultInput[]> {
  const perKind = kinds.map((k) =>
    fc.array(faultOf(k, durationMs, ctx), { minLength: 1, maxLength: maxPerKind }),
  );
  return fc
    .tuple(...perKind)
    .map((lists) =>
      lists.flat().sort((a, b) => (parseDurationMs(a.at) ?? 0) - (parseDurationMs(b.at) ?? 0)),
    );
}

/** Scenarios in the file's form: a random fault mix per value (see the file comment). */
export function swarmScenarioArbitrary(options: SwarmOptions = {}): fc.Arbitrary<ScenarioInput> {
  const storage = options.storage;
  // Without a drawn storage the record below is the one of old, so old seeds give old scenarios.
  if (storage === undefined) return swarmWith(options, "memory");
  return storage.chain((mode) => swarmWith(options, mode));
}

function swarmWith(options: SwarmOptions, storage: "memory" | "disk"): fc.Arbitrary<ScenarioInput> {
  const kv = options.kv ?? false;
  const kinds = options.kinds ?? kindsFor(storage, kv);
  const ctx = { failpoints: kv ? FAILPOINT_NAMES : RAFT_FAILPOINTS };
  const members = options.members ?? [3, 5];
  const within = options.livenessWithinMs ?? 10_000;
  return fc
    .record({
      members: fc.constantFrom(...members),
      durationMs: ms100(options.minDurationMs ?? 10_000, options.maxDurationMs ?? 40_000),
      enabled: fc.subarray([...kinds], { minLength: kinds.length > 0 ? 1 : 0 }),
      network: networkOf(),
      workload:
        options.workload ??
        fc
          .integer({ min: 20, max: 100 })
          .map((rate) => ({ profile: "raft-proposals" as const, "rate-per-s": rate })),
    })
    .chain((s) =>
      faultsOf(s.enabled, s.durationMs, options.maxFaultsPerKind ?? 3, ctx).map(
        (faults): ScenarioInput => ({
          name: "swarm",
          cluster: {
            members: s.members,
            "heartbeat-ms": 100,
            "election-ms": 1000,
            ...(storage === "disk" ? { storage } : {}),
          },
          duration: durationText(s.durationMs),
          network: s.network,
          workload: s.workload,
          faults,
          checks: options.checks ?? ["raft-safety", { liveness: { within: durationText(within) } }],
        }),
      ),
    );
}

/** KV traffic of either profile, with a size drawn per seed. */
const kvWorkload: fc.Arbitrary<ScenarioInput["workload"]> = fc.record({
  profile: fc.constantFrom("etcd-kv" as const, "kubernetes" as const),
  "rate-per-s": fc.integer({ min: 40, max: 150 }),
  clients: fc.integer({ min: 2, max: 6 }),
  keys: fc.integer({ min: 4, max: 16 }),
  watchers: fc.integer({ min: 1, max: 3 }),
});

const KV_CHECKS: ScenarioInput["checks"] = [
  "linearizable",
  "watch",
  "raft-safety",
  "convergence",
  { liveness: { within: "15s" } },
];

/**
 * Swarm options for `detcd-sim campaign --swarm --swarm-workload raft|kv|mixed`; "mixed" gives
 * even seeds the etcd member and odd seeds Raft alone.
 */
export function swarmOptionsFor(workload: "raft" | "kv" | "mixed", seed: number): SwarmOptions {
  const kv = workload === "kv" || (workload === "mixed" && seed % 2 === 0);
  if (!kv) return {};
  // KV runs are heavier (recorded clients, watchers, the linearizability search): keep them short.
  return {
    workload: kvWorkload,
    checks: KV_CHECKS,
    minDurationMs: 8_000,
    maxDurationMs: 20_000,
    storage: fc.constantFrom("memory" as const, "disk" as const),
    kv: true,
  };
}

/** The swarm scenario of `seed`, named swarm-<seed>, as YAML with a header saying where it came from. */
export function swarmScenario(
  seed: number,
  options: SwarmOptions = {},
): { name: string; text: string } {
  const [input] = fc.sample(swarmScenarioArbitrary(options), { seed, numRuns: 1 });
  const name = `swarm-${seed}`;
  const comment = `Generated by detcd-sim campaign --swarm for seed ${seed}: a random fault mix.\nReplay: detcd-sim replay --scenario <this file> --seed ${seed}`;
  return { name, text: scenarioToYaml({ ...(input as ScenarioInput), name }, comment) };
}

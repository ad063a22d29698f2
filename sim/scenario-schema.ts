// The schema of scenario files (YAML, kebab-case keys) and the typed Scenario it produces.
// Validation errors are mapped to file and line by scenario.ts.
import { z } from "zod";
import { isFailpointName } from "../src/lib/failpoints.js";
import { parseDurationMs } from "./duration.js";

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like 500ms, 10s, 2m (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return ms;
});

const probability = z.number().min(0).max(1);

/** Who a fault hits. Roles are resolved when the fault starts. */
export const targetSchema = z.union([
  z.enum(["leader", "follower", "random-follower", "random", "minority", "majority", "all"]),
  z.number().int().min(1),
  z.string().regex(/^m\d+$/, "a member is named m1, m2, ..."),
]);
export type Target = z.infer<typeof targetSchema>;

const networkSchema = z.strictObject({
  "latency-ms": z.number().int().min(0).default(1),
  "jitter-ms": z.number().int().min(0).default(1),
  loss: probability.default(0),
  duplicate: probability.default(0),
  reorder: probability.default(0),
  "reorder-ms": z.number().int().min(0).default(0),
});

const partitionSchema = z.union([
  z.literal("random"),
  z.strictObject({ isolate: targetSchema }),
  z.strictObject({ groups: z.array(z.array(targetSchema).min(1)).min(2) }),
  z.strictObject({ "one-way": z.strictObject({ from: targetSchema, to: targetSchema }) }),
  z.strictObject({ bridge: z.literal(true) }),
]);

const failpoint = z.string().refine(isFailpointName, {
  message: "not a failpoint name (see FAILPOINT_NAMES in src/lib/failpoints.ts)",
});

const crashSchema = z.strictObject({
  target: targetSchema,
  /** Disk storage: whether the crash loses what was not fsynced (default true on disk). */
  "lose-unsynced": z.boolean().optional(),
  /** How unsynced data is lost; absent: drawn from the member's disk stream. */
  mode: z.enum(["lose-all", "keep-prefix", "torn", "reorder"]).optional(),
});

const diskFaultSchema = z.strictObject({
  target: targetSchema,
  "slow-fsync-ms": z.number().int().min(0).optional(),
  /** Probability that each read, write and fsync fails with EIO. */
  "eio-rate": probability.optional(),
  /** Free space left on the disk when the fault starts; writes past it fail with ENOSPC. */
  "enospc-bytes": z.number().int().min(0).optional(),
  /** Flip one bit at rest in the member's files (the member is crashed first). */
  corrupt: z.literal(true).optional(),
});

/**
 * A membership change: a member with a fresh id joins as a learner or as a voter, a learner is
 * promoted to voter, a member is removed, or (KV clusters) a member is replaced: removed, its data
 * wiped, and a new member added on its machine. Raft-only clusters propose them through the
 * leader; KV clusters go through the Cluster API as an operator does.
 */
const memberSchema = z
  .strictObject({
    "add-learner": z.literal(true).optional(),
    "add-voter": z.literal(true).optional(),
    promote: z.union([z.literal("newest-learner"), targetSchema]).optional(),
    remove: targetSchema.optional(),
    replace: targetSchema.optional(),
  })
  .superRefine((m, ctx) => {
    const ops = MEMBER_OPS.filter((op) => m[op] !== undefined);
    if (ops.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `member has exactly one of ${MEMBER_OPS.join(", ")} (found ${ops.length === 0 ? "none" : ops.join(", ")})`,
      });
    }
  });

const MEMBER_OPS = ["add-learner", "add-voter", "promote", "remove", "replace"] as const;

const faultSchema = z
  .strictObject({
    at: duration,
    for: duration.optional(),
    every: duration.optional(),
    jitter: duration.optional(),
    partition: partitionSchema.optional(),
    network: networkSchema.partial().optional(),
    clog: z.strictObject({ target: targetSchema }).optional(),
    crash: crashSchema.optional(),
    "crash-at": z.strictObject({ target: targetSchema, failpoint }).optional(),
    "stall-at": z.strictObject({ target: targetSchema, failpoint }).optional(),
    disk: diskFaultSchema.optional(),
    compact: z.strictObject({}).optional(),
    defragment: z.strictObject({ target: targetSchema }).optional(),
    "restart-after": duration.optional(),
    pause: z.strictObject({ target: targetSchema }).optional(),
    "clock-drift": z.strictObject({ target: targetSchema, rate: z.number().positive() }).optional(),
    member: memberSchema.optional(),
  })
  .superRefine((fault, ctx) => {
    const kinds = FAULT_KINDS.filter((k) => fault[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `a fault has exactly one of ${FAULT_KINDS.join(", ")} (found ${kinds.length === 0 ? "none" : kinds.join(", ")})`,
      });
    }
    if (
      fault["restart-after"] !== undefined &&
      fault.crash === undefined &&
      fault["crash-at"] === undefined
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["restart-after"],
        message: "restart-after goes with crash or crash-at",
      });
    }
    if (fault["stall-at"] !== undefined && fault.for === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["stall-at"],
        message: "stall-at needs for (the stall)",
      });
    }
    const disk = fault.disk;
    if (disk !== undefined && Object.keys(disk).length === 1) {
      ctx.addIssue({
        code: "custom",
        path: ["disk"],
        message: "disk needs one of slow-fsync-ms, eio-rate, enospc-bytes, corrupt",
      });
    }
    if (fault.member !== undefined && fault.for !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["for"],
        message: "a member change is an operation: it has no for",
      });
    }
    if (fault.jitter !== undefined && fault.every === undefined) {
      ctx.addIssue({ code: "custom", path: ["jitter"], message: "jitter goes with every" });
    }
  });

type FaultOutput = z.output<typeof faultSchema>;

/** Every target named in a fault, with its path inside the fault (for error lines). */
function targetsOf(f: FaultOutput): { path: (string | number)[]; target: Target }[] {
  const out: { path: (string | number)[]; target: Target }[] = [];
  const kinds = [
    "clog",
    "crash",
    "pause",
    "clock-drift",
    "crash-at",
    "stall-at",
    "disk",
    "defragment",
  ] as const;
  for (const kind of kinds) {
    const spec = f[kind];
    if (spec !== undefined) out.push({ path: [kind, "target"], target: spec.target });
  }
  const m = f.member;
  if (m?.remove !== undefined) out.push({ path: ["member", "remove"], target: m.remove });
  if (m?.replace !== undefined) out.push({ path: ["member", "replace"], target: m.replace });
  if (m?.promote !== undefined && m.promote !== "newest-learner") {
    out.push({ path: ["member", "promote"], target: m.promote });
  }
  const p = f.partition;
  if (p === undefined || p === "random") return out;
  if ("isolate" in p) out.push({ path: ["partition", "isolate"], target: p.isolate });
  if ("groups" in p) {
    p.groups.forEach((g, i) =>
      g.forEach((t, j) => out.push({ path: ["partition", "groups", i, j], target: t })),
    );
  }
  if ("one-way" in p) {
    out.push({ path: ["partition", "one-way", "from"], target: p["one-way"].from });
    out.push({ path: ["partition", "one-way", "to"], target: p["one-way"].to });
  }
  return out;
}

/**
 * The failpoints a Raft-only member passes: its Ready loop and its disk log. The mvcc compaction
 * and defragment points belong to the etcd member alone.
 */
const RAFT_ONLY_UNREACHABLE = new Set<string>([
  "defragBeforeRename",
  "defragAfterRename",
  "compactBeforeCommitScheduledCompact",
  "compactAfterCommitScheduledCompact",
  "compactBeforeSetFinishedCompact",
  "compactAfterSetFinishedCompact",
]);

/** Fault fields the cluster's storage or the workload's profile cannot run. */
function profileIssues(
  f: FaultOutput,
  storage: "memory" | "disk",
  kvProfile: boolean,
): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  const needsDisk = (path: string[], what: string): void => {
    if (storage !== "disk") {
      out.push({ path, message: `${what} needs cluster storage: disk (storage is memory)` });
    }
  };
  if (f.crash?.["lose-unsynced"] !== undefined)
    needsDisk(["crash", "lose-unsynced"], "lose-unsynced");
  if (f.crash?.mode !== undefined) needsDisk(["crash", "mode"], "a crash mode");
  if (f.crash?.["lose-unsynced"] === false && f.crash.mode !== undefined) {
    out.push({ path: ["crash", "mode"], message: "a crash mode goes with lose-unsynced: true" });
  }
  if (f.crash?.["lose-unsynced"] === false && !kvProfile) {
    out.push({
      path: ["crash", "lose-unsynced"],
      message:
        "lose-unsynced: false needs a KV profile (a Raft member's crash always loses its page cache)",
    });
  }
  for (const kind of ["crash-at", "stall-at"] as const) {
    const spec = f[kind];
    if (spec === undefined) continue;
    needsDisk([kind], kind);
    if (!kvProfile && RAFT_ONLY_UNREACHABLE.has(spec.failpoint)) {
      out.push({
        path: [kind, "failpoint"],
        message: `a Raft-only member never passes ${spec.failpoint} (it needs a KV profile)`,
      });
    }
  }
  if (f.disk !== undefined) needsDisk(["disk"], "a disk fault");
  if (f.defragment !== undefined) {
    needsDisk(["defragment"], "defragment");
    if (!kvProfile) out.push({ path: ["defragment"], message: "defragment needs a KV profile" });
  }
  if (f.member?.replace !== undefined && !kvProfile) {
    out.push({
      path: ["member", "replace"],
      message: "replace needs a KV profile (a Raft-only member has no data to wipe)",
    });
  }
  if (f.compact !== undefined && !kvProfile) {
    out.push({ path: ["compact"], message: "compact needs a KV profile" });
  }
  return out;
}

export const FAULT_KINDS = [
  "partition",
  "network",
  "clog",
  "crash",
  "pause",
  "clock-drift",
  "crash-at",
  "stall-at",
  "disk",
  "compact",
  "defragment",
  "member",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Checks that need the KV cluster's client history, watches or stores. */
export const KV_CHECKS = ["linearizable", "watch", "convergence"] as const;
export const KV_PROFILES = ["etcd-kv", "kubernetes"] as const;

const checkSchema = z.union([
  z.enum(["raft-safety", ...KV_CHECKS]),
  z.strictObject({ liveness: z.strictObject({ within: duration }) }),
]);

export const scenarioSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "a name is lowercase letters, digits and dashes"),
    description: z.string().optional(),
    cluster: z.strictObject({
      members: z.number().int().min(1).max(9),
      "heartbeat-ms": z.number().int().min(1).default(100),
      "election-ms": z.number().int().min(1).default(1000),
      "pre-vote": z.boolean().default(true),
      "check-quorum": z.boolean().default(true),
      /** Where members keep their logs: memory (never lost) or a simulated disk per member. */
      storage: z.enum(["memory", "disk"]).default("memory"),
      /** Applied entries between snapshots (etcd's --snapshot-count). */
      "snapshot-count": z.number().int().min(1).optional(),
      /** Entries kept below a snapshot for slow followers. */
      "catch-up-entries": z.number().int().min(0).optional(),
    }),
    duration,
    network: networkSchema.default({
      "latency-ms": 1,
      "jitter-ms": 1,
      loss: 0,
      duplicate: 0,
      reorder: 0,
      "reorder-ms": 0,
    }),
    workload: z.strictObject({
      profile: z.enum(["raft-proposals", ...KV_PROFILES]),
      /** Operations per second over all clients. */
      "rate-per-s": z.number().min(0),
      /** raft-proposals only: the share of ReadIndex reads. */
      "read-ratio": probability.default(0.2),
      /** KV profiles: sequential recording clients, hot keys, and watchers of the key prefix. */
      clients: z.number().int().min(1).max(64).default(8),
      keys: z.number().int().min(1).max(1000).default(10),
      watchers: z.number().int().min(0).max(16).default(2),
      /**
       * KV profiles: auth traffic. Clients act as root, a writer or anonymously, and root enables
       * and disables auth and gives or takes the writer's WRITE while the traffic runs.
       */
      auth: z.boolean().default(false),
    }),
    faults: z.array(faultSchema).default([]),
    checks: z.array(checkSchema).min(1),
  })
  .superRefine((s, ctx) => {
    if (s.workload.auth && s.workload.profile === "raft-proposals") {
      ctx.addIssue({
        code: "custom",
        path: ["workload", "auth"],
        message: "auth traffic needs a KV profile",
      });
    }
    // Added members take the names after the initial ones (m4 after m1..m3), so a file may name
    // them.
    const addable = s.faults.some(
      (f) => f.member?.["add-learner"] !== undefined || f.member?.["add-voter"] !== undefined,
    );
    const maxId = addable ? Number.POSITIVE_INFINITY : s.cluster.members;
    s.faults.forEach((fault, i) => {
      for (const { path, target } of targetsOf(fault)) {
        const n =
          typeof target === "number"
            ? target
            : /^m\d+$/.test(target)
              ? Number(target.slice(1))
              : undefined;
        if (n !== undefined && (n < 1 || n > maxId)) {
          ctx.addIssue({
            code: "custom",
            path: ["faults", i, ...path],
            message: `no member ${target}: the cluster has members 1..${s.cluster.members}`,
          });
        }
      }
    });
    const kvProfile = (KV_PROFILES as readonly string[]).includes(s.workload.profile);
    if (kvProfile && s.cluster.storage === "memory") {
      for (const field of ["snapshot-count", "catch-up-entries"] as const) {
        if (s.cluster[field] === undefined) continue;
        ctx.addIssue({
          code: "custom",
          path: ["cluster", field],
          message: `${field} needs storage: disk for a KV profile (a memory log never snapshots)`,
        });
      }
    }
    s.faults.forEach((fault, i) => {
      for (const { path, message } of profileIssues(fault, s.cluster.storage, kvProfile)) {
        ctx.addIssue({ code: "custom", path: ["faults", i, ...path], message });
      }
    });
    s.checks.forEach((check, i) => {
      if (
        typeof check === "string" &&
        (KV_CHECKS as readonly string[]).includes(check) &&
        !kvProfile
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["checks", i],
          message: `${check} needs a KV workload (profile ${KV_PROFILES.join(" or ")})`,
        });
      }
    });
    const { "heartbeat-ms": heartbeatMs, "election-ms": electionMs } = s.cluster;
    if (5 * heartbeatMs > electionMs) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "election-ms"],
        message: `--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`,
      });
    }
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioFile = z.output<typeof scenarioSchema>;
export type FaultSpec = ScenarioFile["faults"][number];
export type NetworkSpec = ScenarioFile["network"];

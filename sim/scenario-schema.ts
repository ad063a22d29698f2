// The schema of scenario files (YAML, kebab-case keys) and the typed Scenario it produces.
// Validation errors are mapped to file and line by scenario.ts.
import { z } from "zod";
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

const faultSchema = z
  .strictObject({
    at: duration,
    for: duration.optional(),
    every: duration.optional(),
    jitter: duration.optional(),
    partition: partitionSchema.optional(),
    network: networkSchema.partial().optional(),
    clog: z.strictObject({ target: targetSchema }).optional(),
    crash: z.strictObject({ target: targetSchema }).optional(),
    "restart-after": duration.optional(),
    pause: z.strictObject({ target: targetSchema }).optional(),
    "clock-drift": z.strictObject({ target: targetSchema, rate: z.number().positive() }).optional(),
  })
  .superRefine((fault, ctx) => {
    const kinds = FAULT_KINDS.filter((k) => fault[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `a fault has exactly one of ${FAULT_KINDS.join(", ")} (found ${kinds.length === 0 ? "none" : kinds.join(", ")})`,
      });
    }
    if (fault["restart-after"] !== undefined && fault.crash === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["restart-after"],
        message: "restart-after goes with crash",
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
  for (const kind of ["clog", "crash", "pause", "clock-drift"] as const) {
    const spec = f[kind];
    if (spec !== undefined) out.push({ path: [kind, "target"], target: spec.target });
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

export const FAULT_KINDS = [
  "partition",
  "network",
  "clog",
  "crash",
  "pause",
  "clock-drift",
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
    }),
    faults: z.array(faultSchema).default([]),
    checks: z.array(checkSchema).min(1),
  })
  .superRefine((s, ctx) => {
    s.faults.forEach((fault, i) => {
      for (const { path, target } of targetsOf(fault)) {
        const n =
          typeof target === "number"
            ? target
            : /^m\d+$/.test(target)
              ? Number(target.slice(1))
              : undefined;
        if (n !== undefined && (n < 1 || n > s.cluster.members)) {
          ctx.addIssue({
            code: "custom",
            path: ["faults", i, ...path],
            message: `no member ${target}: the cluster has members 1..${s.cluster.members}`,
          });
        }
      }
    });
    const kvProfile = (KV_PROFILES as readonly string[]).includes(s.workload.profile);
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

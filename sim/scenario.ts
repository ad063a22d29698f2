// Loading scenario files: YAML text -> validated, typed Scenario, or an error naming file, line and
// field. parseScenario never throws on bad input; parseScenarioOrThrow and readScenarioFile are for
// callers that stop on it (a campaign, a test) and throw that error's text.
import { readFileSync } from "node:fs";
import { isMap, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { err, ok, type Result } from "../src/lib/result.js";
import { unreachable } from "../src/lib/assert.js";
import type { FailpointName } from "../src/lib/failpoints.js";
import type { CrashMode } from "./disk.js";
import type { LinkFaults } from "./net.js";
import {
  scenarioSchema,
  type FaultSpec,
  type NetworkSpec,
  type ScenarioFile,
  type Target,
} from "./scenario-schema.js";

export type { Target } from "./scenario-schema.js";

export type WorkloadProfile = ScenarioFile["workload"]["profile"];

export type PartitionShape =
  | { readonly type: "random" }
  | { readonly type: "isolate"; readonly target: Target }
  | { readonly type: "groups"; readonly groups: readonly (readonly Target[])[] }
  | { readonly type: "one-way"; readonly from: Target; readonly to: Target }
  | { readonly type: "bridge" };

export type FaultAction =
  | { readonly kind: "partition"; readonly shape: PartitionShape }
  | { readonly kind: "network"; readonly link: Partial<LinkFaults> }
  | { readonly kind: "clog"; readonly target: Target }
  | {
      readonly kind: "crash";
      readonly target: Target;
      readonly restartAfterMs: number | undefined;
      /** Disk storage only; undefined: true (a crash loses what was not fsynced). */
      readonly loseUnsynced?: boolean;
      /** Disk storage only; undefined: drawn from the member's disk stream. */
      readonly mode?: CrashMode;
    }
  | {
      readonly kind: "crash-at";
      readonly target: Target;
      readonly failpoint: FailpointName;
      readonly restartAfterMs: number | undefined;
    }
  | { readonly kind: "stall-at"; readonly target: Target; readonly failpoint: FailpointName }
  | { readonly kind: "disk"; readonly target: Target; readonly disk: DiskFault }
  | { readonly kind: "compact" }
  | { readonly kind: "defragment"; readonly target: Target }
  | { readonly kind: "pause"; readonly target: Target }
  | { readonly kind: "clock-drift"; readonly target: Target; readonly rate: number }
  | { readonly kind: "member"; readonly change: MemberChange };

/**
 * A `member:` fault: a membership change, proposed through the leader (Raft-only clusters) or
 * made through the Cluster API by an operator (KV clusters; `replace` only there).
 */
export type MemberChange =
  | { readonly op: "add-learner" }
  | { readonly op: "add-voter" }
  | { readonly op: "promote"; readonly target: Target | "newest-learner" }
  | { readonly op: "remove"; readonly target: Target }
  | { readonly op: "replace"; readonly target: Target };

/** A `disk:` fault's knobs (see the schema); each is undone when the fault ends. */
export interface DiskFault {
  readonly slowFsyncMs: number | undefined;
  readonly eioRate: number | undefined;
  readonly enospcBytes: number | undefined;
  readonly corrupt: boolean;
}

export type StorageMode = "memory" | "disk";

export interface Fault {
  readonly atMs: number;
  /** How long the fault lasts; undefined = until the faults end (see Scenario.faultsEndMs). */
  readonly forMs: number | undefined;
  readonly everyMs: number | undefined;
  readonly jitterMs: number;
  readonly action: FaultAction;
}

export interface Scenario {
  readonly name: string;
  readonly description: string | undefined;
  readonly cluster: {
    readonly members: number;
    readonly heartbeatMs: number;
    readonly electionMs: number;
    readonly preVote: boolean;
    readonly checkQuorum: boolean;
  };
  /** The `cluster:` storage fields (kept apart so `cluster` spreads into a Raft cluster's options). */
  readonly storage: {
    readonly mode: StorageMode;
    readonly snapshotCount: number | undefined;
    readonly catchUpEntries: number | undefined;
  };
  readonly durationMs: number;
  readonly network: LinkFaults;
  readonly workload: {
    readonly profile: WorkloadProfile;
    readonly ratePerS: number;
    readonly readRatio: number;
    /** KV profiles only (see the schema). */
    readonly clients: number;
    readonly keys: number;
    readonly watchers: number;
    /** KV profiles: auth traffic (see the schema). */
    readonly auth: boolean;
  };
  readonly faults: readonly Fault[];
  readonly checks: {
    /** The checks named in the file, in order (liveness as "liveness"). */
    readonly names: readonly string[];
    readonly raftSafety: boolean;
    readonly livenessWithinMs: number | undefined;
  };
  /**
   * When every fault has ended and the cluster is healed: the end of `duration`. The liveness
   * window (`within`) and a probe phase follow it, with the workload still running.
   */
  readonly faultsEndMs: number;
}

export interface ScenarioError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  readonly message: string;
}

export function formatScenarioError(e: ScenarioError): string {
  const where = e.line === undefined ? e.file : `${e.file}:${e.line}`;
  return e.field === undefined ? `${where}: ${e.message}` : `${where}: ${e.field}: ${e.message}`;
}

/** Parses and validates scenario text; `file` only names the source in errors. */
export function parseScenario(text: string, file: string): Result<Scenario, ScenarioError> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    return err({
      file,
      line,
      field: undefined,
      message: `invalid YAML: ${yamlError.message.split("\n")[0]}`,
    });
  }
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) return err(schemaError(parsed.error, doc, lineCounter, file));
  return ok(toScenario(parsed.data));
}

/** A scenario's text and its parsed value. */
export interface ParsedScenario {
  readonly text: string;
  readonly value: Scenario;
}

/** Parses scenario text, throwing the error text (file, line, field) if it is bad. */
export function parseScenarioOrThrow(text: string, file: string): ParsedScenario {
  const parsed = parseScenario(text, file);
  if (!parsed.ok) throw new Error(formatScenarioError(parsed.error));
  return { text, value: parsed.value };
}

/** Reads and parses a scenario file, throwing the error text (file, line, field) if it is bad. */
export function readScenarioFile(file: string): ParsedScenario {
  return parseScenarioOrThrow(readFileSync(file, "utf8"), file);
}

function schemaError(
  error: z.ZodError,
  doc: Document,
  lines: LineCounter,
  file: string,
): ScenarioError {
  const issue = error.issues[0];
  if (issue === undefined)
    return { file, line: undefined, field: undefined, message: "invalid scenario" };
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const full = [...path, key];
    return {
      file,
      line: lineOf(doc, lines, full),
      field: fieldName(full),
      message: "unknown field",
    };
  }
  const message = issue.code === "invalid_union" ? unionMessage(issue) : issue.message;
  return {
    file,
    line: lineOf(doc, lines, path),
    field: path.length > 0 ? fieldName(path) : undefined,
    message,
  };
}

function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const inner = issue.errors.flat()[0];
  return inner === undefined
    ? "no allowed form matches"
    : `no allowed form matches (${inner.message})`;
}

/** The line of the deepest node on `path` that exists in the document. */
function lineOf(
  doc: Document,
  lines: LineCounter,
  path: readonly (string | number)[],
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as
      { range?: [number, number, number] } | undefined;
    const start = node?.range?.[0];
    if (start !== undefined) return lines.linePos(start).line;
    const parent = depth > 0 ? doc.getIn(path.slice(0, depth - 1), true) : doc.contents;
    if ((isMap(parent) || isSeq(parent)) && depth > 0) {
      const key = path[depth - 1];
      const pair = isMap(parent)
        ? parent.items.find((p) => (p.key as { value?: unknown })?.value === key)
        : undefined;
      const keyStart = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (keyStart !== undefined) return lines.linePos(keyStart).line;
    }
  }
  return undefined;
}

function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function toLink(n: Partial<NetworkSpec>): Partial<LinkFaults> {
  const link: { -readonly [K in keyof LinkFaults]?: LinkFaults[K] } = {};
  if (n["latency-ms"] !== undefined) link.latencyMs = n["latency-ms"];
  if (n["jitter-ms"] !== undefined) link.jitterMs = n["jitter-ms"];
  if (n.loss !== undefined) link.loss = n.loss;
  if (n.duplicate !== undefined) link.duplicate = n.duplicate;
  if (n.reorder !== undefined) link.reorder = n.reorder;
  if (n["reorder-ms"] !== undefined) link.reorderDelayMs = n["reorder-ms"];
  return link;
}

function toAction(f: FaultSpec): FaultAction {
  if (f.partition !== undefined) return { kind: "partition", shape: toShape(f.partition) };
  if (f.network !== undefined) return { kind: "network", link: toLink(f.network) };
  if (f.clog !== undefined) return { kind: "clog", target: f.clog.target };
  if (f.crash !== undefined) return crashAction(f.crash, f["restart-after"]);
  const crashAt = f["crash-at"];
  if (crashAt !== undefined) {
    return {
      kind: "crash-at",
      target: crashAt.target,
      failpoint: crashAt.failpoint as FailpointName,
      restartAfterMs: f["restart-after"],
    };
  }
  const stallAt = f["stall-at"];
  if (stallAt !== undefined) {
    return {
      kind: "stall-at",
      target: stallAt.target,
      failpoint: stallAt.failpoint as FailpointName,
    };
  }
  if (f.disk !== undefined) return { kind: "disk", target: f.disk.target, disk: toDisk(f.disk) };
  if (f.compact !== undefined) return { kind: "compact" };
  if (f.defragment !== undefined) return { kind: "defragment", target: f.defragment.target };
  if (f.pause !== undefined) return { kind: "pause", target: f.pause.target };
  if (f["clock-drift"] !== undefined) {
    return { kind: "clock-drift", target: f["clock-drift"].target, rate: f["clock-drift"].rate };
  }
  if (f.member !== undefined) return { kind: "member", change: toMemberChange(f.member) };
  throw new Error("unreachable: the schema requires one fault kind");
}

function toMemberChange(m: NonNullable<FaultSpec["member"]>): MemberChange {
  if (m.promote !== undefined) return { op: "promote", target: m.promote };
  if (m.remove !== undefined) return { op: "remove", target: m.remove };
  if (m.replace !== undefined) return { op: "replace", target: m.replace };
  if (m["add-voter"] !== undefined) return { op: "add-voter" };
  return { op: "add-learner" };
}

function crashAction(
  c: NonNullable<FaultSpec["crash"]>,
  restartAfterMs: number | undefined,
): FaultAction {
  return {
    kind: "crash",
    target: c.target,
    restartAfterMs,
    // Only present when the file says so: memory-storage crashes read exactly as they used to.
    ...(c["lose-unsynced"] === undefined ? {} : { loseUnsynced: c["lose-unsynced"] }),
    ...(c.mode === undefined ? {} : { mode: c.mode }),
  };
}

function toDisk(d: NonNullable<FaultSpec["disk"]>): DiskFault {
  return {
    slowFsyncMs: d["slow-fsync-ms"],
    eioRate: d["eio-rate"],
    enospcBytes: d["enospc-bytes"],
    corrupt: d.corrupt === true,
  };
}

function toShape(p: NonNullable<FaultSpec["partition"]>): PartitionShape {
  if (p === "random") return { type: "random" };
  if ("isolate" in p) return { type: "isolate", target: p.isolate };
  if ("groups" in p) return { type: "groups", groups: p.groups };
  if ("one-way" in p) return { type: "one-way", from: p["one-way"].from, to: p["one-way"].to };
  if ("bridge" in p) return { type: "bridge" };
  return unreachable(p, "partition");
}

function toScenario(s: ScenarioFile): Scenario {
  let livenessWithinMs: number | undefined;
  const names: string[] = [];
  for (const check of s.checks) {
    if (typeof check === "string") names.push(check);
    else {
      names.push("liveness");
      livenessWithinMs = check.liveness.within;
    }
  }
  const n = s.network;
  return {
    name: s.name,
    description: s.description,
    cluster: {
      members: s.cluster.members,
      heartbeatMs: s.cluster["heartbeat-ms"],
      electionMs: s.cluster["election-ms"],
      preVote: s.cluster["pre-vote"],
      checkQuorum: s.cluster["check-quorum"],
    },
    storage: {
      mode: s.cluster.storage,
      snapshotCount: s.cluster["snapshot-count"],
      catchUpEntries: s.cluster["catch-up-entries"],
    },
    durationMs: s.duration,
    network: {
      latencyMs: n["latency-ms"],
      jitterMs: n["jitter-ms"],
      loss: n.loss,
      duplicate: n.duplicate,
      reorder: n.reorder,
      reorderDelayMs: n["reorder-ms"],
    },
    workload: {
      profile: s.workload.profile,
      ratePerS: s.workload["rate-per-s"],
      readRatio: s.workload["read-ratio"],
      clients: s.workload.clients,
      keys: s.workload.keys,
      watchers: s.workload.watchers,
      auth: s.workload.auth,
    },
    faults: s.faults.map((f) => ({
      atMs: f.at,
      forMs: f.for,
      everyMs: f.every,
      jitterMs: f.jitter ?? 0,
      action: toAction(f),
    })),
    checks: { names, raftSafety: names.includes("raft-safety"), livenessWithinMs },
    faultsEndMs: s.duration,
  };
}

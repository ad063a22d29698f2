// Everything a run leaves behind for reports: the summary, the scenario text, every client
// operation with its timing, a per-member timeline of Raft state, the fault windows and the verdict
// of each check. Every run path (Raft-only, KV cluster) produces this; reports, campaigns and
// shrinking read only this.
import type { StateType } from "../src/raft/types.js";
import type { RunSummary } from "./run-summary.js";

/** One client operation as the clients saw it (for latency and throughput over time). */
export interface OperationRecord {
  readonly client: string;
  /** e.g. "propose", "read-index", "put", "range", "txn", "lease-grant". */
  readonly kind: string;
  readonly callMs: number;
  /** Undefined when the outcome is unknown (timed out, or the run ended first). */
  readonly returnMs: number | undefined;
  /** "ok", an etcd error name, or "unknown". */
  readonly result: string;
}

/** A sample of one member's Raft state at a virtual time. */
export interface MemberSample {
  readonly atMs: number;
  readonly member: string;
  readonly role: StateType | "down" | "paused";
  readonly term: number;
  readonly commitIndex: number;
}

/** The verdict of one check named in the scenario. */
export interface CheckVerdict {
  readonly check: string;
  readonly ok: boolean;
  /** One line for the report ("0 violations", "unknown: search timed out", ...). */
  readonly detail: string;
}

export interface RunArtifacts {
  readonly summary: RunSummary;
  readonly scenarioText: string;
  readonly checks: readonly CheckVerdict[];
  readonly operations: readonly OperationRecord[];
  readonly timeline: readonly MemberSample[];
  /** KV runs: the client history as JSON Lines for `detcd-sim check --format history`. */
  readonly historyJsonLines: string | undefined;
  /** KV runs: every watch response each watcher received, for watch.json. */
  readonly watch: unknown;
}

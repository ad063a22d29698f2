import type { Violation } from "./check/violation.js";
import type { FaultWindow } from "./nemesis.js";

/** The outcome of one simulation run: the contract of `detcd-sim run --json` (DESIGN.md). */
export interface RunSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  /** Client operations issued (Raft-only: proposals and ReadIndex requests; KV: every request). */
  readonly ops: number;
  readonly violations: number;
  readonly ok: boolean;
  readonly report: string | null;
  readonly details: {
    readonly violations: readonly Violation[];
    readonly faults: readonly FaultWindow[];
    /** Writes that completed (Raft-only: proposals committed; KV: writes answered ok). */
    readonly committedOps: number;
    /** Reads that completed (Raft-only: ReadIndex answers; KV: ranges answered ok). */
    readonly answeredReads: number;
    readonly leaderElections: number;
    readonly recoveryMs: number | null;
    readonly network: Readonly<Record<string, number>>;
  };
}

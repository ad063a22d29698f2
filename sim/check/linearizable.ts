// Linearizability of a recorded client history against the etcd model (src/porcupine).
//
// Unknown writes that the history itself proves applied are resolved first (resolveUnknownWrites),
// then the search runs with an optional time budget. The verdict is three-valued and "unknown" is
// never passed off as success: it yields a "linearizable" violation that says the checker gave up,
// so a run whose history could not be decided fails rather than passes silently.
import {
  check,
  etcdModel,
  replayLinearization,
  resolveUnknownWrites,
  type CheckReport,
  type CheckResult,
  type EtcdInput,
  type EtcdOutput,
  type Operation,
  type PartitionReport,
  type UnknownReason,
} from "../../src/porcupine/index.js";
import { unreachable } from "../../src/lib/assert.js";
import type { Violation } from "./violation.js";

/** One client operation; call and return are virtual milliseconds (no return: outcome unknown). */
export type EtcdHistoryOperation = Operation<EtcdInput, EtcdOutput>;

export interface LinearizableOptions {
  /** Give up with "unknown" after this many milliseconds of `now()`; no limit when absent. */
  readonly timeoutMs?: number;
  /**
   * Monotonic millisecond clock for the time budget and `ms`. Simulator code must not read wall
   * time itself: callers pass wallNowMs from sim/wall-time.ts (or a fake clock in tests).
   */
  readonly now: () => number;
  /** Cap on the search cache; reaching it gives "unknown" (default: the checker's own). */
  readonly maxCacheEntries?: number;
}

export interface LinearizableResult {
  readonly verdict: CheckResult;
  /** Why the verdict is "unknown". */
  readonly unknownReason?: UnknownReason;
  /** Empty exactly when the verdict is "ok"; check name "linearizable". */
  readonly violations: Violation[];
  /** The checker's report: pass it with etcdModel to visualize() for the HTML timeline. */
  readonly report: CheckReport<EtcdInput, EtcdOutput>;
  /** The history as checked (unknown writes resolved); the report's indices refer to it. */
  readonly operations: readonly EtcdHistoryOperation[];
  /** Time spent checking, by `now()`. */
  readonly ms: number;
}

/** Checks `operations` (any order; not modified) against the etcd model. */
export function checkLinearizable(
  operations: readonly EtcdHistoryOperation[],
  options: LinearizableOptions,
): LinearizableResult {
  const started = options.now();
  const resolved = resolveUnknownWrites(operations);
  const report = check(etcdModel, resolved, {
    now: options.now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxCacheEntries !== undefined ? { maxCacheEntries: options.maxCacheEntries } : {}),
  });
  const ms = options.now() - started;
  const violations = violationsOf(report, resolved, ms, options.timeoutMs);
  return {
    verdict: report.result,
    ...(report.unknownReason !== undefined ? { unknownReason: report.unknownReason } : {}),
    violations,
    report,
    operations: resolved,
    ms,
  };
}

function violationsOf(
  report: CheckReport<EtcdInput, EtcdOutput>,
  history: readonly EtcdHistoryOperation[],
  ms: number,
  timeoutMs: number | undefined,
): Violation[] {
  switch (report.result) {
    case "ok":
      return [];
    case "illegal":
      return report.partitions.flatMap((p) => (p.result === "illegal" ? [illegal(p)] : []));
    case "unknown":
      return [unknown(report.unknownReason, history, ms, timeoutMs)];
    default:
      return unreachable(report.result, "check result");
  }
}

function illegal(p: PartitionReport<EtcdInput, EtcdOutput>): Violation {
  const total = p.operations.length;
  const done = `${p.linearization.length} of ${total} operations linearize`;
  const stuck = p.stuck === undefined ? undefined : p.operations[p.stuck];
  if (stuck === undefined) {
    return { check: "linearizable", atMs: 0, member: undefined, message: `illegal: ${done}` };
  }
  const output = stuck.return === undefined ? undefined : stuck.output;
  const what = etcdModel.describeOperation?.(stuck.input, output) ?? JSON.stringify(stuck.input);
  const states = replayLinearization(etcdModel, p.operations, p.linearization);
  const state = (states[states.length - 1] ?? "the initial state").replace(/\n/g, "; ");
  const when = `call ${stuck.call}${stuck.return === undefined ? "" : `, return ${stuck.return}`}`;
  return {
    check: "linearizable",
    atMs: stuck.call,
    member: undefined,
    message: `illegal: ${done}; client ${stuck.clientId} ${what} (${when}) fits no order; model after the longest prefix: ${state}`,
  };
}

function unknown(
  reason: UnknownReason | undefined,
  history: readonly EtcdHistoryOperation[],
  ms: number,
  timeoutMs: number | undefined,
): Violation {
  const why =
    reason === "cache-limit"
      ? "its cache limit was reached"
      : `it ran out of time (${timeoutMs ?? "?"} ms budget)`;
  const endMs = history.reduce((m, op) => Math.max(m, op.return ?? op.call), 0);
  return {
    check: "linearizable",
    atMs: endMs,
    member: undefined,
    message: `unknown: the checker gave up after ${Math.round(ms)} ms because ${why}; ${history.length} operations neither proven linearizable nor refuted`,
  };
}

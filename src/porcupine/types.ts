// Public types of the linearizability checker. This module imports nothing from the rest of detcd,
// so it can be published on its own.

/**
 * One client operation. `call` and `return` are timestamps on one clock shared by every client
 * (any unit; only their order matters). An operation with no `return` has an unknown outcome: it
 * may take effect at any time after its call, or never, and its `output` is ignored.
 * Operations of one partition are checked against one sequential model.
 */
export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  readonly call: number;
  readonly output?: O;
  readonly return?: number;
}

/**
 * A history as a flat list of call and return events, in the order they happened. Each return
 * matches the earlier call with the same `id`; a call with no return has an unknown outcome.
 */
export type HistoryEvent<I, O> =
  | { readonly kind: "call"; readonly id: number; readonly clientId: number; readonly value: I }
  | { readonly kind: "return"; readonly id: number; readonly clientId: number; readonly value: O };

/** Result of one model step: `ok: false` means the output is impossible from that state. */
export type StepResult<S> = { readonly ok: true; readonly state: S } | { readonly ok: false };

/**
 * Identity of model states for the search cache. Two states are the same when `equal` says so
 * (default `===`); `hash` must return the same number for equal states (default: a constant,
 * which is correct but slower). States are never mutated once returned by `init` or `step`.
 */
export interface StateIdentity<S> {
  readonly equal?: (a: S, b: S) => boolean;
  readonly hash?: (state: S) => number;
}

/**
 * Optional search hint. `readOnly(input, output)` may return true only if that operation never
 * changes the state: in every state where its step is legal, the step leads back to that same
 * state (for a nondeterministic model, to exactly that one state). Reads with a known output
 * usually qualify; writes and unknown outcomes usually do not. The checker then linearizes such
 * an operation as early as possible without trying alternatives (see checker.ts).
 */
export interface ReadOnlyHint<I, O> {
  readonly readOnly?: (input: I, output: O | undefined) => boolean;
}

/** Text for the visualization; the checker never calls these. */
export interface Describe<S, I, O> {
  readonly describeOperation?: (input: I, output: O | undefined) => string;
  readonly describeState?: (state: S) => string;
}

/**
 * A sequential specification with one successor state per step. `step` must be pure: it receives
 * `output === undefined` for an operation whose outcome is unknown and then accepts any outcome.
 * `partition`, when given, splits a history into independent sub-histories (P-compositionality:
 * the history is linearizable iff every part is); it must keep each part in the original order.
 */
export interface Model<S, I, O> extends StateIdentity<S>, ReadOnlyHint<I, O>, Describe<S, I, O> {
  readonly init: () => S;
  readonly step: (state: S, input: I, output: O | undefined) => StepResult<S>;
  readonly partition?: (history: readonly Operation<I, O>[]) => Operation<I, O>[][];
}

/**
 * A specification whose step may lead to several states (for example a write that failed may or
 * may not have been applied). An empty array means the output is impossible from that state.
 * `equal`/`hash` identify single states; the checker works on sets of them.
 */
export interface NondeterministicModel<S, I, O>
  extends StateIdentity<S>, ReadOnlyHint<I, O>, Describe<S, I, O> {
  readonly nondeterministic: true;
  readonly init: () => readonly S[];
  readonly step: (state: S, input: I, output: O | undefined) => readonly S[];
  readonly partition?: (history: readonly Operation<I, O>[]) => Operation<I, O>[][];
}

export type AnyModel<S, I, O> = Model<S, I, O> | NondeterministicModel<S, I, O>;

export type CheckResult = "ok" | "illegal" | "unknown";

/** Why a check returned "unknown": it ran out of time, or its cache reached `maxCacheEntries`. */
export type UnknownReason = "timeout" | "cache-limit";

export interface CheckOptions {
  /** Give up (result "unknown") after this many milliseconds of `now()`. Needs `now`. */
  readonly timeoutMs?: number;
  /** Monotonic clock in milliseconds, injected so the checker stays deterministic. */
  readonly now?: () => number;
  /** Cap on cached (linearized set, state) pairs over all partitions; reaching it gives "unknown". */
  readonly maxCacheEntries?: number;
  /** Check the partitions even after one is found illegal (default true, for the visualization). */
  readonly checkAllPartitions?: boolean;
  /** Ignore `model.partition` and check the history as one piece. */
  readonly noPartition?: boolean;
}

/**
 * Outcome of one partition. Indices refer to `operations` (the partition's operations in input
 * order). `linearization` is the longest linearizable prefix the search found: the whole
 * partition when `result` is "ok". `stuck` is the operation whose return deadline stopped that
 * prefix from growing (absent when "ok"); it is the first operation that could not be linearized.
 */
export interface PartitionReport<I, O> {
  readonly result: CheckResult;
  readonly operations: readonly Operation<I, O>[];
  readonly linearization: readonly number[];
  readonly stuck?: number;
  readonly unknownReason?: UnknownReason;
  /** Model steps tried and cache entries stored (for reports and benchmarks). */
  readonly steps: number;
  readonly cacheEntries: number;
}

export interface CheckReport<I, O> {
  readonly result: CheckResult;
  readonly unknownReason?: UnknownReason;
  readonly partitions: readonly PartitionReport<I, O>[];
  /** Partitions not checked because an earlier one was illegal and checkAllPartitions was false. */
  readonly skippedPartitions: number;
}

/** A caller-supplied span of time to shade in the visualization, e.g. a fault window. */
export interface Annotation {
  readonly start: number;
  readonly end: number;
  readonly label: string;
  /** Draw on this client's row only; all rows when absent. */
  readonly clientId?: number;
  /** CSS colour; a light red when absent. */
  readonly color?: string;
}

// Turns a nondeterministic model into a deterministic one over sets of states (the powerset
// construction): a step maps every state of the set and keeps the union of the successors, and it
// is legal iff that union is non-empty. The search then treats a whole set as one state.
import { mix32 } from "./hash.js";
import type { Model, NondeterministicModel, StepResult } from "./types.js";

/** A deduplicated set of model states with an order-independent hash, never mutated once built. */
export interface StateSet<S> {
  readonly states: readonly S[];
  readonly hash: number;
}

const ILLEGAL = { ok: false } as const;

/** Deterministic view of `model`; its states are `StateSet<S>`. */
export function powersetModel<S, I, O>(
  model: NondeterministicModel<S, I, O>,
): Model<StateSet<S>, I, O> {
  const equal = model.equal ?? ((a: S, b: S) => a === b);
  const hash = model.hash ?? (() => 0);
  const build = (states: readonly S[]): StateSet<S> => {
    const kept: S[] = [];
    const hashes: number[] = [];
    let setHash = 0;
    for (const s of states) {
      const h = hash(s);
      if (!containsState(kept, hashes, s, h, equal)) {
        kept.push(s);
        hashes.push(h);
        // Sum of mixed member hashes: independent of the order in which members were found.
        setHash = (setHash + mix32(h)) | 0;
      }
    }
    return { states: kept, hash: setHash };
  };
  const step = (set: StateSet<S>, input: I, output: O | undefined): StepResult<StateSet<S>> => {
    const next: S[] = [];
    for (const s of set.states) {
      for (const t of model.step(s, input, output)) next.push(t);
    }
    return next.length === 0 ? ILLEGAL : { ok: true, state: build(next) };
  };
  const describeState = model.describeState;
  return {
    init: () => build(model.init()),
    step,
    hash: (set) => set.hash,
    equal: (a, b) => sameSet(a, b, equal),
    ...(model.partition ? { partition: model.partition } : {}),
    ...(model.readOnly ? { readOnly: model.readOnly } : {}),
    ...(model.describeOperation ? { describeOperation: model.describeOperation } : {}),
    ...(describeState
      ? {
          describeState: (set: StateSet<S>) => set.states.map(describeState).join("\n--- or ---\n"),
        }
      : {}),
  };
}

function containsState<S>(
  kept: readonly S[],
  hashes: readonly number[],
  s: S,
  h: number,
  equal: (a: S, b: S) => boolean,
): boolean {
  for (let i = 0; i < kept.length; i++) {
    if (hashes[i] === h && equal(kept[i] as S, s)) return true;
  }
  return false;
}

function sameSet<S>(a: StateSet<S>, b: StateSet<S>, equal: (x: S, y: S) => boolean): boolean {
  if (a === b) return true;
  if (a.hash !== b.hash || a.states.length !== b.states.length) return false;
  // Both sides are deduplicated and the same size, so inclusion one way is equality.
  return a.states.every((s) => b.states.some((t) => equal(s, t)));
}

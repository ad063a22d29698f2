// An in-memory Storage: what the application has persisted. The simulator keeps one per member
// and it survives a simulated crash; only what was written here is "on disk".
import { assert } from "../lib/assert.js";
import { limitSize } from "./log.js";
import type { ConfState, Entry, HardState, Snapshot, Storage, StorageError } from "./types.js";

const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

const EMPTY_DATA = new Uint8Array(0);

/**
 * MemoryStorage holds the persisted hard state, the latest snapshot and the entries after it.
 * `ents[0]` is a sentinel carrying the snapshot's index and term, so term(snapshotIndex) works.
 * Contract: the caller writes only what raft handed out in a Ready, in order (append, setHardState,
 * applySnapshot); createSnapshot/compact take indexes the application has applied.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState;
  private snap: Snapshot;
  private ents: Entry[];

  constructor(init?: { confState?: ConfState; hardState?: HardState }) {
    this.hardState = init?.hardState ?? { term: 0, vote: 0, commit: 0 };
    this.snap = {
      data: EMPTY_DATA,
      metadata: { index: 0, term: 0, confState: init?.confState ?? EMPTY_CONF_STATE },
    };
    this.ents = [sentinel(0, 0)];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] | StorageError {
    const offset = this.offset();
    if (lo <= offset) return "compacted";
    assert(hi <= this.lastIndex() + 1, () => `entries[${lo},${hi}) past ${this.lastIndex()}`);
    if (this.ents.length === 1) return "unavailable";
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(index: number): number | StorageError {
    const offset = this.offset();
    if (index < offset) return "compacted";
    const e = this.ents[index - offset];
    return e === undefined ? "unavailable" : e.term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole content with a snapshot received from the leader (Ready.snapshot). */
  applySnapshot(s: Snapshot): void {
    assert(
      s.metadata.index > this.snap.metadata.index,
      () => `snapshot ${s.metadata.index} is not newer than ${this.snap.metadata.index}`,
    );
    this.snap = s;
    this.ents = [sentinel(s.metadata.index, s.metadata.term)];
  }

  /**
   * Records a snapshot of the applied state at `index` (which must be in the log and newer than
   * the current snapshot). `cs` defaults to the current snapshot's ConfState. Does not compact.
   */
  createSnapshot(index: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    const offset = this.offset();
    assert(
      index > this.snap.metadata.index && index <= this.lastIndex(),
      () => `snapshot index ${index} outside (${this.snap.metadata.index}, ${this.lastIndex()}]`,
    );
    const term = (this.ents[index - offset] as Entry).term;
    this.snap = {
      data,
      metadata: { index, term, confState: cs ?? this.snap.metadata.confState },
    };
    return this.snap;
  }

  /** Discards entries up to and including `index` (already covered by a snapshot). */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) return;
    assert(index <= this.lastIndex(), () => `compact ${index} past ${this.lastIndex()}`);
    const i = index - offset;
    const kept = [sentinel(index, (this.ents[i] as Entry).term)];
    for (let j = i + 1; j < this.ents.length; j++) kept.push(this.ents[j] as Entry);
    this.ents = kept;
  }

  /**
   * Persists entries handed out in Ready.entries. They must start at most one past the last index;
   * any existing entries from their first index on are replaced (a conflicting suffix).
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const offset = this.offset();
    const last = first.index + entries.length - 1;
    if (last <= offset) return; // entirely covered by the snapshot
    const skip = Math.max(0, offset + 1 - first.index);
    const at = first.index + skip - offset;
    assert(
      at <= this.ents.length,
      () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`,
    );
    if (at < this.ents.length) this.ents.length = at;
    for (let j = skip; j < entries.length; j++) this.ents.push(entries[j] as Entry);
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }
}

function sentinel(index: number, term: number): Entry {
  return { index, term, type: "EntryNormal", data: EMPTY_DATA };
}

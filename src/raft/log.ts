// The node's view of its log: the stable part lives in Storage (persisted by the application),
// the unstable part (entries and possibly a snapshot received but not yet persisted) lives here.
// Indexes are contiguous: the unstable entries start at `offset` and overwrite any stable entries
// at or above it.
import { assert } from "../lib/assert.js";
import type { Entry, Snapshot, Storage, StorageError } from "./types.js";

/** A fixed allowance for an entry's term, index and type when it is encoded. */
export const ENTRY_OVERHEAD_BYTES = 16;

/**
 * The size an entry counts for in message and Ready size limits: payload plus a fixed overhead,
 * so that even empty entries count and a limit of 0 means one entry per message.
 */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** The size an entry counts for in the uncommitted-size limit: its payload only. */
export function payloadSizeBytes(e: Entry): number {
  return e.data.byteLength;
}

/**
 * The longest prefix of `entries` whose total size is at most `maxSizeBytes`, but never fewer than
 * one entry (so that an oversized entry still makes progress). Returns `entries` itself when
 * nothing is cut.
 */
export function limitSize<T extends Entry>(entries: T[], maxSizeBytes: number): T[] {
  if (entries.length <= 1) return entries;
  let size = entrySizeBytes(entries[0] as T);
  for (let i = 1; i < entries.length; i++) {
    size += entrySizeBytes(entries[i] as T);
    if (size > maxSizeBytes) return entries.slice(0, i);
  }
  return entries;
}

/**
 * Entries and snapshot handed to raft but not yet persisted by the application.
 * `offsetInProgress` / `snapshotInProgress` mark what was already given out in a Ready and is
 * being persisted, so the next Ready does not hand it out twice.
 */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  snapshotInProgress = false;
  entries: Entry[] = [];
  offsetInProgress: number;

  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  /** The first index after the unstable snapshot, if there is one. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      const meta = this.snapshot?.metadata;
      return meta !== undefined && meta.index === index ? meta.term : undefined;
    }
    const e = this.entries[index - this.offset];
    return e?.term;
  }

  /** Entries not yet handed out for persistence. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    return inProgress >= this.entries.length ? [] : this.entries.slice(inProgress);
  }

  nextSnapshot(): Snapshot | undefined {
    return this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Marks everything handed out in a Ready as being persisted. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /**
   * The application persisted entries up to (index, term). If the entry at `index` was replaced in
   * the meantime (its term differs) nothing becomes stable: the persisted one is obsolete.
   */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Appends `ents`, first truncating any unstable entries at or after `ents[0].index`. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const fromIndex = first.index;
    if (fromIndex === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (fromIndex <= this.offset) {
      // Replaces all unstable entries (and shadows stable ones from fromIndex on).
      this.entries = ents.slice();
      this.offset = fromIndex;
    } else {
      const kept = this.entries.slice(0, fromIndex - this.offset);
      for (const e of ents) kept.push(e);
      this.entries = kept;
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex);
  }

  /** Entries in [lo, hi), which must lie inside the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    assert(
      lo >= this.offset && lo <= hi && hi <= this.offset + this.entries.length,
      () =>
        `unstable.slice[${lo},${hi}) out of [${this.offset},${this.offset + this.entries.length})`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

/**
 * The raft log: stable Storage plus Unstable, with the commit, applying and applied indexes.
 * Invariants: applied <= applying <= committed <= lastIndex(); committed never decreases.
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  /** Highest index handed to the application to apply (in a Ready not yet advanced). */
  applying: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    /** The size bound of Ready.committedEntries. */
    readonly maxCommittedSizePerReadyBytes: number,
  ) {
    const firstIndex = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /**
   * The term of the entry at `index`. The term at firstIndex()-1 (the snapshot's) is known even
   * though the entry itself is compacted, because appends match against it.
   */
  term(index: number): number | StorageError {
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    if (index + 1 < this.firstIndex()) return "compacted";
    if (index > this.lastIndex()) return "unavailable";
    const st = this.storage.term(index);
    assert(st !== "unavailable", () => `storage has no term for ${index}`);
    return st;
  }

  /** The term at `index`, or 0 when it is compacted or beyond the log. */
  termOrZero(index: number): number {
    const t = this.term(index);
    return typeof t === "number" ? t : 0;
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(typeof t === "number", () => `no term for the last index: ${t}`);
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a candidate whose log ends at (lastIndex, lastTerm) is at least as up to date. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of MsgApp: if our log has (index, logTerm), append `ents` after it (dropping a
   * conflicting suffix) and commit up to min(commit, last new index). Returns the last index the
   * message proves we match, or undefined when the log does not contain (index, logTerm).
   */
  maybeAppend(
    index: number,
    logTerm: number,
    commit: number,
    ents: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflictIndex = this.findConflict(ents);
    if (conflictIndex !== 0) {
      assert(
        conflictIndex > this.committed,
        () => `entry ${conflictIndex} conflicts with committed entry (committed ${this.committed})`,
      );
      this.append(ents.slice(conflictIndex - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends entries that must directly follow an index at or after the commit index. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    assert(
      first.index - 1 >= this.committed,
      () => `append at ${first.index} would overwrite committed ${this.committed}`,
    );
    assert(
      first.index <= this.lastIndex() + 1,
      () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`,
    );
    for (let i = 1; i < ents.length; i++) {
      assert((ents[i] as Entry).index === first.index + i, "appended entries are not contiguous");
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is missing from our log or has a different term,
   * or 0 when all of them are already present. The entries must be contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (fast backtracking: no
   * entry in between can match a log whose entry at `index` has term `term`). When the term is
   * unknown (compacted) the index is returned with term 0, meaning "possibly matches".
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (typeof t !== "number") return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** Entries in [lo, lastIndex], at most `maxSizeBytes` (but at least one). */
  entries(lo: number, maxSizeBytes: number): Entry[] | "compacted" {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Entries in [lo, hi) from storage and unstable, size-limited. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] | "compacted" {
    assert(lo <= hi, () => `slice[${lo},${hi})`);
    if (lo < this.firstIndex()) return "compacted";
    assert(hi <= this.lastIndex() + 1, () => `slice[${lo},${hi}) past ${this.lastIndex()}`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let out: Entry[] = [];
    if (lo < offset) {
      const stored = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      if (stored === "compacted") return stored;
      assert(Array.isArray(stored), () => `storage.entries[${lo},${hi}): ${String(stored)}`);
      // Storage cut the result short because of the size limit: do not add unstable entries.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      out = stored;
    }
    if (hi > offset) {
      const fromUnstable = this.unstable.slice(Math.max(lo, offset), hi);
      out = out.length === 0 ? fromUnstable : out.concat(fromUnstable);
    }
    return limitSize(out, maxSizeBytes);
  }

  /** Unstable entries not yet handed out in a Ready. */
  nextUnstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  hasNextUnstableEntries(): boolean {
    return this.unstable.offsetInProgress < this.unstable.offset + this.unstable.entries.length;
  }

  /**
   * Committed entries not yet handed out to apply. Unstable entries may be included: the
   * application persists a Ready's entries before applying its committed entries. Nothing is
   * applied while a snapshot is waiting to be persisted and applied first.
   */
  nextCommittedEntries(): Entry[] {
    if (this.unstable.snapshot !== undefined) return [];
    const lo = this.applying + 1;
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    const ents = this.slice(lo, hi, this.maxCommittedSizePerReadyBytes);
    assert(ents !== "compacted", () => `committed entries from ${lo} are compacted`);
    return ents;
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === undefined && this.applying < this.committed;
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) return;
    assert(
      toCommit <= this.lastIndex(),
      () => `commit ${toCommit} is out of range [last index ${this.lastIndex()}]`,
    );
    this.committed = toCommit;
  }

  /**
   * Leader side: commit `maxIndex` (acknowledged by a quorum) only if its entry has the current
   * term. An entry of an older term becomes committed only indirectly (Raft paper, Figure 8).
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  acceptApplying(index: number): void {
    assert(index <= this.committed, () => `applying ${index} beyond commit ${this.committed}`);
    this.applying = Math.max(this.applying, index);
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(
      index <= this.committed && index >= this.applied,
      () => `applied ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Replaces the whole log by a snapshot (which is committed by definition). */
  restore(s: Snapshot): void {
    assert(s.metadata.index > this.committed, "restore of a snapshot that is already committed");
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** The most recent snapshot: an unstable one, or the one in storage. */
  snapshot(): Snapshot | StorageError {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /**
   * The last index durably in storage and matching this log: entries overwritten by unstable
   * ones no longer count, and nothing counts while a snapshot is waiting to be persisted.
   */
  persistedLastIndex(): number {
    if (this.unstable.snapshot !== undefined) return 0;
    return Math.min(this.storage.lastIndex(), this.unstable.offset - 1);
  }
}

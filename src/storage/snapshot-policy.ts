// When to snapshot and how far to compact, as etcd decides it, and the consistent index that makes
// applying idempotent across restarts.
import { assert } from "../lib/assert.js";

/** etcd's --snapshot-count default: applied entries between two snapshots. */
export const DEFAULT_SNAPSHOT_COUNT = 10_000;
/** Entries kept below a snapshot so a slow follower catches up from the log, not a snapshot. */
export const DEFAULT_CATCH_UP_ENTRIES = 5_000;

export function shouldSnapshot(
  appliedIndex: number,
  snapshotIndex: number,
  snapshotCount: number,
): boolean {
  return appliedIndex - snapshotIndex > snapshotCount;
}

/** The index to pass to DiskStorage.compact after a snapshot at `snapshotIndex`. */
export function compactIndexFor(snapshotIndex: number, catchUpEntries: number): number {
  return Math.max(0, snapshotIndex - catchUpEntries);
}

/**
 * The index of the last entry applied to the state machine, saved inside every snapshot payload.
 * Contract: the member applies an entry only if `shouldApply(index)`, then calls `applied(index)`;
 * after a restart from a snapshot, raft may hand out entries at or below it again and they are
 * skipped, so no entry is applied twice.
 */
export class ConsistentIndex {
  constructor(private index = 0) {}

  get value(): number {
    return this.index;
  }

  shouldApply(entryIndex: number): boolean {
    return entryIndex > this.index;
  }

  applied(entryIndex: number): void {
    assert(
      entryIndex > this.index,
      () => `applied ${entryIndex} at consistent index ${this.index}`,
    );
    this.index = entryIndex;
  }
}

// The history of one key, split into generations. A generation runs from the put that creates the
// key to the delete (tombstone) that ends it; the next put opens a new generation and the version
// restarts at 1. Example: put@1 put@2 del@3 put@4 del@5 put@6 gives [1,2,3t] [4,5t] [6].
//
// Records are shared with the store's revision log: a KeyIndex holds references, not copies.

import { assert } from "../lib/assert.js";
import type { KeyValue } from "../api/kv.js";

/**
 * One stored change. A put carries the full KeyValue; a tombstone carries a KeyValue with only `key`
 * and `mod_revision` set (the shape of a DELETE event). `main` equals kv.mod_revision.
 */
export interface ChangeRecord {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly kv: KeyValue;
  /** The key's index at the time of the change (used by compaction to find kept records). */
  readonly index: KeyIndex;
}

/** A run of records ending, if closed, with a tombstone. Never empty. */
export interface Generation {
  readonly records: ChangeRecord[];
}

function isClosed(g: Generation): boolean {
  return (g.records[g.records.length - 1] as ChangeRecord).tombstone;
}

/** Index of the last record with main <= atMain, or -1 (records are in revision order). */
function lastAtOrBefore(records: readonly ChangeRecord[], atMain: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as ChangeRecord).main <= atMain) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The generations of one key. Contract: records are appended in increasing revision order; the
 * index is `removed` once compaction has emptied it, and a removed index is never written again.
 */
export class KeyIndex {
  readonly generations: Generation[] = [];
  removed = false;

  constructor(
    readonly key: Uint8Array,
    /** latin1 form of `key`: the tree-index key. */
    readonly keyString: string,
  ) {}

  /** The live KeyValue at `atMain`, or undefined if the key did not exist then. */
  get(atMain: number): KeyValue | undefined {
    const record = this.recordAt(atMain);
    return record === undefined || record.tombstone ? undefined : record.kv;
  }

  /** The latest record with main <= atMain (a put or a tombstone), if any. */
  recordAt(atMain: number): ChangeRecord | undefined {
    const gens = this.generations;
    const lastGen = gens[gens.length - 1];
    if (lastGen === undefined) return undefined;
    const last = lastGen.records[lastGen.records.length - 1] as ChangeRecord;
    if (last.main <= atMain) return last; // fast path: reads at the current revision
    // Second fast path: the value a put just replaced (a watch event's prev_kv).
    const before = lastGen.records[lastGen.records.length - 2];
    if (before !== undefined && before.main <= atMain) return before;
    for (let g = gens.length - 1; g >= 0; g--) {
      const records = (gens[g] as Generation).records;
      const i = lastAtOrBefore(records, atMain);
      if (i >= 0) return records[i];
    }
    return undefined;
  }

  /** The current live KeyValue (the open generation's last put), if the key exists now. */
  current(): KeyValue | undefined {
    const lastGen = this.generations[this.generations.length - 1];
    if (lastGen === undefined || isClosed(lastGen)) return undefined;
    return (lastGen.records[lastGen.records.length - 1] as ChangeRecord).kv;
  }

  /** Appends a put; a put after a tombstone (or the first put) opens a new generation. */
  appendPut(record: ChangeRecord): void {
    assert(!record.tombstone && !this.removed, "key-index: bad put");
    this.assertAfterLast(record);
    const lastGen = this.generations[this.generations.length - 1];
    if (lastGen === undefined || isClosed(lastGen)) this.generations.push({ records: [record] });
    else lastGen.records.push(record);
  }

  /** Appends a tombstone, which closes the open generation. The key must exist. */
  appendTombstone(record: ChangeRecord): void {
    assert(record.tombstone && !this.removed, "key-index: bad tombstone");
    this.assertAfterLast(record);
    const lastGen = this.generations[this.generations.length - 1];
    assert(lastGen !== undefined && !isClosed(lastGen), "key-index: tombstone of a missing key");
    lastGen.records.push(record);
  }

  /** The first record still held (after compaction, the kept one at or below the compaction). */
  firstRecord(): ChangeRecord | undefined {
    return this.generations[0]?.records[0];
  }

  /**
   * Drops history that compaction at `compactMain` makes unreachable: every record before the latest
   * one at or below compactMain, and that one too if it is a tombstone (a key deleted at the
   * compaction point reads as absent either way). Returns true if nothing is left.
   */
  compact(compactMain: number): boolean {
    const { gen, pos } = this.locateAtOrBefore(compactMain);
    if (gen < 0) return this.generations.length === 0;
    const anchorGen = this.generations[gen] as Generation;
    const anchor = anchorGen.records[pos] as ChangeRecord;
    if (anchor.tombstone) {
      this.generations.splice(0, gen + 1);
    } else {
      anchorGen.records.splice(0, pos);
      this.generations.splice(0, gen);
    }
    return this.generations.length === 0;
  }

  private locateAtOrBefore(atMain: number): { gen: number; pos: number } {
    for (let g = this.generations.length - 1; g >= 0; g--) {
      const pos = lastAtOrBefore((this.generations[g] as Generation).records, atMain);
      if (pos >= 0) return { gen: g, pos };
    }
    return { gen: -1, pos: -1 };
  }

  private assertAfterLast(record: ChangeRecord): void {
    const lastGen = this.generations[this.generations.length - 1];
    const last = lastGen?.records[lastGen.records.length - 1];
    assert(
      last === undefined ||
        last.main < record.main ||
        (last.main === record.main && last.sub < record.sub),
      () => `key-index: record ${record.main}.${record.sub} not after ${last?.main}.${last?.sub}`,
    );
  }
}

// The committed history that watch responses are judged against: every revision that changed a
// key, with its events in sub-revision order, as the store applied them. It is built either live
// from a store's commit listener (CommitLog, which survives compaction) or after the fact from a
// store's revision log (committedFromKvStore, which needs history that was never compacted).
//
// CommittedIndex answers the two questions the checks ask of it: which committed events a watch's
// range and filters select, and what a key held at a given revision (for prev_kv and isCreate).
import type { Event, KeyValue } from "../../../src/api/kv.js";
import type { WatchCreateRequest } from "../../../src/api/rpc.js";
import { assert, unreachable } from "../../../src/lib/assert.js";
import { bytesToLatin1, emptyBytes, inRange, latin1ToBytes } from "../../../src/lib/bytes.js";
import { err, ok, type Result } from "../../../src/lib/result.js";
import type { CommittedTxn, KvStore } from "../../../src/mvcc/kv-store.js";

/** One committed write txn that changed something: its revision and its events in sub order. */
export interface CommittedRevision {
  readonly revision: number;
  /** The changes, in sub-revision order. Any prev_kv they carry is ignored by the checks. */
  readonly events: readonly Event[];
}

/**
 * The ground truth for watch checks. `revisions` is complete from the store's first write (revision
 * 2) on, one entry per revision, ascending: every revision of a store changes at least one key. `compactRevision` is the highest revision the
 * store was compacted at during the run (-1 if never); a watch may leave prev_kv out for an event
 * whose previous revision fell below it, since the store may no longer hold that version.
 */
export interface CommittedHistory {
  readonly revisions: readonly CommittedRevision[];
  readonly compactRevision: number;
}

/**
 * Collects a store's commits as they happen (attach it with `kv.onCommit(log.listener)`), so the
 * history stays complete even when the store compacts. A revision at or below the last one recorded
 * is ignored: a restarted store replays entries the log already holds. Attach it to a store that
 * applies every revision from the start (one restored from a snapshot skips some, which the checks
 * then refuse).
 */
export class CommitLog {
  private readonly revisions: CommittedRevision[] = [];
  private compactRevision = -1;

  readonly listener = (txn: CommittedTxn): void => {
    const last = this.revisions[this.revisions.length - 1];
    if (last !== undefined && txn.revision <= last.revision) return;
    this.revisions.push({ revision: txn.revision, events: txn.events });
  };

  /** Records a successful compaction at `revision`. */
  noteCompaction(revision: number): void {
    this.compactRevision = Math.max(this.compactRevision, revision);
  }

  /** The history so far (a copy of the list; the events are shared). */
  history(): CommittedHistory {
    return { revisions: this.revisions.slice(), compactRevision: this.compactRevision };
  }
}

/**
 * The whole history of a store that was never compacted past its first revision, read back from
 * its revision log. Fails with a message when compaction has already dropped part of it.
 */
export function committedFromKvStore(kv: KvStore): Result<CommittedHistory, string> {
  if (kv.compactRevision > 1) {
    return err(`the store was compacted at ${kv.compactRevision}: its history is incomplete`);
  }
  const all = kv.events(emptyBytes, latin1ToBytes("\0"), 1, kv.currentRevision);
  if (!all.ok) return err(all.error.message);
  return ok({ revisions: groupByRevision(all.value.events), compactRevision: kv.compactRevision });
}

/** Splits a revision-ordered event list into one entry per revision. */
export function groupByRevision(events: readonly Event[]): CommittedRevision[] {
  const out: { revision: number; events: Event[] }[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last !== undefined && last.revision === e.kv.mod_revision) last.events.push(e);
    else out.push({ revision: e.kv.mod_revision, events: [e] });
  }
  return out;
}

/** The etcd range of a watch request: an empty range_end selects the key alone. */
export function watchedRange(request: WatchCreateRequest): {
  key: Uint8Array;
  rangeEnd: Uint8Array;
} {
  return { key: request.key, rangeEnd: request.range_end ?? emptyBytes };
}

/** Whether the watch's filters drop events of this type. */
export function filteredOut(request: WatchCreateRequest, e: Event): boolean {
  const filters = request.filters ?? [];
  switch (e.type) {
    case "PUT":
      return filters.includes("NOPUT");
    case "DELETE":
      return filters.includes("NODELETE");
    default:
      return unreachable(e.type, "event type");
  }
}

/** Whether a watch with this request must deliver `e`: its key is in range and no filter drops it. */
export function selects(request: WatchCreateRequest, e: Event): boolean {
  const { key, rangeEnd } = watchedRange(request);
  return inRange(e.kv.key, key, rangeEnd) && !filteredOut(request, e);
}

/** A fresh store is at revision 1, so its first write commits revision 2. */
const FIRST_WRITE_REVISION = 2;

interface Version {
  readonly revision: number;
  /** The key's value from this revision on; undefined after a delete. */
  readonly kv: KeyValue | undefined;
  readonly event: Event;
}

/** Per-key version lists over a committed history, for point-in-time lookups. */
export class CommittedIndex {
  private readonly byKey = new Map<string, Version[]>();
  private readonly selections = new Map<string, readonly Event[]>();

  /**
   * Every revision of a store changes something, so a complete history is 2, 3, 4, ... with no
   * hole; a hole (say, a log attached to a store restored from a snapshot) would turn correct
   * watches into failures, so it is refused here.
   */
  constructor(readonly history: CommittedHistory) {
    history.revisions.forEach((r, i) => {
      assert(
        r.revision === FIRST_WRITE_REVISION + i,
        () =>
          `committed history: revision ${r.revision} at position ${i}; expected ${FIRST_WRITE_REVISION + i} (the history must be complete from the first write)`,
      );
      for (const e of r.events) this.add(r.revision, e);
    });
  }

  private add(revision: number, event: Event): void {
    const name = bytesToLatin1(event.kv.key);
    let versions = this.byKey.get(name);
    if (versions === undefined) this.byKey.set(name, (versions = []));
    const kv = event.type === "PUT" ? event.kv : undefined;
    versions.push({ revision, kv, event });
  }

  /** The key's value as of `revision` (its newest version at or below it), or undefined. */
  valueAt(key: Uint8Array, revision: number): KeyValue | undefined {
    const versions = this.byKey.get(bytesToLatin1(key));
    if (versions === undefined) return undefined;
    const i = lastAtOrBelow(versions, revision);
    return i < 0 ? undefined : (versions[i] as Version).kv;
  }

  /** The committed change to `key` at exactly `revision`, if there was one. */
  changeAt(key: Uint8Array, revision: number): Event | undefined {
    const versions = this.byKey.get(bytesToLatin1(key));
    if (versions === undefined) return undefined;
    const v = versions[lastAtOrBelow(versions, revision)];
    return v !== undefined && v.revision === revision ? v.event : undefined;
  }

  /**
   * Every committed event the request selects, in commit order. A watcher that reconnects asks
   * again with the same range and filters (only the start revision differs), so the answer is
   * kept per range and filters; callers must not change it.
   */
  selected(request: WatchCreateRequest): readonly Event[] {
    const { key, rangeEnd } = watchedRange(request);
    // JSON, not a separator: keys and range ends may hold any byte.
    const id = JSON.stringify([bytesToLatin1(key), bytesToLatin1(rangeEnd), request.filters ?? []]);
    let events = this.selections.get(id);
    if (events === undefined) {
      events = this.history.revisions.flatMap((r) => r.events.filter((e) => selects(request, e)));
      this.selections.set(id, events);
    }
    return events;
  }
}

/** Index of the last version with revision <= `revision`, or -1. */
function lastAtOrBelow(versions: readonly Version[], revision: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as Version).revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

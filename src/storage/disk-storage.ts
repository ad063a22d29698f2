// The persistent raft Storage of a member: a MemoryStorage index of what is durable, backed by the
// WAL and the snapshot directory. The member swaps its MemoryStorage for this one and persists
// each Ready through `persist` before sending; raft reads entries, terms and the snapshot from the
// in-memory index, which changes only once data is durable.
import type { Disk } from "../env/disk.js";
import { joinPath } from "../env/disk.js";
import { assert } from "../lib/assert.js";
import { noFailpoints, type FailpointError, type Failpoints } from "../lib/failpoints.js";
import { MemoryStorage } from "../raft/memory-storage.js";
import type {
  ConfState,
  Entry,
  HardState,
  Ready,
  Snapshot,
  Storage,
  StorageError,
} from "../raft/types.js";
import { ensureDir, OK } from "./disk-ops.js";
import {
  corruption,
  type CorruptionError,
  type StorageCallback,
  type StorageFailure,
} from "./errors.js";
import { DEFAULT_KEEP_SNAPSHOTS, SnapshotStore } from "./snapshot-store.js";
import { Wal, type WalRecovered } from "./wal.js";

export interface DiskStorageOptions {
  /** The member's data directory: the WAL lives in `<dir>/wal`, snapshots in `<dir>/snap`. */
  readonly dir: string;
  readonly segmentBytes?: number;
  readonly failpoints?: Failpoints;
  /** Snapshot files kept by `compact` (default 5). */
  readonly keepSnapshots?: number;
  /** The ConfState of a new member (no snapshot yet). */
  readonly initialConfState?: ConfState;
}

/** What a member starts from. */
export interface Recovered {
  readonly hardState: HardState;
  readonly confState: ConfState;
  /** The newest valid snapshot the WAL vouches for; the member restores its state machine from it. */
  readonly snapshot: Snapshot | undefined;
  /** raft's `applied` at start: the snapshot's index (committed entries after it are re-applied). */
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly truncatedTail: WalRecovered["truncatedTail"];
  /** Newer snapshot files that failed their checksum: the member raises the CORRUPT alarm. */
  readonly corruptSnapshots: readonly CorruptionError[];
}

/** The part of a Ready that must be durable before its messages are sent. */
export type PersistBatch = Pick<Ready, "entries" | "hardState" | "snapshot" | "mustSync">;

const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/**
 * Contract: `persist`, `createSnapshot`, `compact` and `defragment` each complete exactly once with
 * a result; raft-facing reads (the Storage methods) see a change only after its `done` ran with
 * ok. Any failure is sticky (`failure()`): the member must stop serving and, for corruption, raise
 * the CORRUPT alarm.
 */
export class DiskStorage implements Storage {
  private failed: StorageFailure | undefined;

  private constructor(
    private readonly memory: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapshots: SnapshotStore,
    private readonly fp: Failpoints,
    private readonly keepSnapshots: number,
  ) {}

  /** Opens (or creates) the member's storage and recovers it: see Recovered. */
  static open(
    disk: Disk,
    options: DiskStorageOptions,
    done: StorageCallback<{ storage: DiskStorage; recovered: Recovered }>,
  ): void {
    const fp = options.failpoints ?? noFailpoints();
    ensureDir(disk, options.dir, (made) => {
      if (!made.ok) return done(made);
      SnapshotStore.open(disk, joinPath(options.dir, "snap"), (snaps) => {
        if (!snaps.ok) return done(snaps);
        const walOptions = {
          failpoints: fp,
          ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
        };
        Wal.open(disk, joinPath(options.dir, "wal"), walOptions, (opened) => {
          if (!opened.ok) return done(opened);
          const { wal, recovered } = opened.value;
          const vouched = new Set(recovered.snapshots.map((m) => `${m.index}/${m.term}`));
          snaps.value.loadNewestValid(
            (index, term) => vouched.has(`${index}/${term}`),
            (loaded) => {
              if (!loaded.ok) return done(loaded);
              const built = rebuild(
                recovered,
                loaded.value.snapshot,
                options.initialConfState ?? EMPTY_CONF_STATE,
                wal.dir,
              );
              if ("kind" in built) return done({ ok: false, error: built });
              const storage = new DiskStorage(
                built,
                wal,
                snaps.value,
                fp,
                options.keepSnapshots ?? DEFAULT_KEEP_SNAPSHOTS,
              );
              const snapshot = loaded.value.snapshot;
              done({
                ok: true,
                value: {
                  storage,
                  recovered: {
                    hardState: recovered.hardState,
                    confState: built.initialState().confState,
                    snapshot,
                    appliedIndex: snapshot?.metadata.index ?? 0,
                    lastIndex: built.lastIndex(),
                    truncatedTail: recovered.truncatedTail,
                    corruptSnapshots: loaded.value.corrupt,
                  },
                },
              });
            },
          );
        });
      });
    });
  }

  // The raft Storage interface, answered from the in-memory index of durable data.
  initialState(): { hardState: HardState; confState: ConfState } {
    return this.memory.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] | StorageError {
    return this.memory.entries(lo, hi, maxSizeBytes);
  }
  term(index: number): number | StorageError {
    return this.memory.term(index);
  }
  lastIndex(): number {
    return this.memory.lastIndex();
  }
  firstIndex(): number {
    return this.memory.firstIndex();
  }
  snapshot(): Snapshot {
    return this.memory.snapshot();
  }

  /** The first failure of any operation; after it every operation fails. */
  failure(): StorageFailure | undefined {
    return this.failed;
  }

  /**
   * Persists a Ready's snapshot (file first), entries and hard state, fsynced when `mustSync`.
   * Passes raftBeforeSave, raftBeforeSaveSnap/raftAfterSaveSnap (with a snapshot) and raftAfterSave.
   * `done` runs when the batch is durable; only then may the member send the Ready's messages.
   */
  persist(batch: PersistBatch, done: StorageCallback<void>): void {
    const finish = this.finisher(done);
    this.fp.pass(
      "raftBeforeSave",
      () => {
        const snap = batch.snapshot;
        if (snap === undefined) return this.saveToWal(batch, finish);
        this.saveSnapshotFile(snap, (saved) =>
          saved.ok ? this.saveToWal(batch, finish) : finish(saved),
        );
      },
      this.injected(finish),
    );
  }

  /**
   * Records a snapshot of the applied state at `index` (applied, in the log, newer than the current
   * snapshot): the file, then the WAL marker. `data` is the member's encoded state machine.
   */
  createSnapshot(
    index: number,
    confState: ConfState | undefined,
    data: Uint8Array,
    done: StorageCallback<Snapshot>,
  ): void {
    const current = this.memory.snapshot().metadata;
    const term = this.memory.term(index);
    assert(
      typeof term === "number" && index > current.index,
      () => `snapshot at ${index}: term ${String(term)}, current ${current.index}`,
    );
    const snap: Snapshot = {
      data,
      metadata: { index, term, confState: confState ?? current.confState },
    };
    const finish = this.finisher(done);
    this.saveSnapshotFile(snap, (saved) => {
      if (!saved.ok) return finish(saved);
      this.wal.save(
        { entries: [], snapshot: { index, term, installed: false }, mustSync: true },
        (marked) => {
          if (!marked.ok) return finish(marked);
          if (this.memory.snapshot().metadata.index < index)
            this.memory.createSnapshot(index, confState, data);
          finish({ ok: true, value: snap });
        },
      );
    });
  }

  /**
   * Discards log entries up to `index` (at most the snapshot's index; see compactIndexFor), deletes
   * the WAL segments that hold only such entries, and purges old snapshot files. Passes
   * compactBefore/AfterReleaseWal and compactBefore/AfterPurgeSnap.
   */
  compact(index: number, done: StorageCallback<void>): void {
    assert(
      index <= this.memory.snapshot().metadata.index,
      () => `compact ${index} above the snapshot`,
    );
    const finish = this.finisher(done);
    const injected = this.injected(finish);
    this.memory.compact(index);
    this.fp.pass(
      "compactBeforeReleaseWal",
      () =>
        this.wal.releaseTo(index + 1, (released) => {
          if (!released.ok) return finish(released);
          this.fp.pass(
            "compactAfterReleaseWal",
            () =>
              this.fp.pass(
                "compactBeforePurgeSnap",
                () =>
                  this.snapshots.purge(this.keepSnapshots, (purged) => {
                    if (!purged.ok) return finish(purged);
                    this.fp.pass("compactAfterPurgeSnap", () => finish(OK), injected);
                  }),
                injected,
              ),
            injected,
          );
        }),
      injected,
    );
  }

  /**
   * Rewrites storage to drop garbage: the WAL as one segment holding the live log (see
   * Wal.defragment, which passes defragBeforeRename), and the snapshot directory down to the newest.
   */
  defragment(done: StorageCallback<void>): void {
    const finish = this.finisher(done);
    this.wal.defragment(
      () => this.liveEntries(),
      (rewritten) => {
        if (!rewritten.ok) return finish(rewritten);
        this.snapshots.purge(1, finish);
      },
    );
  }

  close(done: StorageCallback<void>): void {
    this.wal.close(done);
  }

  /** WAL segment files, oldest first. */
  walSegments(): string[] {
    return this.wal.segmentFiles();
  }

  private liveEntries(): Entry[] {
    const first = this.memory.firstIndex();
    const last = this.memory.lastIndex();
    if (last < first) return [];
    const got = this.memory.entries(first, last + 1, Number.POSITIVE_INFINITY);
    assert(Array.isArray(got), () => `live entries [${first}, ${last}]: ${String(got)}`);
    return got;
  }

  private saveSnapshotFile(snap: Snapshot, done: StorageCallback<void>): void {
    const injected = this.injected(done);
    this.fp.pass(
      "raftBeforeSaveSnap",
      () =>
        this.snapshots.save(snap, (saved) => {
          if (!saved.ok) return done(saved);
          this.fp.pass("raftAfterSaveSnap", () => done(OK), injected);
        }),
      injected,
    );
  }

  private saveToWal(batch: PersistBatch, done: StorageCallback<void>): void {
    const snap = batch.snapshot;
    const marker =
      snap === undefined
        ? undefined
        : { index: snap.metadata.index, term: snap.metadata.term, installed: true };
    const walBatch = {
      entries: batch.entries,
      mustSync: batch.mustSync || snap !== undefined,
      ...(batch.hardState === undefined ? {} : { hardState: batch.hardState }),
      ...(marker === undefined ? {} : { snapshot: marker }),
    };
    this.wal.save(walBatch, (saved) => {
      if (!saved.ok) return done(saved);
      if (snap !== undefined) this.memory.applySnapshot(snap);
      this.memory.append(batch.entries);
      if (batch.hardState !== undefined) this.memory.setHardState(batch.hardState);
      this.fp.pass("raftAfterSave", () => done(OK), this.injected(done));
    });
  }

  private finisher<T>(done: StorageCallback<T>): StorageCallback<T> {
    return (r) => {
      if (!r.ok && this.failed === undefined) this.failed = r.error;
      done(r);
    };
  }

  private injected(done: StorageCallback<never>): (e: FailpointError) => void {
    return (error) => done({ ok: false, error: { kind: "injected", error } });
  }
}

/** Builds the in-memory index from the snapshot and the replayed WAL, checking they fit together. */
function rebuild(
  recovered: WalRecovered,
  snapshot: Snapshot | undefined,
  initialConfState: ConfState,
  walDir: string,
): MemoryStorage | CorruptionError {
  const memory = new MemoryStorage({ confState: initialConfState, hardState: recovered.hardState });
  const snapIndex = snapshot?.metadata.index ?? 0;
  if (snapshot !== undefined) memory.applySnapshot(snapshot);
  const atSnap = recovered.entries.find((e) => e.index === snapIndex);
  if (snapshot !== undefined && atSnap !== undefined && atSnap.term !== snapshot.metadata.term) {
    return corruption(
      walDir,
      0,
      `entry ${snapIndex} has term ${atSnap.term}, the snapshot says ${snapshot.metadata.term}`,
    );
  }
  const after = recovered.entries.filter((e) => e.index > snapIndex);
  const first = after[0];
  if (first !== undefined && first.index !== snapIndex + 1) {
    return corruption(
      walDir,
      0,
      `the log resumes at ${first.index}, after the snapshot at ${snapIndex}: entries are missing`,
    );
  }
  memory.append(after);
  if (recovered.hardState.commit > memory.lastIndex()) {
    return corruption(
      walDir,
      0,
      `commit ${recovered.hardState.commit} is past the last entry ${memory.lastIndex()}`,
    );
  }
  return memory;
}

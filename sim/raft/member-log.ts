// Where a Raft member keeps its log: in a MemoryStorage that survives a crash whole (the fast
// default, which stands for a disk that never loses anything), or in a DiskStorage on the member's
// simulated disk, where a crash loses what was not fsynced and a restart recovers through the WAL
// and the newest valid snapshot.
import { assert } from "../../src/lib/assert.js";
import type { Failpoints } from "../../src/lib/failpoints.js";
import { MemoryStorage } from "../../src/raft/index.js";
import type { ConfState, HardState, Ready, Snapshot, Storage } from "../../src/raft/types.js";
import {
  compactIndexFor,
  DiskStorage,
  type StorageCallback,
  type StorageResult,
} from "../../src/storage/index.js";
import type { CrashMode, SimDisk } from "../disk.js";

/** What a member (re)starts from. */
export interface OpenedLog {
  /** raft's Storage: it answers with durable data only. */
  readonly storage: Storage;
  readonly hardState: HardState;
  /** The snapshot to restore the state machine from; undefined: start from an empty one. */
  readonly snapshot: Snapshot | undefined;
}

/**
 * Contract: `open` completes once (the memory log at once, inside the call); `persist` completes
 * once, after the Ready's entries, hard state and snapshot are durable, or with the failure that
 * kept them from being so (the member must then stop). `createSnapshot` records the applied state
 * at an index and compacts the log below it, keeping `catchUpEntries` for slow followers.
 */
export interface MemberLog {
  readonly kind: "memory" | "disk";
  open(done: StorageCallback<OpenedLog>): void;
  persist(rd: Ready, done: StorageCallback<void>): void;
  createSnapshot(
    index: number,
    confState: ConfState | undefined,
    data: Uint8Array,
    catchUpEntries: number,
    done: StorageCallback<void>,
  ): void;
  /** The member died: forget the open log; a disk loses its unsynced writes (mode drawn or given). */
  crash(mode: CrashMode | undefined): CrashMode | undefined;
}

const OK: StorageResult<void> = { ok: true, value: undefined };

/** The log in memory: it survives every crash, and every operation completes synchronously. */
export class MemoryLog implements MemberLog {
  readonly kind = "memory";
  private readonly storage: MemoryStorage;

  constructor(confState: ConfState) {
    this.storage = new MemoryStorage({ confState, hardState: { term: 0, vote: 0, commit: 0 } });
  }

  open(done: StorageCallback<OpenedLog>): void {
    const snapshot = this.storage.snapshot();
    done({
      ok: true,
      value: {
        storage: this.storage,
        hardState: this.storage.initialState().hardState,
        snapshot: snapshot.metadata.index > 0 ? snapshot : undefined,
      },
    });
  }

  persist(rd: Ready, done: StorageCallback<void>): void {
    if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
    done(OK);
  }

  createSnapshot(
    index: number,
    confState: ConfState | undefined,
    data: Uint8Array,
    catchUpEntries: number,
    done: StorageCallback<void>,
  ): void {
    this.storage.createSnapshot(index, confState, data);
    this.storage.compact(compactIndexFor(index, catchUpEntries));
    done(OK);
  }

  crash(): undefined {
    return undefined;
  }
}

export interface DiskLogOptions {
  readonly disk: SimDisk;
  readonly failpoints: Failpoints;
  readonly confState: ConfState;
  readonly segmentBytes: number;
}

/** The member's data directory on its disk. */
export const DATA_DIR = "data";

/** The log on the member's simulated disk, reopened (recovered) at every start. */
export class DiskLog implements MemberLog {
  readonly kind = "disk";
  private storage: DiskStorage | undefined;

  constructor(private readonly o: DiskLogOptions) {}

  get disk(): SimDisk {
    return this.o.disk;
  }

  /** The open DiskStorage (undefined while the member is down or opening). */
  get openStorage(): DiskStorage | undefined {
    return this.storage;
  }

  /**
   * Recovers the log. A newer snapshot file that fails its checksum is corruption: the member
   * must not start from an older state as if nothing happened.
   */
  open(done: StorageCallback<OpenedLog>): void {
    assert(this.storage === undefined, "disk log opened twice");
    DiskStorage.open(
      this.o.disk,
      {
        dir: DATA_DIR,
        segmentBytes: this.o.segmentBytes,
        failpoints: this.o.failpoints,
        initialConfState: this.o.confState,
      },
      (opened) => {
        if (!opened.ok) return done(opened);
        const { storage, recovered } = opened.value;
        const corrupt = recovered.corruptSnapshots[0];
        if (corrupt !== undefined) return done({ ok: false, error: corrupt });
        this.storage = storage;
        done({
          ok: true,
          value: { storage, hardState: recovered.hardState, snapshot: recovered.snapshot },
        });
      },
    );
  }

  persist(rd: Ready, done: StorageCallback<void>): void {
    this.opened().persist(
      {
        entries: rd.entries,
        mustSync: rd.mustSync,
        ...(rd.hardState === undefined ? {} : { hardState: rd.hardState }),
        ...(rd.snapshot === undefined ? {} : { snapshot: rd.snapshot }),
      },
      done,
    );
  }

  createSnapshot(
    index: number,
    confState: ConfState | undefined,
    data: Uint8Array,
    catchUpEntries: number,
    done: StorageCallback<void>,
  ): void {
    const storage = this.opened();
    storage.createSnapshot(index, confState, data, (created) => {
      if (!created.ok) return done(created);
      storage.compact(compactIndexFor(index, catchUpEntries), done);
    });
  }

  crash(mode: CrashMode | undefined): CrashMode {
    this.storage = undefined;
    return this.o.disk.crash(mode);
  }

  private opened(): DiskStorage {
    assert(this.storage !== undefined, "disk log used before it was opened");
    return this.storage;
  }
}

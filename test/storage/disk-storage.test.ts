// DiskStorage: the persistent raft Storage. Round trip through a crash, installed snapshots,
// newest-valid snapshot selection, compaction, defragment, and a crash at every storage failpoint
// in turn (in every crash mode) followed by a recovery that keeps every acknowledged entry.
import { describe, expect, it } from "vitest";
import type { FailpointName } from "../../src/lib/failpoints.js";
import { Failpoints } from "../../src/lib/failpoints.js";
import type { ConfState, Snapshot } from "../../src/raft/types.js";
import { DiskStorage, type Recovered } from "../../src/storage/disk-storage.js";
import type { StorageResult } from "../../src/storage/errors.js";
import { ConsistentIndex } from "../../src/storage/snapshot-policy.js";
import { CRASH_MODES } from "../../sim/disk.js";
import { crashingFailpoints, entries, must, rig, run, type Rig } from "./helpers.js";

const CONF: ConfState = {
  voters: [1, 2, 3],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

type Opened = { storage: DiskStorage; recovered: Recovered };

function open(r: Rig, failpoints?: Failpoints): StorageResult<Opened> {
  return run(r, (done) =>
    DiskStorage.open(
      r.disk,
      {
        dir: "m1",
        segmentBytes: 800,
        initialConfState: CONF,
        ...(failpoints ? { failpoints } : {}),
      },
      done,
    ),
  );
}

function mustOpen(r: Rig): Opened {
  const o = open(r);
  if (!o.ok) throw new Error(JSON.stringify(o.error));
  return o.value;
}

/** Persists entries [1, last] in batches of ten, the hard state committing each batch. */
function persistUpTo(r: Rig, storage: DiskStorage, last: number): void {
  for (let i = 1; i <= last; i += 10) {
    const to = Math.min(last, i + 9);
    const hardState = { term: 1, vote: 1, commit: to };
    must<void>(r, (d) =>
      storage.persist({ entries: entries(i, to, 1), hardState, mustSync: true }, d),
    );
  }
}

const stateAt = (index: number): Uint8Array => Uint8Array.from([index & 0xff, index >> 8, 42]);

describe("DiskStorage", () => {
  it("serves raft what it persisted, across a crash", () => {
    const r = rig(1);
    const { storage, recovered } = mustOpen(r);
    expect(recovered.lastIndex).toBe(0);
    expect(recovered.confState).toEqual(CONF);
    must<void>(r, (d) =>
      storage.persist(
        { entries: entries(1, 20, 1), hardState: { term: 1, vote: 1, commit: 15 }, mustSync: true },
        d,
      ),
    );
    expect(storage.lastIndex()).toBe(20);
    r.disk.crash();
    const again = mustOpen(r);
    expect(again.recovered.hardState).toEqual({ term: 1, vote: 1, commit: 15 });
    expect(again.storage.entries(1, 21, Infinity)).toEqual(entries(1, 20, 1));
    expect(again.storage.term(20)).toBe(1);
  });

  it("snapshots, compacts, keeps catch-up entries and recovers from the snapshot", () => {
    const r = rig(2);
    const { storage } = mustOpen(r);
    persistUpTo(r, storage, 100);
    const snap = must<Snapshot>(r, (d) => storage.createSnapshot(90, undefined, stateAt(90), d));
    expect(snap.metadata).toEqual({ index: 90, term: 1, confState: CONF });
    const before = storage.walSegments().length;
    must<void>(r, (d) => storage.compact(80, d));
    expect(storage.walSegments().length).toBeLessThan(before);
    expect(storage.firstIndex()).toBe(81);
    expect(storage.entries(80, 82, Infinity)).toBe("compacted");
    r.disk.crash();
    const again = mustOpen(r);
    expect(again.recovered.snapshot?.data).toEqual(stateAt(90));
    expect(again.recovered.appliedIndex).toBe(90);
    expect(again.storage.entries(91, 101, Infinity)).toEqual(entries(91, 100, 1));
  });

  it("installs a snapshot from a Ready, dropping the old log", () => {
    const r = rig(3);
    const { storage } = mustOpen(r);
    must<void>(r, (d) => storage.persist({ entries: entries(1, 5, 1), mustSync: true }, d));
    const snapshot: Snapshot = {
      data: stateAt(500),
      metadata: { index: 500, term: 4, confState: CONF },
    };
    must<void>(r, (d) =>
      storage.persist(
        {
          entries: entries(501, 502, 4),
          hardState: { term: 4, vote: 0, commit: 502 },
          snapshot,
          mustSync: true,
        },
        d,
      ),
    );
    expect(storage.firstIndex()).toBe(501);
    r.disk.crash("lose-all");
    const again = mustOpen(r);
    expect(again.recovered.snapshot?.metadata.index).toBe(500);
    expect(again.storage.entries(501, 503, Infinity)).toEqual(entries(501, 502, 4));
  });

  it("uses the newest valid snapshot and reports a corrupt newer one", () => {
    const r = rig(4);
    const { storage } = mustOpen(r);
    must<void>(r, (d) =>
      storage.persist(
        { entries: entries(1, 50, 1), hardState: { term: 1, vote: 1, commit: 50 }, mustSync: true },
        d,
      ),
    );
    must<Snapshot>(r, (d) => storage.createSnapshot(20, undefined, stateAt(20), d));
    must<Snapshot>(r, (d) => storage.createSnapshot(40, undefined, stateAt(40), d));
    const newest = r.disk.filesUnder("m1/snap").at(-1) as string;
    r.disk.flipBitAtRest(newest, 100);
    r.disk.crash();
    const again = mustOpen(r);
    expect(again.recovered.snapshot?.metadata.index).toBe(20);
    expect(again.recovered.corruptSnapshots.map((c) => c.file)).toEqual([newest]);
    expect(again.storage.entries(21, 51, Infinity)).toEqual(entries(21, 50, 1));
  });

  it("refuses to start when the log a snapshot needs is gone (corruption, never a silent gap)", () => {
    const r = rig(5);
    const { storage } = mustOpen(r);
    persistUpTo(r, storage, 100);
    must<Snapshot>(r, (d) => storage.createSnapshot(95, undefined, stateAt(95), d));
    must<void>(r, (d) => storage.compact(95, d));
    for (const f of r.disk.filesUnder("m1/snap")) r.disk.flipBitAtRest(f, 77);
    r.disk.crash();
    expect(open(r)).toMatchObject({ ok: false, error: { kind: "corrupt" } });
  });

  it("defragments into one WAL segment and one snapshot", () => {
    const r = rig(6);
    const { storage } = mustOpen(r);
    must<void>(r, (d) =>
      storage.persist(
        { entries: entries(1, 60, 1), hardState: { term: 1, vote: 1, commit: 60 }, mustSync: true },
        d,
      ),
    );
    must<Snapshot>(r, (d) => storage.createSnapshot(30, undefined, stateAt(30), d));
    must<Snapshot>(r, (d) => storage.createSnapshot(50, undefined, stateAt(50), d));
    must<void>(r, (d) => storage.compact(45, d));
    must<void>(r, (d) => storage.defragment(d));
    expect(storage.walSegments().length).toBe(1);
    expect(r.disk.filesUnder("m1/snap").length).toBe(1);
    r.disk.crash();
    const again = mustOpen(r);
    expect(again.recovered.snapshot?.metadata.index).toBe(50);
    expect(again.storage.entries(51, 61, Infinity)).toEqual(entries(51, 60, 1));
  });

  it("skips entries at or below the consistent index (idempotent apply)", () => {
    const ci = new ConsistentIndex(90);
    const applied = entries(85, 95, 1).filter((e) => ci.shouldApply(e.index));
    for (const e of applied) ci.applied(e.index);
    expect(applied.map((e) => e.index)).toEqual([91, 92, 93, 94, 95]);
    expect(ci.value).toBe(95);
  });
});

const STORAGE_POINTS: FailpointName[] = [
  "raftBeforeSave",
  "raftAfterSave",
  "raftBeforeSaveSnap",
  "raftAfterSaveSnap",
  "walBeforeFsync",
  "walAfterFsync",
  "walBeforeRotate",
  "walAfterRotate",
  "compactBeforeReleaseWal",
  "compactAfterReleaseWal",
  "compactBeforePurgeSnap",
  "compactAfterPurgeSnap",
  "defragBeforeRename",
  "defragAfterRename",
];

/**
 * A member's storage life: persist batches, snapshot every 12 entries, compact with 5 catch-up
 * entries, defragment once. Returns the last entry acknowledged durable and the snapshots made;
 * stops early when a failpoint crashed the member.
 */
function workload(
  r: Rig,
  storage: DiskStorage,
  crashed: () => boolean,
): { ackedLast: number; snaps: number[] } {
  let ackedLast = 0;
  const snaps: number[] = [];
  const step = <T>(issue: (done: (x: StorageResult<T>) => void) => void): boolean => {
    const result = run<StorageResult<T> | "crashed">(r, (done) => {
      issue(done);
      r.world.runUntil({ until: crashed });
      if (crashed()) done("crashed");
    });
    if (result === "crashed") return false;
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    return true;
  };
  for (let i = 1; i <= 60; i += 3) {
    const hardState = { term: 1, vote: 1, commit: i + 2 };
    if (
      !step<void>((d) =>
        storage.persist({ entries: entries(i, i + 2, 1), hardState, mustSync: true }, d),
      )
    )
      break;
    ackedLast = i + 2;
    if (ackedLast % 12 === 0) {
      if (
        !step<Snapshot>((d) => storage.createSnapshot(ackedLast, undefined, stateAt(ackedLast), d))
      )
        break;
      snaps.push(ackedLast);
      if (!step<void>((d) => storage.compact(ackedLast - 5, d))) break;
    }
    if (i === 40 && !step<void>((d) => storage.defragment(d))) break;
  }
  return { ackedLast, snaps };
}

describe("crash at every storage failpoint", () => {
  it("reaches every storage failpoint in the workload", () => {
    const r = rig(9);
    const fp = new Failpoints();
    fp.trackHits();
    const opened = open(r, fp);
    if (!opened.ok) throw new Error("open failed");
    workload(r, opened.value.storage, () => false);
    for (const name of STORAGE_POINTS) expect([name, fp.hits(name)]).not.toEqual([name, 0]);
  });

  for (const name of STORAGE_POINTS) {
    it(`recovers every acknowledged entry after a crash at ${name}`, () => {
      for (const skipHits of [0, 2]) {
        for (const [m, mode] of CRASH_MODES.entries()) {
          const r = rig(100 + m * 7 + skipHits);
          const { fp, crashedAt } = crashingFailpoints(r);
          fp.arm(name, { action: { kind: "crash" }, skipHits, times: 1 });
          const opened = open(r, fp);
          if (!opened.ok) throw new Error("open failed");
          const { ackedLast, snaps } = workload(
            r,
            opened.value.storage,
            () => crashedAt() !== undefined,
          );
          r.disk.crash(mode);
          const again = mustOpen(r);
          const { storage, recovered } = again;
          expect(storage.lastIndex()).toBeGreaterThanOrEqual(ackedLast);
          const first = storage.firstIndex();
          const got = storage.entries(first, storage.lastIndex() + 1, Infinity);
          if (storage.lastIndex() >= first)
            expect(got).toEqual(entries(first, storage.lastIndex(), 1));
          const snapIndex = recovered.snapshot?.metadata.index ?? 0;
          if (snapIndex > 0) expect(recovered.snapshot?.data).toEqual(stateAt(snapIndex));
          expect(snapIndex).toBeGreaterThanOrEqual(snaps.at(-2) ?? 0);
          expect(first).toBeLessThanOrEqual(snapIndex + 1);
        }
      }
    });
  }
});

// The WAL: round trip, group commit, rotation, conflicting suffixes, release, defragment, torn tails.
import { describe, expect, it } from "vitest";
import { Wal, type WalRecovered } from "../../src/storage/wal.js";
import type { StorageResult } from "../../src/storage/errors.js";
import { entries, okValue, openWal, rig, run, type Rig } from "./helpers.js";

function open(r: Rig, segmentBytes = 1 << 20): { wal: Wal; recovered: WalRecovered } {
  return okValue(openWal(r, segmentBytes));
}

function save(r: Rig, wal: Wal, batch: Parameters<Wal["save"]>[0]): void {
  okValue(run<StorageResult<void>>(r, (done) => wal.save(batch, done)));
}

describe("Wal", () => {
  it("creates a fresh WAL and recovers what was saved", () => {
    const r = rig(1);
    const { wal, recovered } = open(r);
    expect(recovered.entries).toEqual([]);
    expect(recovered.hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    save(r, wal, {
      entries: entries(1, 5, 1),
      hardState: { term: 1, vote: 2, commit: 3 },
      mustSync: true,
    });
    save(r, wal, {
      entries: entries(6, 8, 2),
      hardState: { term: 2, vote: 0, commit: 7 },
      mustSync: true,
    });
    r.disk.crash("lose-all");
    const again = open(r).recovered;
    expect(again.entries).toEqual(entries(1, 5, 1).concat(entries(6, 8, 2)));
    expect(again.hardState).toEqual({ term: 2, vote: 0, commit: 7 });
  });

  it("writes saves queued behind a running one with a single fsync (group commit)", () => {
    const r = rig(2);
    const { wal } = open(r);
    const fsyncsBefore = r.disk.stats.fsyncs;
    const acked: number[] = [];
    for (let i = 1; i <= 20; i++)
      wal.save({ entries: entries(i, i, 1), mustSync: true }, () => acked.push(i));
    r.world.runUntil({});
    expect(acked).toEqual(Array.from({ length: 20 }, (_v, i) => i + 1));
    expect(r.disk.stats.fsyncs - fsyncsBefore).toBe(2);
  });

  it("rotates segments by size and replays across them", () => {
    const r = rig(3);
    const { wal } = open(r, 600);
    for (let i = 1; i <= 60; i += 3)
      save(r, wal, { entries: entries(i, i + 2, 1), mustSync: true });
    expect(wal.segmentFiles().length).toBeGreaterThan(3);
    r.disk.crash();
    const again = open(r, 600).recovered;
    expect(again.entries).toEqual(entries(1, 60, 1));
  });

  it("replays a conflicting suffix as the log raft wrote", () => {
    const r = rig(4);
    const { wal } = open(r);
    save(r, wal, { entries: entries(1, 10, 1), mustSync: true });
    save(r, wal, { entries: entries(6, 7, 2), mustSync: true });
    r.disk.crash("lose-all");
    expect(open(r).recovered.entries).toEqual(entries(1, 5, 1).concat(entries(6, 7, 2)));
  });

  it("drops the log before an installed snapshot and keeps markers", () => {
    const r = rig(5);
    const { wal } = open(r);
    save(r, wal, { entries: entries(1, 10, 1), mustSync: true });
    save(r, wal, {
      entries: entries(101, 102, 3),
      snapshot: { index: 100, term: 3, installed: true },
      mustSync: true,
    });
    r.disk.crash("lose-all");
    const again = open(r).recovered;
    expect(again.entries).toEqual(entries(101, 102, 3));
    expect(again.snapshots).toEqual([{ index: 100, term: 3 }]);
  });

  it("releases whole segments below an index, and defragments into one segment", () => {
    const r = rig(6);
    const { wal } = open(r, 500);
    for (let i = 1; i <= 90; i += 3)
      save(r, wal, { entries: entries(i, i + 2, 1), mustSync: true });
    const before = wal.segmentFiles().length;
    okValue(run<StorageResult<void>>(r, (done) => wal.releaseTo(50, done)));
    const after = wal.segmentFiles().length;
    expect(after).toBeLessThan(before);
    r.disk.crash("lose-all");
    const reopened = open(r, 500);
    const log = reopened.recovered.entries;
    expect(log[0]?.index).toBeLessThanOrEqual(50);
    expect(log.at(-1)?.index).toBe(90);
    const live = entries(60, 90, 1);
    okValue(run<StorageResult<void>>(r, (done) => reopened.wal.defragment(() => live, done)));
    expect(reopened.wal.segmentFiles().length).toBe(1);
    r.disk.crash("lose-all");
    expect(open(r, 500).recovered.entries).toEqual(live);
  });

  it("truncates a torn tail and keeps appending after it", () => {
    const r = rig(7);
    const { wal } = open(r);
    save(r, wal, { entries: entries(1, 3, 1), mustSync: true });
    wal.save({ entries: entries(4, 40, 1), mustSync: false }, () => undefined);
    r.world.runUntil({});
    r.disk.crash("torn");
    const reopened = open(r);
    const log = reopened.recovered.entries;
    expect(log.slice(0, 3)).toEqual(entries(1, 3, 1));
    expect(log).toEqual(entries(1, log.length, 1));
    save(r, reopened.wal, { entries: entries(log.length + 1, log.length + 2, 1), mustSync: true });
    r.disk.crash("lose-all");
    expect(open(r).recovered.entries).toEqual(entries(1, log.length + 2, 1));
  });

  it("completes a save with nothing to write and no sync without touching the disk", () => {
    const r = rig(9);
    const { wal } = open(r);
    const before = { ...r.disk.stats };
    let result: StorageResult<void> | undefined;
    wal.save({ entries: [], mustSync: false }, (x) => (result = x));
    // Nothing queued ahead of it: done already ran, and no disk operation was issued.
    expect(result).toEqual({ ok: true, value: undefined });
    expect(r.disk.stats.operations).toBe(before.operations);
  });

  it("still fsyncs an empty save that asks for a sync", () => {
    const r = rig(10);
    const { wal } = open(r);
    const fsyncs = r.disk.stats.fsyncs;
    save(r, wal, { entries: [], mustSync: true });
    expect(r.disk.stats.fsyncs).toBe(fsyncs + 1);
  });

  it("completes an empty save queued behind a running one only after it", () => {
    const r = rig(11);
    const { wal } = open(r);
    const order: string[] = [];
    wal.save({ entries: entries(1, 3, 1), mustSync: true }, () => order.push("entries"));
    wal.save({ entries: [], mustSync: false }, () => order.push("empty"));
    expect(order).toEqual([]);
    r.world.runUntil({});
    expect(order).toEqual(["entries", "empty"]);
  });

  it("fails an empty save on a failed WAL", () => {
    const r = rig(12);
    const { wal } = open(r);
    r.disk.configure({ writeErrorRate: 1 });
    run<StorageResult<void>>(r, (done) =>
      wal.save({ entries: entries(1, 1, 1), mustSync: true }, done),
    );
    const empty = run<StorageResult<void>>(r, (done) =>
      wal.save({ entries: [], mustSync: false }, done),
    );
    expect(empty).toMatchObject({ ok: false, error: { kind: "closed" } });
  });

  it("fails every save after a disk error", () => {
    const r = rig(8);
    const { wal } = open(r);
    r.disk.configure({ writeErrorRate: 1 });
    const first = run<StorageResult<void>>(r, (done) =>
      wal.save({ entries: entries(1, 1, 1), mustSync: true }, done),
    );
    expect(first).toMatchObject({ ok: false, error: { kind: "io", error: { code: "EIO" } } });
    r.disk.configure({ writeErrorRate: 0 });
    const second = run<StorageResult<void>>(r, (done) =>
      wal.save({ entries: entries(1, 1, 1), mustSync: true }, done),
    );
    expect(second).toMatchObject({ ok: false, error: { kind: "closed" } });
  });
});

// Real-disk storage figures: WAL appends+fsync per second at batch sizes 1, 16 and 256; recovery
// time of a WAL of 100,000 entries; save and load time of a snapshot of 100,000 keys. Runs in a
// temp directory that is removed afterwards. Run: npx tsx bench/run.ts storage
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emit } from "./emit.js";
import { FsDisk } from "../src/real/fs-disk.js";
import { Wal } from "../src/storage/wal.js";
import { SnapshotStore } from "../src/storage/snapshot-store.js";
import type { StorageCallback } from "../src/storage/errors.js";
import type { Entry } from "../src/raft/types.js";
import { KvStore } from "../src/mvcc/kv-store.js";
import { decodeSnapshot, encodeSnapshot } from "../src/mvcc/snapshot.js";
import { utf8 } from "../src/lib/bytes.js";

const ENTRY_BYTES = 128;

function call<T>(issue: (done: StorageCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    issue((r) => (r.ok ? resolve(r.value) : reject(new Error(JSON.stringify(r.error))))),
  );
}

function makeEntries(from: number, count: number): Entry[] {
  const data = new Uint8Array(ENTRY_BYTES).fill(0x61);
  return Array.from({ length: count }, (_v, i) => ({
    index: from + i,
    term: 1,
    type: "EntryNormal",
    data,
  }));
}

async function benchAppends(disk: FsDisk, batch: number): Promise<void> {
  const { wal } = await call<{ wal: Wal }>((d) => Wal.open(disk, `wal-batch-${batch}`, {}, d));
  const saves = batch === 1 ? 400 : batch === 16 ? 300 : 100;
  let next = 1;
  const start = performance.now();
  for (let s = 0; s < saves; s++) {
    await call<void>((d) => wal.save({ entries: makeEntries(next, batch), mustSync: true }, d));
    next += batch;
  }
  const seconds = (performance.now() - start) / 1000;
  await call<void>((d) => wal.close(d));
  emit("storage", {
    figure: "wal_appends_fsync_per_s",
    batch,
    value: Math.round((saves * batch) / seconds),
    fsyncsPerS: Math.round(saves / seconds),
    entryBytes: ENTRY_BYTES,
  });
}

async function benchRecovery(disk: FsDisk): Promise<void> {
  const total = 100_000;
  const { wal } = await call<{ wal: Wal }>((d) => Wal.open(disk, "wal-recovery", {}, d));
  for (let i = 1; i <= total; i += 1000) {
    await call<void>((d) => wal.save({ entries: makeEntries(i, 1000), mustSync: true }, d));
  }
  await call<void>((d) => wal.close(d));
  const start = performance.now();
  const { recovered } = await call<{ wal: Wal; recovered: { entries: Entry[] } }>((d) =>
    Wal.open(disk, "wal-recovery", {}, d),
  );
  const ms = performance.now() - start;
  if (recovered.entries.length !== total) throw new Error("bench: recovery lost entries");
  emit("storage", {
    figure: "wal_recovery_ms",
    entries: total,
    value: Math.round(ms),
    entryBytes: ENTRY_BYTES,
  });
}

async function benchSnapshot(disk: FsDisk): Promise<void> {
  const keys = 100_000;
  const kv = new KvStore();
  const value = new Uint8Array(100).fill(0x62);
  for (let i = 0; i < keys; i++)
    kv.put({ key: utf8(`/registry/key-${i.toString().padStart(7, "0")}`), value });
  const store = await call<SnapshotStore>((d) => SnapshotStore.open(disk, "snap", d));
  const confState = {
    voters: [1],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
  const start = performance.now();
  const data = encodeSnapshot(kv);
  await call<void>((d) => store.save({ data, metadata: { index: keys, term: 1, confState } }, d));
  const saveMs = performance.now() - start;
  const loadStart = performance.now();
  const loaded = await call<{ snapshot: { data: Uint8Array } | undefined }>((d) =>
    store.loadNewestValid(() => true, d),
  );
  if (loaded.snapshot === undefined || !decodeSnapshot(loaded.snapshot.data).ok)
    throw new Error("bench: snapshot did not load");
  const loadMs = performance.now() - loadStart;
  emit("storage", {
    figure: "snapshot_save_ms",
    keys,
    value: Math.round(saveMs),
    bytes: data.length,
  });
  emit("storage", {
    figure: "snapshot_load_ms",
    keys,
    value: Math.round(loadMs),
    bytes: data.length,
  });
}

export default async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "detcd-storage-bench-"));
  const disk = new FsDisk(root);
  try {
    for (const batch of [1, 16, 256]) await benchAppends(disk, batch);
    await benchRecovery(disk);
    await benchSnapshot(disk);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

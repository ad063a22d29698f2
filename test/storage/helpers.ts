// Shared helpers of the storage tests: a simulated world with one member's disk, and a way to run
// a callback-completed operation to its end on virtual time.
import type { Entry } from "../../src/raft/types.js";
import type { StorageResult } from "../../src/storage/errors.js";
import { SnapshotStore } from "../../src/storage/snapshot-store.js";
import { Wal, type WalRecovered } from "../../src/storage/wal.js";
import { Failpoints } from "../../src/lib/failpoints.js";
import { SimDisk, type SimDiskFaults } from "../../sim/disk.js";
import { World } from "../../sim/world.js";

export interface Rig {
  readonly world: World;
  readonly disk: SimDisk;
}

export function rig(seed: number, faults: Partial<SimDiskFaults> = {}): Rig {
  const world = new World(seed);
  const disk = new SimDisk(world, { name: "m1/disk", random: world.stream("disk"), faults });
  return { world, disk };
}

/** Issues an operation and runs the world until it completes; throws if it never does. */
export function run<T>(r: Rig, issue: (done: (result: T) => void) => void): T {
  let result: { value: T } | undefined;
  issue((value) => {
    result = { value };
  });
  r.world.runUntil({ until: () => result !== undefined });
  if (result === undefined) throw new Error("operation never completed");
  return result.value;
}

/** Unwraps an ok result or throws with its error. */
export function okValue<T>(result: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.error)}`);
  return result.value;
}

export function entry(index: number, term: number, seed = index): Entry {
  const data = new Uint8Array(8 + (seed % 40));
  for (let i = 0; i < data.length; i++) data[i] = (seed * 31 + i * 7 + 1) & 0xff;
  return { index, term, type: "EntryNormal", data };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** A failpoint registry whose crash hook crashes the simulated disk (and records the point). */
export function crashingFailpoints(r: Rig): {
  fp: Failpoints;
  crashedAt: () => string | undefined;
} {
  let crashedAt: string | undefined;
  const fp = new Failpoints({
    crash: (name) => {
      crashedAt = name;
    },
    delay: (ms, next) => r.world.schedule(ms, "m1", "failpoint-stall", 0, next),
  });
  return { fp, crashedAt: () => crashedAt };
}

export function openWal(
  r: Rig,
  segmentBytes = 1 << 20,
): StorageResult<{ wal: Wal; recovered: WalRecovered }> {
  return run(r, (done) => Wal.open(r.disk, "wal", { segmentBytes }, done));
}

export function openSnapshots(r: Rig): SnapshotStore {
  return okValue(
    run<StorageResult<SnapshotStore>>(r, (done) => SnapshotStore.open(r.disk, "snap", done)),
  );
}

/** Runs a storage operation that must succeed. */
export function must<T>(r: Rig, issue: (done: (result: StorageResult<T>) => void) => void): T {
  return okValue(run<StorageResult<T>>(r, issue));
}

// The Disk contract on the simulated disk and on the real file system (in a temp directory), and
// the simulated disk's own faults: crash loss modes, EIO, ENOSPC, bit flips, latency, determinism.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldToIo } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { FsDisk } from "../../src/real/fs-disk.js";
import { SECTOR_BYTES, SimDisk, type CrashMode, type SimDiskFaults } from "../../sim/disk.js";
import { World } from "../../sim/world.js";
import { call, diskContract, must, type DiskWorld } from "./disk.contract.js";

function simWorld(
  seed = 1,
  faults: Partial<SimDiskFaults> = {},
): DiskWorld & { sim: SimDisk; world: World } {
  const world = new World(seed);
  const sim = new SimDisk(world, { name: "m1/disk", random: world.stream("disk"), faults });
  return {
    disk: sim,
    sim,
    world,
    settle: () => {
      world.step();
      return Promise.resolve();
    },
  };
}

diskContract("simulated disk", () => simWorld());

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

diskContract("real fs disk", () => {
  const root = mkdtempSync(join(tmpdir(), "detcd-disk-"));
  roots.push(root);
  return { disk: new FsDisk(root), settle: () => yieldToIo().then(() => undefined) };
});

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

async function fileWith(
  w: DiskWorld,
  path: string,
  synced: Uint8Array,
  unsynced: Uint8Array[],
): Promise<number> {
  const d = w.disk;
  const f = await must<number>(w, (cb) => d.open(path, "create", cb));
  await must(w, (cb) => d.append(f, synced, cb));
  await must(w, (cb) => d.fsync(f, cb));
  await must(w, (cb) => d.fsyncDir("", cb));
  for (const u of unsynced) await must(w, (cb) => d.append(f, u, cb));
  return f;
}

describe("simulated disk faults", () => {
  it("a crash keeps everything fsynced and drops every unsynced write in lose-all mode", async () => {
    const w = simWorld();
    await fileWith(w, "wal", fill(100, 1), [fill(10, 2)]);
    w.sim.crash("lose-all");
    expect(w.sim.peek("wal")).toEqual(fill(100, 1));
  });

  it("keep-prefix keeps whole writes in issue order, torn cuts one at a sector", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const mode of ["keep-prefix", "torn"] as CrashMode[]) {
        const w = simWorld(seed);
        const writes = [fill(700, 2), fill(1300, 3), fill(900, 4)];
        await fileWith(w, "wal", fill(100, 1), writes);
        w.sim.crash(mode);
        const got = w.sim.peek("wal") as Uint8Array;
        const full = Uint8Array.from([...fill(100, 1), ...writes.flatMap((x) => [...x])]);
        expect(got).toEqual(full.subarray(0, got.length));
        if (mode === "keep-prefix") expect([100, 800, 2100, 3000]).toContain(got.length);
        else if (![100, 800, 2100, 3000].includes(got.length))
          expect(got.length % SECTOR_BYTES).toBe(0);
      }
    }
  });

  it("reorder may keep a later page and lose an earlier one, which reads as zeros", async () => {
    let sawHole = false;
    for (let seed = 1; seed <= 30 && !sawHole; seed++) {
      const w = simWorld(seed);
      await fileWith(w, "wal", fill(10, 1), [fill(4086, 2), fill(4096, 3), fill(4096, 4)]);
      w.sim.crash("reorder");
      const got = w.sim.peek("wal") as Uint8Array;
      expect(got.subarray(0, 10)).toEqual(fill(10, 1));
      sawHole = got.length > 8192 && got[4096] === 0;
    }
    expect(sawHole).toBe(true);
  });

  it("names are volatile until fsyncDir; a crash may lose a created or renamed name", async () => {
    const w = simWorld();
    const d = w.disk;
    const f = await must<number>(w, (cb) => d.open("new", "create", cb));
    await must(w, (cb) => d.append(f, fill(3, 7), cb));
    await must(w, (cb) => d.fsync(f, cb));
    w.sim.crash("lose-all");
    expect(await must<string[]>(w, (cb) => d.list("", cb))).toEqual([]);
    const g = await must<number>(w, (cb) => d.open("tmp", "create", cb));
    await must(w, (cb) => d.fsync(g, cb));
    await must(w, (cb) => d.fsyncDir("", cb));
    await must(w, (cb) => d.rename("tmp", "final", cb));
    w.sim.crash("lose-all");
    expect(await must<string[]>(w, (cb) => d.list("", cb))).toEqual(["tmp"]);
  });

  it("drops completions pending at the crash", async () => {
    const w = simWorld();
    const d = w.disk;
    const f = await must<number>(w, (cb) => d.open("x", "create", cb));
    let heard = false;
    d.fsync(f, () => {
      heard = true;
    });
    w.sim.crash("lose-all");
    w.world.runUntil({});
    expect(heard).toBe(false);
  });

  it("injects EIO on read, write and fsync, writing nothing on a failed write", async () => {
    const w = simWorld(3, { readErrorRate: 1, writeErrorRate: 1, fsyncErrorRate: 1 });
    const d = w.disk;
    const f = await must<number>(w, (cb) => d.open("x", "create", cb));
    expect(await call(w, (cb) => d.append(f, fill(4, 1), cb))).toMatchObject({
      ok: false,
      error: { code: "EIO" },
    });
    expect(await call(w, (cb) => d.read(f, 0, 4, cb))).toMatchObject({
      ok: false,
      error: { code: "EIO" },
    });
    expect(await call(w, (cb) => d.fsync(f, cb))).toMatchObject({
      ok: false,
      error: { code: "EIO" },
    });
    w.sim.configure({ writeErrorRate: 0, readErrorRate: 0 });
    expect(await must<number>(w, (cb) => d.size(f, cb))).toBe(0);
  });

  it("fails a write past the capacity with ENOSPC", async () => {
    const w = simWorld(1, { capacityBytes: 100 });
    const d = w.disk;
    const f = await must<number>(w, (cb) => d.open("x", "create", cb));
    await must(w, (cb) => d.append(f, fill(90, 1), cb));
    expect(await call(w, (cb) => d.append(f, fill(20, 1), cb))).toMatchObject({
      ok: false,
      error: { code: "ENOSPC" },
    });
    await must(w, (cb) => d.writeAt(f, 0, fill(50, 2), cb));
  });

  it("flips bits at rest and on read", async () => {
    const w = simWorld();
    const d = w.disk;
    const f = await fileWith(w, "x", fill(16, 0), []);
    w.sim.flipBitAtRest("x", 9);
    expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 0, 2, cb)))).toEqual([0, 2]);
    w.sim.configure({ readBitFlipRate: 1 });
    const flipped = await must<Uint8Array>(w, (cb) => d.read(f, 4, 4, cb));
    expect(flipped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    w.sim.configure({ readBitFlipRate: 0 });
    expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 4, 4, cb)))).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it("slows fsync by the configured latency, on virtual time", async () => {
    const w = simWorld(1, { jitterMs: 0 });
    const d = w.disk;
    const f = await must<number>(w, (cb) => d.open("x", "create", cb));
    w.sim.configure({ fsyncMs: 1000 });
    const start = w.world.nowMs;
    await must(w, (cb) => d.fsync(f, cb));
    expect(w.world.nowMs - start).toBe(1000);
  });

  it("is deterministic: the same seed gives the same crash outcome and trace hash", async () => {
    const run = async (seed: number): Promise<string> => {
      const w = simWorld(seed, { jitterMs: 5 });
      await fileWith(w, "wal", fill(50, 1), [fill(1000, 2), fill(3000, 3), fill(5000, 4)]);
      const mode = w.sim.crash();
      return `${mode}:${w.sim.peek("wal")?.length}:${w.world.traceHash()}`;
    };
    expect(await run(7)).toBe(await run(7));
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) outcomes.add(await run(seed));
    expect(outcomes.size).toBeGreaterThan(1);
  });
});

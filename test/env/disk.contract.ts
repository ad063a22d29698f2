// The contract of the Disk seam (src/env/disk.ts), as one suite that every implementation runs:
// completion order per handle, never-synchronous completions, durability after fsync as far as a
// live process can see it, rename/unlink/list/mkdir semantics, and errors as values.
import { describe, expect, it } from "vitest";
import type { Disk, DiskCallback, DiskResult } from "../../src/env/disk.js";

export interface DiskWorld {
  readonly disk: Disk;
  /** Lets the disk make progress until every issued operation has completed. */
  settle(): Promise<void>;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Issues one operation and waits for its completion. */
export async function call<T>(
  w: DiskWorld,
  issue: (done: DiskCallback<T>) => void,
): Promise<DiskResult<T>> {
  let result: DiskResult<T> | undefined;
  issue((r) => {
    result = r;
  });
  while (result === undefined) await w.settle();
  return result;
}

/** As `call`, for an operation that must succeed. */
export async function must<T>(w: DiskWorld, issue: (done: DiskCallback<T>) => void): Promise<T> {
  const r = await call(w, issue);
  if (!r.ok) throw new Error(`disk operation failed: ${JSON.stringify(r.error)}`);
  return r.value;
}

export function diskContract(name: string, make: () => DiskWorld): void {
  describe(`Disk contract: ${name}`, () => {
    it("never completes synchronously, and completes one handle's operations in issue order", async () => {
      const w = make();
      const d = w.disk;
      const f = await must<number>(w, (cb) => d.open("a.log", "create", cb));
      const order: string[] = [];
      d.append(f, bytes(1, 2), () => order.push("append1"));
      d.writeAt(f, 4, bytes(9), () => order.push("writeAt"));
      d.append(f, bytes(3), () => order.push("append2"));
      d.size(f, (r) => order.push(`size:${r.ok ? r.value : "?"}`));
      d.fsync(f, () => order.push("fsync"));
      d.read(f, 0, 100, (r) => order.push(`read:${r.ok ? Array.from(r.value).join(",") : "?"}`));
      expect(order).toEqual([]);
      while (order.length < 6) await w.settle();
      expect(order).toEqual([
        "append1",
        "writeAt",
        "append2",
        "size:6",
        "fsync",
        "read:1,2,0,0,9,3",
      ]);
    });

    it("keeps issue order across small and large writes issued together", async () => {
      // The real disk writes small buffers inline and large ones (over 256 KiB) on its thread pool.
      const w = make();
      const d = w.disk;
      const f = await must<number>(w, (cb) => d.open("mixed", "create", cb));
      const large = new Uint8Array(300 * 1024).fill(7);
      const done: string[] = [];
      d.append(f, bytes(1, 2), () => done.push("small1"));
      d.append(f, large, () => done.push("large"));
      large.fill(0); // copied at the call
      d.append(f, bytes(3), () => done.push("small2"));
      d.writeAt(f, 5, bytes(4, 4), () => done.push("overwrite"));
      while (done.length < 4) await w.settle();
      expect(done).toEqual(["small1", "large", "small2", "overwrite"]);
      const all = await must<Uint8Array>(w, (cb) => d.read(f, 0, 400 * 1024, cb));
      expect(all.length).toBe(2 + 300 * 1024 + 1);
      expect(Array.from(all.subarray(0, 8))).toEqual([1, 2, 7, 7, 7, 4, 4, 7]);
      expect(all[all.length - 2]).toBe(7);
      expect(all[all.length - 1]).toBe(3);
      await must(w, (cb) => d.close(f, cb));
    });

    it("reads what was written, short at the end, and truncates", async () => {
      const w = make();
      const d = w.disk;
      const f = await must<number>(w, (cb) => d.open("b.log", "create", cb));
      await must(w, (cb) => d.append(f, bytes(1, 2, 3, 4, 5), cb));
      expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 3, 10, cb)))).toEqual([4, 5]);
      expect((await must<Uint8Array>(w, (cb) => d.read(f, 7, 3, cb))).length).toBe(0);
      await must(w, (cb) => d.truncate(f, 2, cb));
      await must(w, (cb) => d.append(f, bytes(7), cb));
      expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 0, 10, cb)))).toEqual([
        1, 2, 7,
      ]);
      await must(w, (cb) => d.fdatasync(f, cb));
      await must(w, (cb) => d.close(f, cb));
      const again = await must<number>(w, (cb) => d.open("b.log", "read", cb));
      expect(await must<number>(w, (cb) => d.size(again, cb))).toBe(3);
      await must(w, (cb) => d.close(again, cb));
    });

    it("reports ENOENT and EEXIST as values", async () => {
      const w = make();
      const d = w.disk;
      expect(await call(w, (cb) => d.open("missing", "read", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      expect(await call(w, (cb) => d.open("missing", "write", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      expect(await call(w, (cb) => d.open("no-dir/x", "create", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      const f = await must<number>(w, (cb) => d.open("c", "create", cb));
      await must(w, (cb) => d.close(f, cb));
      expect(await call(w, (cb) => d.open("c", "create", cb))).toMatchObject({
        ok: false,
        error: { code: "EEXIST" },
      });
      expect(await call(w, (cb) => d.unlink("missing", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      expect(await call(w, (cb) => d.rename("missing", "x", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      expect(await call(w, (cb) => d.list("nowhere", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
      await must(w, (cb) => d.mkdir("dir", cb));
      expect(await call(w, (cb) => d.mkdir("dir", cb))).toMatchObject({
        ok: false,
        error: { code: "EEXIST" },
      });
      expect(await call(w, (cb) => d.mkdir("a/b", cb))).toMatchObject({
        ok: false,
        error: { code: "ENOENT" },
      });
    });

    it("lists sorted names; rename replaces the target; unlink removes", async () => {
      const w = make();
      const d = w.disk;
      await must(w, (cb) => d.mkdir("snap", cb));
      for (const n of ["b", "a", "c.tmp"]) {
        const f = await must<number>(w, (cb) => d.open(`snap/${n}`, "create", cb));
        await must(w, (cb) => d.append(f, bytes(n.charCodeAt(0)), cb));
        await must(w, (cb) => d.fsync(f, cb));
        await must(w, (cb) => d.close(f, cb));
      }
      expect(await must<string[]>(w, (cb) => d.list("snap", cb))).toEqual(["a", "b", "c.tmp"]);
      await must(w, (cb) => d.rename("snap/c.tmp", "snap/a", cb));
      await must(w, (cb) => d.unlink("snap/b", cb));
      await must(w, (cb) => d.fsyncDir("snap", cb));
      expect(await must<string[]>(w, (cb) => d.list("snap", cb))).toEqual(["a"]);
      const f = await must<number>(w, (cb) => d.open("snap/a", "read", cb));
      expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 0, 8, cb)))).toEqual([
        "c".charCodeAt(0),
      ]);
      await must(w, (cb) => d.close(f, cb));
      expect(await must<string[]>(w, (cb) => d.list("", cb))).toContain("snap");
    });

    it("keeps a file readable through its open handle after unlink", async () => {
      const w = make();
      const d = w.disk;
      const f = await must<number>(w, (cb) => d.open("gone", "create", cb));
      await must(w, (cb) => d.append(f, bytes(5, 6), cb));
      await must(w, (cb) => d.unlink("gone", cb));
      expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 0, 2, cb)))).toEqual([5, 6]);
      await must(w, (cb) => d.close(f, cb));
      expect(await must<string[]>(w, (cb) => d.list("", cb))).not.toContain("gone");
    });

    it("copies written bytes at the call, so the caller may reuse its buffer", async () => {
      const w = make();
      const d = w.disk;
      const f = await must<number>(w, (cb) => d.open("copy", "create", cb));
      const buffer = bytes(1, 1, 1);
      const written = call(w, (cb) => d.append(f, buffer, cb));
      buffer.fill(9);
      expect((await written).ok).toBe(true);
      expect(Array.from(await must<Uint8Array>(w, (cb) => d.read(f, 0, 3, cb)))).toEqual([1, 1, 1]);
      await must(w, (cb) => d.close(f, cb));
    });
  });
}

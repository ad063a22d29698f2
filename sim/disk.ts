// The simulated disk of one member: files with durable and volatile contents, directories with
// durable and volatile names, latency on the world's virtual clock, and faults (crash loss modes,
// slow fsync, EIO, ENOSPC, bit flips). Every random decision draws from the disk's PRNG stream in
// issue order, and every completion is a world event, so disk behaviour is part of the trace hash.
// The disk belongs to its member and survives the member's crash: `crash()` loses only volatile
// data and names.
import { assert, unreachable } from "../src/lib/assert.js";
import type { Prng } from "../src/lib/prng.js";
import {
  baseName,
  parentDir,
  type Disk,
  type DiskCallback,
  type DiskError,
  type DiskResult,
  type FileHandle,
  type OpenMode,
} from "../src/env/disk.js";
import { hashString } from "./trace-hash.js";
import type { SimEvent, World } from "./world.js";

export const SECTOR_BYTES = 512;
export const PAGE_BYTES = 4096;

/**
 * What a crash does to volatile writes (per file) and volatile names (per directory):
 * - "lose-all": nothing volatile survives;
 * - "keep-prefix": the writes issued first survive, a random suffix is lost;
 * - "torn": a random prefix survives and the next write survives in part, cut at a sector;
 * - "reorder": each page dirtied since the last fsync is written back (with its content at the
 *   crash) or not, on its own, so a later page may survive an earlier one; a page never written
 *   back keeps its durable content (zeros past the durable end).
 */
export type CrashMode = "lose-all" | "keep-prefix" | "torn" | "reorder";
export const CRASH_MODES: readonly CrashMode[] = ["lose-all", "keep-prefix", "torn", "reorder"];

/** Fault and latency knobs; the simulator may change them at any time with `configure`. */
export interface SimDiskFaults {
  /** Latency of every operation: base + a uniform draw in [0, jitterMs]. */
  readonly latencyMs: number;
  readonly jitterMs: number;
  /** Extra latency of fsync, fdatasync and fsyncDir (a slow-fsync fault raises it). */
  readonly fsyncMs: number;
  /** Probability that a read fails with EIO. */
  readonly readErrorRate: number;
  /** Probability that a write (append, writeAt, truncate) fails with EIO, writing nothing. */
  readonly writeErrorRate: number;
  /** Probability that an fsync fails with EIO, making nothing durable. */
  readonly fsyncErrorRate: number;
  /** Probability that a read returns its bytes with one bit flipped (the disk's copy is intact). */
  readonly readBitFlipRate: number;
  /** Total bytes of all files; a write that would pass it fails with ENOSPC. */
  readonly capacityBytes: number;
}

export const CALM_DISK: SimDiskFaults = {
  latencyMs: 0,
  jitterMs: 1,
  fsyncMs: 1,
  readErrorRate: 0,
  writeErrorRate: 0,
  fsyncErrorRate: 0,
  readBitFlipRate: 0,
  capacityBytes: Number.POSITIVE_INFINITY,
};

export interface SimDiskOptions {
  /** The endpoint name of the disk's events in the trace (e.g. "m1/disk"). */
  readonly name: string;
  /** The disk's stream (World stream "disk" or "disk-N"). */
  readonly random: Prng;
  readonly faults?: Partial<SimDiskFaults>;
  /**
   * Delivers a completion to the owner; the member integration passes its host's `run`, so a
   * paused member receives completions after resuming. Default: call it now.
   */
  readonly deliver?: (completion: () => void) => void;
}

export interface SimDiskStats {
  operations: number;
  fsyncs: number;
  bytesWritten: number;
  crashes: number;
  injectedErrors: number;
  bitFlips: number;
}

type DataOp =
  | { readonly kind: "write"; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: "truncate"; readonly length: number };

type NameOp =
  | { readonly kind: "link"; readonly name: string; readonly inode: Inode }
  | { readonly kind: "unlink"; readonly name: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string };

/** A growable byte buffer: the contents of a file. */
class Bytes {
  private buf = new Uint8Array(64);
  length = 0;

  static of(view: Uint8Array): Bytes {
    const b = new Bytes();
    b.write(0, view);
    return b;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end > this.buf.length) {
      const grown = new Uint8Array(Math.max(end, this.buf.length * 2));
      grown.set(this.view());
      this.buf = grown;
    }
    if (offset > this.length) this.buf.fill(0, this.length, offset);
    this.buf.set(data, offset);
    this.length = Math.max(this.length, end);
  }

  truncate(length: number): void {
    if (length > this.length) this.write(length, new Uint8Array(0));
    this.buf.fill(0, length, this.length);
    this.length = length;
  }

  apply(op: DataOp): void {
    if (op.kind === "write") this.write(op.offset, op.data);
    else this.truncate(op.length);
  }
}

class Inode {
  durable = new Bytes();
  current = new Bytes();
  /** Writes since the last completed fsync, in issue order. */
  ops: DataOp[] = [];
}

class Dir {
  durable = new Map<string, Inode | Dir>();
  current = new Map<string, Inode | Dir>();
  /** Name changes since the last completed fsyncDir, in issue order. */
  ops: NameOp[] = [];
}

interface Handle {
  readonly inode: Inode;
  readonly path: string;
  readonly writable: boolean;
}

export class SimDisk implements Disk {
  private faults: SimDiskFaults;
  private readonly random: Prng;
  private readonly root = new Dir();
  private readonly handles = new Map<FileHandle, Handle>();
  private readonly pending = new Set<SimEvent>();
  private nextHandle = 1;
  private lastCompletionMs = 0;
  readonly stats: SimDiskStats = {
    operations: 0,
    fsyncs: 0,
    bytesWritten: 0,
    crashes: 0,
    injectedErrors: 0,
    bitFlips: 0,
  };

  constructor(
    private readonly world: World,
    private readonly options: SimDiskOptions,
  ) {
    this.faults = { ...CALM_DISK, ...options.faults };
    this.random = options.random;
  }

  get name(): string {
    return this.options.name;
  }

  /** Changes fault knobs from now on (a scenario's `disk:` fault, or its end). */
  configure(faults: Partial<SimDiskFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  get currentFaults(): SimDiskFaults {
    return this.faults;
  }

  open(path: string, mode: OpenMode, done: DiskCallback<FileHandle>): void {
    this.complete("open", 0, done, () => this.doOpen(path, mode));
  }

  close(file: FileHandle, done: DiskCallback<void>): void {
    this.handleOf(file);
    this.complete("close", 0, done, () => {
      this.handles.delete(file);
      return ok(undefined);
    });
  }

  append(file: FileHandle, data: Uint8Array, done: DiskCallback<void>): void {
    const h = this.handleOf(file);
    this.write(h, { kind: "write", offset: h.inode.current.length, data: data.slice() }, done);
  }

  writeAt(file: FileHandle, offset: number, data: Uint8Array, done: DiskCallback<void>): void {
    assert(Number.isInteger(offset) && offset >= 0, () => `writeAt offset ${offset}`);
    this.write(this.handleOf(file), { kind: "write", offset, data: data.slice() }, done);
  }

  truncate(file: FileHandle, length: number, done: DiskCallback<void>): void {
    assert(Number.isInteger(length) && length >= 0, () => `truncate to ${length}`);
    this.write(this.handleOf(file), { kind: "truncate", length }, done);
  }

  read(file: FileHandle, offset: number, length: number, done: DiskCallback<Uint8Array>): void {
    const h = this.handleOf(file);
    const value = h.inode.current.view().slice(offset, offset + length);
    if (this.random.chance(this.faults.readErrorRate)) {
      this.stats.injectedErrors++;
      this.complete("read", length, done, () => eio(h.path, "injected read error"));
      return;
    }
    if (value.length > 0 && this.random.chance(this.faults.readBitFlipRate)) {
      this.stats.bitFlips++;
      flipBit(value, this.random.int(0, value.length * 8 - 1));
    }
    this.complete("read", length, done, () => ok(value));
  }

  size(file: FileHandle, done: DiskCallback<number>): void {
    const h = this.handleOf(file);
    const length = h.inode.current.length;
    this.complete("size", 0, done, () => ok(length));
  }

  fsync(file: FileHandle, done: DiskCallback<void>): void {
    this.sync(this.handleOf(file), done);
  }

  fdatasync(file: FileHandle, done: DiskCallback<void>): void {
    this.sync(this.handleOf(file), done);
  }

  rename(from: string, to: string, done: DiskCallback<void>): void {
    assert(parentDir(from) === parentDir(to), () => `rename across directories: ${from} -> ${to}`);
    this.complete("rename", 0, done, () => {
      const dir = this.dirAt(parentDir(from));
      if (dir === undefined || !(dir.current.get(baseName(from)) instanceof Inode))
        return enoent(from);
      this.nameOp(dir, { kind: "rename", from: baseName(from), to: baseName(to) });
      return ok(undefined);
    });
  }

  unlink(path: string, done: DiskCallback<void>): void {
    this.complete("unlink", 0, done, () => {
      const dir = this.dirAt(parentDir(path));
      if (dir === undefined || !(dir.current.get(baseName(path)) instanceof Inode))
        return enoent(path);
      this.nameOp(dir, { kind: "unlink", name: baseName(path) });
      return ok(undefined);
    });
  }

  list(dir: string, done: DiskCallback<string[]>): void {
    this.complete("list", 0, done, () => {
      const d = this.dirAt(dir);
      if (d === undefined) return enoent(dir);
      return ok([...d.current.keys()].sort());
    });
  }

  mkdir(dir: string, done: DiskCallback<void>): void {
    this.complete("mkdir", 0, done, () => {
      const parent = this.dirAt(parentDir(dir));
      if (parent === undefined) return enoent(dir);
      const name = baseName(dir);
      if (parent.current.has(name)) return { ok: false, error: { code: "EEXIST", path: dir } };
      // mkdir is durable on completion (the seam's contract): the real disk fsyncs the parent.
      const created = new Dir();
      parent.current.set(name, created);
      parent.durable.set(name, created);
      return ok(undefined);
    });
  }

  fsyncDir(dir: string, done: DiskCallback<void>): void {
    const d = this.dirAt(dir);
    const count = d?.ops.length ?? 0;
    this.complete(
      "fsyncDir",
      0,
      done,
      () => {
        if (d === undefined) return enoent(dir);
        applyNameOps(d.durable, d.ops.splice(0, count));
        return ok(undefined);
      },
      this.faults.fsyncMs,
    );
  }

  /**
   * The member crashed: pending completions are dropped, handles are closed, and volatile data and
   * names are lost as `mode` says (drawn from the disk stream when not given).
   */
  crash(mode?: CrashMode): CrashMode {
    const chosen = mode ?? this.random.pick(CRASH_MODES);
    this.stats.crashes++;
    for (const event of this.pending) this.world.cancel(event);
    this.pending.clear();
    this.handles.clear();
    this.crashDir(this.root, chosen);
    return chosen;
  }

  /**
   * Erases the disk, as an operator wipes the data of a member being replaced: pending completions
   * are dropped, handles closed, and every file and directory is gone, durably. The fault knobs
   * (the hardware's) stay.
   */
  wipe(): void {
    for (const event of this.pending) this.world.cancel(event);
    this.pending.clear();
    this.handles.clear();
    this.root.durable.clear();
    this.root.current.clear();
    this.root.ops = [];
  }

  /** Flips one bit of a file's stored (durable and current) bytes: corruption at rest. */
  flipBitAtRest(path: string, bitIndex: number): void {
    const inode = this.inodeAt(path);
    assert(inode !== undefined, () => `flipBitAtRest: no file ${path}`);
    assert(
      bitIndex >= 0 && bitIndex < inode.current.length * 8,
      () => `bit ${bitIndex} of ${path}`,
    );
    flipBit(inode.current.view(), bitIndex);
    if (bitIndex < inode.durable.length * 8) flipBit(inode.durable.view(), bitIndex);
    this.stats.bitFlips++;
  }

  /** Flips a random bit of a random non-empty file under `dir` (drawn from the disk stream). */
  flipRandomBitAtRest(dir = ""): string | undefined {
    const files = this.filesUnder(dir).filter((p) => (this.inodeAt(p)?.current.length ?? 0) > 0);
    if (files.length === 0) return undefined;
    const path = this.random.pick(files);
    const length = (this.inodeAt(path) as Inode).current.length;
    this.flipBitAtRest(path, this.random.int(0, length * 8 - 1));
    return path;
  }

  /** The current bytes of a file, for tests and reports (undefined if the name does not exist). */
  peek(path: string): Uint8Array | undefined {
    return this.inodeAt(path)?.current.view().slice();
  }

  /** Every file path under `dir`, sorted. */
  filesUnder(dir = ""): string[] {
    const d = this.dirAt(dir);
    if (d === undefined) return [];
    const out: string[] = [];
    for (const [name, node] of [...d.current.entries()].sort((a, b) => cmp(a[0], b[0]))) {
      const path = dir === "" ? name : `${dir}/${name}`;
      if (node instanceof Inode) out.push(path);
      else out.push(...this.filesUnder(path));
    }
    return out;
  }

  /** Bytes in all files (the figure the capacity limit applies to). */
  usedBytes(): number {
    const seen = new Set<Inode>();
    const visit = (d: Dir): void => {
      for (const node of d.current.values()) {
        if (node instanceof Inode) seen.add(node);
        else visit(node);
      }
    };
    visit(this.root);
    for (const h of this.handles.values()) seen.add(h.inode);
    let total = 0;
    for (const inode of seen) total += inode.current.length;
    return total;
  }

  private doOpen(path: string, mode: OpenMode): DiskResult<FileHandle> {
    const dir = this.dirAt(parentDir(path));
    if (dir === undefined) return enoent(path);
    const name = baseName(path);
    const existing = dir.current.get(name);
    let inode: Inode;
    if (mode === "create") {
      if (existing !== undefined) return { ok: false, error: { code: "EEXIST", path } };
      inode = new Inode();
      this.nameOp(dir, { kind: "link", name, inode });
    } else {
      if (!(existing instanceof Inode)) return enoent(path);
      inode = existing;
    }
    const handle = this.nextHandle++;
    this.handles.set(handle, { inode, path, writable: mode !== "read" });
    return ok(handle);
  }

  private write(h: Handle, op: DataOp, done: DiskCallback<void>): void {
    assert(h.writable, () => `write to ${h.path} opened for reading`);
    const bytes = op.kind === "write" ? op.data.length : 0;
    if (this.random.chance(this.faults.writeErrorRate)) {
      this.stats.injectedErrors++;
      this.complete("write", bytes, done, () => eio(h.path, "injected write error"));
      return;
    }
    const growth = Math.max(0, endOf(op) - h.inode.current.length);
    // (Counting the bytes walks every file: only a disk with a capacity does it.)
    const capacity = this.faults.capacityBytes;
    if (growth > 0 && capacity !== Infinity && this.usedBytes() + growth > capacity) {
      this.complete("write", bytes, done, () => ({
        ok: false,
        error: { code: "ENOSPC", path: h.path },
      }));
      return;
    }
    // The effect is visible at once to later operations; it stays volatile until an fsync.
    h.inode.current.apply(op);
    h.inode.ops.push(op);
    this.stats.bytesWritten += bytes;
    this.complete("write", bytes, done, () => ok(undefined));
  }

  private sync(h: Handle, done: DiskCallback<void>): void {
    this.stats.fsyncs++;
    const count = h.inode.ops.length;
    if (this.random.chance(this.faults.fsyncErrorRate)) {
      this.stats.injectedErrors++;
      this.complete(
        "fsync",
        0,
        done,
        () => eio(h.path, "injected fsync error"),
        this.faults.fsyncMs,
      );
      return;
    }
    // Durable when the fsync completes, for the writes issued before it only.
    this.complete(
      "fsync",
      0,
      done,
      () => {
        for (const op of h.inode.ops.splice(0, count)) h.inode.durable.apply(op);
        return ok(undefined);
      },
      this.faults.fsyncMs,
    );
  }

  /**
   * Schedules a completion: the effect runs at completion time (fsync) or was applied at issue
   * (writes), and `done` gets its result. Completions are FIFO across the whole disk, which gives
   * the per-handle order the contract asks for.
   */
  private complete<T>(
    kind: string,
    bytes: number,
    done: DiskCallback<T>,
    effect: () => DiskResult<T>,
    extraMs = 0,
  ): void {
    this.stats.operations++;
    const f = this.faults;
    const latency = f.latencyMs + extraMs + (f.jitterMs > 0 ? this.random.int(0, f.jitterMs) : 0);
    const at = Math.max(this.world.nowMs + Math.round(latency), this.lastCompletionMs);
    this.lastCompletionMs = at;
    const digest = (hashString(kind) ^ bytes) >>> 0;
    const event = this.world.schedule(
      at - this.world.nowMs,
      this.options.name,
      `disk:${kind}`,
      digest,
      () => {
        this.pending.delete(event);
        const result = effect();
        const deliver = this.options.deliver;
        if (deliver === undefined) done(result);
        else deliver(() => done(result));
      },
    );
    this.pending.add(event);
  }

  private nameOp(dir: Dir, op: NameOp): void {
    applyNameOps(dir.current, [op]);
    dir.ops.push(op);
  }

  private crashDir(dir: Dir, mode: CrashMode): void {
    const keep = mode === "lose-all" ? 0 : this.random.int(0, dir.ops.length);
    applyNameOps(dir.durable, dir.ops.slice(0, keep));
    dir.ops = [];
    dir.current = new Map(dir.durable);
    for (const node of dir.current.values()) {
      if (node instanceof Inode) this.crashInode(node, mode);
      else this.crashDir(node, mode);
    }
  }

  private crashInode(inode: Inode, mode: CrashMode): void {
    if (inode.ops.length > 0) {
      if (mode === "reorder") this.writeBackSomePages(inode);
      else for (const op of this.survivors(inode.ops, mode)) inode.durable.apply(op);
    }
    inode.ops = [];
    inode.current = Bytes.of(inode.durable.view());
  }

  /**
   * Reorder mode: the page cache writes dirty pages back whole and in any order; each dirty page
   * reaches the platter with its content at the crash, or not at all.
   */
  private writeBackSomePages(inode: Inode): void {
    const dirty = new Set<number>();
    let truncated = false;
    for (const op of inode.ops) {
      if (op.kind === "truncate") truncated = true;
      else {
        const last = Math.floor((op.offset + op.data.length - 1) / PAGE_BYTES);
        for (let p = Math.floor(op.offset / PAGE_BYTES); p <= last; p++) dirty.add(p);
      }
    }
    const current = inode.current.view();
    const durableLength = truncated
      ? Math.min(inode.durable.length, current.length)
      : inode.durable.length;
    const next = Bytes.of(inode.durable.view().subarray(0, durableLength));
    for (const page of [...dirty].sort((a, b) => a - b)) {
      if (!this.random.chance(0.5)) continue;
      const from = page * PAGE_BYTES;
      if (from >= current.length) continue;
      next.write(from, current.subarray(from, Math.min(from + PAGE_BYTES, current.length)));
    }
    inode.durable = next;
  }

  /** The volatile writes (or parts of them) that reach the platter in a crash of this mode. */
  private survivors(ops: readonly DataOp[], mode: Exclude<CrashMode, "reorder">): DataOp[] {
    switch (mode) {
      case "lose-all":
        return [];
      case "keep-prefix":
        return ops.slice(0, this.random.int(0, ops.length));
      case "torn": {
        const k = this.random.int(0, ops.length - 1);
        const torn = tear(ops[k] as DataOp, this.random);
        return torn === undefined ? ops.slice(0, k) : [...ops.slice(0, k), torn];
      }
      default:
        return unreachable(mode, "crash mode");
    }
  }

  private handleOf(file: FileHandle): Handle {
    const h = this.handles.get(file);
    assert(h !== undefined, () => `${this.options.name}: unknown or closed file handle ${file}`);
    return h;
  }

  private dirAt(path: string): Dir | undefined {
    if (path === "") return this.root;
    let dir: Dir = this.root;
    for (const part of path.split("/")) {
      const next = dir.current.get(part);
      if (!(next instanceof Dir)) return undefined;
      dir = next;
    }
    return dir;
  }

  private inodeAt(path: string): Inode | undefined {
    const node = this.dirAt(parentDir(path))?.current.get(baseName(path));
    return node instanceof Inode ? node : undefined;
  }
}

function applyNameOps(names: Map<string, Inode | Dir>, ops: readonly NameOp[]): void {
  for (const op of ops) {
    switch (op.kind) {
      case "link":
        names.set(op.name, op.inode);
        break;
      case "unlink":
        names.delete(op.name);
        break;
      case "rename": {
        const node = names.get(op.from);
        names.delete(op.from);
        if (node !== undefined) names.set(op.to, node);
        break;
      }
      default:
        unreachable(op, "name op");
    }
  }
}

/** The surviving part of a write torn at a sector boundary (undefined: nothing survives). */
function tear(op: DataOp, random: Prng): DataOp | undefined {
  if (op.kind === "truncate") return random.chance(0.5) ? op : undefined;
  const boundaries: number[] = [];
  const first = Math.ceil((op.offset + 1) / SECTOR_BYTES) * SECTOR_BYTES;
  for (let at = first; at < op.offset + op.data.length; at += SECTOR_BYTES) boundaries.push(at);
  if (boundaries.length === 0) return undefined;
  const cut = random.pick(boundaries);
  return { kind: "write", offset: op.offset, data: op.data.subarray(0, cut - op.offset) };
}

function endOf(op: DataOp): number {
  return op.kind === "write" ? op.offset + op.data.length : op.length;
}

function flipBit(bytes: Uint8Array, bitIndex: number): void {
  const i = bitIndex >> 3;
  bytes[i] = (bytes[i] as number) ^ (1 << (bitIndex & 7));
}

function ok<T>(value: T): DiskResult<T> {
  return { ok: true, value };
}

function enoent<T>(path: string): DiskResult<T> {
  return { ok: false, error: { code: "ENOENT", path } };
}

function eio<T>(path: string, detail: string): DiskResult<T> {
  const error: DiskError = { code: "EIO", path, detail };
  return { ok: false, error };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

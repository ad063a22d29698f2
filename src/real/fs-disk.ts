// The real Disk: node's fs under a root directory. Operations on one handle run one at a time in
// issue order (node's thread pool would otherwise reorder them); fsync and fdatasync are the
// system calls; fsyncDir opens the directory and fsyncs it; mkdir fsyncs the parent so the new
// directory is durable when it completes, as the seam promises.
//
// Small writes (a WAL record group, up to SYNC_WRITE_MAX_BYTES) are made inline with pwrite and
// complete on a microtask: they only reach the page cache, so the call takes microseconds, while a
// round trip through node's thread pool costs a thread wake-up and an event-loop turn on every
// Raft Ready. etcd writes its WAL inline too. Larger writes (snapshots, defragmentation) and every
// sync go to the thread pool so they never stall the event loop.
import * as fs from "node:fs";
import { join } from "node:path";
import type {
  Disk,
  DiskCallback,
  DiskError,
  DiskResult,
  FileHandle,
  OpenMode,
} from "../env/disk.js";
import { parentDir } from "../env/disk.js";

interface OpenFile {
  readonly fd: number;
  readonly path: string;
  /** The end of the file as this handle's appends see it (we never use O_APPEND: see writeAt). */
  size: number;
  /** Operations waiting for the one in flight, run in issue order. */
  readonly queue: Array<() => void>;
  busy: boolean;
}

const OPEN_FLAGS: Record<OpenMode, string> = { read: "r", write: "r+", create: "wx+" };

export class FsDisk implements Disk {
  private readonly files = new Map<FileHandle, OpenFile>();
  private nextHandle = 1;

  /**
   * `root` must exist; every path of the seam is relative to it. `onSync` hears how long each
   * fsync or fdatasync of a file took (etcd's etcd_disk_wal_fsync_duration_seconds).
   */
  constructor(
    readonly root: string,
    private readonly onSync?: (seconds: number) => void,
  ) {}

  open(path: string, mode: OpenMode, done: DiskCallback<FileHandle>): void {
    fs.open(this.abs(path), OPEN_FLAGS[mode], 0o600, (error, fd) => {
      if (error !== null) return done(fail(error, path));
      fs.fstat(fd, (statError, stat) => {
        if (statError !== null) return fs.close(fd, () => done(fail(statError, path)));
        const handle = this.nextHandle++;
        this.files.set(handle, { fd, path, size: stat.size, queue: [], busy: false });
        done({ ok: true, value: handle });
      });
    });
  }

  close(file: FileHandle, done: DiskCallback<void>): void {
    this.run(file, done, (f, finish) => {
      fs.close(f.fd, (error) => {
        this.files.delete(file);
        finish(error === null ? OK : fail(error, f.path));
      });
    });
  }

  append(file: FileHandle, data: Uint8Array, done: DiskCallback<void>): void {
    this.write(file, undefined, data, done);
  }

  writeAt(file: FileHandle, offset: number, data: Uint8Array, done: DiskCallback<void>): void {
    this.write(file, offset, data, done);
  }

  /** A write at `offset`, or at the end of the file as the handle's earlier writes leave it. */
  private write(
    file: FileHandle,
    offset: number | undefined,
    data: Uint8Array,
    done: DiskCallback<void>,
  ): void {
    const f = this.files.get(file);
    if (f !== undefined && !f.busy && data.length > 0 && data.length <= SYNC_WRITE_MAX_BYTES) {
      // Nothing is queued on the handle: write now (the caller's bytes are not kept).
      this.run(file, done, (open, finish) => {
        let result: DiskResult<void> = OK;
        try {
          writeAllSync(open, offset ?? open.size, data);
        } catch (e) {
          result = fail(e as NodeJS.ErrnoException, open.path);
        }
        queueMicrotask(() => finish(result));
      });
      return;
    }
    const copy = data.slice();
    this.run(file, done, (open, finish) => this.writeAll(open, offset ?? open.size, copy, finish));
  }

  read(file: FileHandle, offset: number, length: number, done: DiskCallback<Uint8Array>): void {
    this.run(file, done, (f, finish) => {
      const buffer = new Uint8Array(Math.max(0, Math.min(length, f.size - offset)));
      readAll(f, buffer, offset, 0, finish);
    });
  }

  size(file: FileHandle, done: DiskCallback<number>): void {
    this.run(file, done, (f, finish) => setImmediate(() => finish({ ok: true, value: f.size })));
  }

  fsync(file: FileHandle, done: DiskCallback<void>): void {
    this.run(file, done, (f, finish) => this.timed(fs.fsync, f, finish));
  }

  fdatasync(file: FileHandle, done: DiskCallback<void>): void {
    this.run(file, done, (f, finish) => this.timed(fs.fdatasync, f, finish));
  }

  private timed(
    sync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => void,
    f: OpenFile,
    finish: (r: DiskResult<void>) => void,
  ): void {
    const start = performance.now();
    sync(f.fd, (e) => {
      this.onSync?.((performance.now() - start) / 1000);
      finish(e === null ? OK : fail(e, f.path));
    });
  }

  truncate(file: FileHandle, length: number, done: DiskCallback<void>): void {
    this.run(file, done, (f, finish) =>
      fs.ftruncate(f.fd, length, (e) => {
        if (e === null) f.size = length;
        finish(e === null ? OK : fail(e, f.path));
      }),
    );
  }

  rename(from: string, to: string, done: DiskCallback<void>): void {
    fs.rename(this.abs(from), this.abs(to), (e) => done(e === null ? OK : fail(e, from)));
  }

  unlink(path: string, done: DiskCallback<void>): void {
    fs.unlink(this.abs(path), (e) => done(e === null ? OK : fail(e, path)));
  }

  list(dir: string, done: DiskCallback<string[]>): void {
    fs.readdir(this.abs(dir), (e, names) => {
      if (e !== null) return done(fail(e, dir));
      done({ ok: true, value: names.sort() });
    });
  }

  mkdir(dir: string, done: DiskCallback<void>): void {
    fs.mkdir(this.abs(dir), 0o700, (e) => {
      if (e !== null) return done(fail(e, dir));
      this.fsyncDir(parentDir(dir), done);
    });
  }

  fsyncDir(dir: string, done: DiskCallback<void>): void {
    fs.open(this.abs(dir), "r", (e, fd) => {
      if (e !== null) return done(fail(e, dir));
      fs.fsync(fd, (syncError) => {
        fs.close(fd, (closeError) => {
          const error = syncError ?? closeError;
          done(error === null ? OK : fail(error, dir));
        });
      });
    });
  }

  /** Closes every open handle (shutdown); completes when all are closed. */
  closeAll(done: () => void): void {
    const handles = [...this.files.keys()];
    let left = handles.length;
    if (left === 0) {
      setImmediate(done);
      return;
    }
    for (const h of handles) {
      this.close(h, () => {
        left--;
        if (left === 0) done();
      });
    }
  }

  private abs(path: string): string {
    return path === "" ? this.root : join(this.root, path);
  }

  /** Runs `op` on the handle after every operation issued before it has completed. */
  private run<T>(
    file: FileHandle,
    done: DiskCallback<T>,
    op: (f: OpenFile, finish: (r: DiskResult<T>) => void) => void,
  ): void {
    const f = this.files.get(file);
    if (f === undefined) throw new Error(`fs disk: unknown or closed file handle ${file}`);
    const start = (): void =>
      op(f, (result) => {
        f.busy = false;
        const next = f.queue.shift();
        if (next !== undefined) {
          f.busy = true;
          next();
        }
        done(result);
      });
    if (f.busy) f.queue.push(start);
    else {
      f.busy = true;
      start();
    }
  }

  // Positional writes only: with O_APPEND, Linux ignores the position of pwrite.
  private writeAll(
    f: OpenFile,
    offset: number,
    data: Uint8Array,
    finish: (r: DiskResult<void>) => void,
  ): void {
    if (data.length === 0) {
      setImmediate(() => finish(OK));
      return;
    }
    fs.write(f.fd, data, 0, data.length, offset, (e, written) => {
      if (e !== null) return finish(fail(e, f.path));
      f.size = Math.max(f.size, offset + written);
      if (written < data.length) this.writeAll(f, offset + written, data.subarray(written), finish);
      else finish(OK);
    });
  }
}

/** pwrite until every byte is written; throws node's error. */
function writeAllSync(f: OpenFile, offset: number, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) {
    const n = fs.writeSync(f.fd, data, written, data.length - written, offset + written);
    written += n;
    f.size = Math.max(f.size, offset + written);
  }
}

function readAll(
  f: OpenFile,
  buffer: Uint8Array,
  offset: number,
  filled: number,
  finish: (r: DiskResult<Uint8Array>) => void,
): void {
  if (filled >= buffer.length) {
    setImmediate(() => finish({ ok: true, value: buffer }));
    return;
  }
  fs.read(f.fd, buffer, filled, buffer.length - filled, offset + filled, (e, n) => {
    if (e !== null) return finish(fail(e, f.path));
    if (n === 0) return finish({ ok: true, value: buffer.subarray(0, filled) });
    readAll(f, buffer, offset, filled + n, finish);
  });
}

const OK: DiskResult<void> = { ok: true, value: undefined };

/** Writes up to this size are made inline (see the top of the file). */
const SYNC_WRITE_MAX_BYTES = 256 * 1024;

/** Maps a node error to the seam's error values; any other failure is an I/O error of the path. */
function fail<T>(error: NodeJS.ErrnoException, path: string): DiskResult<T> {
  const code = error.code;
  let e: DiskError;
  if (code === "ENOSPC" || code === "EDQUOT") e = { code: "ENOSPC", path };
  else if (code === "ENOENT") e = { code: "ENOENT", path };
  else if (code === "EEXIST") e = { code: "EEXIST", path };
  else e = { code: "EIO", path, detail: error.message };
  return { ok: false, error: e };
}

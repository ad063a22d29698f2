// Small callback helpers over the Disk seam for storage code: read a whole file, write a whole file
// durably, unlink a list of names. Each reports a StorageFailure naming the operation.
import type { Disk, DiskError, FileHandle } from "../env/disk.js";
import { ioFailure, type StorageCallback, type StorageFailure } from "./errors.js";

/** Reads a whole file (open, size, read, close). */
export function readWholeFile(disk: Disk, path: string, done: StorageCallback<Uint8Array>): void {
  disk.open(path, "read", (opened) => {
    if (!opened.ok) return done(fail(`open ${path}`, opened));
    const file = opened.value;
    disk.size(file, (sized) => {
      if (!sized.ok) return closeThen(disk, file, () => done(fail(`size ${path}`, sized)));
      disk.read(file, 0, sized.value, (read) => {
        closeThen(disk, file, () => {
          if (!read.ok) return done(fail(`read ${path}`, read));
          done({ ok: true, value: read.value });
        });
      });
    });
  });
}

/**
 * Writes `bytes` to a new file `path` and makes its contents durable (create, append, fsync,
 * close). The name is durable only after the caller's fsyncDir.
 */
export function writeNewFile(
  disk: Disk,
  path: string,
  bytes: Uint8Array,
  done: StorageCallback<void>,
): void {
  disk.open(path, "create", (opened) => {
    if (!opened.ok) return done(fail(`create ${path}`, opened));
    const file = opened.value;
    disk.append(file, bytes, (written) => {
      if (!written.ok) return closeThen(disk, file, () => done(fail(`write ${path}`, written)));
      disk.fsync(file, (synced) => {
        closeThen(disk, file, () => done(synced.ok ? OK : fail(`fsync ${path}`, synced)));
      });
    });
  });
}

/** Unlinks names in order (a missing name is fine), then fsyncs the directory. */
export function unlinkAll(
  disk: Disk,
  dir: string,
  paths: readonly string[],
  done: StorageCallback<void>,
): void {
  const next = (i: number): void => {
    if (i === paths.length) {
      disk.fsyncDir(dir, (r) => done(r.ok ? OK : fail(`fsync dir ${dir}`, r)));
      return;
    }
    const path = paths[i] as string;
    disk.unlink(path, (r) => {
      if (!r.ok && r.error.code !== "ENOENT") return done(fail(`unlink ${path}`, r));
      next(i + 1);
    });
  };
  next(0);
}

/** Ensures `dir` exists (creates it if missing). */
export function ensureDir(disk: Disk, dir: string, done: StorageCallback<void>): void {
  disk.mkdir(dir, (r) => {
    if (r.ok || r.error.code === "EEXIST") return done(OK);
    done(fail(`mkdir ${dir}`, r));
  });
}

/** Closes a handle, ignoring a close error: the caller already has the result that matters. */
export function closeThen(disk: Disk, file: FileHandle, then: () => void): void {
  disk.close(file, () => then());
}

export const OK = { ok: true, value: undefined } as const;

/** A disk error as a storage failure (assignable to any StorageResult). */
export function fail(
  operation: string,
  r: { readonly ok: false; readonly error: DiskError },
): { readonly ok: false; readonly error: StorageFailure } {
  return { ok: false, error: ioFailure(operation, r.error) };
}

// The Disk seam: files in directories, completed by callback. Implemented by the real file system
// (src/real/fs-disk.ts) and the simulated disk (sim/disk.ts); test/env/disk.contract.ts holds both
// to the same contract.

/** Errors a disk reports as values. Anything else is a bug. */
export type DiskError =
  | { readonly code: "EIO"; readonly path: string; readonly detail?: string }
  | { readonly code: "ENOSPC"; readonly path: string }
  | { readonly code: "ENOENT"; readonly path: string }
  | { readonly code: "EEXIST"; readonly path: string };

export type DiskResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DiskError };

export type DiskCallback<T> = (result: DiskResult<T>) => void;

export type FileHandle = number;

/**
 * How a file is opened:
 * - "read": an existing file, read only (ENOENT if missing);
 * - "write": an existing file, read and write (ENOENT if missing);
 * - "create": a new empty file, read and write (EEXIST if the name exists, ENOENT if the directory
 *   does not).
 */
export type OpenMode = "read" | "write" | "create";

/**
 * Disk: files in directories, completed by callback.
 *
 * Paths are "/"-separated and relative to the disk's root (a member's data directory); the root
 * itself is "" and always exists. `rename` moves a name within one directory only.
 *
 * Ordering: every operation completes exactly once, never synchronously inside the call.
 * Operations on one handle complete in the order they were issued, and each sees the effects of
 * those issued before it (a read after an append returns the appended bytes).
 *
 * Durability: writes (append, writeAt, truncate) are volatile until a `fsync` or `fdatasync` of
 * the file issued after them completes. A created, renamed or unlinked name is volatile until a
 * `fsyncDir` of its directory issued after it completes. `mkdir` is durable when it completes.
 * After a crash only durable data and names are guaranteed; volatile data may be lost whole, in
 * part, torn at sector granularity, or with later pages kept and earlier ones lost (reading back
 * as zeros).
 *
 * Ownership: a handle belongs to whoever opened it until `close`; one writer per file. The bytes
 * passed to a write are copied before the call returns; the bytes returned by a read belong to the
 * caller.
 */
export interface Disk {
  open(path: string, mode: OpenMode, done: DiskCallback<FileHandle>): void;
  close(file: FileHandle, done: DiskCallback<void>): void;
  /** Writes at the current end of the file. */
  append(file: FileHandle, data: Uint8Array, done: DiskCallback<void>): void;
  /** Writes at `offset`; past the end, the gap reads as zeros. */
  writeAt(file: FileHandle, offset: number, data: Uint8Array, done: DiskCallback<void>): void;
  /** Reads up to `length` bytes at `offset`; fewer at the end of the file. */
  read(file: FileHandle, offset: number, length: number, done: DiskCallback<Uint8Array>): void;
  size(file: FileHandle, done: DiskCallback<number>): void;
  /** Makes every write issued before it on this file durable, with the file's metadata. */
  fsync(file: FileHandle, done: DiskCallback<void>): void;
  /** As `fsync`, for data and the length only (what a WAL append needs). */
  fdatasync(file: FileHandle, done: DiskCallback<void>): void;
  truncate(file: FileHandle, length: number, done: DiskCallback<void>): void;
  /** Replaces `to` if it exists (atomically). ENOENT if `from` is missing. */
  rename(from: string, to: string, done: DiskCallback<void>): void;
  unlink(path: string, done: DiskCallback<void>): void;
  /** The names in a directory (files and subdirectories), sorted. ENOENT if it does not exist. */
  list(dir: string, done: DiskCallback<string[]>): void;
  /** Creates one directory (its parent must exist). EEXIST if it exists. */
  mkdir(dir: string, done: DiskCallback<void>): void;
  fsyncDir(dir: string, done: DiskCallback<void>): void;
}

/** The directory part of a path ("" for a name at the root). */
export function parentDir(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** The last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins path components with "/", skipping empty ones (the root). */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

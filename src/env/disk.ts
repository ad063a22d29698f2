// The Disk seam. Declared by the core; implemented (real fs and simulated disk) by the storage work.

/** Errors a disk reports as values. Anything else is a bug. */
export type DiskError =
  | { readonly code: "EIO"; readonly path: string }
  | { readonly code: "ENOSPC"; readonly path: string }
  | { readonly code: "ENOENT"; readonly path: string }
  | { readonly code: "EEXIST"; readonly path: string };

export type DiskCallback<T> = (
  result: { ok: true; value: T } | { ok: false; error: DiskError },
) => void;

export type FileHandle = number;

/**
 * Disk: files in directories, completed by callback.
 * Contract: every operation completes exactly once, never synchronously inside the call. Writes
 * are volatile until `fsync` (or `fdatasync`) of the file completes; a created, renamed or unlinked
 * name is volatile until `fsyncDir` of its directory completes. After a crash only durable data
 * and names are guaranteed; volatile data may be lost whole, in part, torn or reordered. Operations
 * on one handle complete in the order they were issued.
 */
export interface Disk {
  open(path: string, mode: "read" | "write" | "create", done: DiskCallback<FileHandle>): void;
  close(file: FileHandle, done: DiskCallback<void>): void;
  append(file: FileHandle, data: Uint8Array, done: DiskCallback<void>): void;
  writeAt(file: FileHandle, offset: number, data: Uint8Array, done: DiskCallback<void>): void;
  read(file: FileHandle, offset: number, length: number, done: DiskCallback<Uint8Array>): void;
  size(file: FileHandle, done: DiskCallback<number>): void;
  fsync(file: FileHandle, done: DiskCallback<void>): void;
  fdatasync(file: FileHandle, done: DiskCallback<void>): void;
  truncate(file: FileHandle, length: number, done: DiskCallback<void>): void;
  rename(from: string, to: string, done: DiskCallback<void>): void;
  unlink(path: string, done: DiskCallback<void>): void;
  list(dir: string, done: DiskCallback<string[]>): void;
  mkdir(dir: string, done: DiskCallback<void>): void;
  fsyncDir(dir: string, done: DiskCallback<void>): void;
}

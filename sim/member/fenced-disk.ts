// One life of a member on its simulated disk. A member that dies leaves its storage objects behind
// with callbacks in flight; the fence makes sure nothing of a dead life touches the disk again
// (no operation issued, no completion delivered), as nothing of a dead process would.
import type { Disk, DiskCallback, FileHandle, OpenMode } from "../../src/env/disk.js";
import type { SimDisk } from "../disk.js";

export class FencedDisk implements Disk {
  private alive = true;

  constructor(private readonly disk: SimDisk) {}

  /** The life ended: every later call and completion is dropped. */
  fence(): void {
    this.alive = false;
  }

  open(path: string, mode: OpenMode, done: DiskCallback<FileHandle>): void {
    if (this.alive) this.disk.open(path, mode, this.guard(done));
  }
  close(file: FileHandle, done: DiskCallback<void>): void {
    if (this.alive) this.disk.close(file, this.guard(done));
  }
  append(file: FileHandle, data: Uint8Array, done: DiskCallback<void>): void {
    if (this.alive) this.disk.append(file, data, this.guard(done));
  }
  writeAt(file: FileHandle, offset: number, data: Uint8Array, done: DiskCallback<void>): void {
    if (this.alive) this.disk.writeAt(file, offset, data, this.guard(done));
  }
  read(file: FileHandle, offset: number, length: number, done: DiskCallback<Uint8Array>): void {
    if (this.alive) this.disk.read(file, offset, length, this.guard(done));
  }
  size(file: FileHandle, done: DiskCallback<number>): void {
    if (this.alive) this.disk.size(file, this.guard(done));
  }
  fsync(file: FileHandle, done: DiskCallback<void>): void {
    if (this.alive) this.disk.fsync(file, this.guard(done));
  }
  fdatasync(file: FileHandle, done: DiskCallback<void>): void {
    if (this.alive) this.disk.fdatasync(file, this.guard(done));
  }
  truncate(file: FileHandle, length: number, done: DiskCallback<void>): void {
    if (this.alive) this.disk.truncate(file, length, this.guard(done));
  }
  rename(from: string, to: string, done: DiskCallback<void>): void {
    if (this.alive) this.disk.rename(from, to, this.guard(done));
  }
  unlink(path: string, done: DiskCallback<void>): void {
    if (this.alive) this.disk.unlink(path, this.guard(done));
  }
  list(dir: string, done: DiskCallback<string[]>): void {
    if (this.alive) this.disk.list(dir, this.guard(done));
  }
  mkdir(dir: string, done: DiskCallback<void>): void {
    if (this.alive) this.disk.mkdir(dir, this.guard(done));
  }
  fsyncDir(dir: string, done: DiskCallback<void>): void {
    if (this.alive) this.disk.fsyncDir(dir, this.guard(done));
  }

  private guard<T>(done: DiskCallback<T>): DiskCallback<T> {
    return (result) => {
      if (this.alive) done(result);
    };
  }
}

// Snapshot files of the applied state. Each file holds the raft snapshot metadata (index, term,
// ConfState) and the member's opaque payload (mvcc, leases, auth, members, consistent index), closed
// by a CRC-32C over everything before it. A save writes a temp file, fsyncs it, renames it into
// place and fsyncs the directory, so a crash leaves either the old set of snapshots or the new one.
import type { Disk } from "../env/disk.js";
import { joinPath } from "../env/disk.js";
import { crc32c } from "../mvcc/crc32c.js";
import type { ConfState, Snapshot } from "../raft/types.js";
import { ByteReader, ByteWriter, DecodeError } from "./codec.js";
import { ensureDir, fail, OK, readWholeFile, unlinkAll, writeNewFile } from "./disk-ops.js";
import { corruption, type CorruptionError, type StorageCallback } from "./errors.js";

const MAGIC = 0x504e5344; // "DSNP" little-endian
const VERSION = 1;
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
/** How many snapshot files `purge` keeps by default (etcd keeps 5). */
export const DEFAULT_KEEP_SNAPSHOTS = 5;

export function snapshotFileName(index: number, term: number): string {
  return `${term.toString(16).padStart(16, "0")}-${index.toString(16).padStart(16, "0")}.snap`;
}

export function encodeSnapshotFile(snapshot: Snapshot): Uint8Array {
  const { index, term, confState: cs } = snapshot.metadata;
  const w = new ByteWriter(64 + snapshot.data.length);
  w.u32(MAGIC).u8(VERSION).u64(index).u64(term);
  w.u64List(cs.voters).u64List(cs.learners).u64List(cs.votersOutgoing).u64List(cs.learnersNext);
  w.u8(cs.autoLeave ? 1 : 0).bytes(snapshot.data);
  const body = w.finish();
  w.u32(crc32c(body));
  return w.finish().slice();
}

/** Decodes a snapshot file, checking its checksum first; corruption names the file. */
export function decodeSnapshotFile(file: string, bytes: Uint8Array): Snapshot | CorruptionError {
  if (bytes.length < 8) return corruption(file, 0, "snapshot file too short");
  const bodyLength = bytes.length - 4;
  const stored = new DataView(bytes.buffer, bytes.byteOffset + bodyLength, 4).getUint32(0, true);
  if (crc32c(bytes.subarray(0, bodyLength)) !== stored)
    return corruption(file, bodyLength, "snapshot checksum mismatch");
  try {
    const r = new ByteReader(bytes.subarray(0, bodyLength));
    if (r.u32() !== MAGIC) return corruption(file, 0, "not a snapshot file");
    const version = r.u8();
    if (version !== VERSION) return corruption(file, 4, `snapshot format version ${version}`);
    const index = r.u64();
    const term = r.u64();
    const confState: ConfState = {
      voters: r.u64List(),
      learners: r.u64List(),
      votersOutgoing: r.u64List(),
      learnersNext: r.u64List(),
      autoLeave: r.u8() === 1,
    };
    const data = r.bytes();
    r.end();
    return { data, metadata: { index, term, confState } };
  } catch (e) {
    if (e instanceof DecodeError) return corruption(file, 0, `malformed snapshot: ${e.message}`);
    throw e;
  }
}

export interface LoadedSnapshot {
  /** The newest valid accepted snapshot, or undefined if there is none. */
  readonly snapshot: Snapshot | undefined;
  /** Newer files that failed their checksum (the member raises the CORRUPT alarm on these). */
  readonly corrupt: CorruptionError[];
}

/**
 * The snapshot directory of a member. Contract: operations may overlap only if they touch
 * different snapshots; the owner (DiskStorage) issues them one at a time. A completed `save` is
 * durable under its final name.
 */
export class SnapshotStore {
  private constructor(
    private readonly disk: Disk,
    readonly dir: string,
  ) {}

  /** Opens (creating if missing) the directory and removes temp files a crash left behind. */
  static open(disk: Disk, dir: string, done: StorageCallback<SnapshotStore>): void {
    ensureDir(disk, dir, (made) => {
      if (!made.ok) return done(made);
      disk.list(dir, (listed) => {
        if (!listed.ok) return done(fail(`list ${dir}`, listed));
        const stale = listed.value.filter((n) => n.endsWith(".tmp")).map((n) => joinPath(dir, n));
        unlinkAll(disk, dir, stale, (r) =>
          done(r.ok ? { ok: true, value: new SnapshotStore(disk, dir) } : r),
        );
      });
    });
  }

  /** Writes a snapshot durably: temp file, fsync, rename, fsync of the directory. */
  save(snapshot: Snapshot, done: StorageCallback<void>): void {
    const { index, term } = snapshot.metadata;
    const path = joinPath(this.dir, snapshotFileName(index, term));
    const tmp = `${path}.tmp`;
    this.disk.unlink(tmp, () => {
      writeNewFile(this.disk, tmp, encodeSnapshotFile(snapshot), (written) => {
        if (!written.ok) return done(written);
        this.disk.rename(tmp, path, (renamed) => {
          if (!renamed.ok) return done(fail(`rename ${tmp}`, renamed));
          this.disk.fsyncDir(this.dir, (synced) =>
            done(synced.ok ? OK : fail(`fsync dir ${this.dir}`, synced)),
          );
        });
      });
    });
  }

  /**
   * Loads the newest snapshot that passes its checksum and `accept` (recovery accepts only
   * snapshots the WAL has a marker for). Older files are tried in turn when a newer one is corrupt.
   */
  loadNewestValid(
    accept: (index: number, term: number) => boolean,
    done: StorageCallback<LoadedSnapshot>,
  ): void {
    this.files((listed) => {
      if (!listed.ok) return done(listed);
      const candidates = listed.value.filter((f) => accept(f.index, f.term)).reverse();
      const corrupt: CorruptionError[] = [];
      const tryNext = (i: number): void => {
        const f = candidates[i];
        if (f === undefined) return done({ ok: true, value: { snapshot: undefined, corrupt } });
        readWholeFile(this.disk, f.path, (read) => {
          if (!read.ok) return done(read);
          const decoded = decodeSnapshotFile(f.path, read.value);
          if ("kind" in decoded) {
            corrupt.push(decoded);
            return tryNext(i + 1);
          }
          if (decoded.metadata.index !== f.index || decoded.metadata.term !== f.term) {
            corrupt.push(corruption(f.path, 0, "snapshot metadata does not match its name"));
            return tryNext(i + 1);
          }
          done({ ok: true, value: { snapshot: decoded, corrupt } });
        });
      };
      tryNext(0);
    });
  }

  /** Deletes all but the newest `keep` snapshot files (oldest first), then fsyncs the directory. */
  purge(keep: number, done: StorageCallback<void>): void {
    this.files((listed) => {
      if (!listed.ok) return done(listed);
      const old = listed.value.slice(0, Math.max(0, listed.value.length - keep)).map((f) => f.path);
      unlinkAll(this.disk, this.dir, old, done);
    });
  }

  /** Snapshot files, oldest first (by index, then term). */
  files(done: StorageCallback<Array<{ path: string; index: number; term: number }>>): void {
    this.disk.list(this.dir, (listed) => {
      if (!listed.ok) return done(fail(`list ${this.dir}`, listed));
      const out: Array<{ path: string; index: number; term: number }> = [];
      for (const name of listed.value) {
        const m = SNAP_NAME.exec(name);
        if (m === null) continue;
        out.push({
          path: joinPath(this.dir, name),
          term: parseInt(m[1] as string, 16),
          index: parseInt(m[2] as string, 16),
        });
      }
      out.sort((a, b) => a.index - b.index || a.term - b.term);
      done({ ok: true, value: out });
    });
  }
}

// etcd's snapshot integrity trailer: a snapshot stream (and so a saved snapshot file) ends with the
// sha256 of every byte before it. The Snapshot service appends it; restore checks and strips it.
// The bytes before it are the backend's snapshot padded with zeros to a multiple of 512.

import { createHash } from "node:crypto";
import { err, ok, type Result } from "../../lib/result.js";

export const SNAPSHOT_TRAILER_BYTES = 32;

/**
 * etcd's snapshot files are bbolt files, a whole number of 512-byte pages, and etcdctl's
 * `snapshot save` finds the trailer by checking that size % 512 == 32. The Snapshot service pads
 * detcd's snapshot with zero bytes to this multiple so that check passes; snapshot readers must
 * ignore trailing zeros.
 */
export const SNAPSHOT_ALIGN_BYTES = 512;

/** `data` padded with zero bytes to a multiple of SNAPSHOT_ALIGN_BYTES (itself if it already is). */
export function alignSnapshot(data: Uint8Array): Uint8Array {
  const rest = data.length % SNAPSHOT_ALIGN_BYTES;
  if (rest === 0) return data;
  const out = new Uint8Array(data.length + SNAPSHOT_ALIGN_BYTES - rest);
  out.set(data, 0);
  return out;
}

/** The sha256 of `data`: the trailer a snapshot stream ends with. */
export function snapshotSha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** `data` followed by its sha256 (a new array). */
export function appendSnapshotTrailer(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + SNAPSHOT_TRAILER_BYTES);
  out.set(data, 0);
  out.set(snapshotSha256(data), data.length);
  return out;
}

/**
 * Checks that the last 32 bytes of `file` are the sha256 of the rest and returns the rest (a view
 * into `file`), or a message saying what is wrong.
 */
export function verifySnapshotTrailer(file: Uint8Array): Result<Uint8Array, string> {
  if (file.length < SNAPSHOT_TRAILER_BYTES) {
    return err(`snapshot file is ${file.length} bytes, too short to hold its sha256 trailer`);
  }
  const data = file.subarray(0, file.length - SNAPSHOT_TRAILER_BYTES);
  const expected = file.subarray(file.length - SNAPSHOT_TRAILER_BYTES);
  const actual = snapshotSha256(data);
  for (let i = 0; i < SNAPSHOT_TRAILER_BYTES; i++) {
    if (actual[i] !== expected[i]) return err("snapshot file sha256 mismatch: the file is corrupt");
  }
  return ok(data);
}

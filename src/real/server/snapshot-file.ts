// detcd's snapshot file (what Maintenance.Snapshot streams and `snapshot save` writes): the magic
// "DETCDSN1", the length of the member snapshot as a big-endian u64, the member snapshot
// (src/server/member-snapshot.ts: kv store, leases, alarms, member list, consistent index), then —
// added by the Snapshot service — zero padding to a multiple of 512 bytes and the sha256 of
// everything before it (etcdctl accepts only files shaped like etcd's: pages plus the trailer). `snapshot restore` reads it into a new data directory for a new cluster.
import { promises as fs } from "node:fs";
import { ok, err, type Result } from "../../lib/result.js";
import { crc32c } from "../../mvcc/crc32c.js";
import { AlarmStore } from "../../server/alarms.js";
import {
  decodeMemberSnapshot,
  encodeMemberSnapshot,
  type MemberSnapshotParts,
} from "../../server/member-snapshot.js";
import { Membership } from "../../server/membership.js";
import { DiskStorage, describeFailure, type StorageFailure } from "../../storage/index.js";
import type { InitialClusterMember } from "../config/initial-cluster.js";
import { FsDisk } from "../fs-disk.js";
import { verifySnapshotTrailer } from "../grpc/snapshot-trailer.js";
import { ETCD_CLUSTER_VERSION } from "../version.js";
import { newClusterIdentity } from "./cluster-identity.js";
import { MEMBER_DIR, writeMemberMeta, type MemberMeta } from "./member-meta.js";

const MAGIC = [0x44, 0x45, 0x54, 0x43, 0x44, 0x53, 0x4e, 0x31]; // "DETCDSN1"

/** The file content (before the trailer) for a member's encoded snapshot. */
export function encodeSnapshotFile(memberSnapshot: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + memberSnapshot.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setBigUint64(MAGIC.length, BigInt(memberSnapshot.length));
  out.set(memberSnapshot, HEADER_BYTES);
  return out;
}

const HEADER_BYTES = MAGIC.length + 8;

/** Parses file content (trailer already checked and removed). */
export function decodeSnapshotFile(content: Uint8Array): Result<MemberSnapshotParts, string> {
  if (content.length < HEADER_BYTES || MAGIC.some((b, i) => content[i] !== b)) {
    return err("not a detcd snapshot file (bad magic)");
  }
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  const length = Number(view.getBigUint64(MAGIC.length));
  if (HEADER_BYTES + length > content.length) return err("snapshot file is truncated");
  if (content.subarray(HEADER_BYTES + length).some((b) => b !== 0)) {
    return err("snapshot file has data after its member snapshot");
  }
  return decodeMemberSnapshot(content.subarray(HEADER_BYTES, HEADER_BYTES + length), {});
}

/** What `snapshot status` prints (etcdutl's columns). */
export interface SnapshotFileStatus {
  /** CRC-32C of the content, as an unsigned 32-bit number. */
  readonly hash: number;
  readonly revision: number;
  readonly totalKey: number;
  /** Bytes of the whole file, trailer included. */
  readonly totalSize: number;
  readonly version: string;
}

export function snapshotContentStatus(
  content: Uint8Array,
  fileBytes: number,
  version: string,
): Result<SnapshotFileStatus, string> {
  const parts = decodeSnapshotFile(content);
  if (!parts.ok) return parts;
  return ok({
    hash: crc32c(content) >>> 0,
    revision: parts.value.kv.currentRevision,
    totalKey: parts.value.kv.keyCount,
    totalSize: fileBytes,
    version,
  });
}

/** Reads a saved snapshot file: checks its sha256 trailer (unless told not to) and parses it. */
export async function readSnapshotFile(
  path: string,
  skipHashCheck = false,
): Promise<{ content: Uint8Array; parts: MemberSnapshotParts; fileBytes: number }> {
  let file: Uint8Array;
  try {
    file = new Uint8Array(await fs.readFile(path));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const verified = verifySnapshotTrailer(file);
  let content: Uint8Array;
  if (verified.ok) content = verified.value;
  else if (skipHashCheck) content = file.subarray(0, Math.max(0, file.length - 32));
  else throw new Error(`${path}: ${verified.error}`);
  const parts = decodeSnapshotFile(content);
  if (!parts.ok) throw new Error(`${path}: ${parts.error}`);
  return { content, parts: parts.value, fileBytes: file.length };
}

/** `snapshot status FILE`. */
export async function snapshotFileStatus(path: string): Promise<SnapshotFileStatus> {
  const read = await readSnapshotFile(path);
  const status = snapshotContentStatus(read.content, read.fileBytes, ETCD_CLUSTER_VERSION);
  if (!status.ok) throw new Error(`${path}: ${status.error}`);
  return status.value;
}

export interface RestoreOptions {
  readonly snapshotPath: string;
  readonly dataDir: string;
  readonly name: string;
  readonly initialCluster: readonly InitialClusterMember[];
  readonly initialClusterToken: string;
  readonly initialAdvertisePeerURLs: readonly string[];
  readonly skipHashCheck?: boolean;
}

/**
 * etcdutl's `snapshot restore`: a new data directory whose state is the snapshot's keys, leases and
 * history, in a new cluster (the member list comes from --initial-cluster, the cluster id from the
 * token and URLs, alarms are cleared). Every member of the new cluster restores the same file with
 * the same flags; each then starts with `detcd --data-dir DIR` and the same --initial-cluster.
 */
export async function restoreSnapshot(o: RestoreOptions): Promise<MemberMeta> {
  const read = await readSnapshotFile(o.snapshotPath, o.skipHashCheck === true);
  if (await exists(o.dataDir)) throw new Error(`data-dir "${o.dataDir}" exists`);
  const identity = newClusterIdentity(o.initialCluster, o.initialClusterToken);
  const me = identity.members.find((m) => m.name === o.name);
  if (me === undefined) {
    throw new Error(`couldn't find local name "${o.name}" in the initial cluster configuration`);
  }
  const wanted = [...o.initialAdvertisePeerURLs].sort().join(",");
  if ([...me.peerURLs].sort().join(",") !== wanted) {
    throw new Error(
      `--initial-cluster has ${o.name}=${me.peerURLs.join(",")} but --initial-advertise-peer-urls is ${wanted}`,
    );
  }
  const data = encodeMemberSnapshot({
    consistentIndex: RESTORED_INDEX,
    kv: read.parts.kv,
    lessor: read.parts.lessor,
    membership: new Membership(identity.members),
    appliedIds: [],
    alarms: new AlarmStore(),
    // Users, roles and whether auth is on stay, as etcd's restore keeps its auth buckets.
    auth: read.parts.auth,
  });
  await fs.mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const voters = identity.members.map((m) => m.id);
  await persistRestored(o.dataDir, voters, data);
  const meta = {
    name: o.name,
    id: me.id,
    clusterId: identity.clusterId,
    bootstrapMembers: identity.members,
    joined: false,
  };
  await writeMemberMeta(o.dataDir, meta);
  return meta;
}

/** The restored state sits in a Raft snapshot at index 1, term 1, committed. */
const RESTORED_INDEX = 1;

function persistRestored(dataDir: string, voters: number[], data: Uint8Array): Promise<void> {
  const confState = {
    voters,
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
  const snapshot = { data, metadata: { index: RESTORED_INDEX, term: 1, confState } };
  return new Promise((resolve, reject) => {
    const fail = (f: StorageFailure) => reject(new Error(`${dataDir}: ${describeFailure(f)}`));
    DiskStorage.open(new FsDisk(dataDir), { dir: MEMBER_DIR, initialConfState: confState }, (o) => {
      if (!o.ok) return fail(o.error);
      const storage = o.value.storage;
      const batch = {
        entries: [],
        hardState: { term: 1, vote: 0, commit: RESTORED_INDEX },
        snapshot,
        mustSync: true,
      };
      storage.persist(batch, (saved) => {
        if (!saved.ok) return fail(saved.error);
        storage.close((closed) => (closed.ok ? resolve() : fail(closed.error)));
      });
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

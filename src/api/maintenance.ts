// etcdserverpb's Maintenance service messages (rpc.proto): Alarm, Status, Defragment, Hash,
// Snapshot and MoveLeader, with etcd's field names as written there (dbSize, raftAppliedIndex,
// memberID, targetID). Member ids are bigint like the response header's member_id (etcd's uint64);
// sizes and raft indexes are numbers. HashKV lives in rpc.ts beside the KV messages it hashes.

import type { ResponseHeader } from "./rpc.js";

// ---- Alarm ----------------------------------------------------------------------------------------

/** etcdserverpb.AlarmType. NONE in a request means "any alarm". */
export type AlarmType = "NONE" | "NOSPACE" | "CORRUPT";
export const ALARM_TYPE_VALUES: Readonly<Record<AlarmType, number>> = {
  NONE: 0,
  NOSPACE: 1,
  CORRUPT: 2,
};

export type AlarmAction = "GET" | "ACTIVATE" | "DEACTIVATE";
export const ALARM_ACTION_VALUES: Readonly<Record<AlarmAction, number>> = {
  GET: 0,
  ACTIVATE: 1,
  DEACTIVATE: 2,
};

/**
 * GET lists raised alarms; ACTIVATE raises `alarm` on `memberID`; DEACTIVATE clears it (etcdctl's
 * `alarm disarm` sends one DEACTIVATE per listed alarm).
 */
export interface AlarmRequest {
  action?: AlarmAction;
  /** 0n with GET means every member. */
  memberID?: bigint;
  alarm?: AlarmType;
}

export interface AlarmMember {
  memberID: bigint;
  alarm: AlarmType;
}

export interface AlarmResponse {
  header: ResponseHeader;
  /** GET: every raised alarm; ACTIVATE / DEACTIVATE: the alarms the request changed. */
  alarms: AlarmMember[];
}

// ---- Status ---------------------------------------------------------------------------------------

export type StatusRequest = Record<string, never>;

export interface DowngradeInfo {
  enabled: boolean;
  targetVersion: string;
}

/** One member's view of itself (etcdctl endpoint status). */
export interface StatusResponse {
  header: ResponseHeader;
  /** Server version string (etcd's cluster version scheme, e.g. "3.5.0"). */
  version: string;
  /** Bytes of the storage files on disk. */
  dbSize: number;
  /** The leader's member id as this member knows it; 0n when there is none. */
  leader: bigint;
  /** etcd reports the committed index here. */
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  /** Problems worth an operator's eye: "etcdserver: no leader", raised alarms. */
  errors: string[];
  /** Bytes of the storage files that hold live data (dbSize minus garbage). */
  dbSizeInUse: number;
  isLearner: boolean;
  storageVersion?: string;
  /** The backend quota in bytes. */
  dbSizeQuota?: number;
  downgradeInfo?: DowngradeInfo;
}

// ---- Defragment / Hash / Snapshot / MoveLeader ----------------------------------------------------

export type DefragmentRequest = Record<string, never>;

export interface DefragmentResponse {
  header: ResponseHeader;
}

export type HashRequest = Record<string, never>;

export interface HashResponse {
  header: ResponseHeader;
  /** Hash of the whole backend (uint32); for tests, like etcd's. */
  hash: number;
}

export type SnapshotRequest = Record<string, never>;

/**
 * One chunk of a snapshot stream. `remaining_bytes` counts the snapshot bytes still to come after
 * this chunk; the last message carries the sha256 of every preceding blob with remaining_bytes 0.
 */
export interface SnapshotResponse {
  /** etcd leaves the header of snapshot chunks unset. */
  header?: ResponseHeader;
  remaining_bytes: number;
  blob: Uint8Array;
  version: string;
}

export interface MoveLeaderRequest {
  targetID: bigint;
}

export interface MoveLeaderResponse {
  header: ResponseHeader;
}

// What the gRPC layer serves: the member's client methods (KV, Watch, Lease, Cluster, HashKV) with
// their exact signatures, plus the Maintenance methods, which need the host (disk sizes, version,
// the snapshot file) and so are supplied by whoever runs the member.
//
// Contract for every method: `done` is called exactly once, possibly synchronously, with either the
// response or an EtcdError; the gRPC layer turns the error into a status with etcd's code and exact
// message. Methods may be called again from inside `done`. A method that throws is a bug: the gRPC
// layer answers INTERNAL and keeps serving.

import type { Done, Member } from "../../server/member.js";
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from "../../api/maintenance.js";

export type { Done } from "../../server/member.js";

/** The member methods the KV, Watch, Lease and Cluster services call, as Member declares them. */
export type MemberBackend = Pick<
  Member,
  | "range"
  | "put"
  | "deleteRange"
  | "txn"
  | "compact"
  | "hashKV"
  | "leaseGrant"
  | "leaseRevoke"
  | "leaseKeepAlive"
  | "leaseTimeToLive"
  | "leaseLeases"
  | "memberAdd"
  | "memberRemove"
  | "memberUpdate"
  | "memberList"
  | "memberPromote"
  | "watch"
>;

/** The Maintenance service's methods (HashKV is the member's). */
export interface MaintenanceBackend {
  /** This member's status: version, sizes, leader, raft indexes, errors (no leader, alarms). */
  status(done: Done<StatusResponse>): void;
  /** GET, ACTIVATE or DEACTIVATE an alarm. */
  alarm(req: AlarmRequest, done: Done<AlarmResponse>): void;
  /** Rewrites this member's storage files to drop garbage. */
  defragment(done: Done<DefragmentResponse>): void;
  /** Hash of this member's whole backend. */
  hash(done: Done<HashResponse>): void;
  /** Hands leadership to `targetID`; answered once the transfer is done (or failed). */
  moveLeader(req: MoveLeaderRequest, done: Done<MoveLeaderResponse>): void;
  /**
   * The whole snapshot file of this member's state, as `snapshot restore` reads it (without the
   * sha256 trailer, which the Snapshot service appends). The caller owns the bytes. The service
   * pads them with zero bytes to a multiple of 512 (etcdctl requires it), so the format must
   * tolerate trailing zeros.
   */
  snapshot(done: Done<Uint8Array>): void;
}

/** Everything the client port serves. */
export type Backend = MemberBackend & MaintenanceBackend;

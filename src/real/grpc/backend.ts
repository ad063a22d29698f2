// What the gRPC layer serves: the member's client methods (KV, Watch, Lease, Cluster, HashKV) with
// their exact signatures, plus the Maintenance methods, which need the host (disk sizes, version,
// the snapshot file) and so are supplied by whoever runs the member.
//
// Contract for every method: `done` is called exactly once, possibly synchronously, with either the
// response or an EtcdError; the gRPC layer turns the error into a status with etcd's code and exact
// message. Methods may be called again from inside `done`. A method that throws is a bug: the gRPC
// layer answers INTERNAL and keeps serving.

import type { Done, Member } from "../../server/member.js";
import type { Result } from "../../lib/result.js";
import type { EtcdError } from "../../api/errors.js";
import type {
  AuthenticateResponse,
  AuthHeaderResponse,
  AuthInfo,
  AuthRoleGetResponse,
  AuthRoleListResponse,
  AuthStatusResponse,
  AuthUserGetResponse,
  AuthUserListResponse,
} from "../../api/auth.js";
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from "../../api/maintenance.js";

export type { Done, WatchCredentials } from "../../server/member.js";
export type { AuthInfo } from "../../api/auth.js";

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

/**
 * The Maintenance service's methods (HashKV is the member's). `as`: the caller, when the backend
 * has auth (with auth enabled, maintenance needs the root role).
 */
export interface MaintenanceBackend {
  /** This member's status: version, sizes, leader, raft indexes, errors (no leader, alarms). */
  status(done: Done<StatusResponse>, as?: AuthInfo): void;
  /** GET, ACTIVATE or DEACTIVATE an alarm. */
  alarm(req: AlarmRequest, done: Done<AlarmResponse>, as?: AuthInfo): void;
  /** Rewrites this member's storage files to drop garbage. */
  defragment(done: Done<DefragmentResponse>, as?: AuthInfo): void;
  /** Hash of this member's whole backend. */
  hash(done: Done<HashResponse>, as?: AuthInfo): void;
  /** Hands leadership to `targetID`; answered once the transfer is done (or failed). */
  moveLeader(req: MoveLeaderRequest, done: Done<MoveLeaderResponse>, as?: AuthInfo): void;
  /**
   * The whole snapshot file of this member's state, as `snapshot restore` reads it (without the
   * sha256 trailer, which the Snapshot service appends). The caller owns the bytes. The service
   * pads them with zero bytes to a multiple of 512 (etcdctl requires it), so the format must
   * tolerate trailing zeros.
   */
  snapshot(done: Done<Uint8Array>, as?: AuthInfo): void;
}

/** What a call presents: its "token" metadata and its verified client certificate's CN. */
export interface CallCredentials {
  readonly token?: string;
  readonly commonName?: string;
}

/** A message of the Auth service, fields by proto name. */
type AuthMessage = Record<string, unknown>;
type AuthMethod<R> = (req: AuthMessage, done: Done<R>, as?: AuthInfo) => void;

/**
 * Auth: who each call comes from, and the Auth service. Every call but Authenticate (and the few
 * etcd serves without looking at credentials) first resolves its credentials; an error (an
 * unknown or expired token) fails the call, an identity goes to the method as its `as`.
 */
export interface AuthBackend {
  credentials(c: CallCredentials, done: Done<AuthInfo | undefined>): void;
  /** The same, synchronously, for the watches a stream creates after its credentials resolved. */
  credentialsNow(c: CallCredentials): Result<AuthInfo | undefined, EtcdError>;
  authEnable: AuthMethod<AuthHeaderResponse>;
  authDisable: AuthMethod<AuthHeaderResponse>;
  authStatus: AuthMethod<AuthStatusResponse>;
  authenticate(req: AuthMessage, done: Done<AuthenticateResponse>): void;
  userAdd: AuthMethod<AuthHeaderResponse>;
  userGet: AuthMethod<AuthUserGetResponse>;
  userList: AuthMethod<AuthUserListResponse>;
  userDelete: AuthMethod<AuthHeaderResponse>;
  userChangePassword: AuthMethod<AuthHeaderResponse>;
  userGrantRole: AuthMethod<AuthHeaderResponse>;
  userRevokeRole: AuthMethod<AuthHeaderResponse>;
  roleAdd: AuthMethod<AuthHeaderResponse>;
  roleGet: AuthMethod<AuthRoleGetResponse>;
  roleList: AuthMethod<AuthRoleListResponse>;
  roleDelete: AuthMethod<AuthHeaderResponse>;
  roleGrantPermission: AuthMethod<AuthHeaderResponse>;
  roleRevokePermission: AuthMethod<AuthHeaderResponse>;
}

/**
 * Everything the client port serves. Without `auth`, calls carry no identity and the Auth service
 * is not registered (UNIMPLEMENTED, as from an etcd built without it).
 */
export type Backend = MemberBackend & MaintenanceBackend & { readonly auth?: AuthBackend };

// Which permission each request needs, checked against the auth store (etcd's authApplierV3 and the
// checks of its API layer):
//   - Range, a read-only Txn, a Watch: READ on the range (checked where the read is served);
//   - Put: WRITE on the key, READ too with prev_kv, and WRITE on every key of the lease it attaches
//     (a user who cannot revoke the lease must not attach to it); DeleteRange: WRITE on the range,
//     READ too with prev_kv; Txn: READ on every compare and the check of each op, both branches;
//   - LeaseRevoke: WRITE on every key attached to the lease;
//   - auth changes other than Authenticate: the root role (anyone may enable auth while it is off);
//   - Compaction, LeaseGrant, alarms and lease checkpoints: nothing, as in etcd.
// Reads are checked where they are served, after ReadIndex, so on state at least as new as the
// read. Writes are checked when they apply, in log order: a permission revoked before the write
// commits takes effect, and no member refuses a write on auth state older than the client's last
// answer (so auth stays linearizable with the data). A write carries its proposer's identity in
// the entry's auth header; an entry without one is a request without credentials.

import { unreachable } from "../lib/assert.js";
import { emptyBytes } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { AuthHeader, AuthInfo } from "../api/auth.js";
import type { LeaseId } from "../api/kv.js";
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  WatchCreateRequest,
} from "../api/rpc.js";
import type { AuthApplied, AuthStore, SimpleTokens } from "../auth/index.js";
import type { InternalRequest } from "./internal-request.js";

/** What the checks read: the auth store and the keys attached to a lease. */
export interface AuthState {
  readonly auth: AuthStore;
  readonly lessor: { keysOf(id: LeaseId): Uint8Array[] };
}

type Denied = EtcdError | undefined;

export function checkRange(state: AuthState, who: AuthInfo | undefined, r: RangeRequest): Denied {
  return state.auth.checkRange(who, "READ", r.key, r.range_end ?? emptyBytes);
}

function checkLease(state: AuthState, who: AuthInfo | undefined, lease: LeaseId): Denied {
  if (lease === 0n) return undefined;
  for (const key of state.lessor.keysOf(lease)) {
    const denied = state.auth.checkRange(who, "WRITE", key, emptyBytes);
    if (denied !== undefined) return denied;
  }
  return undefined;
}

export function checkPut(state: AuthState, who: AuthInfo | undefined, p: PutRequest): Denied {
  const auth = state.auth;
  return (
    auth.checkRange(who, "WRITE", p.key, emptyBytes) ??
    checkLease(state, who, p.lease ?? 0n) ??
    (p.prev_kv === true ? auth.checkRange(who, "READ", p.key, emptyBytes) : undefined)
  );
}

export function checkDeleteRange(
  state: AuthState,
  who: AuthInfo | undefined,
  d: DeleteRangeRequest,
): Denied {
  const end = d.range_end ?? emptyBytes;
  return (
    state.auth.checkRange(who, "WRITE", d.key, end) ??
    (d.prev_kv === true ? state.auth.checkRange(who, "READ", d.key, end) : undefined)
  );
}

function checkOp(state: AuthState, who: AuthInfo | undefined, op: RequestOp): Denied {
  switch (op.request) {
    case "request_range":
      return checkRange(state, who, op.request_range);
    case "request_put":
      return checkPut(state, who, op.request_put);
    case "request_delete_range":
      return checkDeleteRange(state, who, op.request_delete_range);
    case "request_txn":
      return checkTxn(state, who, op.request_txn);
    default:
      return unreachable(op, "request op");
  }
}

/** Every compare and every op of both branches, whichever runs (etcd's checkTxnAuth). */
export function checkTxn(state: AuthState, who: AuthInfo | undefined, t: TxnRequest): Denied {
  if (!state.auth.isEnabled) return undefined;
  for (const c of t.compare ?? []) {
    const denied = state.auth.checkRange(who, "READ", c.key, c.range_end ?? emptyBytes);
    if (denied !== undefined) return denied;
  }
  for (const op of [...(t.success ?? []), ...(t.failure ?? [])]) {
    const denied = checkOp(state, who, op);
    if (denied !== undefined) return denied;
  }
  return undefined;
}

/** A watch's range, with etcd's defaults: an empty key watches from the smallest key. */
export function checkWatch(
  state: AuthState,
  who: AuthInfo | undefined,
  c: WatchCreateRequest,
): Denied {
  const key = c.key.length === 0 ? Uint8Array.of(0) : c.key;
  return state.auth.checkRange(who, "READ", key, c.range_end ?? emptyBytes);
}

/** The identity an auth header names; undefined for none (the caller handles "system"). */
function infoOf(header: AuthHeader | undefined): AuthInfo | undefined {
  return header?.kind === "user" ? { user: header.user, revision: header.revision } : undefined;
}

/** Whether a replicated request may take effect on this state, as every member applies it. */
export function checkInternal(state: AuthState, req: InternalRequest): Denied {
  if (!state.auth.isEnabled || req.authHeader?.kind === "system") return undefined;
  const who = infoOf(req.authHeader);
  switch (req.kind) {
    case "put":
      return checkPut(state, who, req.put);
    case "delete-range":
      return checkDeleteRange(state, who, req.deleteRange);
    case "txn":
      return checkTxn(state, who, req.txn);
    case "lease-revoke":
      return checkLease(state, who, req.leaseRevoke.ID);
    case "auth":
      return req.authChange.op === "authenticate" ? undefined : state.auth.checkAdmin(who);
    default:
      return undefined;
  }
}

/** A request stamped with who proposes it (nothing for a client without credentials). */
export function withAuthHeader(req: InternalRequest, who: AuthInfo | undefined): InternalRequest {
  if (who === undefined) return req;
  return { ...req, authHeader: { kind: "user", user: who.user, revision: who.revision } };
}

/**
 * A member's own proposal (lease expiry): allowed everything, like etcd's root token. While auth
 * is off it carries no header, so the entry is the same as before auth existed.
 */
export function asSystem(req: InternalRequest, auth: AuthStore): InternalRequest {
  return auth.isEnabled ? { ...req, authHeader: { kind: "system" } } : req;
}

/**
 * Applies an auth change and what follows from it on this member's simple tokens: a login under a
 * token prefix assigns the token (etcd's form: the prefix, a dot and the login's raft index, the
 * same on every member);
 * a deleted user or a changed password loses its tokens; disabling auth drops every token.
 */
export function applyAuthChange(
  auth: AuthStore,
  tokens: SimpleTokens | undefined,
  req: Extract<InternalRequest, { kind: "auth" }>,
  index: number,
): Result<AuthApplied & { token: string }, EtcdError> {
  const change = req.authChange;
  const applied = auth.apply(change);
  if (!applied.ok) return applied;
  let token = "";
  switch (change.op) {
    case "authenticate":
      if (change.tokenPrefix !== undefined) {
        token = `${change.tokenPrefix}.${index}`;
        tokens?.assign(token, change.name);
      }
      break;
    case "user-delete":
    case "user-change-password":
      tokens?.invalidateUser(change.name);
      break;
    case "auth-disable":
      tokens?.clear();
      break;
    default:
      break;
  }
  return ok({ ...applied.value, token });
}

/** The raft index of the login that made a simple token (after its last dot); undefined if none. */
export function simpleTokenIndex(token: string): number | undefined {
  const dot = token.lastIndexOf(".");
  const digits = token.slice(dot + 1);
  if (dot < 0 || !/^\d{1,15}$/.test(digits)) return undefined;
  return Number(digits);
}

/**
 * etcd's AuthInfoFromCtx for a simple token: who it names, at the current auth revision. While
 * auth is off tokens are ignored (undefined); an unknown or expired one is InvalidAuthToken.
 */
export function simpleTokenInfo(
  auth: AuthStore,
  tokens: SimpleTokens,
  token: string,
): Result<AuthInfo | undefined, EtcdError> {
  if (!auth.isEnabled) return ok(undefined);
  const user = tokens.resolve(token);
  if (user === undefined) return err(Errors.InvalidAuthToken);
  return ok({ user, revision: auth.revision });
}

/**
 * Who may read what in the auth store (etcd's needAdminPermission and its UserGet / RoleGet
 * exceptions): a user may read itself and its own roles; the stored password hash is for the
 * member's host, which checks a login with it; everything else needs the root role.
 */
export function checkAuthRead(
  auth: AuthStore,
  who: AuthInfo | undefined,
  read: { op: string; name?: string; role?: string },
): Denied {
  if (read.op === "password-of") return undefined;
  const denied = auth.checkAdmin(who);
  if (denied === undefined || who === undefined) return denied;
  if (read.op === "user-get" && read.name === who.user) return undefined;
  if (read.op === "role-get" && read.role !== undefined && auth.hasRole(who.user, read.role)) {
    return undefined;
  }
  return denied;
}

/** etcd's cancel reason for a watch refused by auth: the gRPC status as Go prints it. */
export const WATCH_PERMISSION_DENIED_REASON = `rpc error: code = PermissionDenied desc = ${Errors.PermissionDenied.message}`;

/** etcd's check of LeaseTimeToLive with keys: READ on every key listed. */
export function checkLeaseKeysRead(
  state: AuthState,
  who: AuthInfo | undefined,
  keys: readonly Uint8Array[],
): Denied {
  if (!state.auth.isEnabled) return undefined;
  if (who === undefined) return Errors.UserEmpty;
  for (const key of keys) {
    const denied = state.auth.checkRange(who, "READ", key, emptyBytes);
    if (denied !== undefined) return denied;
  }
  return undefined;
}

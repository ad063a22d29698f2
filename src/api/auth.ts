// etcd's Auth service messages (rpc.proto Auth*, auth.proto Permission) with the proto field names,
// plus the engine's view of an authenticated caller (etcd's AuthInfo).
//
// Passwords never reach the engine: the host hashes them (a slow KDF) and hands over an opaque hash
// string, which the engine stores and compares byte for byte. A user without a password (etcd's
// UserAddOptions.no_password) authenticates only by a client certificate's common name.

import type { ResponseHeader } from "./rpc.js";

export type PermissionType = "READ" | "WRITE" | "READWRITE";
export const PERMISSION_TYPES: readonly PermissionType[] = ["READ", "WRITE", "READWRITE"];

/**
 * One permission of a role (authpb.Permission): range_end empty = the single key `key`; "\0" = every
 * key >= key; otherwise [key, range_end).
 */
export interface Permission {
  permType: PermissionType;
  key: Uint8Array;
  range_end: Uint8Array;
}

/**
 * Who sends a request, as the member serving it resolved the credentials (etcd's AuthInfo): the
 * user name and the auth revision the credentials carry. A simple token or a certificate resolves
 * to the auth revision current when the request arrived; a JWT carries the revision it was signed
 * at. A request whose revision is older than the store's fails with AuthOldRevision.
 */
export interface AuthInfo {
  readonly user: string;
  readonly revision: number;
}

/** The auth header of a replicated request: a client's identity, or the member itself. */
export type AuthHeader =
  | { readonly kind: "user"; readonly user: string; readonly revision: number }
  /** Proposed by a member for itself (lease expiry): allowed everything, as etcd's WithRoot. */
  | { readonly kind: "system" };

// ---- gRPC messages ------------------------------------------------------------------------------

export interface AuthStatusResponse {
  header: ResponseHeader;
  enabled: boolean;
  authRevision: number;
}

export interface AuthenticateRequest {
  name: string;
  password: string;
}

export interface AuthenticateResponse {
  header: ResponseHeader;
  token: string;
}

export interface AuthUserAddRequest {
  name: string;
  password: string;
  options?: { no_password: boolean };
  hashedPassword: string;
}

export interface AuthUserGetResponse {
  header: ResponseHeader;
  roles: string[];
}

export interface AuthUserChangePasswordRequest {
  name: string;
  password: string;
  hashedPassword: string;
}

export interface AuthUserListResponse {
  header: ResponseHeader;
  users: string[];
}

export interface AuthRoleGetResponse {
  header: ResponseHeader;
  perm: Permission[];
}

export interface AuthRoleListResponse {
  header: ResponseHeader;
  roles: string[];
}

export interface AuthRoleGrantPermissionRequest {
  name: string;
  perm?: Permission;
}

export interface AuthRoleRevokePermissionRequest {
  role: string;
  key: Uint8Array;
  range_end: Uint8Array;
}

/** Every Auth answer that carries nothing but the header. */
export interface AuthHeaderResponse {
  header: ResponseHeader;
}

// ---- the engine's requests ----------------------------------------------------------------------

/**
 * A change to the auth store, replicated through Raft. `passwordHash` is the host's hash (absent:
 * a user without a password). `authenticate` carries the hash the host computed from the given
 * password with the stored hash's parameters: it applies only if it still equals the stored hash,
 * so a password changed in between fails the login. `tokenPrefix` (simple tokens): the host's
 * random string; the token is the prefix, a dot and the request id, known to every member.
 */
export type AuthChange =
  | { readonly op: "auth-enable" }
  | { readonly op: "auth-disable" }
  | { readonly op: "user-add"; readonly name: string; readonly passwordHash?: string }
  | { readonly op: "user-delete"; readonly name: string }
  | { readonly op: "user-change-password"; readonly name: string; readonly passwordHash: string }
  | { readonly op: "user-grant-role"; readonly user: string; readonly role: string }
  | { readonly op: "user-revoke-role"; readonly name: string; readonly role: string }
  | { readonly op: "role-add"; readonly name: string }
  | { readonly op: "role-delete"; readonly role: string }
  | { readonly op: "role-grant-permission"; readonly name: string; readonly perm?: Permission }
  | {
      readonly op: "role-revoke-permission";
      readonly role: string;
      readonly key: Uint8Array;
      readonly range_end: Uint8Array;
    }
  | {
      readonly op: "authenticate";
      readonly name: string;
      readonly passwordHash: string;
      readonly tokenPrefix?: string;
    };

/** A read of the auth store, served linearizably by the member. */
export type AuthRead =
  | { readonly op: "auth-status" }
  | { readonly op: "user-get"; readonly name: string }
  | { readonly op: "user-list" }
  | { readonly op: "role-get"; readonly role: string }
  | { readonly op: "role-list" }
  /** The stored hash of a user, for the host to check a password against (no admin needed). */
  | { readonly op: "password-of"; readonly name: string };

export type AuthRequest = AuthChange | AuthRead;
export type AuthOp = AuthRequest["op"];

/** What a successful authenticate applies to: the user and the auth revision at that point. */
export interface AuthenticatedResponse {
  header: ResponseHeader;
  user: string;
  revision: number;
  /** The simple token every member now knows ("" when no prefix was given). */
  token: string;
}

export interface PasswordOfResponse {
  header: ResponseHeader;
  /** The stored hash of a user who has a password. */
  passwordHash: string;
  revision: number;
}

/** The answer to each auth request. */
export interface AuthResponses {
  "auth-enable": AuthHeaderResponse;
  "auth-disable": AuthHeaderResponse;
  "auth-status": AuthStatusResponse;
  "user-add": AuthHeaderResponse;
  "user-get": AuthUserGetResponse;
  "user-list": AuthUserListResponse;
  "user-delete": AuthHeaderResponse;
  "user-change-password": AuthHeaderResponse;
  "user-grant-role": AuthHeaderResponse;
  "user-revoke-role": AuthHeaderResponse;
  "role-add": AuthHeaderResponse;
  "role-get": AuthRoleGetResponse;
  "role-list": AuthRoleListResponse;
  "role-delete": AuthHeaderResponse;
  "role-grant-permission": AuthHeaderResponse;
  "role-revoke-permission": AuthHeaderResponse;
  authenticate: AuthenticatedResponse;
  "password-of": PasswordOfResponse;
}

export type AuthResponseOf<R extends AuthRequest> = AuthResponses[R["op"]];

export const AUTH_READ_OPS: ReadonlySet<AuthOp> = new Set([
  "auth-status",
  "user-get",
  "user-list",
  "role-get",
  "role-list",
  "password-of",
]);

export function isAuthRead(req: AuthRequest): req is AuthRead {
  return AUTH_READ_OPS.has(req.op);
}

/** The root user and role (etcd's rootUser, rootRole). */
export const ROOT_USER = "root";
export const ROOT_ROLE = "root";

// The replicated auth store (etcd's auth/store.go): users, roles, their permissions, whether auth is
// enabled, and the auth revision. It changes only by applying an AuthChange in log order, so every
// member holds the same store at the same index; it travels in member snapshots.
//
// The auth revision starts at 1 and grows by one with every change that takes effect, as etcd's:
// user and role changes and AuthDisable. AuthEnable leaves it as it is (etcd's does too); requests
// that change nothing (a role granted twice, enabling an enabled store) leave it too.
//
// Permission checks follow etcd's isOpPermitted: with auth disabled everything is allowed; with it
// enabled a request needs a user (UserEmpty), credentials no older than the store
// (AuthOldRevision), a user that exists (PermissionDenied), and either the root role or merged
// role permissions that cover the whole range (PermissionDenied). Merged permissions are cached per
// user and the cache is dropped whenever the store changes.

import { compareBytes, equalBytes, utf8 } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { unreachable } from "../lib/assert.js";
import { Errors, type EtcdError } from "../api/errors.js";
import {
  PERMISSION_TYPES,
  ROOT_ROLE,
  ROOT_USER,
  type AuthChange,
  type AuthInfo,
  type Permission,
  type PermissionType,
} from "../api/auth.js";
import {
  BigEndianReader as ByteReader,
  BigEndianWriter as ByteWriter,
  MalformedBytes,
} from "../lib/byte-codec.js";
import { isValidPermissionRange, RangePermissions } from "./range-permissions.js";

export interface UserRecord {
  readonly name: string;
  /** The host's hash; undefined for a user without a password (certificate users). */
  readonly passwordHash: string | undefined;
  /** Sorted, no duplicates. */
  readonly roles: readonly string[];
}

export interface RoleRecord {
  readonly name: string;
  /** Sorted by key then range_end; at most one per (key, range_end). */
  readonly perms: readonly Permission[];
}

/** What applying a change answers (the member adds the response header). */
export type AuthApplied =
  | { readonly op: Exclude<AuthChange["op"], "authenticate"> }
  | { readonly op: "authenticate"; readonly user: string; readonly revision: number };

/** etcd's RoleGet answer for the root role: read and write on every key. */
export const ROOT_PERMISSION: Permission = Object.freeze({
  permType: "READWRITE",
  key: new Uint8Array(0),
  range_end: Uint8Array.of(0),
}) as Permission;

/** Names in etcd's order: bytewise on their UTF-8 form (bbolt's key order). */
export function compareNames(a: string, b: string): number {
  return compareBytes(utf8(a), utf8(b));
}

function comparePerms(a: Permission, b: Permission): number {
  return compareBytes(a.key, b.key) || compareBytes(a.range_end, b.range_end);
}

export class AuthStore {
  private enabled = false;
  private rev = 1;
  private readonly users = new Map<string, UserRecord>();
  private readonly roles = new Map<string, RoleRecord>();
  /** Merged permissions per user; dropped on every change. */
  private readonly cache = new Map<string, RangePermissions>();

  get isEnabled(): boolean {
    return this.enabled;
  }

  get revision(): number {
    return this.rev;
  }

  user(name: string): UserRecord | undefined {
    return this.users.get(name);
  }

  role(name: string): RoleRecord | undefined {
    return this.roles.get(name);
  }

  /** User names in etcd's order. */
  userNames(): string[] {
    return [...this.users.keys()].sort(compareNames);
  }

  roleNames(): string[] {
    return [...this.roles.keys()].sort(compareNames);
  }

  /** A role's permissions as RoleGet answers them (the root role: everything). */
  rolePermissions(name: string): Result<Permission[], EtcdError> {
    const role = this.roles.get(name);
    if (role === undefined) return err(Errors.RoleNotFound);
    return ok(name === ROOT_ROLE ? [ROOT_PERMISSION] : role.perms.map((p) => ({ ...p })));
  }

  hasRole(user: string, role: string): boolean {
    return this.users.get(user)?.roles.includes(role) === true;
  }

  // ---- checks -------------------------------------------------------------------------------------

  /**
   * etcd's isOpPermitted: READ or WRITE on the etcd range (key, rangeEnd) for `info`; undefined
   * when allowed.
   */
  checkRange(
    info: AuthInfo | undefined,
    type: "READ" | "WRITE",
    key: Uint8Array,
    rangeEnd: Uint8Array,
  ): EtcdError | undefined {
    if (!this.enabled) return undefined;
    if (info === undefined || info.revision === 0) return Errors.UserEmpty;
    if (info.revision < this.rev) return Errors.AuthOldRevision;
    const user = this.users.get(info.user);
    if (user === undefined) return Errors.PermissionDenied;
    if (user.roles.includes(ROOT_ROLE)) return undefined;
    return this.merged(user).allows(type, key, rangeEnd) ? undefined : Errors.PermissionDenied;
  }

  /** etcd's IsAdminPermitted: the root role (the revision is not checked, as in etcd). */
  checkAdmin(info: AuthInfo | undefined): EtcdError | undefined {
    if (!this.enabled) return undefined;
    if (info === undefined || info.user === "") return Errors.UserEmpty;
    const user = this.users.get(info.user);
    if (user === undefined) return Errors.UserNotFound;
    return user.roles.includes(ROOT_ROLE) ? undefined : Errors.PermissionDenied;
  }

  private merged(user: UserRecord): RangePermissions {
    const cached = this.cache.get(user.name);
    if (cached !== undefined) return cached;
    const perms = user.roles.flatMap((r) => this.roles.get(r)?.perms ?? []);
    const merged = RangePermissions.of(perms);
    this.cache.set(user.name, merged);
    return merged;
  }

  // ---- changes ------------------------------------------------------------------------------------

  /** Applies one change; an error leaves the store as it was. */
  apply(change: AuthChange): Result<AuthApplied, EtcdError> {
    const result = this.applyOp(change);
    if (result.ok) this.cache.clear();
    return result;
  }

  private applyOp(c: AuthChange): Result<AuthApplied, EtcdError> {
    switch (c.op) {
      case "auth-enable":
        return this.enable();
      case "auth-disable":
        if (this.enabled) {
          this.enabled = false;
          this.rev++;
        }
        return ok({ op: c.op });
      case "user-add":
        return this.userAdd(c.name, c.passwordHash);
      case "user-delete":
        return this.userDelete(c.name);
      case "user-change-password":
        return this.userChangePassword(c.name, c.passwordHash);
      case "user-grant-role":
        return this.userGrantRole(c.user, c.role);
      case "user-revoke-role":
        return this.userRevokeRole(c.name, c.role);
      case "role-add":
        return this.roleAdd(c.name);
      case "role-delete":
        return this.roleDelete(c.role);
      case "role-grant-permission":
        return this.roleGrantPermission(c.name, c.perm);
      case "role-revoke-permission":
        return this.roleRevokePermission(c.role, c.key, c.range_end);
      case "authenticate":
        return this.authenticate(c.name, c.passwordHash);
      default:
        return unreachable(c, "auth change");
    }
  }

  private changed(op: Exclude<AuthChange["op"], "authenticate">): Result<AuthApplied, EtcdError> {
    this.rev++;
    return ok({ op });
  }

  private enable(): Result<AuthApplied, EtcdError> {
    if (this.enabled) return ok({ op: "auth-enable" });
    const root = this.users.get(ROOT_USER);
    if (root === undefined) return err(Errors.RootUserNotExist);
    if (!root.roles.includes(ROOT_ROLE)) return err(Errors.RootRoleNotExist);
    this.enabled = true;
    return ok({ op: "auth-enable" });
  }

  private userAdd(name: string, passwordHash: string | undefined): Result<AuthApplied, EtcdError> {
    if (name === "") return err(Errors.UserEmpty);
    if (this.users.has(name)) return err(Errors.UserAlreadyExist);
    this.users.set(name, { name, passwordHash, roles: [] });
    return this.changed("user-add");
  }

  private userDelete(name: string): Result<AuthApplied, EtcdError> {
    if (this.enabled && name === ROOT_USER) return err(Errors.InvalidAuthMgmt);
    if (!this.users.delete(name)) return err(Errors.UserNotFound);
    return this.changed("user-delete");
  }

  private userChangePassword(name: string, passwordHash: string): Result<AuthApplied, EtcdError> {
    const user = this.users.get(name);
    if (user === undefined) return err(Errors.UserNotFound);
    // A user created without a password stays without one (etcd keeps its options).
    const hash = user.passwordHash === undefined ? undefined : passwordHash;
    this.users.set(name, { ...user, passwordHash: hash });
    return this.changed("user-change-password");
  }

  private userGrantRole(name: string, role: string): Result<AuthApplied, EtcdError> {
    const user = this.users.get(name);
    if (user === undefined) return err(Errors.UserNotFound);
    // The root role may be granted before it exists (etcd's special case).
    if (role !== ROOT_ROLE && !this.roles.has(role)) return err(Errors.RoleNotFound);
    if (user.roles.includes(role)) return ok({ op: "user-grant-role" });
    this.users.set(name, { ...user, roles: [...user.roles, role].sort(compareNames) });
    return this.changed("user-grant-role");
  }

  private userRevokeRole(name: string, role: string): Result<AuthApplied, EtcdError> {
    if (this.enabled && name === ROOT_USER && role === ROOT_ROLE) {
      return err(Errors.InvalidAuthMgmt);
    }
    const user = this.users.get(name);
    if (user === undefined) return err(Errors.UserNotFound);
    if (!user.roles.includes(role)) return err(Errors.RoleNotGranted);
    this.users.set(name, { ...user, roles: user.roles.filter((r) => r !== role) });
    return this.changed("user-revoke-role");
  }

  private roleAdd(name: string): Result<AuthApplied, EtcdError> {
    if (name === "") return err(Errors.RoleEmpty);
    if (this.roles.has(name)) return err(Errors.RoleAlreadyExist);
    this.roles.set(name, { name, perms: [] });
    return this.changed("role-add");
  }

  private roleDelete(name: string): Result<AuthApplied, EtcdError> {
    if (this.enabled && name === ROOT_ROLE) return err(Errors.InvalidAuthMgmt);
    if (!this.roles.delete(name)) return err(Errors.RoleNotFound);
    for (const user of [...this.users.values()]) {
      if (!user.roles.includes(name)) continue;
      this.users.set(user.name, { ...user, roles: user.roles.filter((r) => r !== name) });
    }
    return this.changed("role-delete");
  }

  private roleGrantPermission(
    name: string,
    perm: Permission | undefined,
  ): Result<AuthApplied, EtcdError> {
    if (perm === undefined) return err(Errors.PermissionNotGiven);
    if (!isValidPermissionRange(perm.key, perm.range_end)) return err(Errors.InvalidAuthMgmt);
    const role = this.roles.get(name);
    if (role === undefined) return err(Errors.RoleNotFound);
    const copy: Permission = {
      permType: perm.permType,
      key: perm.key.slice(),
      range_end: perm.range_end.slice(),
    };
    // Granting a range the role already has replaces its type.
    const kept = role.perms.filter((p) => comparePerms(p, copy) !== 0);
    this.roles.set(name, { name, perms: [...kept, copy].sort(comparePerms) });
    return this.changed("role-grant-permission");
  }

  private roleRevokePermission(
    name: string,
    key: Uint8Array,
    rangeEnd: Uint8Array,
  ): Result<AuthApplied, EtcdError> {
    const role = this.roles.get(name);
    if (role === undefined) return err(Errors.RoleNotFound);
    const kept = role.perms.filter(
      (p) => !(equalBytes(p.key, key) && equalBytes(p.range_end, rangeEnd)),
    );
    if (kept.length === role.perms.length) return err(Errors.PermissionNotGranted);
    this.roles.set(name, { name, perms: kept });
    return this.changed("role-revoke-permission");
  }

  /**
   * A login, after the host checked the password against the stored hash: it applies only while
   * auth is enabled and the user still has that hash.
   */
  private authenticate(name: string, passwordHash: string): Result<AuthApplied, EtcdError> {
    if (!this.enabled) return err(Errors.AuthNotEnabled);
    const user = this.users.get(name);
    if (user?.passwordHash === undefined || user.passwordHash !== passwordHash) {
      return err(Errors.AuthFailed);
    }
    return ok({ op: "authenticate", user: name, revision: this.rev });
  }

  /** The stored hash a password must match (the host checks it); AuthFailed if none. */
  passwordOf(name: string): Result<{ passwordHash: string; revision: number }, EtcdError> {
    if (!this.enabled) return err(Errors.AuthNotEnabled);
    const hash = this.users.get(name)?.passwordHash;
    if (hash === undefined) return err(Errors.AuthFailed);
    return ok({ passwordHash: hash, revision: this.rev });
  }

  // ---- snapshot form ------------------------------------------------------------------------------

  /**
   * Layout (big-endian): enabled u8, revision f64, user count u32, per user (in name order) name,
   * has-password u8, hash if any, role count u32, roles; role count u32, per role name, permission
   * count u32, per permission type u8 (index in PERMISSION_TYPES), key, range_end. Strings and
   * byte strings are a u32 length then the bytes.
   */
  encode(): Uint8Array {
    const w = new ByteWriter();
    w.u8(this.enabled ? 1 : 0);
    w.f64(this.rev);
    const users = this.userNames().map((n) => this.users.get(n) as UserRecord);
    w.u32(users.length);
    for (const u of users) {
      w.string(u.name);
      w.u8(u.passwordHash === undefined ? 0 : 1);
      if (u.passwordHash !== undefined) w.string(u.passwordHash);
      w.u32(u.roles.length);
      for (const r of u.roles) w.string(r);
    }
    const roles = this.roleNames().map((n) => this.roles.get(n) as RoleRecord);
    w.u32(roles.length);
    for (const r of roles) {
      w.string(r.name);
      w.u32(r.perms.length);
      for (const p of r.perms) {
        w.u8(PERMISSION_TYPES.indexOf(p.permType));
        w.bytes(p.key);
        w.bytes(p.range_end);
      }
    }
    return w.finish();
  }

  static decode(bytes: Uint8Array): Result<AuthStore, string> {
    try {
      const r = new ByteReader(bytes);
      const store = new AuthStore();
      store.enabled = r.u8() === 1;
      store.rev = r.f64();
      if (!Number.isSafeInteger(store.rev) || store.rev < 1) return err("auth: bad revision");
      for (let i = r.u32(); i > 0; i--) {
        const name = r.string();
        const passwordHash = r.u8() === 1 ? r.string() : undefined;
        const roles: string[] = [];
        for (let j = r.u32(); j > 0; j--) roles.push(r.string());
        store.users.set(name, { name, passwordHash, roles });
      }
      for (let i = r.u32(); i > 0; i--) {
        const name = r.string();
        const perms: Permission[] = [];
        for (let j = r.u32(); j > 0; j--) {
          const permType = PERMISSION_TYPES[r.u8()] as PermissionType | undefined;
          if (permType === undefined) return err("auth: unknown permission type");
          perms.push({ permType, key: r.bytes(), range_end: r.bytes() });
        }
        store.roles.set(name, { name, perms });
      }
      if (!r.done) return err("auth: trailing bytes");
      return ok(store);
    } catch (e) {
      if (e instanceof MalformedBytes) return err(`auth: ${e.message}`);
      throw e;
    }
  }
}

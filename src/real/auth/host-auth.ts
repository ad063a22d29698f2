// The host's half of auth: what etcd does in its API layer around the auth store.
//   - Credentials: a call's "token" metadata (a simple token the member resolves, or a JWT verified
//     here) or, with --client-cert-auth and no token, the verified client certificate's common
//     name, become the caller's identity (etcd's AuthInfoFromCtx, then AuthInfoFromTLS). While auth
//     is off, credentials are ignored.
//   - Passwords are hashed here (scrypt, off the engine's thread of control) before UserAdd and
//     UserChangePassword are proposed, and checked here on Authenticate against the stored hash;
//     the member then applies the login through Raft and the host returns the simple token it made
//     or signs a JWT at the login's auth revision.
//   - The Auth service's messages become the engine's AuthRequests.
import { randomBytes } from "node:crypto";
import { err, ok, type Result } from "../../lib/result.js";
import { Errors, type EtcdError } from "../../api/errors.js";
import {
  PERMISSION_TYPES,
  type AuthenticateRequest,
  type AuthenticateResponse,
  type AuthHeaderResponse,
  type AuthInfo,
  type AuthRequest,
  type AuthResponseOf,
  type AuthRoleGetResponse,
  type AuthRoleGrantPermissionRequest,
  type AuthRoleListResponse,
  type AuthRoleRevokePermissionRequest,
  type AuthStatusResponse,
  type AuthUserAddRequest,
  type AuthUserChangePasswordRequest,
  type AuthUserGetResponse,
  type AuthUserListResponse,
} from "../../api/auth.js";
import type { Done, Member } from "../../server/member.js";
import { simpleTokenInfo } from "../../server/auth-gate.js";
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from "./passwords.js";
import type { JwtTokens } from "./jwt.js";

/** What a call presents: its "token" metadata and its verified client certificate's CN. */
export interface CallCredentials {
  readonly token?: string;
  readonly commonName?: string;
}

export interface HostAuthOptions {
  /** "simple" tokens, or JWTs signed and verified with these keys. */
  readonly tokens: "simple" | JwtTokens;
  /** --client-cert-auth: a verified certificate's CN names the user when no token is given. */
  readonly clientCertAuth: boolean;
  readonly scrypt?: ScryptParams;
}

/** Verified JWTs remembered for the synchronous checks of watch creates. */
const MAX_CACHED_JWTS = 10_000;
/** etcd's simple token prefix: 16 random letters. */
const SIMPLE_TOKEN_PREFIX_LENGTH = 16;
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function randomPrefix(): string {
  const bytes = randomBytes(SIMPLE_TOKEN_PREFIX_LENGTH);
  return [...bytes].map((b) => LETTERS[b % LETTERS.length]).join("");
}

type Req = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(0));

export class HostAuth {
  private readonly jwts = new Map<string, AuthInfo & { readonly expiresAtMs: number }>();

  constructor(
    private readonly member: Member,
    private readonly o: HostAuthOptions,
  ) {}

  // ---- credentials ------------------------------------------------------------------------------

  /** Who is calling; InvalidAuthToken for a token no member made or that expired. */
  credentials(c: CallCredentials, done: Done<AuthInfo | undefined>): void {
    const auth = this.member.auth;
    if (!auth.isEnabled) return done(ok(undefined));
    const token = c.token;
    if (token === undefined) return done(ok(this.certificateUser(c)));
    if (this.o.tokens === "simple") return this.member.simpleTokenCredentials(token, done);
    this.o.tokens.verify(token).then(
      (info) => {
        if (info === undefined) return done(err(Errors.InvalidAuthToken));
        this.remember(token, info);
        done(ok({ user: info.user, revision: info.revision }));
      },
      () => done(err(Errors.InvalidAuthToken)),
    );
  }

  /**
   * The same, at once, for a call whose credentials were resolved when it began (a watch stream
   * creating watches): a simple token at the auth revision current now.
   */
  credentialsNow(c: CallCredentials): Result<AuthInfo | undefined, EtcdError> {
    const auth = this.member.auth;
    if (!auth.isEnabled) return ok(undefined);
    const token = c.token;
    if (token === undefined) return ok(this.certificateUser(c));
    if (this.o.tokens === "simple") return simpleTokenInfo(auth, this.member.authTokens, token);
    const info = this.jwts.get(token);
    if (info === undefined || info.expiresAtMs <= Date.now()) return err(Errors.InvalidAuthToken);
    return ok({ user: info.user, revision: info.revision });
  }

  private certificateUser(c: CallCredentials): AuthInfo | undefined {
    if (!this.o.clientCertAuth || c.commonName === undefined || c.commonName === "") {
      return undefined;
    }
    return { user: c.commonName, revision: this.member.auth.revision };
  }

  private remember(token: string, info: AuthInfo & { readonly expiresAtMs: number }): void {
    this.jwts.delete(token);
    this.jwts.set(token, info);
    while (this.jwts.size > MAX_CACHED_JWTS) {
      const oldest = this.jwts.keys().next();
      if (oldest.done === true) break;
      this.jwts.delete(oldest.value);
    }
  }

  // ---- the Auth service -------------------------------------------------------------------------

  private ask<R extends AuthRequest>(
    req: R,
    done: Done<AuthResponseOf<R>>,
    as: AuthInfo | undefined,
  ): void {
    this.member.authRequest(req, done, as);
  }

  authEnable(_req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "auth-enable" }, done, as);
  }

  authDisable(_req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "auth-disable" }, done, as);
  }

  authStatus(_req: Req, done: Done<AuthStatusResponse>, as?: AuthInfo): void {
    this.ask({ op: "auth-status" }, done, as);
  }

  /**
   * A login: the stored hash (a linearizable read), the password checked against it here, then
   * the login through Raft, which fails if the hash changed meanwhile; then the token.
   */
  authenticate(req: Req, done: Done<AuthenticateResponse>): void {
    const r = req as Partial<AuthenticateRequest>;
    const { name, password } = { name: str(r.name), password: str(r.password) };
    this.member.authRequest({ op: "password-of", name }, (stored) => {
      if (!stored.ok) return done(stored);
      const hash = stored.value.passwordHash;
      verifyPassword(password, hash).then(
        (matches) => {
          if (!matches) return done(err(Errors.AuthFailed));
          this.applyLogin(name, hash, done);
        },
        () => done(err(Errors.AuthFailed)),
      );
    });
  }

  private applyLogin(name: string, passwordHash: string, done: Done<AuthenticateResponse>): void {
    const tokens = this.o.tokens;
    if (tokens !== "simple" && !tokens.canSign) return done(err(Errors.AuthVerifyOnly));
    const tokenPrefix = tokens === "simple" ? randomPrefix() : undefined;
    const req = { op: "authenticate" as const, name, passwordHash, tokenPrefix };
    this.member.authRequest(req, (applied) => {
      if (!applied.ok) return done(applied);
      const { header, user, revision, token } = applied.value;
      if (tokens === "simple") return done(ok({ header, token }));
      tokens.sign(user, revision).then(
        (jwt) => done(ok({ header, token: jwt })),
        () => done(err(Errors.AuthFailed)),
      );
    });
  }

  userAdd(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    const r = req as Partial<AuthUserAddRequest>;
    const name = str(r.name);
    if (r.options?.no_password === true) return this.ask({ op: "user-add", name }, done, as);
    // Hashing costs; refuse early whoever could not add a user anyway.
    const denied = this.member.auth.checkAdmin(as);
    if (denied !== undefined) return done(err(denied));
    this.hashThen(str(r.password), done, (passwordHash) =>
      this.ask({ op: "user-add", name, passwordHash }, done, as),
    );
  }

  userChangePassword(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    const r = req as Partial<AuthUserChangePasswordRequest>;
    const denied = this.member.auth.checkAdmin(as);
    if (denied !== undefined) return done(err(denied));
    this.hashThen(str(r.password), done, (passwordHash) =>
      this.ask({ op: "user-change-password", name: str(r.name), passwordHash }, done, as),
    );
  }

  private hashThen<T>(password: string, done: Done<T>, then: (hash: string) => void): void {
    hashPassword(password, this.o.scrypt ?? DEFAULT_SCRYPT).then(then, (e: unknown) =>
      done(err({ ...Errors.AuthFailed, message: `detcd: hashing failed: ${String(e)}` })),
    );
  }

  userGet(req: Req, done: Done<AuthUserGetResponse>, as?: AuthInfo): void {
    this.ask({ op: "user-get", name: str(req.name) }, done, as);
  }

  userList(_req: Req, done: Done<AuthUserListResponse>, as?: AuthInfo): void {
    this.ask({ op: "user-list" }, done, as);
  }

  userDelete(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "user-delete", name: str(req.name) }, done, as);
  }

  userGrantRole(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "user-grant-role", user: str(req.user), role: str(req.role) }, done, as);
  }

  userRevokeRole(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "user-revoke-role", name: str(req.name), role: str(req.role) }, done, as);
  }

  roleAdd(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "role-add", name: str(req.name) }, done, as);
  }

  roleGet(req: Req, done: Done<AuthRoleGetResponse>, as?: AuthInfo): void {
    this.ask({ op: "role-get", role: str(req.role) }, done, as);
  }

  roleList(_req: Req, done: Done<AuthRoleListResponse>, as?: AuthInfo): void {
    this.ask({ op: "role-list" }, done, as);
  }

  roleDelete(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    this.ask({ op: "role-delete", role: str(req.role) }, done, as);
  }

  roleGrantPermission(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    const r = req as Partial<AuthRoleGrantPermissionRequest>;
    const name = str(r.name);
    const perm = r.perm;
    if (perm === undefined) return this.ask({ op: "role-grant-permission", name }, done, as);
    // An enum number etcd does not know decodes as its digits: no permission detcd can check.
    if (!PERMISSION_TYPES.includes(perm.permType)) return done(err(Errors.InvalidAuthMgmt));
    const copy = {
      permType: perm.permType,
      key: bytes(perm.key),
      range_end: bytes(perm.range_end),
    };
    this.ask({ op: "role-grant-permission", name, perm: copy }, done, as);
  }

  roleRevokePermission(req: Req, done: Done<AuthHeaderResponse>, as?: AuthInfo): void {
    const r = req as Partial<AuthRoleRevokePermissionRequest>;
    const change = {
      op: "role-revoke-permission" as const,
      role: str(r.role),
      key: bytes(r.key),
      range_end: bytes(r.range_end),
    };
    this.ask(change, done, as);
  }
}

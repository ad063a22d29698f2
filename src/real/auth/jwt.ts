// JWT auth tokens as etcd signs them (--auth-token jwt,...): claims {username, revision, exp},
// signed with the configured method and private key, verified with the public key (derived from
// the private key when only that is given). A member given only the public key verifies tokens
// other members signed but cannot sign any (etcd's verify-only mode).
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { jwtVerify, SignJWT } from "jose";
import type { AuthInfo } from "../../api/auth.js";
import type { JwtSignMethod } from "../config/auth-token.js";

/** The lifetime of the token signed at load to check the keys. */
const PROBE_TTL_MS = 60_000;

export interface JwtOptions {
  readonly signMethod: JwtSignMethod;
  readonly publicKeyFile: string | undefined;
  readonly privateKeyFile: string | undefined;
  readonly ttlMs: number;
}

async function readKeyFile<T>(file: string, what: string, parse: (pem: Buffer) => T): Promise<T> {
  let pem: Buffer;
  try {
    pem = await fs.readFile(file);
  } catch (e) {
    throw new Error(`auth: cannot read the JWT ${what} key ${file}: ${(e as Error).message}`);
  }
  try {
    return parse(pem);
  } catch (e) {
    throw new Error(`auth: ${file} is not a ${what} key in PEM: ${(e as Error).message}`);
  }
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  const der = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  return der(a).equals(der(b));
}

export class JwtTokens {
  private constructor(
    private readonly o: JwtOptions,
    private readonly publicKey: KeyObject,
    private readonly privateKey: KeyObject | undefined,
  ) {}

  /** Reads the key files and checks that they fit each other and the signing method. */
  static async load(o: JwtOptions): Promise<JwtTokens> {
    const privateKey =
      o.privateKeyFile === undefined
        ? undefined
        : await readKeyFile(o.privateKeyFile, "private", (pem) => createPrivateKey(pem));
    const publicKey =
      o.publicKeyFile === undefined
        ? createPublicKey(privateKey as KeyObject)
        : await readKeyFile(o.publicKeyFile, "public", (pem) => createPublicKey(pem));
    if (privateKey !== undefined && !sameKey(createPublicKey(privateKey), publicKey)) {
      throw new Error("auth: public and private keys don't match");
    }
    const tokens = new JwtTokens(o, publicKey, privateKey);
    if (privateKey !== undefined) {
      // A key of the wrong kind for the method (an RSA key for ES256) fails here, not at a login.
      let probe: AuthInfo | undefined;
      try {
        probe = await tokens.verify(await tokens.signFor("probe", 1, PROBE_TTL_MS));
      } catch (e) {
        throw new Error(`auth: the JWT key does not fit ${o.signMethod}: ${(e as Error).message}`);
      }
      if (probe?.user !== "probe") {
        throw new Error(
          `auth: the JWT key does not fit ${o.signMethod}: a signed token did not verify`,
        );
      }
    }
    return tokens;
  }

  get canSign(): boolean {
    return this.privateKey !== undefined;
  }

  get ttlMs(): number {
    return this.o.ttlMs;
  }

  /** A token for `user` at auth revision `revision`, expiring after the TTL. */
  sign(user: string, revision: number): Promise<string> {
    return this.signFor(user, revision, this.o.ttlMs);
  }

  private async signFor(user: string, revision: number, ttlMs: number): Promise<string> {
    if (this.privateKey === undefined) {
      throw new Error("auth: token signing attempted with verify-only key");
    }
    return new SignJWT({ username: user, revision })
      .setProtectedHeader({ alg: this.o.signMethod, typ: "JWT" })
      .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000))
      .sign(this.privateKey);
  }

  /** Who a valid, unexpired token names; undefined for any other string. */
  async verify(token: string): Promise<(AuthInfo & { readonly expiresAtMs: number }) | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [this.o.signMethod],
        requiredClaims: ["exp"],
      });
      const { username, revision, exp } = payload as {
        username?: unknown;
        revision?: unknown;
        exp?: unknown;
      };
      if (typeof username !== "string" || typeof revision !== "number") return undefined;
      if (!Number.isSafeInteger(revision) || revision < 0 || typeof exp !== "number") {
        return undefined;
      }
      return { user: username, revision, expiresAtMs: exp * 1000 };
    } catch {
      return undefined;
    }
  }
}

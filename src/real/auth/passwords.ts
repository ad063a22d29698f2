// Password hashes for the auth store, made here in the host (etcd hashes in its API layer too):
// the engine only stores the string and compares it. scrypt, a memory-hard KDF, with a random salt;
// the string names its parameters, so they can change without breaking stored users:
//
//   scrypt$<log2 N>$<r>$<p>$<salt, base64>$<derived key, base64>
//
// A login derives a key from the given password with the stored string's parameters and salt; if
// it matches, the host hands that same string to the engine, which accepts the login only if the
// user still has it (a password changed meanwhile fails the login).

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

export interface ScryptParams {
  /** log2 of scrypt's cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** 2^15 x 8: about 32 MiB and some tens of milliseconds per hash, near etcd's bcrypt cost 10. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.logN,
    r: params.r,
    p: params.p,
    maxmem: 256 * 2 ** params.logN * params.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, options, (e, key) => (e === null ? resolve(key) : reject(e))),
  );
}

function format(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

interface Parsed {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function parse(hash: string): Parsed | undefined {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(
    hash,
  );
  if (m === null) return undefined;
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Refuse parameters no hash of ours has, so a bad stored string cannot exhaust memory.
  if (params.logN < 1 || params.logN > 20 || params.r < 1 || params.r > 32 || params.p < 1) {
    return undefined;
  }
  if (params.p > 16) return undefined;
  return {
    params,
    salt: Buffer.from(m[4] as string, "base64"),
    key: Buffer.from(m[5] as string, "base64"),
  };
}

/** A new hash of `password` with a fresh salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format(params, salt, await derive(password, salt, params));
}

/** Whether `password` matches the stored `hash` (false for a string that is not ours). */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parse(hash);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

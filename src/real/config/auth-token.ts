// etcd's --auth-token: "simple", or "jwt,pub-key=FILE,priv-key=FILE,sign-method=ALG[,ttl=DURATION]"
// (options after the type as comma-separated key=value pairs, each at most once, as etcd's
// decomposeOpts reads them). The key files are read when the server starts (src/real/auth/jwt.ts).
import { err, ok, type Result } from "../../lib/result.js";
import { parseGoDurationMs } from "./duration.js";

/** The JWT signing methods detcd signs and verifies with (etcd's RS*, PS*, ES* and EdDSA). */
export const JWT_SIGN_METHODS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number];

/** etcd's JWT default TTL: 5 minutes. */
export const DEFAULT_JWT_TTL_MS = 5 * 60_000;

export type AuthTokenConfig =
  | { readonly kind: "simple" }
  | {
      readonly kind: "jwt";
      readonly signMethod: JwtSignMethod;
      /** At least one of the two keys; without the private key tokens are only verified. */
      readonly publicKeyFile: string | undefined;
      readonly privateKeyFile: string | undefined;
      readonly ttlMs: number;
    };

const JWT_OPTIONS = ["pub-key", "priv-key", "sign-method", "ttl"];

/** Reads the --auth-token value; errors are etcd's words where etcd has them. */
export function parseAuthToken(text: string): Result<AuthTokenConfig, string> {
  const [type = "", ...rest] = text.split(",");
  const options = new Map<string, string>();
  for (const pair of rest) {
    const parts = pair.split("=");
    if (parts.length !== 2)
      return err(`auth: invalid auth options (option ${JSON.stringify(pair)})`);
    const [key = "", value = ""] = parts;
    if (options.has(key)) return err(`auth: invalid auth options (${key} given twice)`);
    options.set(key, value);
  }
  if (type === "simple") return ok({ kind: "simple" });
  if (type !== "jwt")
    return err(`auth: invalid auth options (unknown token type ${JSON.stringify(type)})`);
  const unknown = [...options.keys()].find((k) => !JWT_OPTIONS.includes(k));
  if (unknown !== undefined) return err(`auth: invalid auth options (unknown option ${unknown})`);
  const signMethod = JWT_SIGN_METHODS.find((m) => m === options.get("sign-method"));
  if (signMethod === undefined) return err("auth: invalid auth signature method");
  const publicKeyFile = options.get("pub-key") || undefined;
  const privateKeyFile = options.get("priv-key") || undefined;
  if (publicKeyFile === undefined && privateKeyFile === undefined) {
    return err("auth: missing key data");
  }
  let ttlMs = DEFAULT_JWT_TTL_MS;
  const ttl = options.get("ttl");
  if (ttl !== undefined && ttl !== "") {
    const parsed = parseGoDurationMs(ttl);
    if (!parsed.ok) return err(`auth: ${parsed.error}`);
    if (parsed.value <= 0) return err(`auth: ttl must be positive, got ${ttl}`);
    ttlMs = parsed.value;
  }
  return ok({ kind: "jwt", signMethod, publicKeyFile, privateKeyFile, ttlMs });
}

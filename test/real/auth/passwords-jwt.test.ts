import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword, verifyPassword } from "../../../src/real/auth/passwords.js";
import { JwtTokens } from "../../../src/real/auth/jwt.js";

const FAST = { logN: 10, r: 8, p: 1 };

describe("password hashes", () => {
  it("verify the password they were made from, and nothing else", async () => {
    const hash = await hashPassword("s3cret", FAST);
    expect(hash).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("s3cret", hash)).toBe(true);
    expect(await verifyPassword("s3cret!", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
    // A fresh salt each time: the same password never hashes alike.
    expect(await hashPassword("s3cret", FAST)).not.toBe(hash);
    expect(await verifyPassword("s3cret", "$2a$10$bcrypt-hash")).toBe(false);
    expect(await verifyPassword("s3cret", hash.replace("$10$", "$40$"))).toBe(false);
  });
});

async function keyFiles(type: "ec" | "rsa") {
  const dir = mkdtempSync(join(tmpdir(), "detcd-jwt-"));
  const pair =
    type === "ec"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const priv = join(dir, `${type}.key`);
  const pub = join(dir, `${type}.pub`);
  // RSA in PKCS#1, as openssl genrsa writes it; EC in PKCS#8.
  await fs.writeFile(
    priv,
    type === "rsa"
      ? pair.privateKey.export({ type: "pkcs1", format: "pem" })
      : pair.privateKey.export({ type: "pkcs8", format: "pem" }),
  );
  await fs.writeFile(pub, pair.publicKey.export({ type: "spki", format: "pem" }));
  return { priv, pub };
}

describe("JWT tokens", () => {
  it("sign etcd's claims and verify them; tampered, expired or foreign tokens are refused", async () => {
    const rsa = await keyFiles("rsa");
    const tokens = await JwtTokens.load({
      signMethod: "RS256",
      publicKeyFile: rsa.pub,
      privateKeyFile: rsa.priv,
      ttlMs: 60_000,
    });
    const token = await tokens.sign("alice", 5);
    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "RS256", typ: "JWT" });
    expect(await tokens.verify(token)).toMatchObject({ user: "alice", revision: 5 });
    // One signature character changed (not the last two, whose low bits base64url may ignore).
    const at = token.length - 10;
    const tampered = `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
    expect(await tokens.verify(tampered)).toBeUndefined();
    expect(await tokens.verify("a.b.c")).toBeUndefined();
    const expired = await JwtTokens.load({
      signMethod: "RS256",
      publicKeyFile: undefined,
      privateKeyFile: rsa.priv,
      ttlMs: 1,
    });
    expect(await expired.verify(await expired.sign("alice", 5))).toBeUndefined();
    // Another key pair's tokens do not verify.
    const other = await keyFiles("rsa");
    const foreign = await JwtTokens.load({
      signMethod: "RS256",
      publicKeyFile: undefined,
      privateKeyFile: other.priv,
      ttlMs: 60_000,
    });
    expect(await tokens.verify(await foreign.sign("root", 9))).toBeUndefined();
  });

  it("checks the keys at load and verifies only with a public key", async () => {
    const ec = await keyFiles("ec");
    const rsa = await keyFiles("rsa");
    await expect(
      JwtTokens.load({
        signMethod: "ES256",
        publicKeyFile: rsa.pub,
        privateKeyFile: ec.priv,
        ttlMs: 1000,
      }),
    ).rejects.toThrow("auth: public and private keys don't match");
    await expect(
      JwtTokens.load({
        signMethod: "ES256",
        publicKeyFile: undefined,
        privateKeyFile: rsa.priv,
        ttlMs: 1000,
      }),
    ).rejects.toThrow(/does not fit ES256/);
    await expect(
      JwtTokens.load({
        signMethod: "ES256",
        publicKeyFile: undefined,
        privateKeyFile: "/nope",
        ttlMs: 1000,
      }),
    ).rejects.toThrow(/cannot read the JWT private key \/nope/);
    const signer = await JwtTokens.load({
      signMethod: "ES256",
      publicKeyFile: undefined,
      privateKeyFile: ec.priv,
      ttlMs: 60_000,
    });
    const verifier = await JwtTokens.load({
      signMethod: "ES256",
      publicKeyFile: ec.pub,
      privateKeyFile: undefined,
      ttlMs: 60_000,
    });
    expect(verifier.canSign).toBe(false);
    await expect(verifier.sign("x", 1)).rejects.toThrow(
      "auth: token signing attempted with verify-only key",
    );
    expect(await verifier.verify(await signer.sign("bob", 3))).toMatchObject({
      user: "bob",
      revision: 3,
    });
  });
});

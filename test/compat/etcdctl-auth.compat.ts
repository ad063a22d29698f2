// Debian's etcdctl (v3.4) with auth against detcd: users, roles and permissions set with etcdctl,
// `auth enable`, then --user name:password on every member of a three-process cluster (simple
// tokens), and one member signing JWTs. Run by `npm run test:compat`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { tempDir, type MemberPorts } from "../real/server/helpers.js";
import { stopDetcd, type DetcdProcess } from "../real/server/processes.js";
import { etcdctl, startCluster as startMembers } from "./cluster.js";

const procs: DetcdProcess[] = [];
let dir = "";

async function startCluster(names: string[], sub: string, extra: string[] = []) {
  return startMembers(procs, dir, names, sub, extra);
}

/** Root and alice (reading the /a/ prefix) set up with etcdctl, then auth enabled. */
async function setUpWithEtcdctl(members: readonly MemberPorts[]): Promise<void> {
  const root = ["--user", "root:rootpw"];
  expect((await etcdctl(members, ["user", "add", "root:rootpw"])).stdout).toBe(
    "User root created\n",
  );
  expect((await etcdctl(members, ["auth", "enable"])).stdout).toBe("Authentication Enabled\n");
  for (const args of [
    ["user", "add", "alice:alicepw"],
    ["role", "add", "reader"],
    ["role", "grant-permission", "reader", "read", "/a/", "--prefix=true"],
    ["user", "grant-role", "alice", "reader"],
    ["put", "/a/x", "ax"],
    ["put", "/b/y", "by"],
  ]) {
    const r = await etcdctl(members, [...root, ...args]);
    expect(r, args.join(" ")).toMatchObject({ code: 0 });
  }
}

beforeAll(() => {
  dir = tempDir("compat-auth");
});

afterAll(async () => {
  await Promise.all(procs.map((p) => stopDetcd(p)));
});

describe("Debian etcdctl with auth", () => {
  it("users and roles from etcdctl, --user on every member, etcd's errors", async () => {
    const members = await startCluster(["a0", "a1", "a2"], "simple");
    await setUpWithEtcdctl(members);
    const root = ["--user", "root:rootpw"];
    expect((await etcdctl(members, [...root, "role", "get", "reader"])).stdout).toBe(
      "Role reader\nKV Read:\n\t[/a/, /a0) (prefix /a/)\nKV Write:\n",
    );
    expect((await etcdctl(members, [...root, "user", "get", "alice"])).stdout).toBe(
      "User: alice\nRoles: reader\n",
    );
    expect((await etcdctl(members, [...root, "user", "list"])).stdout).toBe("alice\nroot\n");
    // Every member serves alice with the token it got from whichever member logged her in.
    for (const m of members) {
      const alice = ["--user", "alice:alicepw"];
      expect(await etcdctl([m], [...alice, "get", "/a/x"])).toMatchObject({
        code: 0,
        stdout: "/a/x\nax\n",
      });
      const put = await etcdctl([m], [...alice, "put", "/a/x", "no"]);
      expect(put.code).not.toBe(0);
      expect(put.stderr).toContain("etcdserver: permission denied");
      const other = await etcdctl([m], [...alice, "get", "/b/y"]);
      expect(other.stderr).toContain("etcdserver: permission denied");
    }
    const anonymous = await etcdctl(members, ["get", "/a/x"]);
    expect(anonymous.stderr).toContain("etcdserver: user name is empty");
    const wrong = await etcdctl(members, ["--user", "alice:nope", "get", "/a/x"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(
      "etcdserver: authentication failed, invalid user ID or password",
    );
    // Maintenance needs the root role.
    const status = await etcdctl(members, ["--user", "alice:alicepw", "endpoint", "status"]);
    expect(status.stderr).toContain("etcdserver: permission denied");
    expect((await etcdctl(members, [...root, "endpoint", "status"])).code).toBe(0);
    // Revoking the role takes effect at once.
    await etcdctl(members, [...root, "user", "revoke-role", "alice", "reader"]);
    const revoked = await etcdctl(members, ["--user", "alice:alicepw", "get", "/a/x"]);
    expect(revoked.stderr).toContain("etcdserver: permission denied");
    expect((await etcdctl(members, [...root, "auth", "disable"])).stdout).toBe(
      "Authentication Disabled\n",
    );
    expect((await etcdctl(members, ["get", "/b/y", "--print-value-only"])).stdout).toBe("by\n");
  });

  it("JWT tokens (--auth-token jwt,...) work for etcdctl", async () => {
    const keys = join(dir, "keys");
    await fs.mkdir(keys, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await fs.writeFile(join(keys, "jwt.key"), privateKey.export({ type: "pkcs1", format: "pem" }));
    await fs.writeFile(join(keys, "jwt.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const token = `--auth-token=jwt,pub-key=${join(keys, "jwt.pub")},priv-key=${join(keys, "jwt.key")},sign-method=RS256`;
    const members = await startCluster(["j0"], "jwt", [token]);
    await setUpWithEtcdctl(members);
    expect(await etcdctl(members, ["--user", "alice:alicepw", "get", "/a/x"])).toMatchObject({
      code: 0,
      stdout: "/a/x\nax\n",
    });
    const denied = await etcdctl(members, ["--user", "alice:alicepw", "put", "/a/x", "no"]);
    expect(denied.stderr).toContain("etcdserver: permission denied");
  });
});

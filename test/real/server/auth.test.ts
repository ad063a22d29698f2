// Auth on a real member in this process, over gRPC: users, roles and permissions through the Auth
// service, simple tokens and JWTs in the "token" metadata, KV / watch / txn / maintenance checks,
// the etcd3 npm client logging in with a user name and password, and auth across a restart.
import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { fromUtf8, prefixEnd, utf8 } from "../../../src/lib/bytes.js";
import type { EtcdClient } from "../../../src/real/grpc/client.js";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { restoreSnapshot } from "../../../src/real/server/snapshot-file.js";
import {
  clientFor,
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
} from "./helpers.js";

const running: DetcdServer[] = [];
const clients: EtcdClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function startOne(flags: string[]): Promise<DetcdServer> {
  const server = await DetcdServer.start({ config: configOf(flags), log: memoryLogger().log });
  running.push(server);
  return server;
}

function client(port: number, token?: string): EtcdClient {
  const c = clientFor([port]);
  c.setToken(token);
  clients.push(c);
  return c;
}

const authCall = (c: EtcdClient, method: string, req: Record<string, unknown> = {}) =>
  c.call("etcdserverpb.Auth", method, req);

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

async function tokenOf(port: number, name: string, password: string): Promise<string> {
  const r = await authCall(client(port), "Authenticate", { name, password });
  return r.token as string;
}

async function login(port: number, name: string, password: string): Promise<EtcdClient> {
  return client(port, await tokenOf(port, name, password));
}

/** One member; root/rootpw with the root role, alice/alicepw reading /a/; auth enabled. */
async function setUp(extraFlags: string[] = []) {
  const [m] = await memberPorts(["auth"]);
  const dir = tempDir("auth");
  const flags = memberFlags(m!, [m!], join(dir, "data"), extraFlags);
  await startOne(flags);
  const port = m!.client;
  const admin = client(port);
  await eventually(async () => ((await admin.status()).leader !== 0n ? true : undefined));
  await admin.put({ key: utf8("/a/x"), value: utf8("ax") });
  await admin.put({ key: utf8("/b/y"), value: utf8("by") });
  await authCall(admin, "UserAdd", { name: "root", password: "rootpw" });
  await authCall(admin, "RoleAdd", { name: "root" });
  await authCall(admin, "UserGrantRole", { user: "root", role: "root" });
  await authCall(admin, "UserAdd", { name: "alice", password: "alicepw" });
  await authCall(admin, "RoleAdd", { name: "reader" });
  await authCall(admin, "RoleGrantPermission", {
    name: "reader",
    perm: { permType: "READ", key: utf8("/a/"), range_end: prefixEnd(utf8("/a/")) },
  });
  await authCall(admin, "UserGrantRole", { user: "alice", role: "reader" });
  await authCall(admin, "AuthEnable");
  return { port, flags, anonymous: admin };
}

describe("auth on a real member", () => {
  it("a reader of /a/ reads /a/x, cannot write it, cannot read /b/; watch and txn respect it", async () => {
    const { port, anonymous } = await setUp();
    expect(await failure(anonymous.range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: user name is empty",
    );
    expect(
      await failure(authCall(anonymous, "Authenticate", { name: "alice", password: "no" })),
    ).toContain("etcdserver: authentication failed, invalid user ID or password");
    const bogus = client(port, "nosuch.1");
    expect(await failure(bogus.range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: invalid auth token",
    );

    const alice = await login(port, "alice", "alicepw");
    const got = await alice.range({ key: utf8("/a/x") });
    expect(got.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["ax"]);
    expect(await failure(alice.put({ key: utf8("/a/x"), value: utf8("no") }))).toContain(
      "etcdserver: permission denied",
    );
    expect(await failure(alice.range({ key: utf8("/b/y") }))).toContain(
      "etcdserver: permission denied",
    );
    // Maintenance and user management need the root role.
    expect(await failure(alice.status())).toContain("etcdserver: permission denied");
    expect(await failure(authCall(alice, "UserList"))).toContain("etcdserver: permission denied");
    expect((await authCall(alice, "UserGet", { name: "alice" })).roles).toEqual(["reader"]);

    // Txn: compares need READ, and both branches are checked.
    const readOnly = {
      compare: [
        {
          key: utf8("/a/x"),
          result: "EQUAL" as const,
          target: "VALUE" as const,
          value: utf8("ax"),
        },
      ],
      success: [{ request: "request_range" as const, request_range: { key: utf8("/a/x") } }],
    };
    expect((await alice.txn(readOnly)).succeeded).toBe(true);
    const onB = {
      ...readOnly,
      compare: [
        {
          key: utf8("/b/y"),
          result: "EQUAL" as const,
          target: "VALUE" as const,
          value: utf8("by"),
        },
      ],
    };
    expect(await failure(alice.txn(onB))).toContain("etcdserver: permission denied");

    // Watch: /b/ is refused at creation, /a/ delivers the root's write.
    const root = await login(port, "root", "rootpw");
    const w = alice.watch();
    w.create({ key: utf8("/b/"), range_end: prefixEnd(utf8("/b/")) });
    const refused = await w.next();
    expect([refused.created, refused.canceled]).toEqual([true, true]);
    expect(refused.cancel_reason).toContain("etcdserver: permission denied");
    w.create({ key: utf8("/a/"), range_end: prefixEnd(utf8("/a/")) });
    const created = await w.next();
    expect([created.created, created.canceled]).toEqual([true, false]);
    await root.put({ key: utf8("/a/new"), value: utf8("n") });
    const event = await w.next();
    expect(event.events.map((e) => fromUtf8(e.kv.key))).toEqual(["/a/new"]);
    w.close();

    const status = await authCall(root, "AuthStatus");
    expect(status.enabled).toBe(true);
    expect((await authCall(root, "UserList")).users).toEqual(["alice", "root"]);
    expect((await authCall(root, "RoleGet", { role: "reader" })).perm).toEqual([
      { permType: "READ", key: utf8("/a/"), range_end: utf8("/a0") },
    ]);
  });

  it("JWT tokens: signed at the login's revision, refused once the auth revision moves", async () => {
    const dir = tempDir("jwt-keys");
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const priv = join(dir, "jwt.key");
    const pub = join(dir, "jwt.pub");
    await fs.writeFile(priv, privateKey.export({ type: "pkcs8", format: "pem" }));
    await fs.writeFile(pub, publicKey.export({ type: "spki", format: "pem" }));
    const { port } = await setUp([
      `--auth-token=jwt,pub-key=${pub},priv-key=${priv},sign-method=ES256,ttl=1m`,
    ]);
    const token = await tokenOf(port, "alice", "alicepw");
    const alice = client(port, token);
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(payload).toMatchObject({ username: "alice", revision: 8 });
    expect(payload.exp * 1000).toBeGreaterThan(Date.now() + 50_000);
    expect((await alice.range({ key: utf8("/a/x") })).count).toBe(1);
    const root = await login(port, "root", "rootpw");
    await authCall(root, "RoleGrantPermission", {
      name: "reader",
      perm: { permType: "READ", key: utf8("/c"), range_end: new Uint8Array(0) },
    });
    expect(await failure(alice.range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: revision of auth store is old",
    );
    const again = await login(port, "alice", "alicepw");
    expect((await again.range({ key: utf8("/a/x") })).count).toBe(1);
    expect(await failure(client(port, `${token}x`).range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: invalid auth token",
    );
  });

  it("the etcd3 client logs in with a user name and password", async () => {
    const { port } = await setUp();
    const etcd = new Etcd3({
      hosts: `127.0.0.1:${port}`,
      auth: { username: "alice", password: "alicepw" },
    });
    try {
      expect(await etcd.get("/a/x").string()).toBe("ax");
      await expect(etcd.put("/a/x").value("no")).rejects.toThrow(/permission denied/);
      await expect(etcd.get("/b/y").string()).rejects.toThrow(/permission denied/);
    } finally {
      etcd.close();
    }
    const wrong = new Etcd3({
      hosts: `127.0.0.1:${port}`,
      auth: { username: "alice", password: "nope" },
    });
    try {
      await expect(wrong.get("/a/x").string()).rejects.toThrow(/authentication failed/);
    } finally {
      wrong.close();
    }
  });

  it("users, roles and enabled auth survive a restart; simple tokens do not", async () => {
    const { port, flags } = await setUp();
    const alice = await login(port, "alice", "alicepw");
    expect((await alice.range({ key: utf8("/a/x") })).count).toBe(1);
    await running.pop()!.stop();
    await startOne(flags);
    await eventually(async () => {
      const r = await authCall(client(port), "Authenticate", {
        name: "alice",
        password: "alicepw",
      });
      return typeof r.token === "string" ? r : undefined;
    });
    expect(await failure(alice.range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: invalid auth token",
    );
    const again = await login(port, "alice", "alicepw");
    expect((await again.range({ key: utf8("/a/x") })).count).toBe(1);
    expect(await failure(again.range({ key: utf8("/b/y") }))).toContain("permission denied");
  });

  it("a snapshot restored into a new cluster keeps its users, roles and enabled auth", async () => {
    const { port } = await setUp();
    const root = await login(port, "root", "rootpw");
    const dir = tempDir("auth-restore");
    const file = join(dir, "snapshot.db");
    await fs.writeFile(file, await root.snapshot());
    const [r] = await memberPorts(["restored"]);
    const flags = memberFlags(r!, [r!], join(dir, "data"));
    await restoreSnapshot({
      snapshotPath: file,
      dataDir: join(dir, "data"),
      name: "restored",
      initialCluster: configOf(flags).initialCluster,
      initialClusterToken: "restored-cluster",
      initialAdvertisePeerURLs: [`http://127.0.0.1:${r!.peer}`],
    });
    await startOne(flags);
    const anonymous = client(r!.client);
    await eventually(async () => {
      const e = await failure(anonymous.range({ key: utf8("/a/x") }));
      return e.includes("user name is empty") ? e : undefined;
    });
    const alice = await login(r!.client, "alice", "alicepw");
    expect((await alice.range({ key: utf8("/a/x") })).count).toBe(1);
    expect(await failure(alice.put({ key: utf8("/a/x"), value: utf8("no") }))).toContain(
      "permission denied",
    );
  });
});

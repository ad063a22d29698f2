// Certificate users: with --client-cert-auth and no token, the verified client certificate's common
// name is the user name (etcd's AuthInfoFromTLS); a token, when given, wins.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fromUtf8, prefixEnd, utf8 } from "../../../src/lib/bytes.js";
import { EtcdClient, type EtcdClientTls } from "../../../src/real/grpc/client.js";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { issue, makePki, type CertFiles, type Pki } from "../tls/pki.js";
import {
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
} from "./helpers.js";

let pki: Pki;
let alice: CertFiles;
const running: DetcdServer[] = [];
const clients: EtcdClient[] = [];

beforeAll(async () => {
  pki = await makePki();
  alice = await issue(pki.dir, pki.ca, { name: "alice", commonName: "alice" });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await fs.rm(pki.dir, { recursive: true, force: true });
});

function client(port: number, cert: CertFiles, token?: string): EtcdClient {
  const tls: EtcdClientTls = { ca: pki.caPem, cert: cert.pem.cert, key: cert.pem.key };
  const c = new EtcdClient({ endpoints: [`https://127.0.0.1:${port}`], callTimeoutMs: 5_000, tls });
  c.setToken(token);
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
}

describe("client certificate users", () => {
  it("the certificate's CN is the user when no token is given", async () => {
    const [m] = await memberPorts(["certs"]);
    const dir = tempDir("auth-cert");
    const flags = [
      ...memberFlags(m!, [m!], join(dir, "data")),
      `--listen-client-urls=https://127.0.0.1:${m!.client}`,
      `--advertise-client-urls=https://127.0.0.1:${m!.client}`,
      `--cert-file=${pki.server.cert}`,
      `--key-file=${pki.server.key}`,
      `--trusted-ca-file=${pki.caFile}`,
      "--client-cert-auth",
    ];
    running.push(await DetcdServer.start({ config: configOf(flags), log: memoryLogger().log }));
    const port = m!.client;
    // pki.client's CN is "root".
    const root = client(port, pki.client);
    await eventually(async () => ((await root.status()).leader !== 0n ? true : undefined), 15_000);
    const auth = (c: EtcdClient, method: string, req: Record<string, unknown> = {}) =>
      c.call("etcdserverpb.Auth", method, req);
    await root.put({ key: utf8("/a/x"), value: utf8("ax") });
    await auth(root, "UserAdd", { name: "root", options: { no_password: true } });
    await auth(root, "UserGrantRole", { user: "root", role: "root" });
    await auth(root, "UserAdd", { name: "alice", options: { no_password: true } });
    await auth(root, "RoleAdd", { name: "reader" });
    await auth(root, "RoleGrantPermission", {
      name: "reader",
      perm: { permType: "READ", key: utf8("/a/"), range_end: prefixEnd(utf8("/a/")) },
    });
    await auth(root, "UserGrantRole", { user: "alice", role: "reader" });
    await auth(root, "AuthEnable");

    expect((await auth(root, "AuthStatus")).enabled).toBe(true);
    expect((await root.status()).leader).not.toBe(0n);
    const asAlice = client(port, alice);
    const got = await asAlice.range({ key: utf8("/a/x") });
    expect(got.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["ax"]);
    expect(await failure(asAlice.put({ key: utf8("/a/x"), value: utf8("no") }))).toContain(
      "etcdserver: permission denied",
    );
    // A user without a password cannot log in with one.
    expect(await failure(auth(asAlice, "Authenticate", { name: "alice", password: "" }))).toContain(
      "etcdserver: authentication failed, invalid user ID or password",
    );
    // A token wins over the certificate: alice's connection acting with an invalid token fails.
    expect(await failure(client(port, alice, "bogus.9").range({ key: utf8("/a/x") }))).toContain(
      "etcdserver: invalid auth token",
    );
  });
});

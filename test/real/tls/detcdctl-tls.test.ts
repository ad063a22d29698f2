// detcdctl's TLS flags (etcdctl's --cacert, --cert, --key, --insecure-skip-tls-verify and their
// ETCDCTL_* variables) against a member in this process that requires client certificates.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { ctl } from "../ctl/helpers.js";
import {
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
  type MemberPorts,
} from "../server/helpers.js";
import { makePki, type Pki } from "./pki.js";

let pki: Pki;
let m: MemberPorts;
let server: DetcdServer;

function endpoint(): string {
  return `--endpoints=https://127.0.0.1:${m.client}`;
}

function withCert(): string[] {
  return [`--cacert=${pki.caFile}`, `--cert=${pki.client.cert}`, `--key=${pki.client.key}`];
}

beforeAll(async () => {
  pki = await makePki();
  [m] = (await memberPorts(["ctl-tls"])) as [MemberPorts];
  server = await DetcdServer.start({
    config: configOf([
      ...memberFlags(m, [m], join(tempDir("ctl-tls"), "data")),
      `--listen-client-urls=https://127.0.0.1:${m.client}`,
      `--advertise-client-urls=https://127.0.0.1:${m.client}`,
      `--cert-file=${pki.server.cert}`,
      `--key-file=${pki.server.key}`,
      `--trusted-ca-file=${pki.caFile}`,
      "--client-cert-auth",
    ]),
    log: memoryLogger().log,
  });
  await eventually(async () => {
    const r = await ctl([endpoint(), ...withCert(), "put", "probe", "1"]);
    return r.code === 0 ? true : undefined;
  }, 15_000);
}, 60_000);

afterAll(async () => {
  await server.stop();
  await fs.rm(pki.dir, { recursive: true, force: true });
});

describe("detcdctl with TLS", () => {
  it("put and get with --cacert --cert --key", async () => {
    expect(await ctl([endpoint(), ...withCert(), "put", "k", "v"])).toMatchObject({
      code: 0,
      stdout: "OK\n",
    });
    expect((await ctl([endpoint(), ...withCert(), "get", "k"])).stdout).toBe("k\nv\n");
  });

  it("reads the files from ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY", async () => {
    const r = await ctl([endpoint(), "get", "k", "--print-value-only"], {
      env: {
        ETCDCTL_CACERT: pki.caFile,
        ETCDCTL_CERT: pki.client.cert,
        ETCDCTL_KEY: pki.client.key,
      },
    });
    expect(r).toMatchObject({ code: 0, stdout: "v\n" });
  });

  it("--insecure-skip-tls-verify accepts a server it cannot verify", async () => {
    const r = await ctl([
      endpoint(),
      "--insecure-skip-tls-verify",
      `--cert=${pki.client.cert}`,
      `--key=${pki.client.key}`,
      "get",
      "k",
      "--print-value-only",
    ]);
    expect(r).toMatchObject({ code: 0, stdout: "v\n" });
  });

  it("fails without a client certificate, and names a missing file", async () => {
    const refused = await ctl([
      endpoint(),
      `--cacert=${pki.caFile}`,
      "--command-timeout=2s",
      "get",
      "k",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^Error: rpc error: code = Unavailable desc = /);
    const missing = join(pki.dir, "nope.crt");
    expect(await ctl([endpoint(), `--cacert=${missing}`, "get", "k"])).toMatchObject({
      code: 128,
      stderr: `Error: open ${missing}: no such file or directory\n`,
    });
    expect(
      await ctl([endpoint(), `--cacert=${pki.caFile}`, `--cert=${pki.client.cert}`, "get", "k"]),
    ).toMatchObject({ code: 128, stderr: "Error: --cert requires --key\n" });
  });
});

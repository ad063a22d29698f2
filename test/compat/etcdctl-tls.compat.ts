// Debian's etcdctl (3.4) against a detcd member that requires client certificates, as the seed's
// pod runs etcd: --cacert/--cert/--key from files in a temp dir. Without a certificate, or with one
// from another CA, etcdctl is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { EtcdClient } from "../../src/real/grpc/client.js";
import { makePki, type Pki } from "../real/tls/pki.js";
import { eventually, memberPorts, tempDir, type MemberPorts } from "../real/server/helpers.js";
import { startDetcd, stopDetcd, type DetcdProcess } from "../real/server/processes.js";

const run = promisify(execFile);
const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";

let pki: Pki;
let m: MemberPorts;
let proc: DetcdProcess;

function endpoint(): string {
  return `https://127.0.0.1:${m.client}`;
}

function etcdctl(args: readonly string[], tls: readonly string[]) {
  return run(ETCDCTL, [`--endpoints=${endpoint()}`, "--dial-timeout=3s", ...tls, ...args], {
    env: { ...process.env, ETCDCTL_API: "3" },
    timeout: 20_000,
  });
}

function withCert(): string[] {
  return [`--cacert=${pki.caFile}`, `--cert=${pki.client.cert}`, `--key=${pki.client.key}`];
}

beforeAll(async () => {
  pki = await makePki();
  [m] = (await memberPorts(["secure0"])) as [MemberPorts];
  const dir = tempDir("compat-tls");
  proc = startDetcd(m.name, [
    `--name=${m.name}`,
    `--data-dir=${join(dir, m.name)}`,
    `--listen-client-urls=${endpoint()}`,
    `--advertise-client-urls=${endpoint()}`,
    `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
    `--initial-cluster=${m.name}=http://127.0.0.1:${m.peer}`,
    "--heartbeat-interval=20",
    "--election-timeout=200",
    `--cert-file=${pki.server.cert}`,
    `--key-file=${pki.server.key}`,
    `--trusted-ca-file=${pki.caFile}`,
    "--client-cert-auth",
  ]);
  const c = new EtcdClient({
    endpoints: [endpoint()],
    callTimeoutMs: 3_000,
    tls: { ca: pki.caPem, cert: pki.client.pem.cert, key: pki.client.pem.key },
  });
  await eventually(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`exited: ${proc.stderr.join("")}`);
      return (await c.status()).leader !== 0n ? true : undefined;
    },
    60_000,
    "a leader",
  );
  c.close();
}, 90_000);

afterAll(async () => {
  await stopDetcd(proc);
  await fs.rm(pki.dir, { recursive: true, force: true });
});

describe("Debian etcdctl with TLS client certificates", () => {
  it("put, get, endpoint health and member list with --cacert --cert --key", async () => {
    expect((await etcdctl(["put", "/registry/secure", "v1"], withCert())).stdout).toBe("OK\n");
    expect((await etcdctl(["get", "/registry/secure"], withCert())).stdout).toBe(
      "/registry/secure\nv1\n",
    );
    const health = await etcdctl(["endpoint", "health"], withCert());
    expect(health.stderr).toMatch(
      new RegExp(`https://127\\.0\\.0\\.1:${m.client} is healthy: successfully committed proposal`),
    );
    // The member publishes its client URLs through Raft soon after it starts leading.
    const row = `, ${m.name}, http://127.0.0.1:${m.peer}, ${endpoint()}, false`;
    const members = await eventually(
      async () => {
        const out = (await etcdctl(["member", "list"], withCert())).stdout;
        return out.includes(row) ? out : undefined;
      },
      10_000,
      "the member's published client URL",
    );
    expect(members).toContain(row);
  });

  it("the ETCDCTL_CACERT, ETCDCTL_CERT and ETCDCTL_KEY variables", async () => {
    const out = await run(ETCDCTL, [`--endpoints=${endpoint()}`, "get", "/registry/secure"], {
      env: {
        ...process.env,
        ETCDCTL_API: "3",
        ETCDCTL_CACERT: pki.caFile,
        ETCDCTL_CERT: pki.client.cert,
        ETCDCTL_KEY: pki.client.key,
      },
      timeout: 20_000,
    });
    expect(out.stdout).toBe("/registry/secure\nv1\n");
  });

  it("is refused without a client certificate, and with one from another CA", async () => {
    for (const tls of [
      [`--cacert=${pki.caFile}`],
      [
        `--cacert=${pki.caFile}`,
        `--cert=${pki.otherCaClient.cert}`,
        `--key=${pki.otherCaClient.key}`,
      ],
    ]) {
      const failed = await etcdctl(["get", "/registry/secure"], tls).then(
        () => undefined,
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toMatch(/context deadline exceeded|connection|certificate|transport/);
    }
    // A client that does not trust the server's CA refuses the server.
    const untrusting = await etcdctl(
      ["get", "/registry/secure"],
      [`--cacert=${pki.otherCaFile}`, `--cert=${pki.client.cert}`, `--key=${pki.client.key}`],
    ).then(
      () => undefined,
      (e: unknown) => e as { code: number },
    );
    expect(untrusting?.code).toBe(1);
    // --insecure-skip-tls-verify accepts the server without its CA.
    const skipped = await etcdctl(
      ["get", "/registry/secure", "--print-value-only"],
      ["--insecure-skip-tls-verify", `--cert=${pki.client.cert}`, `--key=${pki.client.key}`],
    );
    expect(skipped.stdout).toBe("v1\n");
  });
});

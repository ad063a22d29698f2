// TLS on the client port of one member in this process: gRPC and HTTP over https, client
// certificates required and checked in the handshake (no certificate, another CA's and a revoked one
// are refused), a rotated certificate picked up without a restart, --auto-tls, and the startup
// errors for unusable certificate files.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import { request } from "node:https";
import { connect, type ConnectionOptions, type PeerCertificate } from "node:tls";
import { join } from "node:path";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.js";
import { EtcdClient, type EtcdClientTls } from "../../../src/real/grpc/client.js";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { startServerProcess } from "../../../src/real/server/server-process.js";
import {
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
  type MemberPorts,
} from "../server/helpers.js";
import { issue, makePki, type Pki } from "./pki.js";

let pki: Pki;
const running: DetcdServer[] = [];
const clients: EtcdClient[] = [];

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await fs.rm(pki.dir, { recursive: true, force: true });
});

/** A member whose client URL is https; peers stay plain. */
function httpsFlags(m: MemberPorts, dataDir: string, extra: string[]): string[] {
  return [
    ...memberFlags(m, [m], dataDir),
    `--listen-client-urls=https://127.0.0.1:${m.client}`,
    `--advertise-client-urls=https://127.0.0.1:${m.client}`,
    ...extra,
  ];
}

function mtlsFlags(): string[] {
  return [
    `--cert-file=${pki.server.cert}`,
    `--key-file=${pki.server.key}`,
    `--trusted-ca-file=${pki.caFile}`,
    "--client-cert-auth",
    `--client-crl-file=${pki.crlFile}`,
  ];
}

async function startOne(
  extra: string[],
  tlsReloadPollMs?: number,
): Promise<{ server: DetcdServer; m: MemberPorts; dir: string; logs: string[] }> {
  const [m] = await memberPorts(["solo"]);
  const dir = tempDir("tls");
  const { log, lines } = memoryLogger();
  const server = await DetcdServer.start({
    config: configOf(httpsFlags(m!, join(dir, "data"), extra)),
    log,
    http: (req, res) => {
      const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
      res.end(JSON.stringify({ path: req.url, encrypted }));
    },
    ...(tlsReloadPollMs === undefined ? {} : { tlsReloadPollMs }),
  });
  running.push(server);
  return { server, m: m!, dir, logs: lines };
}

function client(port: number, tls: EtcdClientTls): EtcdClient {
  const c = new EtcdClient({
    endpoints: [`https://127.0.0.1:${port}`],
    callTimeoutMs: 3_000,
    tls,
  });
  clients.push(c);
  return c;
}

function goodTls(): EtcdClientTls {
  return { ca: pki.caPem, cert: pki.client.pem.cert, key: pki.client.pem.key };
}

async function leaderOf(c: EtcdClient): Promise<void> {
  await eventually(async () => ((await c.status()).leader !== 0n ? true : undefined), 15_000);
}

interface Handshake {
  readonly cert?: PeerCertificate;
  readonly alpn?: string | false;
  /** The server closed the connection (or failed the handshake) without answering. */
  readonly refused: boolean;
  readonly error?: string;
}

/** A raw TLS connection that sends the HTTP/2 preface and sees whether the server keeps it. */
function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ca: pki.caPem, ...options });
    let shown: Pick<Handshake, "cert" | "alpn"> = {};
    let settled = false;
    const settle = (refused: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...shown, refused, ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(() => settle(false), 1_000);
    socket.once("secureConnect", () => {
      shown = { cert: socket.getPeerCertificate(), alpn: socket.alpnProtocol ?? false };
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    });
    // A server that accepts answers the preface with its own SETTINGS frame.
    socket.on("data", () => settle(false));
    socket.once("error", (e) => settle(true, e.message));
    socket.once("close", () => settle(true));
  });
}

function httpsGet(
  port: number,
  path: string,
  cert: { cert: string; key: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Node's https offers no ALPN: the port tells HTTP from gRPC by the first bytes, as on http.
    const req = request(
      { host: "127.0.0.1", port, path, ca: pki.caPem, ...cert, agent: false },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("client TLS (one member in this process)", () => {
  it("serves gRPC and HTTP over https to a client with a certificate from the trusted CA", async () => {
    const { m } = await startOne(mtlsFlags());
    const c = client(m.client, goodTls());
    await leaderOf(c);
    await c.put({ key: utf8("tls/a"), value: utf8("secret") });
    const got = await c.range({ key: utf8("tls/a") });
    expect(fromUtf8(got.kvs[0]!.value)).toBe("secret");

    const http = await httpsGet(m.client, "/version", pki.client.pem);
    expect(http).toEqual({ status: 200, body: '{"path":"/version","encrypted":true}' });
    const http1 = await handshake(m.client, { ...pki.client.pem, ALPNProtocols: ["http/1.1"] });
    expect(http1.alpn).toBe("http/1.1");
    const shown = await handshake(m.client, {
      cert: pki.client.pem.cert,
      key: pki.client.pem.key,
      ALPNProtocols: ["h2"],
    });
    expect(shown.error).toBeUndefined();
    expect(shown.alpn).toBe("h2");
    expect(shown.cert?.subject.CN).toBe("detcd-server");
    expect(shown.cert?.serialNumber).toBe(pki.server.serial.toUpperCase());
  });

  it("refuses, as the handshake completes, no certificate, another CA's certificate and a revoked one", async () => {
    const { m, logs } = await startOne(mtlsFlags());
    const good = client(m.client, goodTls());
    await leaderOf(good);
    for (const tls of [
      { ca: pki.caPem },
      { ca: pki.caPem, cert: pki.otherCaClient.pem.cert, key: pki.otherCaClient.pem.key },
      { ca: pki.caPem, cert: pki.revokedClient.pem.cert, key: pki.revokedClient.pem.key },
    ]) {
      const refused = await client(m.client, tls)
        .range({ key: utf8("tls/a") })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as { code: number }).code).toBe(14); // UNAVAILABLE
    }
    expect((await handshake(m.client, pki.client.pem)).refused).toBe(false);
    for (const refusedOne of [{}, pki.otherCaClient.pem, pki.revokedClient.pem]) {
      expect((await handshake(m.client, refusedOne)).refused).toBe(true);
    }
    const rejections = logs.filter((l) => l.includes('"msg":"rejected connection"')).join("\n");
    expect(rejections).toContain("client certificate authentication failed: CERT_REVOKED");
    expect(rejections).toContain(
      "client certificate authentication failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
    expect(rejections).toMatch(/client certificate authentication failed: [A-Z_]*CERT/);
    // A plain TCP client speaking gRPC gets no answer from an https port.
    const plain = new EtcdClient({ endpoints: [`127.0.0.1:${m.client}`], callTimeoutMs: 2_000 });
    clients.push(plain);
    await expect(plain.range({ key: utf8("tls/a") })).rejects.toThrow();
    // The right client still works.
    expect((await good.range({ key: utf8("tls/a") })).count).toBe(0);
  });

  it("verifies the server: a client trusting another CA refuses it; skipping verification works", async () => {
    const { m } = await startOne([
      `--cert-file=${pki.server.cert}`,
      `--key-file=${pki.server.key}`,
    ]);
    const wrongCa = client(m.client, { ca: pki.otherCa.pem.cert });
    await expect(wrongCa.status()).rejects.toThrow();
    const skip = client(m.client, { insecureSkipVerify: true });
    await leaderOf(skip);
    const named = client(m.client, { ca: pki.caPem, serverName: "localhost" });
    expect((await named.status()).leader).not.toBe(0n);
  });

  it("picks up a rotated certificate for new connections without a restart", async () => {
    const dir = tempDir("rotate");
    const cert = join(dir, "server.crt");
    const key = join(dir, "server.key");
    await fs.copyFile(pki.server.cert, cert);
    await fs.copyFile(pki.server.key, key);
    const { m, logs } = await startOne([`--cert-file=${cert}`, `--key-file=${key}`], 100);
    const c = client(m.client, { ca: pki.caPem });
    await leaderOf(c);
    const before = await handshake(m.client, {});
    expect(before.cert?.serialNumber).toBe(pki.server.serial.toUpperCase());

    const next = await issue(dir, pki.ca, { name: "next", commonName: "detcd-server-2" });
    // Written the way a careless operator would: the certificate first, the key a moment later.
    // The half-written state (new certificate, old key) is refused and the old pair stays in use.
    await fs.copyFile(next.cert, cert);
    await eventually(
      async () => (logs.some((l) => l.includes("changed TLS files not loaded")) ? true : undefined),
      5_000,
      "the mismatched pair to be refused",
    );
    expect((await handshake(m.client, {})).cert?.serialNumber).toBe(
      pki.server.serial.toUpperCase(),
    );
    await fs.copyFile(next.key, key);
    const after = await eventually(async () => {
      const shown = await handshake(m.client, {});
      return shown.cert?.subject.CN === "detcd-server-2" ? shown : undefined;
    }, 5_000);
    expect(after.cert?.serialNumber).toBe(next.serial.toUpperCase());
    expect(logs.some((l) => l.includes('"msg":"reloaded TLS certificate"'))).toBe(true);
    // The client's existing connection goes on; a new client connects to the new certificate.
    expect((await c.status()).leader).not.toBe(0n);
    expect((await client(m.client, { ca: pki.caPem }).status()).leader).not.toBe(0n);
  });

  it("--auto-tls: a self-signed certificate in <data-dir>/fixtures/client, kept across restarts", async () => {
    const { server, m, dir } = await startOne(["--auto-tls"]);
    const certFile = join(dir, "data", "fixtures", "client", "cert.pem");
    const pem = await fs.readFile(certFile, "utf8");
    expect(pem).toContain("BEGIN CERTIFICATE");
    expect(server.tls.client?.leaf.subject).toBe("O=etcd\nCN=etcd");
    const skip = client(m.client, { insecureSkipVerify: true });
    await leaderOf(skip);
    await skip.put({ key: utf8("auto"), value: utf8("tls") });
    // The certificate names the listen address, so a client can also pin it as its CA.
    const pinned = client(m.client, { ca: pem });
    expect((await pinned.range({ key: utf8("auto") })).count).toBe(1);
    const serial = server.tls.client?.leaf.serialNumber;
    await server.stop();
    running.splice(running.indexOf(server), 1);
    const again = await DetcdServer.start({
      config: configOf(httpsFlags(m, join(dir, "data"), ["--auto-tls"])),
      log: memoryLogger().log,
    });
    running.push(again);
    expect(again.tls.client?.leaf.serialNumber).toBe(serial);
  });
});

describe("https metrics URL", () => {
  it("serves /metrics with the client certificate and checks client certificates", async () => {
    const [m] = await memberPorts(["metrics"]);
    const metricsPort = (await memberPorts(["x"]))[0]!.client;
    const config = configOf(
      httpsFlags(m!, join(tempDir("metrics"), "data"), [
        ...mtlsFlags(),
        `--listen-metrics-urls=https://127.0.0.1:${metricsPort}`,
      ]),
    );
    const p = await startServerProcess(config, memoryLogger().log, { exitOnSignal: false });
    try {
      const got = await httpsGet(metricsPort, "/metrics", pki.client.pem);
      expect(got.status).toBe(200);
      expect(got.body).toContain("etcd_server_has_leader");
      await expect(httpsGet(metricsPort, "/metrics", pki.otherCaClient.pem)).rejects.toThrow(
        /socket hang up|ECONNRESET/,
      );
    } finally {
      await p.stop();
    }
  });
});

describe("TLS versions and cipher suites", () => {
  it("--tls-min-version=TLS1.3 refuses a TLS 1.2 client", async () => {
    const { m } = await startOne([
      `--cert-file=${pki.server.cert}`,
      `--key-file=${pki.server.key}`,
      "--tls-min-version=TLS1.3",
    ]);
    const modern = await handshake(m.client, { maxVersion: "TLSv1.3" });
    expect(modern.refused).toBe(false);
    const old = await handshake(m.client, { maxVersion: "TLSv1.2" });
    expect(old.refused).toBe(true);
    expect(old.error).toMatch(/protocol version/);
  });

  it("--cipher-suites limits TLS 1.2 to the suites named; --tls-max-version=TLS1.2 holds to 1.2", async () => {
    const { m } = await startOne([
      `--cert-file=${pki.server.cert}`,
      `--key-file=${pki.server.key}`,
      "--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "--tls-max-version=TLS1.2",
    ]);
    const chosen = await new Promise<{ version: string | null; cipher: string }>(
      (resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: m.client, ca: pki.caPem }, () => {
          resolve({ version: socket.getProtocol(), cipher: socket.getCipher().name });
          socket.destroy();
        });
        socket.once("error", reject);
      },
    );
    expect(chosen).toEqual({ version: "TLSv1.2", cipher: "ECDHE-ECDSA-AES256-GCM-SHA384" });
    const other = await handshake(m.client, { ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" });
    expect(other.refused).toBe(true);
    expect(other.error).toMatch(/handshake failure/);
  });
});

describe("peer TLS with --peer-auto-tls (three members in this process)", () => {
  it("members generate peer certificates, elect a leader over TLS and replicate", async () => {
    const ports = await memberPorts(["auto0", "auto1", "auto2"]);
    const dir = tempDir("peer-auto");
    const cluster = ports.map((p) => `${p.name}=https://127.0.0.1:${p.peer}`).join(",");
    const servers = await Promise.all(
      ports.map((p) =>
        DetcdServer.start({
          config: configOf([
            ...memberFlags(p, ports, join(dir, p.name)),
            `--listen-peer-urls=https://127.0.0.1:${p.peer}`,
            `--initial-advertise-peer-urls=https://127.0.0.1:${p.peer}`,
            `--initial-cluster=${cluster}`,
            "--peer-auto-tls",
          ]),
          log: memoryLogger().log,
        }),
      ),
    );
    running.push(...servers);
    for (const p of ports) {
      const pem = await fs.readFile(join(dir, p.name, "fixtures", "peer", "cert.pem"), "utf8");
      expect(pem).toContain("BEGIN CERTIFICATE");
    }
    expect(servers.map((s) => s.tls.peer?.leaf.commonName)).toEqual(["etcd", "etcd", "etcd"]);
    const c = new EtcdClient({
      endpoints: ports.map((p) => `127.0.0.1:${p.client}`),
      callTimeoutMs: 3_000,
    });
    clients.push(c);
    await eventually(async () => {
      await c.put({ key: utf8("over"), value: utf8("tls peers") });
      return true;
    }, 20_000);
    for (const p of ports) {
      const one = new EtcdClient({ endpoints: [`127.0.0.1:${p.client}`], callTimeoutMs: 3_000 });
      clients.push(one);
      const got = await eventually(
        async () => (await one.range({ key: utf8("over"), serializable: true })).kvs[0],
      );
      expect(fromUtf8(got.value)).toBe("tls peers");
    }
  });
});

describe("startup errors for unusable certificate files", () => {
  async function startError(extra: string[]): Promise<string> {
    const [m] = await memberPorts(["bad"]);
    const started = await DetcdServer.start({
      config: configOf(httpsFlags(m!, join(tempDir("bad"), "data"), extra)),
      log: memoryLogger().log,
    }).then(
      (s) => {
        running.push(s);
        return "started";
      },
      (e: unknown) => (e as Error).message,
    );
    return started;
  }

  it("a key that does not match the certificate", async () => {
    expect(
      await startError([`--cert-file=${pki.server.cert}`, `--key-file=${pki.client.key}`]),
    ).toBe(
      `--key-file ${pki.client.key}: the private key does not match the certificate in --cert-file ${pki.server.cert}`,
    );
  });

  it("an expired certificate and one not valid yet", async () => {
    expect(
      await startError([`--cert-file=${pki.expired.cert}`, `--key-file=${pki.expired.key}`]),
    ).toMatch(
      new RegExp(
        `^--cert-file ${pki.expired.cert}: the certificate has expired: valid until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, now `,
      ),
    );
    expect(
      await startError([
        `--cert-file=${pki.notYetValid.cert}`,
        `--key-file=${pki.notYetValid.key}`,
      ]),
    ).toMatch(new RegExp(`^--cert-file ${pki.notYetValid.cert}: the certificate is not valid yet`));
  });

  it("unreadable files, a file that holds no certificate, a bad key", async () => {
    const missing = join(pki.dir, "missing.crt");
    expect(await startError([`--cert-file=${missing}`, `--key-file=${pki.server.key}`])).toBe(
      `--cert-file ${missing}: cannot read the file: ENOENT: no such file or directory`,
    );
    expect(
      await startError([`--cert-file=${pki.server.key}`, `--key-file=${pki.server.key}`]),
    ).toBe(`--cert-file ${pki.server.key}: no PEM certificate ("BEGIN CERTIFICATE") in the file`);
    expect(
      await startError([`--cert-file=${pki.server.cert}`, `--key-file=${pki.server.cert}`]),
    ).toMatch(new RegExp(`^--key-file ${pki.server.cert}: not a usable private key: `));
    expect(
      await startError([
        `--cert-file=${pki.server.cert}`,
        `--key-file=${pki.server.key}`,
        `--trusted-ca-file=${pki.server.key}`,
        "--client-cert-auth",
      ]),
    ).toBe(
      `--trusted-ca-file ${pki.server.key}: no PEM certificate ("BEGIN CERTIFICATE") in the file`,
    );
    expect(
      await startError([
        `--cert-file=${pki.server.cert}`,
        `--key-file=${pki.server.key}`,
        `--client-crl-file=${pki.caFile}`,
      ]),
    ).toMatch(new RegExp(`^--client-crl-file ${pki.caFile}: not a usable CRL: `));
  });
});

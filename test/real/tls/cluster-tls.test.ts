// Three detcd processes with TLS everywhere, as the seed's Kubernetes pod runs etcd: https client
// URLs requiring client certificates from the CA, https peer URLs requiring peer certificates of
// the allowed CN. The typed client and the etcd3 npm client work over TLS; a fourth member joins
// over TLS; a would-be member whose certificate has another CN cannot join.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { Etcd3 } from "etcd3";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.js";
import { EtcdClient } from "../../../src/real/grpc/client.js";
import { eventually, memberPorts, tempDir, type MemberPorts } from "../server/helpers.js";
import { startDetcd, stopDetcd, type DetcdProcess } from "../server/processes.js";
import { makePki, type CertFiles, type Pki } from "./pki.js";

let pki: Pki;
let ports: MemberPorts[] = [];
const procs: DetcdProcess[] = [];
let dir = "";

function peerURL(m: MemberPorts): string {
  return `https://127.0.0.1:${m.peer}`;
}

function clientURL(m: MemberPorts): string {
  return `https://127.0.0.1:${m.client}`;
}

function tlsFlags(
  m: MemberPorts,
  cluster: readonly MemberPorts[],
  peerCert: CertFiles,
  extra: readonly string[] = [],
): string[] {
  return [
    `--name=${m.name}`,
    `--data-dir=${join(dir, m.name)}`,
    `--listen-client-urls=${clientURL(m)}`,
    `--advertise-client-urls=${clientURL(m)}`,
    `--listen-peer-urls=${peerURL(m)}`,
    `--initial-advertise-peer-urls=${peerURL(m)}`,
    `--initial-cluster=${cluster.map((c) => `${c.name}=${peerURL(c)}`).join(",")}`,
    "--initial-cluster-token=tls-cluster",
    "--heartbeat-interval=20",
    "--election-timeout=200",
    `--cert-file=${pki.server.cert}`,
    `--key-file=${pki.server.key}`,
    `--trusted-ca-file=${pki.caFile}`,
    "--client-cert-auth",
    `--peer-cert-file=${peerCert.cert}`,
    `--peer-key-file=${peerCert.key}`,
    `--peer-trusted-ca-file=${pki.caFile}`,
    "--peer-client-cert-auth",
    "--peer-cert-allowed-cn=etcd-peer",
    "--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ...extra,
  ];
}

function client(members: readonly MemberPorts[]): EtcdClient {
  return new EtcdClient({
    endpoints: members.map(clientURL),
    callTimeoutMs: 5_000,
    tls: { ca: pki.caPem, cert: pki.client.pem.cert, key: pki.client.pem.key },
  });
}

function exitedEarly(): void {
  const exited = procs.find((p) => p.child.exitCode !== null);
  if (exited !== undefined) throw new Error(`${exited.name} exited: ${exited.stderr.join("")}`);
}

beforeAll(async () => {
  pki = await makePki();
  dir = tempDir("tls-cluster");
  ports = await memberPorts(["infra0", "infra1", "infra2"]);
  for (const m of ports) procs.push(startDetcd(m.name, tlsFlags(m, ports, pki.peer)));
  await eventually(
    async () => {
      exitedEarly();
      const statuses = await Promise.all(ports.map((m) => client([m]).status()));
      const leaders = new Set(statuses.map((s) => s.leader));
      return leaders.size === 1 && !leaders.has(0n) ? true : undefined;
    },
    60_000,
    "one leader over TLS",
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => stopDetcd(p)));
  await fs.rm(pki.dir, { recursive: true, force: true });
});

describe("a three-member cluster with client and peer TLS", () => {
  it("serves the typed client: writes replicate over TLS peers, members advertise https", async () => {
    const c = client(ports);
    await c.put({ key: utf8("secure/a"), value: utf8("1") });
    for (const m of ports) {
      const one = client([m]);
      const got = await eventually(async () => {
        const r = await one.range({ key: utf8("secure/a"), serializable: true });
        return r.kvs[0];
      });
      expect(fromUtf8(got.value)).toBe("1");
      one.close();
    }
    // Each member publishes its client URLs through Raft once it has started.
    const list = await eventually(async () => {
      const l = await c.memberList({ linearizable: true });
      return l.members.every((m) => m.clientURLs.length > 0) ? l : undefined;
    });
    expect(list.members.map((m) => m.peerURLs[0]).sort()).toEqual(ports.map(peerURL).sort());
    expect(list.members.map((m) => m.clientURLs[0]).sort()).toEqual(ports.map(clientURL).sort());
    c.close();
  });

  it("serves the etcd3 client with a client certificate, and refuses it without one", async () => {
    const etcd = new Etcd3({
      hosts: ports.map(clientURL),
      credentials: {
        rootCertificate: Buffer.from(pki.caPem),
        certChain: Buffer.from(pki.client.pem.cert),
        privateKey: Buffer.from(pki.client.pem.key),
      },
    });
    try {
      await etcd.put("secure/etcd3").value("over tls");
      expect(await etcd.get("secure/etcd3").string()).toBe("over tls");
      const lease = etcd.lease(5);
      await lease.put("secure/leased").value("x");
      expect(await etcd.get("secure/leased").string()).toBe("x");
      await lease.revoke();
      expect(await etcd.getAll().prefix("secure/").keys()).toEqual(["secure/a", "secure/etcd3"]);
    } finally {
      etcd.close();
    }
    const anonymous = new Etcd3({
      hosts: ports.map(clientURL),
      credentials: { rootCertificate: Buffer.from(pki.caPem) },
      dialTimeout: 2_000,
    });
    try {
      await expect(anonymous.get("secure/a").string()).rejects.toThrow();
    } finally {
      anonymous.close();
    }
  });

  it("a fourth member joins over TLS; a member with a certificate of another CN cannot", async () => {
    const c = client(ports);
    const [intruder] = await memberPorts(["intruder"]);
    await c.memberAdd({ peerURLs: [peerURL(intruder!)] });
    const refused = startDetcd(
      intruder!.name,
      tlsFlags(intruder!, [...ports, intruder!], pki.peerOtherCN, [
        "--initial-cluster-state=existing",
      ]),
    );
    expect(await refused.exited).toBe(1);
    expect(refused.stderr.join("")).toContain(
      'client certificate authentication failed: CN \\"intruder\\" is not the allowed CN \\"etcd-peer\\"',
    );
    const intruderId = (await c.memberList({ linearizable: true })).members.find(
      (m) => m.peerURLs[0] === peerURL(intruder!),
    )?.ID;
    await c.memberRemove({ ID: intruderId! });

    const [fourth] = await memberPorts(["infra3"]);
    await c.memberAdd({ peerURLs: [peerURL(fourth!)] });
    const all = [...ports, fourth!];
    procs.push(
      startDetcd(
        fourth!.name,
        tlsFlags(fourth!, all, pki.peer, ["--initial-cluster-state=existing"]),
      ),
    );
    const joined = client([fourth!]);
    const got = await eventually(
      async () => {
        exitedEarly();
        const r = await joined.range({ key: utf8("secure/a"), serializable: true });
        return r.kvs[0];
      },
      30_000,
      "the fourth member to catch up",
    );
    expect(fromUtf8(got.value)).toBe("1");
    // Catching up does not wait for the new member to publish its name and client URLs.
    const members = await eventually(
      async () => {
        const l = await c.memberList({ linearizable: true });
        return l.members.some((m) => m.name === "infra3") ? l : undefined;
      },
      10_000,
      "the fourth member's published name",
    );
    expect(members.members.find((m) => m.name === "infra3")?.clientURLs).toEqual([
      clientURL(fourth!),
    ]);
    joined.close();
    c.close();
  });

  it("the detcd binary exits 1 naming the file and the reason for an expired certificate", async () => {
    const [m] = await memberPorts(["expired"]);
    const p = startDetcd(m!.name, [
      ...tlsFlags(m!, [m!], pki.peer),
      `--cert-file=${pki.expired.cert}`,
      `--key-file=${pki.expired.key}`,
    ]);
    expect(await p.exited).toBe(1);
    const stderr = p.stderr.join("");
    expect(stderr).toContain("failed to start the member");
    expect(stderr).toContain(`--cert-file ${pki.expired.cert}: the certificate has expired`);
  });
});

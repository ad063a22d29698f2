// The peer transport over TLS: members with certificates from the peer CA exchange messages and
// queries; --peer-client-cert-auth refuses a dialler with another CA's certificate, and
// --peer-cert-allowed-cn refuses one with a certificate of another CN (with the reason).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import type { NodeId } from "../../../src/raft/types.js";
import { PeerQueryError, queryPeer } from "../../../src/real/peer/transport.js";
import {
  ReloadingTls,
  type TlsEndpoint,
  type TlsPolicy,
} from "../../../src/real/tls/reloading-tls.js";
import {
  closeAll,
  indexes,
  raftMessage,
  sleep,
  startNode,
  waitFor,
  type Node,
} from "../peer/helpers.js";
import { makePki, type CertFiles, type Pki } from "./pki.js";

let pki: Pki;
const endpoints: ReloadingTls[] = [];

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  await closeAll();
  for (const e of endpoints.splice(0)) e.close();
});

afterAll(async () => {
  await fs.rm(pki.dir, { recursive: true, force: true });
});

const POLICY: TlsPolicy = {
  clientCertAuth: true,
  allowedCN: "",
  insecureSkipVerify: false,
  minVersion: "TLSv1.2",
  maxVersion: undefined,
  ciphers: [],
};

async function endpoint(
  files: CertFiles,
  policy: Partial<TlsPolicy> = {},
  caFile = pki.caFile,
): Promise<ReloadingTls> {
  const e = await ReloadingTls.open(
    {
      certFile: files.cert,
      keyFile: files.key,
      trustedCaFile: caFile,
      crlFile: "",
      flags: {
        cert: "--peer-cert-file",
        key: "--peer-key-file",
        ca: "--peer-trusted-ca-file",
        crl: "--peer-crl-file",
      },
    },
    { ...POLICY, ...policy },
    { pollMs: 0 },
  );
  endpoints.push(e);
  return e;
}

/** A transport serving TLS on 127.0.0.1, whose URL is https. */
async function tlsNode(id: NodeId, tls: ReloadingTls): Promise<Node> {
  const n = await startNode(id, {
    listen: { host: "127.0.0.1", port: 0, tls: true },
    tls,
    onQuery: (body) => new Uint8Array([...body].reverse()),
  });
  return { ...n, url: `https://127.0.0.1:${n.port}` };
}

function link(from: Node, to: Node): void {
  from.transport.setPeers(new Map([[to.id, to.url]]));
}

describe("peer transport over TLS", () => {
  it("carries messages both ways and answers queries between members of the peer CA", async () => {
    const a = await tlsNode(1, await endpoint(pki.peer));
    const b = await tlsNode(2, await endpoint(pki.peer));
    link(a, b);
    link(b, a);
    for (let i = 1; i <= 5; i++) {
      a.transport.send(2, raftMessage(1, 2, i));
      b.transport.send(1, raftMessage(2, 1, 100 + i));
    }
    await waitFor("both ways", () => b.received.length === 5 && a.received.length === 5);
    expect(indexes(b, 1)).toEqual([1, 2, 3, 4, 5]);
    expect(indexes(a, 2)).toEqual([101, 102, 103, 104, 105]);
    expect(b.received[0]).toStrictEqual({ from: 1, message: raftMessage(1, 2, 1) });
    expect([...(await a.transport.query(b.url, new Uint8Array([1, 2, 3]), 2_000))]).toEqual([
      3, 2, 1,
    ]);
    // A query needs no transport (a joining member), only the TLS endpoint.
    const tls = await endpoint(pki.client);
    expect([
      ...(await queryPeer(b.url, new Uint8Array([7, 8]), { timeoutMs: 2_000, tls })),
    ]).toEqual([8, 7]);
  });

  it("refuses a dialler whose certificate another CA signed, and one with no certificate", async () => {
    const a = await tlsNode(1, await endpoint(pki.peer));
    const stranger = await tlsNode(3, await endpoint(pki.otherCaClient, {}, pki.caFile));
    link(stranger, a);
    stranger.transport.send(1, raftMessage(3, 1, 1));
    await waitFor("a refusal", () =>
      a.logs.some(
        (l) =>
          l.msg === "peer connection refused" &&
          String(l.fields["reason"]).includes("UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
      ),
    );
    await sleep(100);
    expect(a.received).toEqual([]);
    // A dialler that trusts the peer CA but shows no certificate.
    const caOnly: TlsEndpoint = {
      serverOptions: () => ({}),
      connectOptions: () => ({ ca: pki.caPem }),
      checkPeer: () => undefined,
      onReload: () => () => {},
    };
    const noCert = await queryPeer(a.url, new Uint8Array([1]), {
      timeoutMs: 2_000,
      tls: caOnly,
    }).catch((e: unknown) => e);
    expect(noCert).toBeInstanceOf(PeerQueryError);
    expect((noCert as PeerQueryError).message).toContain(
      "client certificate authentication failed",
    );
  });

  it("--peer-cert-allowed-cn refuses a peer of the right CA with another CN", async () => {
    const a = await tlsNode(1, await endpoint(pki.peer, { allowedCN: "etcd-peer" }));
    const friend = await tlsNode(2, await endpoint(pki.peer));
    const intruder = await tlsNode(3, await endpoint(pki.peerOtherCN));
    link(friend, a);
    link(intruder, a);
    friend.transport.send(1, raftMessage(2, 1, 1));
    intruder.transport.send(1, raftMessage(3, 1, 1));
    await waitFor("the friend's message", () => a.received.length === 1);
    await waitFor("the intruder's refusal", () =>
      intruder.logs.some(
        (l) =>
          l.msg === "peer refused connection" &&
          l.fields["reason"] ===
            'client certificate authentication failed: CN "intruder" is not the allowed CN "etcd-peer"',
      ),
    );
    expect(a.received.map((r) => r.from)).toEqual([2]);
  });

  it("a dialler verifies the server: a peer CA that did not sign it is refused", async () => {
    const a = await tlsNode(1, await endpoint(pki.peer));
    const wrongCa = await endpoint(pki.peer, {}, pki.otherCaFile);
    const failed = await queryPeer(a.url, new Uint8Array([1]), { timeoutMs: 2_000, tls: wrongCa })
      .then(() => "answered")
      .catch((e: unknown) => (e as PeerQueryError).reason);
    expect(failed).toBe("unreachable");
  });
});

// The TCP peer transport between real processes' members, on 127.0.0.1: delivery, large
// snapshots, reconnection, bounded queues, refusal of foreign clusters and removed members,
// queries, counters, and silence after close.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../../../src/raft/types.js";
import type { MemberMessage } from "../../../src/server/messages.js";
import { equalBytes } from "../../../src/lib/bytes.js";
import { encodeMemberMessage } from "../../../src/real/peer/codec.js";
import { PeerQueryError } from "../../../src/real/peer/transport.js";
import {
  closeAll,
  indexes,
  mesh,
  raftMessage,
  sleep,
  startNode,
  waitFor,
  type Node,
} from "./helpers.js";

afterEach(closeAll);

/** A TCP server that accepts connections and never reads from or writes to them. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.pause();
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, sockets };
}

async function stopServer(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

/** A port nothing listens on (bound then released). */
async function deadPort(): Promise<number> {
  const s = await silentServer();
  await stopServer(s);
  return s.port;
}

function snapshotMessage(from: number, to: number, sizeBytes: number): MemberMessage {
  const data = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i += 4096) data[i] = (i / 4096) % 251;
  data[sizeBytes - 1] = 0xee;
  return raftMessage(from, to, 500, {
    type: "MsgSnap",
    entries: [],
    snapshot: {
      data,
      metadata: {
        index: 500,
        term: 3,
        confState: {
          voters: [1, 2, 3],
          learners: [4],
          votersOutgoing: [],
          learnersNext: [],
          autoLeave: false,
        },
      },
    },
  });
}

function withoutSnapshotData(m: Message): unknown {
  return m.snapshot === undefined ? m : { ...m, snapshot: { ...m.snapshot, data: undefined } };
}

describe("PeerTransport", () => {
  it("exchanges raft messages among three members, a large snapshot included, in order", async () => {
    const nodes = await Promise.all([1, 2, 3].map((id) => startNode(id)));
    mesh(nodes);
    const [a, b, c] = nodes as [Node, Node, Node];
    for (let i = 1; i <= 50; i++) {
      a.transport.send(2, raftMessage(1, 2, i));
      b.transport.send(3, raftMessage(2, 3, 1000 + i));
      c.transport.send(1, raftMessage(3, 1, 2000 + i));
    }
    const snap = snapshotMessage(1, 3, 6 * 1024 * 1024);
    a.transport.send(3, snap);
    // Never delivered from inside send.
    expect(nodes.map((n) => n.received.length)).toEqual([0, 0, 0]);
    await waitFor("all messages", () => a.received.length === 50 && b.received.length === 50);
    await waitFor("snapshot", () => c.received.length === 51);
    expect(indexes(b, 1)).toEqual(Array.from({ length: 50 }, (_v, i) => i + 1));
    expect(indexes(c, 2)).toEqual(Array.from({ length: 50 }, (_v, i) => 1001 + i));
    expect(indexes(a, 3)).toEqual(Array.from({ length: 50 }, (_v, i) => 2001 + i));
    expect(b.received[6]).toStrictEqual({ from: 1, message: raftMessage(1, 2, 7) });
    const got = c.received.find((r) => r.from === 1)?.message;
    // Byte arrays this large are compared with equalBytes: the deep matcher walks them slowly.
    if (got?.type !== "raft" || snap.type !== "raft") throw new Error("not a raft message");
    const [gotData, sentData] = [got.message.snapshot?.data, snap.message.snapshot?.data];
    expect(gotData?.length).toBe(6 * 1024 * 1024);
    expect(equalBytes(gotData ?? new Uint8Array(0), sentData ?? new Uint8Array(0))).toBe(true);
    expect(withoutSnapshotData(got.message)).toStrictEqual(withoutSnapshotData(snap.message));
  });

  it("carries forwarded requests and answers with bigint lease ids", async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(2)]);
    mesh([a, b]);
    const request: MemberMessage = {
      type: "forward-request",
      forwardId: 77,
      request: { kind: "lease-timetolive", request: { ID: 0x7fff_ffff_ffff_fff0n, keys: true } },
    };
    a.transport.send(2, request);
    await waitFor("forwarded request", () => b.received.length === 1);
    expect(b.received[0]).toStrictEqual({ from: 1, message: request });
  });

  it("reconnects after the receiver restarts on the same port", async () => {
    const a = await startNode(1);
    const b1 = await startNode(2);
    mesh([a, b1]);
    a.transport.send(2, raftMessage(1, 2, 1));
    await waitFor("first delivery", () => b1.received.length === 1);
    await b1.transport.close();
    await waitFor("disconnect seen", () => a.transport.stats().get(2)?.connected === false);
    const b2 = await startNode(2, {}, b1.port);
    let next = 2;
    // Messages sent while the link is down may be lost; keep sending until they flow again.
    await waitFor("delivery after restart", () => {
      a.transport.send(2, raftMessage(1, 2, next++));
      return b2.received.length >= 3;
    });
    const got = indexes(b2, 1);
    expect(got.every((v, i) => i === 0 || v > (got[i - 1] as number))).toBe(true);
    expect(a.transport.stats().get(2)?.connected).toBe(true);
  });

  it("bounds the queue of an unreachable peer by messages and by bytes, counting drops", async () => {
    const a = await startNode(1, { maxQueuedMessages: 3, maxQueuedBytes: 1 << 20 });
    const port = await deadPort();
    a.transport.setPeers(new Map([[2, `http://127.0.0.1:${port}`]]));
    for (let i = 0; i < 10; i++) a.transport.send(2, raftMessage(1, 2, i));
    expect(a.transport.stats().get(2)?.sendFailures).toBe(7);

    const b = await startNode(3, { maxQueuedMessages: 100, maxQueuedBytes: 1000 });
    b.transport.setPeers(new Map([[2, `http://127.0.0.1:${port}`]]));
    const big = (i: number) =>
      raftMessage(3, 2, i, {
        context: new Uint8Array(400 - encodeMemberMessage(raftMessage(3, 2, i)).length - 5),
      });
    expect(encodeMemberMessage(big(0)).length + 5).toBe(400);
    for (let i = 0; i < 5; i++) b.transport.send(2, big(i));
    // Two frames of 400 bytes fit in 1000; the third would not.
    expect(b.transport.stats().get(2)?.sendFailures).toBe(3);
    // One message larger than the byte limit still goes alone into an empty queue.
    const c = await startNode(4, { maxQueuedBytes: 1000 });
    c.transport.setPeers(new Map([[2, `http://127.0.0.1:${port}`]]));
    c.transport.send(2, snapshotMessage(4, 2, 5000));
    c.transport.send(2, raftMessage(4, 2, 1));
    expect(c.transport.stats().get(2)?.sendFailures).toBe(1);
  });

  it("stops writing into a peer that does not read and drops once its queue is full", async () => {
    const silent = await silentServer();
    try {
      const a = await startNode(1, { maxQueuedMessages: 1000, maxQueuedBytes: 4 << 20 });
      a.transport.setPeers(new Map([[2, `http://127.0.0.1:${silent.port}`]]));
      const payload = snapshotMessage(1, 2, 256 * 1024);
      for (let round = 0; round < 200; round++) {
        a.transport.send(2, payload);
        await sleep(1);
        if ((a.transport.stats().get(2)?.sendFailures ?? 0) > 0) break;
      }
      const stats = a.transport.stats().get(2);
      expect(stats?.sendFailures).toBeGreaterThan(0);
      // What went into the socket is bounded by the kernel buffers, not by what we were given.
      expect(stats?.sentBytes).toBeLessThan(200 * 256 * 1024);
    } finally {
      await stopServer(silent);
    }
  });

  it("refuses a member of another cluster", async () => {
    const a = await startNode(1, { clusterId: 111n });
    const b = await startNode(2, { clusterId: 222n });
    mesh([a, b]);
    a.transport.send(2, raftMessage(1, 2, 1));
    await waitFor(
      "refusal logged on both sides",
      () =>
        b.logs.some((l) => l.msg === "peer connection refused") &&
        a.logs.some((l) => l.msg === "peer refused connection"),
    );
    const refused = b.logs.find((l) => l.msg === "peer connection refused");
    expect(refused?.fields.reason).toBe("cluster ID mismatch: ours de, theirs 6f");
    expect(a.logs.find((l) => l.msg === "peer refused connection")?.fields.reason).toBe(
      "cluster ID mismatch: ours de, theirs 6f",
    );
    await sleep(50);
    expect(b.received).toEqual([]);
  });

  it("refuses a hello meant for another member id", async () => {
    const a = await startNode(1);
    const b = await startNode(2);
    // a believes member 5 lives at b's URL.
    a.transport.setPeers(new Map([[5, b.url]]));
    a.transport.send(5, raftMessage(1, 5, 1));
    await waitFor("refusal", () => b.logs.some((l) => l.msg === "peer connection refused"));
    expect(b.logs.find((l) => l.msg === "peer connection refused")?.fields.reason).toBe(
      "member ID mismatch: this is 2, not 5",
    );
    expect(b.received).toEqual([]);
  });

  it("setPeers: a removed peer's connections close both ways and it is refused afterwards", async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(2)]);
    mesh([a, b]);
    a.transport.send(2, raftMessage(1, 2, 1));
    b.transport.send(1, raftMessage(2, 1, 1));
    await waitFor(
      "both connected",
      () =>
        a.transport.stats().get(2)?.connected === true &&
        b.transport.stats().get(1)?.connected === true &&
        a.received.length === 1 &&
        b.received.length === 1,
    );
    // b removes a: b's link to a closes at once, and a's connection into b is cut.
    b.transport.setPeers(new Map());
    expect(b.transport.stats().get(1)?.connected).toBe(false);
    await waitFor("a sees the cut", () => a.transport.stats().get(2)?.connected === false);
    b.transport.send(1, raftMessage(2, 1, 2));
    expect(b.transport.stats().get(1)?.sendFailures).toBe(1);
    a.transport.send(2, raftMessage(1, 2, 2));
    await waitFor("refusal", () => b.logs.some((l) => l.fields.reason === "member 1 was removed"));
    expect(indexes(b)).toEqual([1]);
  });

  it("setPeers: a changed URL dials the new address", async () => {
    const a = await startNode(1);
    const b1 = await startNode(2);
    const b2 = await startNode(2);
    a.transport.setPeers(new Map([[2, b1.url]]));
    a.transport.send(2, raftMessage(1, 2, 1));
    await waitFor("first", () => b1.received.length === 1);
    a.transport.setPeers(new Map([[2, b2.url]]));
    a.transport.send(2, raftMessage(1, 2, 2));
    await waitFor("second at the new URL", () => b2.received.length === 1);
    expect([indexes(b1), indexes(b2)]).toEqual([[1], [2]]);
  });

  it("drops and counts messages to unknown peers", async () => {
    const a = await startNode(1);
    a.transport.send(9, raftMessage(1, 9, 1));
    a.transport.send(9, raftMessage(1, 9, 2));
    expect(a.transport.stats().get(9)).toEqual({
      sentBytes: 0,
      receivedBytes: 0,
      sendFailures: 2,
      lastRttSeconds: undefined,
      connected: false,
    });
  });

  it("answers a query from any process and reports a timeout, a refusal and a remote error", async () => {
    const b = await startNode(2, {
      onQuery: (body) => {
        if (body[0] === 0xff) throw new Error("cannot answer that");
        return Promise.resolve(new Uint8Array([...body].reverse()));
      },
    });
    const a = await startNode(1);
    expect([...(await a.transport.query(b.url, new Uint8Array([1, 2, 3]), 1000))]).toEqual([
      3, 2, 1,
    ]);
    await expect(a.transport.query(b.url, new Uint8Array([0xff]), 1000)).rejects.toThrow(
      `peer query to ${b.url}: cannot answer that`,
    );
    const silent = await silentServer();
    try {
      const url = `http://127.0.0.1:${silent.port}`;
      const started = Date.now();
      const timedOut = await a.transport
        .query(url, new Uint8Array([1]), 100)
        .catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(PeerQueryError);
      expect((timedOut as PeerQueryError).reason).toBe("timeout");
      expect((timedOut as PeerQueryError).message).toBe(
        `peer query to ${url}: no answer within 100 ms`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    } finally {
      await stopServer(silent);
    }
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const refused = await a.transport
      .query(dead, new Uint8Array([1]), 1000)
      .catch((e: unknown) => e);
    expect((refused as PeerQueryError).reason).toBe("unreachable");
    expect((refused as PeerQueryError).message).toMatch(/ECONNREFUSED/);
    const noHandler = await a.transport
      .query(a.url, new Uint8Array([1]), 1000)
      .catch((e: unknown) => e);
    expect((noHandler as PeerQueryError).reason).toBe("remote-error");
    await expect(a.transport.query("ftp://127.0.0.1:1", new Uint8Array(0), 100)).rejects.toThrow(
      "unsupported peer URL scheme",
    );
  });

  it("counts message bytes both ways and measures round-trip time", async () => {
    const [a, b] = await Promise.all([
      startNode(1, { pingIntervalMs: 20 }),
      startNode(2, { pingIntervalMs: 20 }),
    ]);
    mesh([a, b]);
    const messages = Array.from({ length: 20 }, (_v, i) => raftMessage(1, 2, i * 300));
    const expectedBytes = messages.reduce((n, m) => n + 5 + encodeMemberMessage(m).length, 0);
    for (const m of messages) a.transport.send(2, m);
    await waitFor("delivery", () => b.received.length === 20);
    await waitFor("a pong", () => a.transport.stats().get(2)?.lastRttSeconds !== undefined);
    const sent = a.transport.stats().get(2);
    expect(sent?.sentBytes).toBe(expectedBytes);
    expect(sent?.sendFailures).toBe(0);
    expect(sent?.connected).toBe(true);
    expect(sent?.lastRttSeconds).toBeGreaterThan(0);
    expect(sent?.lastRttSeconds).toBeLessThan(1);
    expect(b.transport.stats().get(1)?.receivedBytes).toBe(expectedBytes);
    expect(b.transport.stats().get(1)?.sentBytes).toBe(0);
  });

  it("fires no callback after close", async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(2)]);
    mesh([a, b]);
    a.transport.send(2, raftMessage(1, 2, 0));
    await waitFor("connected", () => b.received.length === 1);
    for (let i = 1; i <= 200; i++) a.transport.send(2, snapshotMessage(1, 2, 16 * 1024));
    await sleep(2);
    await b.transport.close();
    const receivedAtClose = b.received.length;
    const logsAtClose = b.logs.length;
    await sleep(100);
    expect(b.received.length).toBe(receivedAtClose);
    expect(b.logs.length).toBe(logsAtClose);
    b.transport.send(1, raftMessage(2, 1, 1));
    expect(b.transport.stats().get(1)?.sendFailures ?? 0).toBe(0);
    await expect(b.transport.query(a.url, new Uint8Array(0), 100)).rejects.toThrow(
      "transport is closed",
    );
  });
});

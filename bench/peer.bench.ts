// Peer transport figures: MsgApp messages (10 entries of 100 bytes) per second and MB/s between two
// transports on loopback with a bounded window of messages in flight; one 32 MiB snapshot message;
// encode and decode rates of the peer codec. Run: npx tsx bench/run.ts peer
import { emit } from "./emit.js";
import type { MemberMessage } from "../src/server/messages.js";
import { decodeMemberMessage, encodeMemberMessage } from "../src/real/peer/codec.js";
import { PeerTransport } from "../src/real/peer/transport.js";

const MB = 1024 * 1024;

function msgApp(index: number): MemberMessage {
  const data = new Uint8Array(100).fill(0x61);
  return {
    type: "raft",
    message: {
      type: "MsgApp",
      from: 1,
      to: 2,
      term: 5,
      logTerm: 5,
      index,
      entries: Array.from({ length: 10 }, (_v, i) => ({
        term: 5,
        index: index + 1 + i,
        type: "EntryNormal" as const,
        data,
      })),
      commit: index,
      reject: false,
      rejectHint: 0,
      context: new Uint8Array(0),
    },
  };
}

function snapshot(sizeBytes: number): MemberMessage {
  const base = msgApp(1);
  if (base.type !== "raft") throw new Error("unreachable");
  const metadata = {
    index: 1000,
    term: 5,
    confState: {
      voters: [1, 2],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    },
  };
  const message = { ...base.message, type: "MsgSnap" as const, entries: [] };
  return {
    type: "raft",
    message: { ...message, snapshot: { data: new Uint8Array(sizeBytes), metadata } },
  };
}

function benchCodec(): void {
  const m = msgApp(100);
  const rounds = 200_000;
  let bytes = 0;
  let start = performance.now();
  let encoded = encodeMemberMessage(m);
  for (let i = 0; i < rounds; i++) {
    encoded = encodeMemberMessage(m);
    bytes += encoded.length;
  }
  const encodeS = (performance.now() - start) / 1000;
  start = performance.now();
  let decodedOk = 0;
  for (let i = 0; i < rounds; i++) if (decodeMemberMessage(encoded).ok) decodedOk++;
  const decodeS = (performance.now() - start) / 1000;
  if (decodedOk !== rounds) throw new Error("peer codec bench: decode failed");
  emit("peer.codec", {
    figure: "msgapp_10x100",
    messageBytes: encoded.length,
    encodePerS: Math.round(rounds / encodeS),
    encodeMBPerS: Math.round(bytes / MB / encodeS),
    decodePerS: Math.round(rounds / decodeS),
    decodeMBPerS: Math.round(bytes / MB / decodeS),
  });
}

/** Two transports on loopback; `received` counts what member 2 got from member 1. */
async function pair(): Promise<{
  a: PeerTransport;
  b: PeerTransport;
  received: () => number;
  until: (n: number) => Promise<void>;
}> {
  let count = 0;
  let waiting: { n: number; resolve: () => void } | undefined;
  const b = new PeerTransport({
    selfId: 2,
    clusterId: 1n,
    listen: { host: "127.0.0.1", port: 0 },
    onMessage: () => {
      count++;
      if (waiting !== undefined && count >= waiting.n) {
        const w = waiting;
        waiting = undefined;
        w.resolve();
      }
    },
  });
  const a = new PeerTransport({
    selfId: 1,
    clusterId: 1n,
    listen: { host: "127.0.0.1", port: 0 },
    onMessage: () => undefined,
  });
  const portB = await b.start();
  await a.start();
  a.setPeers(new Map([[2, `http://127.0.0.1:${portB}`]]));
  const until = (n: number) =>
    count >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }));
  return { a, b, received: () => count, until };
}

async function benchMsgApp(): Promise<void> {
  const { a, b, received, until } = await pair();
  const message = msgApp(100);
  const total = 200_000;
  const window = 2048;
  a.send(2, message);
  await until(1); // connection established before timing
  const start = performance.now();
  for (let sent = 0; sent < total;) {
    const batch = Math.min(256, total - sent);
    for (let i = 0; i < batch; i++) a.send(2, message);
    sent += batch;
    if (sent - (received() - 1) > window) await until(1 + sent - window / 2);
  }
  await until(total + 1);
  const seconds = (performance.now() - start) / 1000;
  const stats = a.stats().get(2);
  const frameBytes = 5 + encodeMemberMessage(message).length;
  await Promise.all([a.close(), b.close()]);
  emit("peer.transport", {
    figure: "msgapp_10x100_loopback",
    messages: total,
    messagesPerS: Math.round(total / seconds),
    wireMBPerS: Math.round((total * frameBytes) / MB / seconds),
    entryDataMBPerS: Math.round((total * 1000) / MB / seconds),
    sendFailures: stats?.sendFailures ?? -1,
  });
}

async function benchSnapshot(): Promise<void> {
  const { a, b, until } = await pair();
  a.send(2, msgApp(1));
  await until(1);
  const sizeBytes = 32 * MB;
  const message = snapshot(sizeBytes);
  const start = performance.now();
  a.send(2, message);
  await until(2);
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([a.close(), b.close()]);
  emit("peer.transport", {
    figure: "snapshot_32MiB_loopback",
    ms: Math.round(seconds * 1000),
    MBPerS: Math.round(sizeBytes / MB / seconds),
  });
}

export default async function run(): Promise<void> {
  benchCodec();
  await benchMsgApp();
  await benchSnapshot();
}

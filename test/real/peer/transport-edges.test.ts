// The transport's edges: frame limits on both sides, strangers on the peer port, a silent
// connection, a throwing handler, and peer URL parsing.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parsePeerUrl } from "../../../src/real/peer/transport.js";
import { closeAll, indexes, mesh, raftMessage, sleep, startNode, waitFor } from "./helpers.js";

afterEach(closeAll);

function bigMessage(from: number, to: number, index: number, contextBytes: number) {
  return raftMessage(from, to, index, { context: new Uint8Array(contextBytes) });
}

describe("PeerTransport edges", () => {
  it("drops and counts a message over the sender's frame limit", async () => {
    const [a, b] = await Promise.all([startNode(1, { maxFrameBytes: 1000 }), startNode(2)]);
    mesh([a, b]);
    a.transport.send(2, bigMessage(1, 2, 1, 2000));
    a.transport.send(2, raftMessage(1, 2, 2));
    expect(a.transport.stats().get(2)?.sendFailures).toBe(1);
    expect(a.logs.find((l) => l.msg === "message too large")?.fields.error).toMatch(
      /^frame of 2\d{3} bytes exceeds the limit of 1000 bytes$/,
    );
    await waitFor("the small one", () => b.received.length === 1);
    expect(indexes(b)).toEqual([2]);
  });

  it("refuses a connection that announces a frame over the receiver's limit", async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(2, { maxFrameBytes: 1000 })]);
    mesh([a, b]);
    a.transport.send(2, bigMessage(1, 2, 1, 2000));
    await waitFor("refusal", () => b.logs.some((l) => l.msg === "peer connection refused"));
    expect(b.logs.find((l) => l.msg === "peer connection refused")?.fields.reason).toMatch(
      /exceeds the limit of 1000 bytes/,
    );
    expect(b.received).toEqual([]);
  });

  it("refuses strangers on the peer port and keeps serving members", async () => {
    const [a, b] = await Promise.all([startNode(1), startNode(2)]);
    mesh([a, b]);
    const stranger = connect({ host: "127.0.0.1", port: b.port });
    const closed = new Promise<void>((resolve) => stranger.on("close", () => resolve()));
    stranger.on("error", () => undefined);
    stranger.resume(); // read, so the refusal's close is seen
    stranger.write("\x01\x03\x00\x00\x00abc"); // a hello frame with a 3-byte payload
    await closed;
    expect(b.logs.find((l) => l.msg === "peer connection refused")?.fields.reason).toMatch(
      /^bad hello: truncated/,
    );
    a.transport.send(2, raftMessage(1, 2, 1));
    await waitFor("member traffic", () => b.received.length === 1);
  });

  it("closes an accepted connection that says nothing", async () => {
    const b = await startNode(2, { handshakeTimeoutMs: 50 });
    const silent = connect({ host: "127.0.0.1", port: b.port });
    silent.on("error", () => undefined);
    silent.resume();
    const started = Date.now();
    await new Promise<void>((resolve) => silent.on("close", () => resolve()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(b.logs.find((l) => l.msg === "peer connection refused")?.fields.reason).toBe(
      "no hello in time",
    );
  });

  it("keeps the connection when the message handler throws", async () => {
    let calls = 0;
    const b = await startNode(2, {
      onMessage: () => {
        calls++;
        if (calls === 1) throw new Error("handler bug");
      },
    });
    const a = await startNode(1);
    mesh([a, b]);
    a.transport.send(2, raftMessage(1, 2, 1));
    a.transport.send(2, raftMessage(1, 2, 2));
    await waitFor("both handled", () => calls === 2);
    expect(b.logs.find((l) => l.msg === "message handler failed")?.fields.error).toBe(
      "Error: handler bug",
    );
    await sleep(20);
    expect(a.transport.stats().get(2)?.connected).toBe(true);
  });

  it("parses peer URLs", () => {
    expect(parsePeerUrl("http://10.0.0.1:2380")).toEqual({
      host: "10.0.0.1",
      port: 2380,
      secure: false,
    });
    expect(parsePeerUrl("http://[::1]:2380")).toEqual({ host: "::1", port: 2380, secure: false });
    expect(parsePeerUrl("http://example.com")).toEqual({
      host: "example.com",
      port: 80,
      secure: false,
    });
    expect(parsePeerUrl("https://a:2380")).toEqual({ host: "a", port: 2380, secure: true });
    expect(parsePeerUrl("https://a")).toEqual({ host: "a", port: 443, secure: true });
    expect(parsePeerUrl("ftp://a:2380")).toBe(
      "unsupported peer URL scheme in ftp://a:2380 (http or https only)",
    );
    expect(parsePeerUrl("not a url")).toBe('invalid peer URL "not a url"');
  });
});

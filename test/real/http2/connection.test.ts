// The server side of our HTTP/2 connections, driven by node:http2's client (nghttp2) and by raw
// bytes: bodies both ways past the flow-control windows, trailers, resets, PING, concurrent
// streams, backpressure, and the connection errors a bad peer gets.
import { Buffer } from "node:buffer";
import { connect as connectHttp2, type ClientHttp2Session } from "node:http2";
import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Http2ServerConnection } from "../../../src/real/http2/connection.js";
import { CLIENT_PREFACE, ErrorCode, FrameType } from "../../../src/real/http2/frames.js";
import type { ServerStream } from "../../../src/real/http2/stream.js";
import { parseFrames } from "./raw-frames.js";

interface Harness {
  readonly port: number;
  readonly server: Server;
  readonly sockets: Socket[];
}

const open: Array<() => void> = [];

afterEach(() => {
  for (const close of open.splice(0)) close();
});

async function serve(onStream: (stream: ServerStream) => void): Promise<Harness> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    new Http2ServerConnection(socket, onStream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  open.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port, server, sockets };
}

function client(port: number): ClientHttp2Session {
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  open.push(() => session.destroy());
  return session;
}

/** Collects a stream's body, then answers with it reversed plus its headers' size. */
function echoReversed(stream: ServerStream): void {
  const chunks: Buffer[] = [];
  stream.onData = (c) => chunks.push(Buffer.from(c));
  stream.onEnd = () => {
    const body = Buffer.concat(chunks).reverse();
    stream.respond([":status", "200", "x-path", stream.header(":path") ?? "?"]);
    stream.write(body);
    stream.end(["x-bytes", String(body.length)]);
  };
}

interface Response {
  headers: Record<string, unknown>;
  body: Buffer;
  trailers: Record<string, unknown>;
}

function request(session: ClientHttp2Session, path: string, body: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path });
    const chunks: Buffer[] = [];
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    req.on("error", reject);
    req.end(body);
  });
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe("Http2ServerConnection", () => {
  it("answers a request with headers, body and trailers", async () => {
    const { port } = await serve(echoReversed);
    const session = client(port);
    const r = await request(session, "/a/b", Buffer.from("hello"));
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["x-path"]).toBe("/a/b");
    expect(r.body.toString()).toBe("olleh");
    expect(r.trailers["x-bytes"]).toBe("5");
  });

  it("moves bodies far past the default windows both ways, intact and in order", async () => {
    const { port } = await serve(echoReversed);
    const session = client(port);
    const body = pattern(3 * 1024 * 1024 + 17, 5);
    const r = await request(session, "/big", body);
    expect(r.body.length).toBe(body.length);
    expect(r.body.equals(Buffer.from(body).reverse())).toBe(true);
    expect(r.trailers["x-bytes"]).toBe(String(body.length));
  });

  it("keeps concurrent streams apart", async () => {
    const { port } = await serve(echoReversed);
    const session = client(port);
    const bodies = Array.from({ length: 60 }, (_, i) => pattern(1000 + i * 997, i));
    const answers = await Promise.all(bodies.map((b, i) => request(session, `/s/${i}`, b)));
    answers.forEach((r, i) => {
      expect(r.headers["x-path"]).toBe(`/s/${i}`);
      expect(r.body.equals(Buffer.from(bodies[i] as Buffer).reverse())).toBe(true);
    });
  });

  it("decodes nghttp2's header blocks through many evictions of the dynamic table", async () => {
    // Each answer carries the fields the server decoded; nghttp2 indexes the varying values, so
    // the 4 KiB table fills and evicts many times over.
    const { port } = await serve((stream) => {
      stream.onEnd = () => {
        stream.respond([":status", "200"]);
        stream.write(Buffer.from(JSON.stringify(stream.fields)));
        stream.end([]);
      };
    });
    const session = client(port);
    const sent: Record<string, string>[] = [];
    const got = await Promise.all(
      Array.from({ length: 400 }, (_, i) => {
        const headers: Record<string, string> = {
          ":method": "POST",
          ":path": `/svc.S${i % 7}/M${(i * 13) % 11}`,
          "content-type": "application/grpc",
          "grpc-timeout": `${(i * 7919) % 100000}m`,
          [`x-k${i % 23}`]: "v".repeat((i * 37) % 300) + String(i),
        };
        if (i % 5 === 0) headers["token"] = `t${i}`.repeat(8);
        sent.push(headers);
        return new Promise<string[]>((resolve, reject) => {
          const req = session.request(headers);
          const chunks: Buffer[] = [];
          req.on("data", (c: Buffer) => chunks.push(c));
          req.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as string[]));
          req.on("error", reject);
          req.end();
        });
      }),
    );
    got.forEach((fields, i) => {
      const decoded: Record<string, string> = {};
      for (let f = 0; f < fields.length; f += 2)
        decoded[fields[f] as string] = fields[f + 1] as string;
      for (const [name, value] of Object.entries(sent[i] as Record<string, string>))
        expect(decoded[name], `request ${i} ${name}`).toBe(value);
    });
  });

  it("sends a trailers-only response as one HEADERS frame that ends the stream", async () => {
    const { port } = await serve((stream) =>
      stream.respond([":status", "200", "grpc-status", "12"], true),
    );
    const session = client(port);
    const r = await request(session, "/none", Buffer.from("x"));
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["grpc-status"]).toBe("12");
    expect(r.body.length).toBe(0);
  });

  it("tells the stream when the client resets it", async () => {
    let closed!: () => void;
    const wasClosed = new Promise<void>((resolve) => (closed = resolve));
    let seen: ServerStream | undefined;
    const { port } = await serve((stream) => {
      seen = stream;
      stream.onClose = closed;
    });
    const session = client(port);
    const req = session.request({ ":method": "POST", ":path": "/cancel" });
    req.on("error", () => {});
    await new Promise((r) => setTimeout(r, 50));
    req.close();
    await wasClosed;
    expect(seen?.closed).toBe(true);
    expect(seen?.write(Buffer.from("late"))).toBe(false);
  });

  it("answers PING", async () => {
    const { port } = await serve(echoReversed);
    const session = client(port);
    await new Promise<void>((resolve) => session.once("connect", () => resolve()));
    const payload = Buffer.from("12345678");
    const acked = await new Promise<Buffer>((resolve, reject) =>
      session.ping(payload, (err, _ms, back) => (err ? reject(err) : resolve(back))),
    );
    expect(acked.equals(payload)).toBe(true);
  });

  it("holds data the client has no window for, and reports drain once it reads", async () => {
    let drained = 0;
    let refused = 0;
    const { port } = await serve((stream) => {
      stream.respond([":status", "200"]);
      const chunk = pattern(16 * 1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < 64) {
          sent++;
          if (!stream.write(chunk)) {
            refused++;
            return;
          }
        }
        stream.end(["x-done", "yes"]);
      };
      stream.onDrain = () => {
        drained++;
        pump();
      };
      pump();
    });
    const session = client(port);
    const r = await request(session, "/slow", Buffer.alloc(0));
    expect(r.body.length).toBe(64 * 16 * 1024);
    expect(r.trailers["x-done"]).toBe("yes");
    expect(refused).toBeGreaterThan(0);
    expect(drained).toBe(refused);
  });

  it("answers a bad preface with GOAWAY PROTOCOL_ERROR and closes", async () => {
    const { port } = await serve(() => {});
    const got = await rawExchange(port, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const goaway = parseFrames(got).frames.find((f) => f.type === FrameType.GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it("answers a frame larger than its maximum with GOAWAY FRAME_SIZE_ERROR", async () => {
    const { port } = await serve(() => {});
    const header = Buffer.from([0x00, 0x80, 0x00, FrameType.DATA, 0, 0, 0, 0, 1]);
    const got = await rawExchange(port, Buffer.concat([CLIENT_PREFACE, emptySettings(), header]));
    const goaway = parseFrames(got).frames.find((f) => f.type === FrameType.GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(ErrorCode.FRAME_SIZE_ERROR);
  });

  it("answers an undecodable header block with GOAWAY COMPRESSION_ERROR", async () => {
    const { port } = await serve(() => {});
    // An indexed field with index 0 is never valid.
    const headers = Buffer.from([0, 0, 1, FrameType.HEADERS, 0x4, 0, 0, 0, 1, 0x80]);
    const got = await rawExchange(port, Buffer.concat([CLIENT_PREFACE, emptySettings(), headers]));
    const goaway = parseFrames(got).frames.find((f) => f.type === FrameType.GOAWAY);
    expect(goaway?.payload.readUInt32BE(4)).toBe(ErrorCode.COMPRESSION_ERROR);
  });

  it("acknowledges the client's SETTINGS and opens a large connection window", async () => {
    const { port } = await serve(() => {});
    const got = await rawExchange(port, Buffer.concat([CLIENT_PREFACE, emptySettings()]), 150);
    const fs = parseFrames(got).frames;
    expect(fs.filter((f) => f.type === FrameType.SETTINGS).map((f) => f.flags)).toEqual([0, 1]);
    const update = fs.find((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
    expect(update?.payload.readUInt32BE(0)).toBe((1 << 24) - 65_535);
  });
});

function emptySettings(): Buffer {
  return Buffer.from([0, 0, 0, FrameType.SETTINGS, 0, 0, 0, 0, 0]);
}

/** Sends `bytes` on a raw connection; resolves with what came back when it closes (or after `waitMs`). */
function rawExchange(port: number, bytes: Buffer, waitMs = 2000): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, "127.0.0.1", () => socket.write(bytes));
    const got: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(got));
    };
    socket.on("data", (c: Buffer) => got.push(c));
    socket.on("close", done);
    socket.on("error", done);
    setTimeout(done, waitMs);
  });
}

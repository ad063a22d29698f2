// gRPC on node:http2: what goes over the wire for unary, server-streaming and bidirectional calls
// (checked with a bare HTTP/2 client), compressed requests, unknown methods, and the framing and
// deadline rules.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status as Status } from "@grpc/grpc-js";
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { deflateSync, gzipSync } from "node:zlib";
import { header, type WatchResponse } from "../../../src/api/rpc.js";
import { utf8 } from "../../../src/lib/bytes.js";
import { ok } from "../../../src/lib/result.js";
import type { Backend, CallCredentials, Done } from "../../../src/real/grpc/backend.js";
import { startClientServer, type ClientServer } from "../../../src/real/grpc/client-port.js";
import { codecFor } from "../../../src/real/grpc/codec.js";
import { exactlyOne, MessageReader, timeoutMs } from "../../../src/real/grpc/grpc-frames.js";
import { stubBackend, watchCreated } from "./stub-backend.js";

const tokens: (string | undefined)[] = [];

function backend(): Backend {
  return stubBackend({
    range: (req, done) =>
      done(ok({ header: header(4), kvs: [], more: false, count: req.key.length })),
    // Never answers: the call's deadline decides.
    put: () => {},
    snapshot: () => {},
    watch: (onResponses: (r: WatchResponse[]) => void) => ({
      request: () => onResponses([watchCreated(9, 2)]),
      close: () => {},
    }),
    auth: {
      credentials: (c: CallCredentials, done: Done<undefined>) => {
        tokens.push(c.token);
        done(ok(undefined));
      },
      credentialsNow: () => ok(undefined),
    } as unknown as Backend["auth"],
  });
}

let server: ClientServer;
let session: ClientHttp2Session;

beforeAll(async () => {
  server = await startClientServer({
    backend: backend(),
    listen: [{ host: "127.0.0.1", port: 0 }],
    grpc: { maxRequestBytes: 1024 },
  });
  session = connect(`http://127.0.0.1:${server.ports[0]}`);
});

afterAll(async () => {
  session.close();
  await server.close();
});

interface Answer {
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders;
}

function frame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function call(path: string, body: Buffer, extra: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...extra,
    });
    const answer: Answer = { headers: {}, body: Buffer.alloc(0), trailers: {} };
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (answer.headers = h));
    stream.on("trailers", (t) => (answer.trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("close", () => {
      answer.body = Buffer.concat(chunks);
      resolve(answer);
    });
    stream.end(body);
  });
}

const rangeRequest = (key: string) =>
  codecFor("etcdserverpb.RangeRequest").encode({ key: utf8(key) });
const rangeCount = (body: Buffer) =>
  (codecFor("etcdserverpb.RangeResponse").decode(body.subarray(5)) as { count: number }).count;

describe("unary calls", () => {
  it("answers with grpc-js's headers, one message and OK trailers; the token reaches auth", async () => {
    const a = await call("/etcdserverpb.KV/Range", frame(rangeRequest("abcd")), { token: "t-1" });
    expect(a.headers[":status"]).toBe(200);
    expect(a.headers["content-type"]).toBe("application/grpc+proto");
    expect(a.headers["grpc-encoding"]).toBe("identity");
    expect(rangeCount(a.body)).toBe(4);
    expect(a.trailers["grpc-status"]).toBe("0");
    expect(tokens.at(-1)).toBe("t-1");
  });

  it("fails a call whose grpc-timeout passes with DEADLINE_EXCEEDED", async () => {
    const put = codecFor("etcdserverpb.PutRequest").encode({ key: utf8("k"), value: utf8("v") });
    const a = await call("/etcdserverpb.KV/Put", frame(put), { "grpc-timeout": "50m" });
    expect(a.headers["grpc-status"]).toBe(String(Status.DEADLINE_EXCEEDED));
    expect(a.headers["grpc-message"]).toBe("Deadline%20exceeded");
  });

  it("answers a trailers-only RESOURCE_EXHAUSTED to a message above the limit", async () => {
    const a = await call("/etcdserverpb.KV/Range", frame(new Uint8Array(1024 + 512 * 1024 + 1)));
    expect(a.headers["grpc-status"]).toBe(String(Status.RESOURCE_EXHAUSTED));
    expect(decodeURI(String(a.headers["grpc-message"]))).toBe(
      `Received message larger than max (${1024 + 512 * 1024 + 1} vs ${1024 + 512 * 1024})`,
    );
  });

  it("inflates gzip and deflate requests, refuses other encodings, and knows its methods", async () => {
    const zipped = await call(
      "/etcdserverpb.KV/Range",
      frame(gzipSync(rangeRequest("xyz")), true),
      { "grpc-encoding": "gzip" },
    );
    expect(zipped.trailers["grpc-status"]).toBe("0");
    expect(rangeCount(zipped.body)).toBe(3);
    const deflated = await call(
      "/etcdserverpb.KV/Range",
      frame(deflateSync(rangeRequest("wxyz")), true),
      { "grpc-encoding": "deflate" },
    );
    expect(rangeCount(deflated.body)).toBe(4);
    const snappy = await call("/etcdserverpb.KV/Range", frame(rangeRequest("x"), true), {
      "grpc-encoding": "snappy",
    });
    expect(snappy.headers["grpc-status"]).toBe(String(Status.UNIMPLEMENTED));
    const unknown = await call("/etcdserverpb.KV/Nope", frame(new Uint8Array(0)));
    expect(unknown.headers["grpc-status"]).toBe(String(Status.UNIMPLEMENTED));
    expect(decodeURI(String(unknown.headers["grpc-message"]))).toBe(
      "The server does not implement the method /etcdserverpb.KV/Nope",
    );
  });

  it("answers a request that is not gRPC with 415", async () => {
    const a = await call("/etcdserverpb.KV/Range", frame(rangeRequest("a")), {
      "content-type": "application/json",
    });
    expect(a.headers[":status"]).toBe(415);
  });

  it("fails a body that is not exactly one uncompressed message", async () => {
    const a = await call(
      "/etcdserverpb.KV/Range",
      Buffer.concat([frame(rangeRequest("a")), frame(rangeRequest("b"))]),
    );
    expect(a.headers["grpc-status"]).toBe(String(Status.UNIMPLEMENTED));
    const codes = (body: Buffer) => {
      const reader = new MessageReader(100, undefined);
      const messages = reader.push(body);
      const r = exactlyOne(Array.isArray(messages) ? (reader.end() ?? messages) : messages);
      return Buffer.isBuffer(r) ? r.toString("hex") : r.code;
    };
    expect(codes(Buffer.alloc(0))).toBe(Status.UNIMPLEMENTED);
    expect(codes(Buffer.from([0, 0, 0]))).toBe(Status.INTERNAL);
    expect(codes(frame(new Uint8Array([1, 2]), true))).toBe(Status.INTERNAL);
    expect(codes(frame(new Uint8Array(101)))).toBe(Status.RESOURCE_EXHAUSTED);
    expect(codes(frame(new Uint8Array([7, 8])).subarray(0, 6))).toBe(Status.INTERNAL);
    expect(codes(frame(new Uint8Array([7, 8])))).toBe("0708");
  });

  it("reads grpc-timeout values as gRPC defines them", () => {
    expect(timeoutMs("5S")).toBe(5000);
    expect(timeoutMs("250m")).toBe(250);
    expect(timeoutMs("2H")).toBe(7_200_000);
    expect(timeoutMs("1500u")).toBe(1);
    expect(timeoutMs("123456789S")).toBeUndefined();
    expect(timeoutMs("5s")).toBeUndefined();
    expect(timeoutMs("soon")).toBeUndefined();
  });
});

describe("streaming calls", () => {
  const watchCreate = () =>
    frame(
      codecFor("etcdserverpb.WatchRequest").encode({
        request_union: "create_request",
        create_request: { key: utf8("k") },
      }),
    );

  it("a watch: messages both ways, then OK trailers once the client ends its side", async () => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.Watch/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    const trailers = new Promise<IncomingHttpHeaders>((resolve) => stream.on("trailers", resolve));
    stream.on("data", (c: Buffer) => chunks.push(c));
    // Two requests in one write, and a third split across two writes.
    stream.write(Buffer.concat([watchCreate(), watchCreate()]));
    const third = watchCreate();
    stream.write(third.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    stream.end(third.subarray(3));
    expect((await trailers)["grpc-status"]).toBe("0");
    const reader = new MessageReader(1 << 20, undefined);
    const responses = reader.push(Buffer.concat(chunks)) as Buffer[];
    expect(responses).toHaveLength(3);
    const decoded = codecFor("etcdserverpb.WatchResponse").decode(responses[2] as Buffer);
    expect(decoded).toMatchObject({ watch_id: 9, created: true });
  });

  it("a watch whose request is cut short ends with INTERNAL", async () => {
    const a = await call("/etcdserverpb.Watch/Watch", watchCreate().subarray(0, 7));
    expect(a.headers["grpc-status"] ?? a.trailers["grpc-status"]).toBe(String(Status.INTERNAL));
  });

  it("a server stream whose grpc-timeout passes ends with DEADLINE_EXCEEDED", async () => {
    const a = await call("/etcdserverpb.Maintenance/Snapshot", frame(new Uint8Array(0)), {
      "grpc-timeout": "50m",
    });
    expect(a.headers["grpc-status"]).toBe(String(Status.DEADLINE_EXCEEDED));
  });
});

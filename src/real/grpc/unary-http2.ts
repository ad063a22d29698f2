// Unary gRPC calls served straight from node:http2 streams, beside grpc-js on the same connections.
//
// A unary call through grpc-js costs its server about 20–35 µs of CPU more than the same call
// answered from the HTTP/2 stream directly (interceptor chain, metadata objects, a message decoder
// and several streams per call). Every put and linearizable get is one such call: in a
// three-member cluster this is 5–9% of the members' CPU per put. The injector's HTTP/2 server gets a 'stream' listener in front of
// grpc-js's: a unary call of a registered method, without compression, is served here; every other
// stream (watch and keep-alive streams, snapshots, unknown methods, compressed messages) goes to
// grpc-js as before.
//
// What a client sees is what grpc-js sends: the same response headers and trailers, a
// trailers-only response for an error, RESOURCE_EXHAUSTED for a message above the receive limit,
// DEADLINE_EXCEEDED when the call's grpc-timeout passes, and the caller's "token" metadata and
// verified TLS client certificate presented to auth.
//
// Finding the injector's HTTP/2 server reads grpc-js's private `http2Servers` map (pinned by the
// lockfile). Should a release change it, unary calls stay with grpc-js: `direct` says which, and a
// test checks that it is true.

import type { ConnectionInjector, Server as GrpcServer, ServerCredentials } from "@grpc/grpc-js";
import { status as Status } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { TLSSocket } from "node:tls";
import type { CallCredentials } from "./backend.js";
import { credentialsFrom } from "./server.js";
import { statusObject, type StatusObject } from "./status.js";

/** What a unary method answers: the encoded response, or a status. */
export type UnaryReply =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly status: StatusObject & Error };

/** A unary method, apart from how its request arrived and its answer leaves. */
export interface UnaryMethod {
  serve(
    request: Buffer,
    credentials: () => CallCredentials,
    answer: (reply: UnaryReply) => void,
  ): void;
}

export interface UnaryInjector {
  readonly injector: ConnectionInjector;
  /** Whether unary calls are served here (false: all of them go through grpc-js). */
  readonly direct: boolean;
}

/** The 5-byte gRPC message prefix: a compressed flag and a big-endian length. */
const PREFIX_BYTES = 5;

const RESPONSE_HEADERS = {
  ":status": 200,
  "content-type": "application/grpc+proto",
  "grpc-accept-encoding": "identity,deflate,gzip",
  "grpc-encoding": "identity",
};

const OK_TRAILERS = { "grpc-status": Status.OK, "grpc-message": "OK" };

/** grpc-timeout: up to 8 digits and a unit (gRPC over HTTP/2). */
const TIMEOUT_PATTERN = /^(\d{1,8})\s*([HMSmun])$/;
const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/**
 * A connection injector of `grpcServer` whose unary calls of `methods` (by path) are served from
 * the HTTP/2 stream; requests above `maxReceiveBytes` fail as grpc-js fails them.
 */
export function unaryInjector(
  grpcServer: GrpcServer,
  credentials: ServerCredentials,
  methods: ReadonlyMap<string, UnaryMethod>,
  maxReceiveBytes: number,
): UnaryInjector {
  const servers = (grpcServer as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) {
    return { injector: grpcServer.createConnectionInjector(credentials), direct: false };
  }
  const before = new Set(servers.keys());
  const injector = grpcServer.createConnectionInjector(credentials);
  const created = [...servers.keys()].filter((s) => !before.has(s));
  const http2 = created[0] as NodeJS.EventEmitter | undefined;
  if (created.length !== 1 || http2 === undefined || http2.listenerCount("stream") === 0) {
    return { injector, direct: false };
  }
  const grpcListeners = http2.listeners("stream") as ((...args: unknown[]) => void)[];
  http2.removeAllListeners("stream");
  http2.on("stream", function (this: unknown, ...args: unknown[]) {
    const [stream, headers] = args as [ServerHttp2Stream, IncomingHttpHeaders];
    const method = plainUnary(headers) ? methods.get(headers[":path"] ?? "") : undefined;
    if (method !== undefined) return serveUnary(stream, headers, method, maxReceiveBytes);
    for (const listener of grpcListeners) listener.apply(this, args);
  });
  return { injector, direct: true };
}

/** A gRPC POST whose messages are not compressed (compressed ones are grpc-js's to decode). */
function plainUnary(headers: IncomingHttpHeaders): boolean {
  const encoding = headers["grpc-encoding"];
  const type = headers["content-type"];
  return (
    headers[":method"] === "POST" &&
    typeof type === "string" &&
    type.startsWith("application/grpc") &&
    (encoding === undefined || encoding === "identity")
  );
}

function serveUnary(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  method: UnaryMethod,
  maxReceiveBytes: number,
): void {
  let chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (reply: UnaryReply): void => {
    if (finished) return;
    finished = true;
    chunks = [];
    if (timer !== undefined) clearTimeout(timer);
    if (stream.destroyed || stream.closed) return;
    try {
      if (reply.ok) sendMessage(stream, reply.bytes);
      else sendStatus(stream, reply.status);
    } catch {
      // The client went away between the check and the write.
      stream.destroy();
    }
  };
  stream.on("error", () => {});
  const timeout = headers["grpc-timeout"];
  if (timeout !== undefined) {
    const ms = timeoutMs(timeout);
    if (ms === undefined) {
      const invalid = statusObject(Status.INTERNAL, `Invalid grpc-timeout value "${timeout}"`);
      return finish({ ok: false, status: invalid });
    }
    timer = setTimeout(
      () =>
        finish({ ok: false, status: statusObject(Status.DEADLINE_EXCEEDED, "Deadline exceeded") }),
      ms,
    );
    // A call the client cancels holds nothing until its deadline.
    stream.once("close", () => clearTimeout(timer));
  }
  stream.on("data", (chunk: Buffer) => {
    if (finished) return;
    chunks.push(chunk);
    size += chunk.length;
    if (size > PREFIX_BYTES + maxReceiveBytes) {
      finish(tooLarge(Buffer.concat(chunks, PREFIX_BYTES).readUInt32BE(1), maxReceiveBytes));
    }
  });
  stream.on("end", () => {
    if (finished) return;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    chunks = [];
    const request = singleMessage(body, maxReceiveBytes);
    if (!Buffer.isBuffer(request)) return finish(request);
    method.serve(request, () => credentialsOfStream(stream, headers), finish);
  });
}

/** The one message of a unary request body, or the status grpc-js would fail it with. */
export function singleMessage(body: Buffer, maxReceiveBytes: number): Buffer | UnaryReply {
  const fail = (code: Status, details: string): UnaryReply => ({
    ok: false,
    status: statusObject(code, details),
  });
  if (body.length === 0) return fail(Status.UNIMPLEMENTED, "Received no request message");
  if (body.length < PREFIX_BYTES) return fail(Status.INTERNAL, "Incomplete request message");
  if (body[0] !== 0) {
    return fail(Status.INTERNAL, "Received a compressed message without a grpc-encoding");
  }
  const length = body.readUInt32BE(1);
  if (length > maxReceiveBytes) return tooLarge(length, maxReceiveBytes);
  const end = PREFIX_BYTES + length;
  if (body.length < end) return fail(Status.INTERNAL, "Incomplete request message");
  if (body.length > end) return fail(Status.UNIMPLEMENTED, "Received a second request message");
  return body.subarray(PREFIX_BYTES, end);
}

function tooLarge(length: number, maxReceiveBytes: number): UnaryReply {
  const details = `Received message larger than max (${length} vs ${maxReceiveBytes})`;
  return { ok: false, status: statusObject(Status.RESOURCE_EXHAUSTED, details) };
}

/** Milliseconds of a grpc-timeout header value; undefined when it is not one. */
export function timeoutMs(value: string | string[]): number | undefined {
  const match = TIMEOUT_PATTERN.exec(String(value).trim());
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number));
}

function sendMessage(stream: ServerHttp2Stream, bytes: Buffer): void {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + bytes.length);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, PREFIX_BYTES);
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(OK_TRAILERS));
  stream.end(frame);
}

/** A trailers-only response: the status in the only headers sent. */
function sendStatus(stream: ServerHttp2Stream, status: StatusObject): void {
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc+proto",
      "grpc-status": status.code,
      "grpc-message": encodeURI(status.details),
    },
    { endStream: true },
  );
}

/** The call's "token" metadata and, over TLS, the verified client certificate (as grpc-js). */
function credentialsOfStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): CallCredentials {
  const token = headers["token"];
  const socket = stream.session?.socket;
  let context: unknown;
  if (socket instanceof TLSSocket && socket.authorized) {
    const certificate = socket.getPeerCertificate();
    context = { sslPeerCertificate: certificate.raw === undefined ? undefined : certificate };
  }
  return credentialsFrom(Array.isArray(token) ? token[0] : token, context);
}

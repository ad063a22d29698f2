// gRPC served on node:http2: each call's HTTP/2 stream is routed by its path to a unary method
// (one request message, one answer), a server-streaming method (one request, a stream of
// responses: Snapshot, RangeStream) or a bidirectional one (Watch, LeaseKeepAlive).
//
// What a client sees is what grpc-js would send: response headers, messages, then the status in
// trailers, or a trailers-only response when a call fails before its first message; UNIMPLEMENTED
// for a method the server does not have; RESOURCE_EXHAUSTED above the receive limit;
// DEADLINE_EXCEEDED once the call's grpc-timeout passes; gzip and deflate request messages are
// inflated. The caller's "token" metadata and verified TLS client certificate go to auth.

import { status as Status } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import {
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { CallCredentials } from "./backend.js";
import {
  exactlyOne,
  frameMessage,
  MessageReader,
  timeoutMs,
  type CallFailure,
} from "./grpc-frames.js";
import { statusObject, type StatusObject } from "./status.js";

/** What a unary method answers: the encoded response, or a status. */
export type UnaryReply =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly status: CallFailure };

/** A unary method, apart from how its request arrived and its answer leaves. */
export interface UnaryMethod {
  serve(
    request: Buffer,
    credentials: () => CallCredentials,
    answer: (reply: UnaryReply) => void,
  ): void;
}

/** A method of the server, by how many messages go each way. */
export type GrpcMethod =
  | { readonly kind: "unary"; readonly unary: UnaryMethod }
  | { readonly kind: "server-stream"; serve(call: GrpcStream, request: Buffer): void }
  | { readonly kind: "bidi"; serve(call: GrpcStream): void };

const RESPONSE_HEADERS: OutgoingHttpHeaders = {
  ":status": 200,
  "content-type": "application/grpc+proto",
  "grpc-accept-encoding": "identity,deflate,gzip",
  "grpc-encoding": "identity",
};

const OK_TRAILERS: OutgoingHttpHeaders = { "grpc-status": Status.OK, "grpc-message": "OK" };

function statusTrailers(status: StatusObject): OutgoingHttpHeaders {
  return { "grpc-status": status.code, "grpc-message": encodeURI(status.details) };
}

/** A trailers-only response: the status in the only headers sent. */
function sendStatus(stream: ServerHttp2Stream, status: StatusObject): void {
  stream.respond(
    { ":status": 200, "content-type": "application/grpc+proto", ...statusTrailers(status) },
    { endStream: true },
  );
}

/** The call's "token" metadata and, over TLS, the verified client certificate's common name. */
function credentialsOfStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): CallCredentials {
  const header = headers["token"];
  const token = Array.isArray(header) ? header[0] : header;
  const socket = stream.session?.socket;
  let commonName: string | undefined;
  if (socket instanceof TLSSocket && socket.authorized) {
    const cn = (socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined)?.CN;
    commonName = Array.isArray(cn) ? cn[0] : cn;
  }
  return {
    ...(token === undefined ? {} : { token }),
    ...(commonName === undefined ? {} : { commonName }),
  };
}

function encodingOf(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers["grpc-encoding"];
  return Array.isArray(encoding) ? encoding[0] : encoding;
}

/**
 * The deadline a call's grpc-timeout sets: a timer that calls `expire` (none without the header),
 * or the failure of a value that is not a timeout.
 */
function deadline(
  headers: IncomingHttpHeaders,
  expire: () => void,
): { readonly timer?: NodeJS.Timeout; readonly invalid?: CallFailure } {
  const value = headers["grpc-timeout"];
  if (value === undefined) return {};
  const ms = timeoutMs(value);
  if (ms === undefined) {
    return {
      invalid: statusObject(Status.INTERNAL, `Invalid grpc-timeout value "${String(value)}"`),
    };
  }
  return { timer: setTimeout(expire, ms) };
}

/**
 * The server's side of a streaming call. Messages go out with `write` (the response headers go
 * before the first), and `end` sends the status once. Events: "message" (a request message of a
 * bidirectional call), "end" (the client sent its last one), "drain", and "cancelled" when the call
 * ends without the handler: the client went away (no argument), its deadline passed or a request
 * could not be read (the status it ended with).
 */
export class GrpcStream extends EventEmitter {
  private headersSent = false;
  private ended = false;
  private trailers = OK_TRAILERS;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
  ) {
    super();
    stream.on("drain", () => this.emit("drain"));
    stream.once("close", () => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      if (this.ended) return;
      this.ended = true;
      this.emit("cancelled");
    });
  }

  /** Whether the call is over: ended by the handler, or gone from the transport's side. */
  get closed(): boolean {
    return this.ended || this.stream.destroyed || this.stream.closed;
  }

  /** Bytes written and not yet sent (the reader is slow). */
  get writableLength(): number {
    return this.stream.writableLength;
  }

  credentials(): CallCredentials {
    return credentialsOfStream(this.stream, this.headers);
  }

  /** Sends one message; false when the stream's buffer is full (wait for "drain"). */
  write(message: Uint8Array): boolean {
    if (this.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      this.stream.once("wantTrailers", () => this.stream.sendTrailers(this.trailers));
    }
    return this.stream.write(frameMessage(message));
  }

  /** Ends the call with `status` (OK when undefined); later calls do nothing. */
  end(status?: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.stream.destroyed || this.stream.closed) return;
    try {
      if (!this.headersSent)
        return sendStatus(this.stream, status ?? statusObject(Status.OK, "OK"));
      if (status !== undefined) this.trailers = statusTrailers(status);
      this.stream.end();
    } catch {
      // The client went away between the check and the write.
      this.stream.destroy();
    }
  }

  /** Ends the call from the transport's side and tells the handler. */
  fail(status: CallFailure): void {
    if (this.ended) return;
    this.end(status);
    this.emit("cancelled", status);
  }

  /** Starts the deadline of the call's grpc-timeout; false if the header is invalid (call ended). */
  startDeadline(): boolean {
    const { timer, invalid } = deadline(this.headers, () =>
      this.fail(statusObject(Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
    );
    if (invalid !== undefined) {
      this.fail(invalid);
      return false;
    }
    this.timer = timer;
    return true;
  }
}

/**
 * Reads a request body as its chunks arrive: `messages` gets the messages each chunk completes, and
 * `end` is called once, at the end of the body or with the failure that ends the call.
 */
function readMessages(
  stream: ServerHttp2Stream,
  reader: MessageReader,
  messages: (got: Buffer[]) => void,
  end: (failure?: CallFailure) => void,
): void {
  let over = false;
  stream.on("data", (chunk: Buffer) => {
    if (over) return;
    const got = reader.push(chunk);
    if (Array.isArray(got)) return messages(got);
    over = true;
    end(got);
  });
  stream.on("end", () => {
    if (over) return;
    over = true;
    end(reader.end());
  });
}

/** Reads a request body whole: its messages, or the failure that ends the call. */
function readBody(
  stream: ServerHttp2Stream,
  reader: MessageReader,
  done: (messages: Buffer[] | CallFailure) => void,
): void {
  const all: Buffer[] = [];
  readMessages(
    stream,
    reader,
    (got) => all.push(...got),
    (failure) => done(failure ?? all),
  );
}

function serveUnary(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  method: UnaryMethod,
  maxReceiveBytes: number,
): void {
  let finished = false;
  const finish = (reply: UnaryReply): void => {
    if (finished) return;
    finished = true;
    if (started.timer !== undefined) clearTimeout(started.timer);
    if (stream.destroyed || stream.closed) return;
    try {
      if (!reply.ok) return sendStatus(stream, reply.status);
      stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers(OK_TRAILERS));
      stream.end(frameMessage(reply.bytes));
    } catch {
      // The client went away between the check and the write.
      stream.destroy();
    }
  };
  const started = deadline(headers, () =>
    finish({ ok: false, status: statusObject(Status.DEADLINE_EXCEEDED, "Deadline exceeded") }),
  );
  if (started.invalid !== undefined) return finish({ ok: false, status: started.invalid });
  // A call the client cancels holds nothing until its deadline.
  if (started.timer !== undefined) stream.once("close", () => clearTimeout(started.timer));
  readBody(stream, new MessageReader(maxReceiveBytes, encodingOf(headers)), (messages) => {
    if (finished) return;
    const request = exactlyOne(messages);
    if (!Buffer.isBuffer(request)) return finish({ ok: false, status: request });
    method.serve(request, () => credentialsOfStream(stream, headers), finish);
  });
}

function serveStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  method: Exclude<GrpcMethod, { kind: "unary" }>,
  maxReceiveBytes: number,
): void {
  const call = new GrpcStream(stream, headers);
  if (!call.startDeadline()) return;
  const reader = new MessageReader(maxReceiveBytes, encodingOf(headers));
  if (method.kind === "server-stream") {
    return readBody(stream, reader, (messages) => {
      if (call.closed) return;
      const request = exactlyOne(messages);
      if (!Buffer.isBuffer(request)) return call.fail(request);
      method.serve(call, request);
    });
  }
  method.serve(call);
  readMessages(
    stream,
    reader,
    (got) => {
      for (const message of got) if (!call.closed) call.emit("message", message);
    },
    (failure) => {
      if (call.closed) return;
      if (failure !== undefined) call.fail(failure);
      else call.emit("end");
    },
  );
}

/** A gRPC request: a POST of some application/grpc content type. */
function isGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers["content-type"];
  return (
    headers[":method"] === "POST" && typeof type === "string" && type.startsWith("application/grpc")
  );
}

/** Serves `methods` (by HTTP/2 path) on the connections handed to it. */
export class GrpcHttp2Server {
  private readonly http2: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(methods: ReadonlyMap<string, GrpcMethod>, maxReceiveBytes: number) {
    this.http2 = createServer({
      // As grpc-js: headers of any size, and no per-session memory cap (node's handling of
      // reaching it degrades badly).
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
    });
    this.http2.on("session", (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
    this.http2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      stream.on("error", () => {});
      if (!isGrpc(headers)) {
        stream.respond(
          { ":status": constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE },
          { endStream: true },
        );
        return;
      }
      const path = headers[":path"] ?? "";
      const method = methods.get(path);
      if (method === undefined) {
        const details = `The server does not implement the method ${path}`;
        return sendStatus(stream, statusObject(Status.UNIMPLEMENTED, details));
      }
      if (method.kind === "unary")
        return serveUnary(stream, headers, method.unary, maxReceiveBytes);
      serveStream(stream, headers, method, maxReceiveBytes);
    });
  }

  /** Serves gRPC on a connection that starts with the HTTP/2 preface (or chose h2 by ALPN). */
  inject(socket: Socket): void {
    this.http2.emit("connection", socket);
  }

  /** Ends every connection; calls in flight are cancelled. */
  destroy(): void {
    for (const session of this.sessions) session.destroy();
  }
}

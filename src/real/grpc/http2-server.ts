// gRPC served on our own HTTP/2 connections (src/real/http2): each call's stream is routed by its
// path to a unary method (one request message, one answer), a server-streaming method (one
// request, a stream of responses: Snapshot, RangeStream) or a bidirectional one (Watch,
// LeaseKeepAlive).
//
// What a client sees is what grpc-js would send: response headers, messages, then the status in
// trailers, or a trailers-only response when a call fails before its first message; UNIMPLEMENTED
// for a method the server does not have; RESOURCE_EXHAUSTED above the receive limit;
// DEADLINE_EXCEEDED once the call's grpc-timeout passes; gzip and deflate request messages are
// inflated. The caller's "token" metadata and verified TLS client certificate go to auth.

import { status as Status } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { Http2ServerConnection } from "../http2/connection.js";
import type { ServerStream } from "../http2/stream.js";
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

// Header fields, flat: name, value, name, value... (frozen: their HPACK blocks are encoded once).
const RESPONSE_HEADERS = Object.freeze([
  ":status",
  "200",
  "content-type",
  "application/grpc+proto",
  "grpc-accept-encoding",
  "identity,deflate,gzip",
  "grpc-encoding",
  "identity",
]);

const OK_TRAILERS = Object.freeze(["grpc-status", String(Status.OK), "grpc-message", "OK"]);

function statusTrailers(status: StatusObject): string[] {
  return ["grpc-status", String(status.code), "grpc-message", encodeURI(status.details)];
}

/** A trailers-only response: the status in the only headers sent. */
function sendStatus(stream: ServerStream, status: StatusObject): void {
  stream.respond(
    [":status", "200", "content-type", "application/grpc+proto", ...statusTrailers(status)],
    true,
  );
}

/** The call's "token" metadata and, over TLS, the verified client certificate's common name. */
function credentialsOfStream(stream: ServerStream, socket: Socket): CallCredentials {
  const token = stream.header("token");
  let commonName: string | undefined;
  if (socket instanceof TLSSocket && socket.authorized) {
    const cn = (socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined)?.CN;
    commonName = Array.isArray(cn) ? cn[0] : cn;
  }
  if (commonName === undefined) return token === undefined ? {} : { token };
  return token === undefined ? { commonName } : { token, commonName };
}

/**
 * The deadline a call's grpc-timeout sets: a timer that calls `expire` (none without the header),
 * or the failure of a value that is not a timeout.
 */
function deadline(
  stream: ServerStream,
  expire: () => void,
): { readonly timer?: NodeJS.Timeout; readonly invalid?: CallFailure } {
  const value = stream.header("grpc-timeout");
  if (value === undefined) return {};
  const ms = timeoutMs(value);
  if (ms === undefined) {
    return { invalid: statusObject(Status.INTERNAL, `Invalid grpc-timeout value "${value}"`) };
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
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ServerStream,
    private readonly socket: Socket,
  ) {
    super();
    stream.onDrain = () => this.emit("drain");
    stream.onClose = () => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      if (this.ended) return;
      this.ended = true;
      this.emit("cancelled");
    };
  }

  /** Whether the call is over: ended by the handler, or gone from the transport's side. */
  get closed(): boolean {
    return this.ended || this.stream.closed;
  }

  /** Bytes written and not yet sent (the reader is slow). */
  get writableLength(): number {
    return this.stream.bufferedBytes;
  }

  credentials(): CallCredentials {
    return credentialsOfStream(this.stream, this.socket);
  }

  /** Sends one message; false when the stream's buffer is full (wait for "drain"). */
  write(message: Uint8Array): boolean {
    if (this.closed) return false;
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS);
    }
    return this.stream.write(frameMessage(message));
  }

  /** Ends the call with `status` (OK when undefined); later calls do nothing. */
  end(status?: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.stream.closed) return;
    if (!this.headersSent) return sendStatus(this.stream, status ?? statusObject(Status.OK, "OK"));
    this.stream.end(status === undefined ? OK_TRAILERS : statusTrailers(status));
  }

  /** Ends the call from the transport's side and tells the handler. */
  fail(status: CallFailure): void {
    if (this.ended) return;
    this.end(status);
    this.emit("cancelled", status);
  }

  /** Starts the deadline of the call's grpc-timeout; false if the header is invalid (call ended). */
  startDeadline(): boolean {
    const { timer, invalid } = deadline(this.stream, () =>
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
  stream: ServerStream,
  reader: MessageReader,
  messages: (got: Buffer[]) => void,
  end: (failure?: CallFailure) => void,
): void {
  let over = false;
  stream.onData = (chunk) => {
    if (over) return;
    const got = reader.push(chunk);
    if (Array.isArray(got)) return messages(got);
    over = true;
    end(got);
  };
  stream.onEnd = () => {
    if (over) return;
    over = true;
    end(reader.end());
  };
}

/** Reads a request body whole: its messages, or the failure that ends the call. */
function readBody(
  stream: ServerStream,
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
  stream: ServerStream,
  socket: Socket,
  method: UnaryMethod,
  maxReceiveBytes: number,
): void {
  let finished = false;
  const finish = (reply: UnaryReply): void => {
    if (finished) return;
    finished = true;
    if (started.timer !== undefined) clearTimeout(started.timer);
    if (stream.closed) return;
    if (!reply.ok) return sendStatus(stream, reply.status);
    stream.respond(RESPONSE_HEADERS);
    stream.write(frameMessage(reply.bytes));
    stream.end(OK_TRAILERS);
  };
  const started = deadline(stream, () =>
    finish({ ok: false, status: statusObject(Status.DEADLINE_EXCEEDED, "Deadline exceeded") }),
  );
  if (started.invalid !== undefined) return finish({ ok: false, status: started.invalid });
  // A call the client cancels holds nothing until its deadline.
  if (started.timer !== undefined) stream.onClose = () => clearTimeout(started.timer);
  const encoding = stream.header("grpc-encoding");
  readBody(stream, new MessageReader(maxReceiveBytes, encoding), (messages) => {
    if (finished) return;
    const request = exactlyOne(messages);
    if (!Buffer.isBuffer(request)) return finish({ ok: false, status: request });
    method.serve(request, () => credentialsOfStream(stream, socket), finish);
  });
}

function serveStream(
  stream: ServerStream,
  socket: Socket,
  method: Exclude<GrpcMethod, { kind: "unary" }>,
  maxReceiveBytes: number,
): void {
  const call = new GrpcStream(stream, socket);
  if (!call.startDeadline()) return;
  const reader = new MessageReader(maxReceiveBytes, stream.header("grpc-encoding"));
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
function isGrpc(stream: ServerStream): boolean {
  const type = stream.header("content-type");
  return (
    stream.header(":method") === "POST" && type !== undefined && type.startsWith("application/grpc")
  );
}

/** Serves `methods` (by HTTP/2 path) on the connections handed to it. */
export class GrpcHttp2Server {
  private readonly connections = new Set<Http2ServerConnection>();

  constructor(
    private readonly methods: ReadonlyMap<string, GrpcMethod>,
    private readonly maxReceiveBytes: number,
  ) {}

  /** Serves gRPC on a connection that starts with the HTTP/2 preface (or chose h2 by ALPN). */
  inject(socket: Socket): void {
    const connection = new Http2ServerConnection(socket, (stream) => this.route(stream, socket));
    this.connections.add(connection);
    socket.once("close", () => this.connections.delete(connection));
  }

  /** Ends every connection; calls in flight are cancelled. */
  destroy(): void {
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  private route(stream: ServerStream, socket: Socket): void {
    if (!isGrpc(stream)) return stream.respond([":status", "415"], true);
    const path = stream.header(":path") ?? "";
    const method = this.methods.get(path);
    if (method === undefined) {
      const details = `The server does not implement the method ${path}`;
      return sendStatus(stream, statusObject(Status.UNIMPLEMENTED, details));
    }
    if (method.kind === "unary")
      return serveUnary(stream, socket, method.unary, this.maxReceiveBytes);
    serveStream(stream, socket, method, this.maxReceiveBytes);
  }
}

// One client port for gRPC and HTTP/1.1, as etcd serves both on --listen-client-urls: a TCP
// server reads the first bytes of each connection; the HTTP/2 connection preface goes to the gRPC
// server (http2-server.ts), anything else to a node:http server running the given handler
// (/health, /metrics, /version; 404 when there is none).
//
// An address with TLS (an https URL) is a tls.Server instead: the handshake's ALPN protocol picks
// the destination ("h2" gRPC, "http/1.1" HTTP), and a client that offers no ALPN is sniffed like a
// plain connection. The TLS socket itself goes to the gRPC server, so a call's credentials carry
// the client's verified certificate. Client certificates are checked as the handshake completes,
// before a byte is read (a refused client never reaches gRPC or HTTP); a certificate reload
// replaces the server's secure context for new connections.

import { Buffer } from "node:buffer";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import type { TlsEndpoint } from "../tls/reloading-tls.js";
import type { Backend } from "./backend.js";
import { GrpcHttp2Server } from "./http2-server.js";
import { etcdGrpcMethods, type GrpcServerOptions } from "./server.js";

export interface ClientServerOptions {
  readonly backend: Backend;
  /** Handles every request that is not gRPC; without it they get 404. */
  readonly http?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Addresses to listen on; port 0 picks a free port. With `tls`, the address serves TLS only. */
  readonly listen: readonly {
    readonly host: string;
    readonly port: number;
    readonly tls?: TlsEndpoint;
  }[];
  readonly grpc?: GrpcServerOptions;
  /** Told of each TLS handshake that failed (a refused client certificate, say). */
  readonly onTlsError?: (error: Error, remoteAddress: string | undefined) => void;
}

export interface ClientServer {
  /** The bound port of each `listen` entry, in order. */
  readonly ports: number[];
  /** Stops listening, ends every connection (calls in flight are cancelled), and resolves when done. */
  close(): Promise<void>;
}

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** A connection that sends nothing for this long before its first bytes is closed. */
const SNIFF_TIMEOUT_MS = 10_000;
/** A TLS handshake must finish within this time. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** ALPN protocols offered on TLS addresses, preferred first. */
export const CLIENT_PORT_ALPN: readonly string[] = ["h2", "http/1.1"];

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("404 page not found\n");
}

type Destination = "grpc" | "http";

/** grpc when `head` is (a prefix of) the HTTP/2 preface, http as soon as it cannot be. */
function classify(head: Buffer): Destination | undefined {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.compare(HTTP2_PREFACE, 0, n, 0, n) !== 0) return "http";
  return head.length >= HTTP2_PREFACE.length ? "grpc" : undefined;
}

/**
 * Reads from `socket` until its destination is known, then puts the bytes back and hands the
 * socket over.
 */
function sniff(socket: Socket, route: (socket: Socket, to: Destination) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const to = classify(head);
    if (to === undefined) return;
    cleanup();
    socket.pause();
    socket.unshift(head);
    route(socket, to);
  };
  const cleanup = (): void => {
    socket.removeListener("data", onData);
    socket.setTimeout(0);
  };
  socket.on("data", onData);
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  socket.once("error", cleanup);
}

function listenOn(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.removeListener("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

export async function startClientServer(options: ClientServerOptions): Promise<ClientServer> {
  const { methods, maxReceiveBytes } = etcdGrpcMethods(options.backend, options.grpc);
  const grpc = new GrpcHttp2Server(methods, maxReceiveBytes);
  const httpServer = createHttpServer(options.http ?? notFound);
  const sockets = new Set<Socket>();
  const route = (socket: Socket, to: Destination): void => {
    // The bytes put back are read first. The gRPC connection resumes the socket itself;
    // node:http needs it resumed here.
    if (to === "grpc") return grpc.inject(socket);
    httpServer.emit("connection", socket);
    socket.resume();
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const unsubscribe: (() => void)[] = [];
  const servers = options.listen.map((address): NetServer => {
    if (address.tls === undefined)
      return createNetServer((socket) => {
        track(socket);
        sniff(socket, route);
      });
    const server = tlsServer(address.tls, options, track, route);
    unsubscribe.push(address.tls.onReload(() => server.setSecureContext(tlsOptions(address.tls))));
    return server;
  });
  const ports: number[] = [];
  try {
    for (const [i, address] of options.listen.entries()) {
      ports.push(await listenOn(servers[i] as NetServer, address.host, address.port));
    }
  } catch (e) {
    for (const s of servers) s.close();
    for (const u of unsubscribe) u();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    for (const u of unsubscribe) u();
    closing ??= closeAll(servers, sockets, grpc, httpServer);
    return closing;
  };
  return { ports, close };
}

function tlsOptions(tls: TlsEndpoint | undefined) {
  return { ...tls?.serverOptions(), ALPNProtocols: [...CLIENT_PORT_ALPN] };
}

/** A TLS listener: the handshake (and its ALPN choice) comes before routing. */
function tlsServer(
  tls: TlsEndpoint,
  options: ClientServerOptions,
  track: (socket: Socket) => void,
  route: (socket: Socket, to: Destination) => void,
): TlsServer {
  const server = createTlsServer(
    { ...tlsOptions(tls), handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
    (socket: TLSSocket) => {
      track(socket);
      const refusal = tls.checkPeer(socket);
      if (refusal !== undefined) {
        options.onTlsError?.(new Error(refusal), socket.remoteAddress);
        socket.destroy();
        return;
      }
      if (socket.alpnProtocol === "h2") return route(socket, "grpc");
      if (socket.alpnProtocol === "http/1.1") return route(socket, "http");
      sniff(socket, route);
    },
  );
  server.on("connection", track);
  server.on("tlsClientError", (error, socket) => options.onTlsError?.(error, socket.remoteAddress));
  return server;
}

async function closeAll(
  netServers: readonly NetServer[],
  sockets: Set<Socket>,
  grpc: GrpcHttp2Server,
  httpServer: HttpServer,
): Promise<void> {
  const stopped = Promise.all(
    netServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
  // Calls in flight are cancelled: a closing port is a stopping member, whose requests fail anyway.
  grpc.destroy();
  httpServer.closeAllConnections();
  httpServer.close();
  for (const socket of sockets) socket.destroy();
  await stopped;
}

// The real network between detcd members: one outbound TCP connection per peer, opened lazily and
// re-opened with backoff, carrying length-prefixed frames (framing.ts) of encoded member messages
// (codec.ts). Delivery is best effort, as Raft expects: a message may be lost when a queue is full
// or a connection breaks, but it is never delivered twice by the transport and never delivered
// synchronously from `send`.
//
// A connection starts with a hello naming the cluster and both members; the receiver refuses
// (a refuse frame with the reason, then close) a hello from another cluster, for another member,
// or from a member removed by setPeers. Each side of a member connection has one job: the dialler
// writes messages and pings, the acceptor delivers messages and answers pings with pongs, so the
// round-trip time of a peer is measured on the connection that carries our messages to it.
//
// A query is a one-off exchange on its own connection, outside any cluster: a joining member asks
// an existing member (by URL, before it knows its id) and gets back the answer of its onQuery.
//
// TLS: an https peer URL is dialled with TLS (our peer certificate as the client certificate, the
// peer CA to verify the other side), queries included; a listener with TLS accepts TLS only, the
// handshake checking client certificates when asked to, and a handshaken connection whose
// certificate fails the endpoint's extra check (the allowed CN) is refused with the reason.

import { createConnection, createServer, isIP, type Server, type Socket } from "node:net";
import {
  connect as connectTls,
  createServer as createTlsServer,
  type ConnectionOptions,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import { assert } from "../../lib/assert.js";
import type { NodeId } from "../../raft/types.js";
import type { MemberMessage } from "../../server/messages.js";
import type { TlsEndpoint } from "../tls/reloading-tls.js";
import { decodeHello, decodeMemberMessage, encodeHello, encodeMemberMessage } from "./codec.js";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameType,
  describeFramingError,
  encodeFrame,
  sealFrame,
  type Frame,
} from "./framing.js";

export type PeerLogLevel = "debug" | "info" | "warn" | "error";
export type PeerLog = (level: PeerLogLevel, msg: string, fields: Record<string, unknown>) => void;

export interface PeerTransportOptions {
  readonly selfId: NodeId;
  readonly clusterId: bigint;
  /**
   * Where to accept peer connections; port 0 picks a free port (start() returns it). With `tls`
   * true the listener serves TLS with the `tls` endpoint (which must then be given).
   */
  readonly listen: { readonly host: string; readonly port: number; readonly tls?: boolean };
  /**
   * TLS of this member's peer role: served on the listener when listen.tls, and used to dial https
   * peer URLs. Without it, https URLs are dialled with Node's defaults (the system's roots).
   */
  readonly tls?: TlsEndpoint;
  /**
   * Called for each message a peer sent, from a socket event (never from inside `send`), in the
   * order that peer's connection carried them. An exception is logged and does not close the
   * connection. The message is owned by the receiver (it shares no memory with the transport).
   */
  readonly onMessage: (from: NodeId, message: MemberMessage) => void;
  /** Answers `query` from any process that can reach the peer port. Absent: queries get an error. */
  readonly onQuery?: (body: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly log?: PeerLog;
  /** Messages waiting per peer before new ones are dropped (default 4096). */
  readonly maxQueuedMessages?: number;
  /**
   * Bytes waiting per peer before new messages are dropped (default 64 MiB). One message larger
   * than this (a snapshot) is still accepted into an empty queue.
   */
  readonly maxQueuedBytes?: number;
  /** The largest frame sent or accepted (default 256 MiB); larger messages are dropped. */
  readonly maxFrameBytes?: number;
  readonly pingIntervalMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** An accepted connection that sends no hello (or query) within this time is closed. */
  readonly handshakeTimeoutMs?: number;
}

/** Counters of one peer since the transport started; they survive reconnections and removal. */
export interface PeerStats {
  /** Bytes of message frames written to the peer's connection (headers included). */
  readonly sentBytes: number;
  /** Bytes of message frames received from the peer (headers included). */
  readonly receivedBytes: number;
  /** Messages dropped: queue full, peer unknown or unreachable URL, message too large. */
  readonly sendFailures: number;
  /** The last ping's round-trip time; undefined before the first pong. */
  readonly lastRttSeconds: number | undefined;
  /** Whether the outbound connection to the peer is established. */
  readonly connected: boolean;
}

export type PeerQueryFailure = "timeout" | "unreachable" | "refused" | "remote-error" | "closed";

/** Why a query got no answer. */
export class PeerQueryError extends Error {
  override name = "PeerQueryError";
  constructor(
    readonly reason: PeerQueryFailure,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULTS = {
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  pingIntervalMs: 1000,
  reconnectMinMs: 50,
  reconnectMaxMs: 1000,
  handshakeTimeoutMs: 5000,
};

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  /** An https URL: dialled with TLS. */
  readonly secure: boolean;
}

/** Parses an etcd peer URL (http://host:port or https://host:port). */
export function parsePeerUrl(url: string): PeerAddress | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid peer URL ${JSON.stringify(url)}`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    return `unsupported peer URL scheme in ${url} (http or https only)`;
  const secure = parsed.protocol === "https:";
  // URL drops a port equal to the scheme's default, so an empty port here means 80 (or 443).
  const port = parsed.port === "" ? (secure ? 443 : 80) : Number(parsed.port);
  if (port === 0) return `peer URL ${url} has port 0`;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port, secure };
}

/**
 * Opens a connection to `address`: plain TCP, or TLS with `tls`'s dial options for an https
 * address. Returns the socket and the event that says it is ready to write ("connect" or
 * "secureConnect").
 */
export function dialPeer(
  address: PeerAddress,
  tls: TlsEndpoint | undefined,
): { socket: Socket; ready: "connect" | "secureConnect" } {
  if (!address.secure)
    return {
      socket: createConnection({ host: address.host, port: address.port }),
      ready: "connect",
    };
  const options: ConnectionOptions = {
    ...tls?.connectOptions(),
    host: address.host,
    port: address.port,
    // SNI takes host names only: an IP address is verified against the certificate's IP SANs.
    ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
  };
  return { socket: connectTls(options), ready: "secureConnect" };
}

class PeerCounters {
  sentBytes = 0;
  receivedBytes = 0;
  sendFailures = 0;
  lastRttSeconds: number | undefined = undefined;
}

/** What an outbound link needs from its transport. */
interface LinkContext {
  readonly selfId: NodeId;
  readonly clusterId: bigint;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly maxFrameBytes: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly tls: TlsEndpoint | undefined;
  log(level: PeerLogLevel, msg: string, fields: Record<string, unknown>): void;
}

type LinkState = "idle" | "connecting" | "connected" | "backoff" | "closed";

/**
 * The connection to one peer and its queue. Owns its socket and timers; the transport owns the
 * link and closes it when the peer leaves or its URL changes.
 */
class OutboundLink {
  private state: LinkState = "idle";
  private socket: Socket | undefined;
  private queue: (Uint8Array | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushHandle: NodeJS.Immediate | undefined;
  private dropping = false;
  private lastRefusal: string | undefined;

  constructor(
    readonly id: NodeId,
    readonly url: string,
    private readonly address: PeerAddress | undefined,
    private readonly counters: PeerCounters,
    private readonly ctx: LinkContext,
  ) {
    this.backoffMs = ctx.reconnectMinMs;
  }

  get connected(): boolean {
    return this.state === "connected";
  }

  get queuedMessages(): number {
    return this.queue.length - this.head;
  }

  /** Queues a sealed frame; false (and nothing queued) when the queue is full or the link dead. */
  enqueue(frame: Uint8Array): boolean {
    if (this.state === "closed" || this.address === undefined) return false;
    const waiting = this.queuedMessages;
    const full =
      waiting >= this.ctx.maxQueuedMessages ||
      (waiting > 0 && this.queuedBytes + frame.length > this.ctx.maxQueuedBytes);
    if (full) {
      if (!this.dropping) this.ctx.log("warn", "peer queue full, dropping", this.fields());
      this.dropping = true;
      return false;
    }
    this.dropping = false;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.state === "idle") this.connect(this.address);
    else if (this.state === "connected") this.scheduleFlush();
    return true;
  }

  /** Sends a ping carrying the send time, unless the socket is backed up. */
  ping(nowMs: number): void {
    const socket = this.socket;
    if (this.state !== "connected" || socket === undefined || socket.writableNeedDrain) return;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + 8);
    new DataView(frame.buffer).setFloat64(FRAME_HEADER_BYTES, nowMs, true);
    sealFrame(FrameType.ping, frame);
    socket.write(frame);
  }

  close(): void {
    this.state = "closed";
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle);
    this.socket?.destroy();
    this.socket = undefined;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private fields(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { peer: this.id, url: this.url, ...extra };
  }

  private connect(address: PeerAddress): void {
    this.state = "connecting";
    const { socket, ready } = dialPeer(address, this.ctx.tls);
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.ctx.maxFrameBytes);
    socket.on(ready, () => {
      if (this.socket !== socket) return;
      socket.setKeepAlive(true, 2000);
      this.state = "connected";
      const hello = encodeHello({
        clusterId: this.ctx.clusterId,
        fromId: this.ctx.selfId,
        toId: this.id,
      });
      socket.write(mustFrame(FrameType.hello, hello));
      this.ctx.log("debug", "peer connected", this.fields());
      this.scheduleFlush();
    });
    socket.on("data", (chunk: Buffer) => this.onData(socket, decoder, chunk));
    socket.on("drain", () => this.scheduleFlush());
    socket.on("error", (e) => {
      if (this.socket !== socket) return;
      const level = this.backoffMs === this.ctx.reconnectMinMs ? "warn" : "debug";
      this.ctx.log(level, "peer connection failed", this.fields({ error: e.message }));
    });
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.state === "connected") this.ctx.log("info", "peer disconnected", this.fields());
      if (this.state !== "closed") this.retryLater();
    });
  }

  private onData(socket: Socket, decoder: FrameDecoder, chunk: Uint8Array): void {
    if (this.socket !== socket) return;
    const frames = decoder.push(chunk);
    if (!frames.ok) {
      this.ctx.log(
        "warn",
        "peer stream broken",
        this.fields({ error: describeFramingError(frames.error) }),
      );
      socket.destroy();
      return;
    }
    for (const frame of frames.value) {
      if (this.socket !== socket) return;
      this.onFrame(socket, frame);
    }
  }

  private onFrame(socket: Socket, frame: Frame): void {
    switch (frame.type) {
      case FrameType.pong:
        this.onPong(frame.payload);
        return;
      case FrameType.refuse: {
        // Retries meet the same refusal every backoff period: warn once per distinct reason.
        const reason = utf8(frame.payload.subarray(0, 1024));
        const level = reason === this.lastRefusal ? "debug" : "warn";
        this.lastRefusal = reason;
        this.ctx.log(level, "peer refused connection", this.fields({ reason }));
        socket.destroy();
        return;
      }
      default:
        this.ctx.log("warn", "unexpected frame from peer", this.fields({ frameType: frame.type }));
        socket.destroy();
    }
  }

  private onPong(payload: Uint8Array): void {
    if (payload.length !== 8) return;
    const sentMs = new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
    this.counters.lastRttSeconds = Math.max(0, performance.now() - sentMs) / 1000;
    // A pong proves the peer accepted our hello: the next failure starts from a short backoff.
    this.backoffMs = this.ctx.reconnectMinMs;
    this.lastRefusal = undefined;
  }

  private retryLater(): void {
    this.state = "backoff";
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.ctx.reconnectMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state !== "backoff" || this.address === undefined) return;
      if (this.queuedMessages > 0) this.connect(this.address);
      else this.state = "idle";
    }, delayMs);
    this.retryTimer.unref();
  }

  private scheduleFlush(): void {
    if (this.flushHandle !== undefined) return;
    // Deferred so the messages of one Ready batch leave in one write.
    this.flushHandle = setImmediate(() => {
      this.flushHandle = undefined;
      this.flush();
    });
  }

  /** Writes queued frames until the queue is empty or the socket asks us to wait for 'drain'. */
  private flush(): void {
    const socket = this.socket;
    if (this.state !== "connected" || socket === undefined) return;
    socket.cork();
    while (this.head < this.queue.length && !socket.writableNeedDrain) {
      const frame = this.queue[this.head] as Uint8Array;
      this.queue[this.head++] = undefined;
      this.queuedBytes -= frame.length;
      socket.write(frame);
      this.counters.sentBytes += frame.length;
    }
    socket.uncork();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** An accepted connection: new until its first frame says whether it is a member or a query. */
interface InboundConnection {
  readonly socket: Socket;
  readonly decoder: FrameDecoder;
  mode: "new" | "member" | "query" | "done";
  peerId: NodeId;
}

/**
 * The peer transport of one member. Contract: `send` never blocks, never throws and never delivers
 * synchronously; callbacks (onMessage, onQuery, log) fire only from I/O events, and none fires
 * after `close()` is called.
 */
export class PeerTransport {
  private readonly ctx: LinkContext;
  private readonly links = new Map<NodeId, OutboundLink>();
  private readonly counters = new Map<NodeId, PeerCounters>();
  /** Members removed by setPeers: their hellos are refused (etcd never reuses a member id). */
  private readonly removed = new Set<NodeId>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly queries = new Set<() => void>();
  private readonly maxFrameBytes: number;
  private readonly pingIntervalMs: number;
  private readonly handshakeTimeoutMs: number;
  private server: Server | undefined;
  private unsubscribeReload: (() => void) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PeerTransportOptions) {
    // Checked here so a bad id fails at construction rather than inside a socket event.
    assert(Number.isSafeInteger(options.selfId) && options.selfId > 0, "peer: bad selfId");
    assert(options.clusterId >= 0n && options.clusterId < 1n << 64n, "peer: bad clusterId");
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.pingIntervalMs = options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    this.ctx = {
      selfId: options.selfId,
      clusterId: options.clusterId,
      maxQueuedMessages: options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      maxFrameBytes: this.maxFrameBytes,
      reconnectMinMs: options.reconnectMinMs ?? DEFAULTS.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs,
      tls: options.tls,
      log: (level, msg, fields) => this.log(level, msg, fields),
    };
  }

  /** Listens on the peer address; resolves with the bound port. Call once. */
  start(): Promise<number> {
    if (this.closed) return Promise.reject(new Error("peer transport is closed"));
    if (this.server !== undefined)
      return Promise.reject(new Error("peer transport already started"));
    const server = this.createListener();
    this.server = server;
    this.pingTimer = setInterval(() => this.pingAll(), this.pingIntervalMs);
    this.pingTimer.unref();
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off("error", reject);
        server.on("error", (e) => this.log("error", "peer listener failed", { error: e.message }));
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : 0);
      });
    });
  }

  private createListener(): Server {
    const tls = this.options.tls;
    if (this.options.listen.tls !== true) return createServer((socket) => this.accept(socket));
    if (tls === undefined) throw new Error("peer transport: listen.tls needs the tls endpoint");
    const server: TlsServer = createTlsServer(
      { ...tls.serverOptions(), handshakeTimeout: this.handshakeTimeoutMs },
      (socket) => this.accept(socket),
    );
    server.on("tlsClientError", (e, socket) =>
      this.log("warn", "peer TLS handshake failed", {
        error: e.message,
        remote: socket.remoteAddress,
      }),
    );
    this.unsubscribeReload = tls.onReload(() => server.setSecureContext(tls.serverOptions()));
    return server;
  }

  /**
   * Sets the members to talk to (ourselves excluded if present). A new peer is dialled at its first
   * message; a removed peer's connections (both ways) are closed and its queue dropped; a peer whose
   * URL changed is dialled afresh at the new URL.
   */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, link] of [...this.links]) {
      const url = peers.get(id);
      if (url === link.url) continue;
      link.close();
      this.links.delete(id);
      if (url === undefined) this.forget(id);
    }
    for (const [id, url] of peers) {
      if (id === this.options.selfId || this.links.has(id)) continue;
      this.removed.delete(id);
      const address = parsePeerUrl(url);
      if (typeof address === "string")
        this.log("error", "unusable peer URL", { peer: id, error: address });
      const usable = typeof address === "string" ? undefined : address;
      this.links.set(id, new OutboundLink(id, url, usable, this.countersOf(id), this.ctx));
    }
  }

  /** Queues `message` for `to`. Never blocks, throws or delivers synchronously; a drop is counted. */
  send(to: NodeId, message: MemberMessage): void {
    if (this.closed) return;
    const link = this.links.get(to);
    const frame = link === undefined ? undefined : this.frameOf(to, message);
    if (link === undefined || frame === undefined || !link.enqueue(frame)) {
      this.countersOf(to).sendFailures++;
      if (link === undefined) this.log("debug", "message to unknown peer dropped", { peer: to });
    }
  }

  /** Per peer counters, by ascending member id. */
  stats(): ReadonlyMap<NodeId, PeerStats> {
    const ids = [...this.counters.keys()].sort((a, b) => a - b);
    const out = new Map<NodeId, PeerStats>();
    for (const id of ids) {
      const c = this.counters.get(id) as PeerCounters;
      out.set(id, {
        sentBytes: c.sentBytes,
        receivedBytes: c.receivedBytes,
        sendFailures: c.sendFailures,
        lastRttSeconds: c.lastRttSeconds,
        connected: this.links.get(id)?.connected ?? false,
      });
    }
    return out;
  }

  /**
   * Sends `body` to whatever member listens at `peerUrl` (in the peer set or not) on a fresh
   * connection and resolves with its onQuery answer; rejects with a PeerQueryError on timeout,
   * refusal, a failing handler or close().
   */
  async query(peerUrl: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed)
      throw new PeerQueryError("closed", `peer query to ${peerUrl}: transport is closed`);
    const abort = new AbortController();
    const cancel = () => abort.abort();
    this.queries.add(cancel);
    try {
      return await queryPeer(peerUrl, body, {
        timeoutMs,
        maxFrameBytes: this.maxFrameBytes,
        signal: abort.signal,
        ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      });
    } finally {
      this.queries.delete(cancel);
    }
  }

  /** Closes the listener and every connection; no callback fires once this is called. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.unsubscribeReload?.();
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    for (const link of this.links.values()) link.close();
    for (const conn of this.inbound) conn.socket.destroy();
    this.inbound.clear();
    for (const cancel of [...this.queries]) cancel();
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  // ---- internals ---------------------------------------------------------------------------------

  private log(level: PeerLogLevel, msg: string, fields: Record<string, unknown>): void {
    if (this.closed || this.options.log === undefined) return;
    this.options.log(level, msg, { member: this.options.selfId, ...fields });
  }

  private countersOf(id: NodeId): PeerCounters {
    let c = this.counters.get(id);
    if (c === undefined) {
      c = new PeerCounters();
      this.counters.set(id, c);
    }
    return c;
  }

  private frameOf(to: NodeId, message: MemberMessage): Uint8Array | undefined {
    let encoded: Uint8Array;
    try {
      encoded = encodeMemberMessage(message, FRAME_HEADER_BYTES);
    } catch (e) {
      this.log("error", "message could not be encoded", { peer: to, error: String(e) });
      return undefined;
    }
    const frame = sealFrame(FrameType.message, encoded, this.maxFrameBytes);
    if (frame.ok) return frame.value;
    this.log("warn", "message too large", { peer: to, error: describeFramingError(frame.error) });
    return undefined;
  }

  private forget(id: NodeId): void {
    this.removed.add(id);
    for (const conn of this.inbound) {
      if (conn.mode === "member" && conn.peerId === id) conn.socket.destroy();
    }
  }

  private pingAll(): void {
    const nowMs = performance.now();
    for (const link of this.links.values()) link.ping(nowMs);
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn: InboundConnection = {
      socket,
      decoder: new FrameDecoder(this.maxFrameBytes),
      mode: "new",
      peerId: 0,
    };
    this.inbound.add(conn);
    const timer = setTimeout(() => {
      if (conn.mode === "new") this.refuse(conn, "no hello in time");
    }, this.handshakeTimeoutMs);
    timer.unref();
    socket.on("data", (chunk: Buffer) => this.onInboundData(conn, chunk));
    socket.on("error", (e) => this.log("debug", "peer connection error", { error: e.message }));
    socket.on("close", () => {
      clearTimeout(timer);
      this.inbound.delete(conn);
    });
    const refusal = isTlsSocket(socket) ? this.options.tls?.checkPeer(socket) : undefined;
    if (refusal !== undefined) this.refuse(conn, refusal);
  }

  private onInboundData(conn: InboundConnection, chunk: Uint8Array): void {
    if (!this.isLive(conn)) return;
    const frames = conn.decoder.push(chunk);
    if (!frames.ok) {
      this.refuse(conn, describeFramingError(frames.error));
      return;
    }
    for (const frame of frames.value) {
      if (!this.isLive(conn)) return;
      this.onInboundFrame(conn, frame);
    }
  }

  /** Whether frames on `conn` still matter (a handler may close the transport mid-chunk). */
  private isLive(conn: InboundConnection): boolean {
    return !this.closed && conn.mode !== "done";
  }

  private onInboundFrame(conn: InboundConnection, frame: Frame): void {
    if (conn.mode === "new") {
      if (frame.type === FrameType.hello) this.onHello(conn, frame.payload);
      else if (frame.type === FrameType.query) this.answerQuery(conn, frame.payload.slice());
      else this.refuse(conn, `expected a hello, got frame type ${frame.type}`);
    } else if (conn.mode === "member") {
      if (frame.type === FrameType.message) this.deliver(conn.peerId, frame.payload);
      else if (frame.type === FrameType.ping)
        conn.socket.write(mustFrame(FrameType.pong, frame.payload));
      else this.refuse(conn, `unexpected frame type ${frame.type}`);
    }
  }

  private onHello(conn: InboundConnection, payload: Uint8Array): void {
    const hello = decodeHello(payload);
    if (!hello.ok) return this.refuse(conn, hello.error.message);
    const { clusterId, fromId, toId } = hello.value;
    if (clusterId !== this.options.clusterId) {
      const ours = this.options.clusterId.toString(16);
      return this.refuse(
        conn,
        `cluster ID mismatch: ours ${ours}, theirs ${clusterId.toString(16)}`,
        fromId,
      );
    }
    if (toId !== 0 && toId !== this.options.selfId) {
      return this.refuse(
        conn,
        `member ID mismatch: this is ${this.options.selfId}, not ${toId}`,
        fromId,
      );
    }
    if (this.removed.has(fromId)) return this.refuse(conn, `member ${fromId} was removed`, fromId);
    conn.mode = "member";
    conn.peerId = fromId;
    this.log("debug", "peer accepted", { peer: fromId });
  }

  private deliver(from: NodeId, payload: Uint8Array): void {
    this.countersOf(from).receivedBytes += FRAME_HEADER_BYTES + payload.length;
    const decoded = decodeMemberMessage(payload);
    if (!decoded.ok) {
      this.log("warn", "undecodable message dropped", { peer: from, error: decoded.error.message });
      return;
    }
    try {
      this.options.onMessage(from, decoded.value);
    } catch (e) {
      this.log("error", "message handler failed", { peer: from, error: String(e) });
    }
  }

  private refuse(conn: InboundConnection, reason: string, peer?: NodeId): void {
    this.log("warn", "peer connection refused", {
      reason,
      peer,
      remote: conn.socket.remoteAddress,
    });
    conn.mode = "done";
    endThenDestroy(conn.socket, mustFrame(FrameType.refuse, new TextEncoder().encode(reason)));
  }

  private answerQuery(conn: InboundConnection, body: Uint8Array): void {
    conn.mode = "query";
    const onQuery = this.options.onQuery;
    const answered = new Promise<Uint8Array>((resolve) => {
      if (onQuery === undefined) throw new Error("this member answers no queries");
      resolve(onQuery(body));
    });
    answered.then(
      (reply) => {
        const frame = encodeFrame(FrameType.reply, reply, this.maxFrameBytes);
        if (frame.ok) this.endQuery(conn, frame.value);
        else this.endQuery(conn, queryErrorFrame(describeFramingError(frame.error)));
      },
      (e: unknown) =>
        this.endQuery(conn, queryErrorFrame(e instanceof Error ? e.message : String(e))),
    );
  }

  private endQuery(conn: InboundConnection, frame: Uint8Array): void {
    if (this.closed || conn.socket.destroyed) return;
    conn.mode = "done";
    endThenDestroy(conn.socket, frame);
  }
}

export interface PeerQueryOptions {
  readonly timeoutMs: number;
  /** Dials an https URL with this endpoint's options (Node's defaults when absent). */
  readonly tls?: TlsEndpoint;
  readonly maxFrameBytes?: number;
  /** Aborting fails the query with reason "closed". */
  readonly signal?: AbortSignal;
}

/**
 * Sends `body` to whatever member listens at `peerUrl` on a fresh connection and resolves with its
 * onQuery answer; rejects with a PeerQueryError on timeout, refusal, a failing handler or abort.
 * Needs no transport: a joining member asks before it has a member id.
 */
export function queryPeer(
  peerUrl: string,
  body: Uint8Array,
  o: PeerQueryOptions,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const fail = (reason: PeerQueryFailure, text: string) =>
      reject(new PeerQueryError(reason, `peer query to ${peerUrl}: ${text}`));
    if (o.signal?.aborted === true) return fail("closed", "transport closed");
    const address = parsePeerUrl(peerUrl);
    if (typeof address === "string") return fail("unreachable", address);
    const maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const frame = encodeFrame(FrameType.query, body, maxFrameBytes);
    if (!frame.ok) return fail("refused", describeFramingError(frame.error));
    runQuery(address, frame.value, { ...o, maxFrameBytes }, resolve, fail);
  });
}

function runQuery(
  address: PeerAddress,
  frame: Uint8Array,
  o: PeerQueryOptions & { readonly maxFrameBytes: number },
  resolve: (reply: Uint8Array) => void,
  fail: (reason: PeerQueryFailure, text: string) => void,
): void {
  const { socket, ready } = dialPeer(address, o.tls);
  const decoder = new FrameDecoder(o.maxFrameBytes);
  let settled = false;
  const settle = (outcome: () => void) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", cancel);
    socket.destroy();
    outcome();
  };
  const cancel = () => settle(() => fail("closed", "transport closed"));
  const timer = setTimeout(
    () => settle(() => fail("timeout", `no answer within ${o.timeoutMs} ms`)),
    o.timeoutMs,
  );
  o.signal?.addEventListener("abort", cancel);
  socket.on(ready, () => socket.write(frame));
  socket.on("error", (e) => settle(() => fail("unreachable", e.message)));
  socket.on("close", () => settle(() => fail("unreachable", "connection closed before an answer")));
  socket.on("data", (chunk: Buffer) => {
    const frames = decoder.push(chunk);
    if (!frames.ok) return settle(() => fail("refused", describeFramingError(frames.error)));
    const first = frames.value[0];
    if (first === undefined) return;
    if (first.type === FrameType.reply) return settle(() => resolve(first.payload.slice()));
    const text = utf8(first.payload.subarray(0, 1024));
    if (first.type === FrameType.queryError) settle(() => fail("remote-error", text));
    else settle(() => fail("refused", `unexpected answer (frame type ${first.type}): ${text}`));
  });
}

/** How long a closing connection waits for the other side to close once our last frame is out. */
const LINGER_MS = 1000;

/** Sends a last frame and closes; a peer that never reads or closes is cut off after LINGER_MS. */
function endThenDestroy(socket: Socket, lastFrame: Uint8Array): void {
  socket.end(lastFrame, () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
}

function isTlsSocket(socket: Socket): socket is TLSSocket {
  return "encrypted" in socket && socket.encrypted === true;
}

function mustFrame(type: FrameType, payload: Uint8Array): Uint8Array {
  const frame = encodeFrame(type, payload);
  if (!frame.ok) throw new Error(describeFramingError(frame.error));
  return frame.value;
}

function queryErrorFrame(text: string): Uint8Array {
  return mustFrame(FrameType.queryError, new TextEncoder().encode(text));
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

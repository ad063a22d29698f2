// The server side of one HTTP/2 connection (RFC 9113) over a socket (TCP, or TLS after ALPN chose
// h2): the client's preface and settings, header blocks decoded with HPACK, request bodies handed
// to each stream, flow control both ways, PING answers, RST_STREAM and GOAWAY. What goes out in one
// turn of the event loop leaves in one write. A protocol error of the connection sends GOAWAY with
// its code and ends the connection; one of a stream resets that stream only.
//
// It is the transport of detcd's gRPC server: it serves nothing that gRPC does not use (no push, no
// priorities, no HTTP/1.1 upgrade), and answers what any client may send.

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  frame,
  goawayFrame,
  headerFrames,
  MAX_ALLOWED_FRAME_SIZE,
  MAX_WINDOW,
  rstStreamFrame,
  Setting,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from "./frames.js";
import { encodeHeaderBlock, HpackDecoder, HpackError } from "./hpack.js";
import { ServerStream, type StreamOwner } from "./stream.js";

/** The window each request stream starts with (our INITIAL_WINDOW_SIZE). */
const STREAM_WINDOW = 1 << 20;
/** The connection's receive window, raised from the default by a WINDOW_UPDATE at the start. */
const CONNECTION_WINDOW = 1 << 24;
/** Largest header list a request may carry (as node:http2's default). */
export const MAX_HEADER_LIST_BYTES = 65_536;

/** Header blocks of frozen field lists, which never change. */
const FROZEN_BLOCKS = new WeakMap<readonly string[], Uint8Array>();

/** A connection error: GOAWAY with `code`, then the connection ends. */
class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A header block in progress: HEADERS without END_HEADERS, waiting for CONTINUATION frames. */
interface PendingBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly fragments: Buffer[];
  size: number;
}

export class Http2ServerConnection implements StreamOwner {
  private readonly streams = new Map<number, ServerStream>();
  private readonly decoder = new HpackDecoder(4096, MAX_HEADER_LIST_BYTES);
  /** Received bytes that do not yet make a whole frame (or the whole preface). */
  private partial: Buffer | undefined;
  private prefaceSeen = false;
  private block: PendingBlock | undefined;
  private lastStreamId = 0;
  private goingAway = false;
  private destroyed = false;

  private connectionSendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private connectionRecvWindow = CONNECTION_WINDOW;
  private connectionRecvUnacked = 0;
  /** Streams with data waiting for a window (or for the socket to drain). */
  private readonly blocked = new Set<ServerStream>();
  private socketBacked = false;

  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;

  constructor(
    readonly socket: Socket,
    private readonly onStream: (stream: ServerStream) => void,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    // A socket whose first bytes were read to route it was paused and has them put back.
    socket.resume();
    socket.on("drain", () => {
      this.socketBacked = false;
      this.resumeBlocked();
    });
    socket.once("close", () => this.teardown());
    socket.on("error", () => this.teardown());
    this.send(
      settingsFrame([
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES],
      ]),
    );
    this.send(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  /** Ends the connection: GOAWAY, then the socket closes; open streams close too. */
  destroy(): void {
    if (this.destroyed) return;
    this.send(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
    this.flush();
    this.socket.destroy();
    this.teardown();
  }

  // ---- StreamOwner ----

  sendHeaders(stream: ServerStream, fields: readonly string[], endStream: boolean): void {
    const block = this.encode(fields);
    this.send(headerFrames(stream.id, block, endStream, this.peerMaxFrameSize));
    if (endStream) this.localEnd(stream);
  }

  pump(stream: ServerStream): void {
    if (stream.closed) return;
    const queue = stream.queue;
    while (stream.queuedBytes > 0) {
      const room = Math.min(stream.sendWindow, this.connectionSendWindow, this.peerMaxFrameSize);
      if (room <= 0 || this.socketBacked) {
        this.blocked.add(stream);
        return;
      }
      const head = queue[0] as Uint8Array;
      const left = head.length - stream.queueOffset;
      const n = Math.min(left, room);
      // END_STREAM always goes on the trailers, never on DATA.
      const data = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n);
      writeFrameHeader(data, 0, n, FrameType.DATA, 0, stream.id);
      data.set(head.subarray(stream.queueOffset, stream.queueOffset + n), FRAME_HEADER_BYTES);
      this.send(data);
      stream.sendWindow -= n;
      this.connectionSendWindow -= n;
      stream.queuedBytes -= n;
      if (n === left) {
        queue.shift();
        stream.queueOffset = 0;
      } else stream.queueOffset += n;
    }
    this.blocked.delete(stream);
    if (stream.needDrain) {
      stream.needDrain = false;
      const drain = stream.onDrain;
      if (drain !== undefined) setImmediate(drain);
    }
    const trailers = stream.trailers;
    if (trailers !== undefined) {
      stream.trailers = undefined;
      const block = this.encode(trailers);
      this.send(headerFrames(stream.id, block, true, this.peerMaxFrameSize));
      this.localEnd(stream);
    }
  }

  /** Sends RST_STREAM and forgets the stream. */
  private reset(stream: ServerStream, code: number): void {
    if (stream.closed) return;
    this.send(rstStreamFrame(stream.id, code));
    this.close(stream);
  }

  /**
   * The HPACK block of `fields`. Encoding keeps no state, so the block of a frozen list (the gRPC
   * server's usual headers and OK trailers) is encoded once.
   */
  private encode(fields: readonly string[]): Uint8Array {
    if (!Object.isFrozen(fields)) return encodeHeaderBlock(fields);
    let block = FROZEN_BLOCKS.get(fields);
    if (block === undefined) FROZEN_BLOCKS.set(fields, (block = encodeHeaderBlock(fields)));
    return block;
  }

  // ---- receiving ----

  private receive(chunk: Buffer): void {
    if (this.destroyed) return;
    let data = chunk;
    if (this.partial !== undefined) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let at = 0;
    try {
      if (!this.prefaceSeen) {
        if (data.length < CLIENT_PREFACE.length) {
          if (data.compare(CLIENT_PREFACE, 0, data.length, 0, data.length) !== 0)
            throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad connection preface");
          this.partial = data;
          return;
        }
        if (data.compare(CLIENT_PREFACE, 0, CLIENT_PREFACE.length, 0, CLIENT_PREFACE.length) !== 0)
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad connection preface");
        this.prefaceSeen = true;
        at = CLIENT_PREFACE.length;
      }
      while (data.length - at >= FRAME_HEADER_BYTES) {
        const length = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
        if (length > DEFAULT_MAX_FRAME_SIZE)
          throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
        const end = at + FRAME_HEADER_BYTES + length;
        if (end > data.length) break;
        const type = data[at + 3]!;
        const flags = data[at + 4]!;
        const streamId = data.readUInt32BE(at + 5) & MAX_WINDOW;
        this.onFrame(type, flags, streamId, data.subarray(at + FRAME_HEADER_BYTES, end));
        at = end;
        if (this.destroyed) return;
      }
    } catch (e) {
      if (e instanceof ConnectionError) return this.fail(e.code, e.message);
      if (e instanceof HpackError) return this.fail(ErrorCode.COMPRESSION_ERROR, e.message);
      throw e;
    }
    if (at < data.length) this.partial = data.subarray(at);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (
      this.block !== undefined &&
      (type !== FrameType.CONTINUATION || streamId !== this.block.streamId)
    )
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "expected CONTINUATION");
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on 0");
        return;
      case FrameType.RST_STREAM:
        return this.onRstStream(streamId, payload);
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      case FrameType.PING:
        return this.onPing(flags, streamId, payload);
      case FrameType.GOAWAY:
        if (streamId !== 0)
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
        this.goingAway = true;
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    const length = payload.length;
    this.connectionRecvWindow -= length;
    if (this.connectionRecvWindow < 0)
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    this.connectionRecvUnacked += length;
    if (this.connectionRecvUnacked >= CONNECTION_WINDOW / 2) {
      this.send(windowUpdateFrame(0, this.connectionRecvUnacked));
      this.connectionRecvWindow += this.connectionRecvUnacked;
      this.connectionRecvUnacked = 0;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId)
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on an idle stream");
      // A stream already closed here: the client sent before it heard.
      return;
    }
    if (stream.remoteEnded) return this.reset(stream, ErrorCode.STREAM_CLOSED);
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR);
    const body = unpad(flags, payload);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (!endStream) {
      stream.recvUnacked += length;
      if (stream.recvUnacked >= STREAM_WINDOW / 2) {
        this.send(windowUpdateFrame(streamId, stream.recvUnacked));
        stream.recvWindow += stream.recvUnacked;
        stream.recvUnacked = 0;
      }
    }
    if (body.length > 0) stream.onData?.(body);
    if (endStream) this.remoteEnd(stream);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0)
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}`);
    let start = 0;
    let end = payload.length;
    if ((flags & Flag.PADDED) !== 0) {
      const pad = payload[0] ?? 0;
      start = 1;
      end -= pad;
    }
    if ((flags & Flag.PRIORITY) !== 0) start += 5;
    if (end < start) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad HEADERS padding");
    const fragment = payload.subarray(start, end);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if ((flags & Flag.END_HEADERS) !== 0) return this.onHeaderBlock(streamId, fragment, endStream);
    this.block = { streamId, endStream, fragments: [fragment], size: fragment.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.block;
    if (block === undefined || block.streamId !== streamId)
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    block.fragments.push(payload);
    block.size += payload.length;
    if (block.size > MAX_HEADER_LIST_BYTES * 2)
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.block = undefined;
    this.onHeaderBlock(streamId, Buffer.concat(block.fragments), block.endStream);
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    // Decoded even for a stream that is refused, so the HPACK table stays in step with the client's.
    const fields = this.decoder.decode(block);
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client: they must end the stream.
      if (!endStream || existing.remoteEnded) return this.reset(existing, ErrorCode.PROTOCOL_ERROR);
      return this.remoteEnd(existing);
    }
    if (streamId <= this.lastStreamId) {
      throw new ConnectionError(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
    }
    this.lastStreamId = streamId;
    if (this.goingAway) {
      this.send(rstStreamFrame(streamId, ErrorCode.REFUSED_STREAM));
      return;
    }
    const stream = new ServerStream(this, streamId, fields, this.peerInitialWindow, STREAM_WINDOW);
    if (stream.header(":method") === undefined || stream.header(":path") === undefined) {
      this.send(rstStreamFrame(streamId, ErrorCode.PROTOCOL_ERROR));
      return;
    }
    this.streams.set(streamId, stream);
    this.onStream(stream);
    if (endStream && !stream.closed) this.remoteEnd(stream);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on 0");
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM size");
    const stream = this.streams.get(streamId);
    if (stream !== undefined) this.close(stream);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0)
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (payload.length % 6 !== 0)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS size");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW)
          throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE too large");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE)
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "MAX_FRAME_SIZE out of range");
        this.peerMaxFrameSize = value;
      } else if (id === Setting.ENABLE_PUSH && value > 1) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH out of range");
      }
      // HEADER_TABLE_SIZE needs nothing: responses never use the dynamic table.
    }
    this.send(settingsFrame([], true));
    this.resumeBlocked();
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING size");
    if ((flags & Flag.ACK) === 0) this.send(frame(FrameType.PING, Flag.ACK, 0, payload));
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "zero increment");
      this.connectionSendWindow += increment;
      if (this.connectionSendWindow > MAX_WINDOW)
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      return this.resumeBlocked();
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.reset(stream, ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR);
    this.pump(stream);
  }

  // ---- stream life ----

  private remoteEnd(stream: ServerStream): void {
    stream.remoteEnded = true;
    stream.onEnd?.();
  }

  /** The response has ended; a client still sending is told to stop (RST_STREAM NO_ERROR). */
  private localEnd(stream: ServerStream): void {
    if (!stream.remoteEnded) this.send(rstStreamFrame(stream.id, ErrorCode.NO_ERROR));
    this.close(stream);
  }

  private close(stream: ServerStream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    stream.queue.length = 0;
    stream.queuedBytes = 0;
    stream.onClose?.();
  }

  private resumeBlocked(): void {
    if (this.blocked.size === 0) return;
    for (const stream of [...this.blocked]) {
      if (this.socketBacked || this.connectionSendWindow <= 0) return;
      this.pump(stream);
    }
  }

  // ---- sending ----

  private send(bytes: Buffer): void {
    if (this.destroyed) return;
    this.out.push(bytes);
    this.outBytes += bytes.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.out.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.destroyed) return;
    const bytes =
      this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    // Stream data waits while the socket's buffer is full; control frames still go.
    if (!this.socket.write(bytes)) this.socketBacked = true;
  }

  /** A connection error: GOAWAY with `code`, then the end of the connection. */
  private fail(code: number, message: string): void {
    if (this.destroyed) return;
    this.send(goawayFrame(this.lastStreamId, code, message));
    this.flush();
    const socket = this.socket;
    socket.end(() => socket.destroy());
    this.teardown();
  }

  private teardown(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.out = [];
    for (const stream of [...this.streams.values()]) this.close(stream);
  }
}

/** The payload of a DATA frame without its padding. */
function unpad(flags: number, payload: Buffer): Buffer {
  if ((flags & Flag.PADDED) === 0) return payload;
  const pad = payload[0] ?? 0;
  if (pad >= payload.length)
    throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA padding longer than the frame");
  return payload.subarray(1, payload.length - pad);
}

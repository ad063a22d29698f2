// One HTTP/2 stream on the server side of a connection (RFC 9113 §5): the request's header fields,
// its body as it arrives, and the response going out. Data the server writes waits here until the
// client's flow-control windows let it go; the trailers follow the last of it. The connection owns
// the framing; a stream only holds its state and the handler's callbacks.

import type { Buffer } from "node:buffer";

/** What a stream needs from its connection. */
export interface StreamOwner {
  /** Sends a header block (HEADERS, then CONTINUATION frames) now. */
  sendHeaders(stream: ServerStream, fields: readonly string[], endStream: boolean): void;
  /** Moves the stream's queued data (and then its trailers) out as far as the windows allow. */
  pump(stream: ServerStream): void;
}

/** Bytes a stream may queue before `write` asks the writer to wait for `onDrain`. */
const HIGH_WATER_BYTES = 64 * 1024;

export class ServerStream {
  /** Request body bytes, as they arrive. */
  onData: ((chunk: Buffer) => void) | undefined;
  /** The client sent its last frame (END_STREAM). */
  onEnd: (() => void) | undefined;
  /** The stream is over: finished both ways, reset by either side, or its connection is gone. */
  onClose: (() => void) | undefined;
  /** `write` returned false and the queue has gone below the high-water mark. */
  onDrain: (() => void) | undefined;

  /** Whether the client has sent END_STREAM. */
  remoteEnded = false;
  /** Whether the response has ended (trailers queued or sent). */
  localEnded = false;
  closed = false;
  respondedHeaders = false;
  /** The client's window for this stream's DATA; may go negative after a SETTINGS change. */
  sendWindow: number;
  /** Bytes of request DATA the client may still send before a WINDOW_UPDATE. */
  recvWindow: number;
  /** Request DATA received and not yet given back with a WINDOW_UPDATE. */
  recvUnacked = 0;

  /** Response data not yet framed: chunks, and how far into the first one framing got. */
  readonly queue: Uint8Array[] = [];
  queueOffset = 0;
  queuedBytes = 0;
  /** The trailer fields, sent once the queue is empty. */
  trailers: readonly string[] | undefined;
  needDrain = false;

  constructor(
    private readonly owner: StreamOwner,
    readonly id: number,
    /** The request's header fields, flat: name, value, name, value... (names in lower case). */
    readonly fields: readonly string[],
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** The first value of header `name` (lower case), if the request has it. */
  header(name: string): string | undefined {
    const fields = this.fields;
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  }

  /** Response bytes written and not yet sent. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Sends the response headers; with `endStream` they are the whole response. */
  respond(fields: readonly string[], endStream = false): void {
    if (this.closed || this.localEnded || this.respondedHeaders) return;
    this.respondedHeaders = true;
    if (endStream) this.localEnded = true;
    this.owner.sendHeaders(this, fields, endStream);
  }

  /** Queues response data; false when the caller should wait for `onDrain`. */
  write(data: Uint8Array): boolean {
    if (this.closed || this.localEnded) return false;
    if (data.length > 0) {
      this.queue.push(data);
      this.queuedBytes += data.length;
      this.owner.pump(this);
    }
    if (this.queuedBytes < HIGH_WATER_BYTES) return true;
    this.needDrain = true;
    return false;
  }

  /** Ends the response with `trailers`, sent after every byte written before. */
  end(trailers: readonly string[]): void {
    if (this.closed || this.localEnded) return;
    this.localEnded = true;
    this.trailers = trailers;
    this.owner.pump(this);
  }
}

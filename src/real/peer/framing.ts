// Frames on a peer TCP stream: a 5-byte header (the frame type, then the payload length as a
// little-endian u32) followed by the payload. Every frame is bounded by a hard maximum size, checked
// by the writer before sending and by the reader as soon as the header arrives, so a corrupt or
// hostile length never makes a member buffer without bound.

import { err, ok, type Result } from "../../lib/result.js";

export const FRAME_HEADER_BYTES = 5;
/** Snapshots travel as one frame, so the default leaves room for a large one. */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** The frame types of the peer protocol (one byte on the wire). */
export const FrameType = {
  /** First frame of a member connection: magic, version, cluster id, from and to ids. */
  hello: 1,
  /** The receiver refuses the connection; the payload is the reason (UTF-8). It then closes. */
  refuse: 2,
  /** One encoded MemberMessage. */
  message: 3,
  /** Keepalive; the payload is echoed back in a pong. */
  ping: 4,
  pong: 5,
  /** First and only frame of a one-off query connection; answered by reply or queryError. */
  query: 6,
  reply: 7,
  queryError: 8,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  readonly type: number;
  /**
   * May share memory with the chunk it came from (or with a buffer the decoder allocated for it);
   * the receiver must copy what it keeps and must not write into it.
   */
  readonly payload: Uint8Array;
}

export type FramingError = {
  readonly type: "frame-too-large";
  readonly frameBytes: number;
  readonly maxFrameBytes: number;
};

export function frameTooLarge(frameBytes: number, maxFrameBytes: number): FramingError {
  return { type: "frame-too-large", frameBytes, maxFrameBytes };
}

export function describeFramingError(e: FramingError): string {
  return `frame of ${e.frameBytes} bytes exceeds the limit of ${e.maxFrameBytes} bytes`;
}

/** Writes a header for a payload of `payloadBytes` at the start of `target`. */
export function writeFrameHeader(target: Uint8Array, type: number, payloadBytes: number): void {
  target[0] = type;
  new DataView(target.buffer, target.byteOffset, FRAME_HEADER_BYTES).setUint32(
    1,
    payloadBytes,
    true,
  );
}

/** One frame as a fresh buffer: the header, then a copy of the payload. */
export function encodeFrame(
  type: number,
  payload: Uint8Array,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Result<Uint8Array, FramingError> {
  if (payload.length > maxFrameBytes) return err(frameTooLarge(payload.length, maxFrameBytes));
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, type, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return ok(out);
}

/**
 * Seals a buffer whose first FRAME_HEADER_BYTES bytes were left free for the header (see
 * encodeMemberMessage's headroom): no copy.
 */
export function sealFrame(
  type: number,
  withHeadroom: Uint8Array,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Result<Uint8Array, FramingError> {
  const payloadBytes = withHeadroom.length - FRAME_HEADER_BYTES;
  if (payloadBytes > maxFrameBytes) return err(frameTooLarge(payloadBytes, maxFrameBytes));
  writeFrameHeader(withHeadroom, type, payloadBytes);
  return ok(withHeadroom);
}

/**
 * Reassembles frames from the chunks of a byte stream, whatever the chunk boundaries: a frame may
 * span many chunks and a chunk may hold many frames. Memory is bounded by one frame (the payload
 * buffer of a frame that spans chunks is allocated once at its announced size, itself bounded by
 * `maxFrameBytes`). After an error the stream is unusable and every later push returns it again.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private partialType = 0;
  private partial: Uint8Array | undefined;
  private partialFill = 0;
  private failed: FramingError | undefined;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.headerFill + this.partialFill;
  }

  /** The frames completed by `chunk`, in stream order. */
  push(input: Uint8Array): Result<Frame[], FramingError> {
    if (this.failed !== undefined) return err(this.failed);
    // Payloads are plain Uint8Array views even when the chunk is a Node Buffer.
    const chunk = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      at =
        this.partial === undefined
          ? this.readHeader(chunk, at, frames)
          : this.fill(chunk, at, frames);
      if (this.failed !== undefined) return err(this.failed);
    }
    return ok(frames);
  }

  /** Reads (the rest of) a header at `at`, then the payload if the chunk holds all of it. */
  private readHeader(chunk: Uint8Array, at: number, frames: Frame[]): number {
    let type: number;
    let length: number;
    if (this.headerFill === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
      type = chunk[at] as number;
      length = readU32(chunk, at + 1);
      at += FRAME_HEADER_BYTES;
    } else {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill < FRAME_HEADER_BYTES) return at;
      this.headerFill = 0;
      type = this.header[0] as number;
      length = readU32(this.header, 1);
    }
    if (length > this.maxFrameBytes) {
      this.failed = frameTooLarge(length, this.maxFrameBytes);
      return chunk.length;
    }
    if (chunk.length - at >= length) {
      frames.push({ type, payload: chunk.subarray(at, at + length) });
      return at + length;
    }
    this.partialType = type;
    this.partial = new Uint8Array(length);
    return this.fill(chunk, at, frames);
  }

  private fill(chunk: Uint8Array, at: number, frames: Frame[]): number {
    const partial = this.partial as Uint8Array;
    const take = Math.min(partial.length - this.partialFill, chunk.length - at);
    partial.set(chunk.subarray(at, at + take), this.partialFill);
    this.partialFill += take;
    if (this.partialFill === partial.length) {
      frames.push({ type: this.partialType, payload: partial });
      this.partial = undefined;
      this.partialFill = 0;
    }
    return at + take;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

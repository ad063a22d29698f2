// gRPC's message framing over HTTP/2 bodies: every message is a compressed flag, a big-endian
// 4-byte length and the bytes. Reading enforces the receive limit (RESOURCE_EXHAUSTED, with the
// text grpc-js uses) and undoes the compression a client declared in grpc-encoding (gzip or
// deflate); writing never compresses. Also the grpc-timeout header's format.

import { status as Status } from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { gunzipSync, inflateSync } from "node:zlib";
import { statusObject, type StatusObject } from "./status.js";

/** The 5-byte prefix of every message: a compressed flag and a big-endian length. */
export const PREFIX_BYTES = 5;

/** A status a call fails with. */
export type CallFailure = StatusObject & Error;

/** `message` with its prefix, uncompressed. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}

export function tooLarge(length: number, maxReceiveBytes: number): CallFailure {
  const details = `Received message larger than max (${length} vs ${maxReceiveBytes})`;
  return statusObject(Status.RESOURCE_EXHAUSTED, details);
}

/**
 * Splits a request body into messages as its chunks arrive. `encoding` is the call's grpc-encoding
 * header (undefined or "identity" for none).
 */
export class MessageReader {
  /** Bytes received and not yet part of a whole message; joined only once a message is whole. */
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly maxReceiveBytes: number,
    private readonly encoding: string | undefined,
  ) {}

  /** The messages `chunk` completes, or the failure the call ends with. */
  push(chunk: Buffer): Buffer[] | CallFailure {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const messages: Buffer[] = [];
    while (this.size >= PREFIX_BYTES) {
      const first = this.chunks[0] as Buffer;
      const head = first.length >= PREFIX_BYTES ? first : this.joined();
      const length = head.readUInt32BE(1);
      if (length > this.maxReceiveBytes) return tooLarge(length, this.maxReceiveBytes);
      const end = PREFIX_BYTES + length;
      if (this.size < end) break;
      const all = this.joined();
      const message = this.decode(all[0] as number, all.subarray(PREFIX_BYTES, end));
      if (!Buffer.isBuffer(message)) return message;
      messages.push(message);
      const rest = all.subarray(end);
      this.chunks = rest.length === 0 ? [] : [rest];
      this.size = rest.length;
    }
    return messages;
  }

  /** At the end of the body: the failure of a message cut short, if one was. */
  end(): CallFailure | undefined {
    return this.size === 0
      ? undefined
      : statusObject(Status.INTERNAL, "Incomplete request message");
  }

  /** The bytes held, as one buffer. */
  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] as Buffer;
  }

  private decode(flag: number, payload: Buffer): Buffer | CallFailure {
    if (flag === 0) return payload;
    const encoding = this.encoding ?? "identity";
    if (encoding === "identity") {
      return statusObject(Status.INTERNAL, "Received a compressed message without a grpc-encoding");
    }
    if (encoding !== "gzip" && encoding !== "deflate") {
      return statusObject(
        Status.UNIMPLEMENTED,
        `Received message compressed with unsupported encoding "${encoding}"`,
      );
    }
    try {
      // One byte over the limit is enough to tell that the message is too large.
      const options = { maxOutputLength: this.maxReceiveBytes + 1 };
      const plain =
        encoding === "gzip" ? gunzipSync(payload, options) : inflateSync(payload, options);
      if (plain.length <= this.maxReceiveBytes) return plain;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ERR_BUFFER_TOO_LARGE") {
        return statusObject(Status.INTERNAL, `Failed to decompress the message: ${String(e)}`);
      }
    }
    return statusObject(
      Status.RESOURCE_EXHAUSTED,
      `Received message that decompresses to a size larger than ${this.maxReceiveBytes}`,
    );
  }
}

/** The one message of a request that must have exactly one (unary and server-streaming calls). */
export function exactlyOne(messages: Buffer[] | CallFailure): Buffer | CallFailure {
  if (!Array.isArray(messages)) return messages;
  if (messages.length === 1) return messages[0] as Buffer;
  return messages.length === 0
    ? statusObject(Status.UNIMPLEMENTED, "Received no request message")
    : statusObject(Status.UNIMPLEMENTED, "Received a second request message");
}

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

/** Milliseconds of a grpc-timeout header value; undefined when it is not one. */
export function timeoutMs(value: string | string[]): number | undefined {
  const match = TIMEOUT_PATTERN.exec(String(value).trim());
  if (match === null) return undefined;
  return Math.floor(Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number));
}

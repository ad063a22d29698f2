// Where detcdctl writes. Keys and values are raw bytes that may not be UTF-8 text, so printers write
// bytes and text alike and nothing re-encodes them on the way out.

import type { Writable } from "node:stream";

export interface Sink {
  write(chunk: string | Uint8Array): void;
}

export interface Output {
  readonly stdout: Sink;
  readonly stderr: Sink;
}

/** A sink writing to a Node stream, in call order. */
export function streamSink(stream: Writable): Sink {
  return { write: (chunk) => void stream.write(chunk) };
}

/** Collects everything written (tests, and output that must be complete before it is shown). */
export class BufferSink implements Sink {
  private readonly chunks: Buffer[] = [];

  write(chunk: string | Uint8Array): void {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk));
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString("utf8");
  }
}

/** Writes one line of text. */
export function println(sink: Sink, text = ""): void {
  sink.write(text + "\n");
}

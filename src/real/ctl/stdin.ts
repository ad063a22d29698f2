// Standard input for the commands that read it: put (the value), txn (request lines, read as they
// arrive so an interactive txn ends at its last empty line, not at end of input) and watch -i.

import type { Readable } from "node:stream";
import type { LineSource } from "./txn-parse.js";

export class StdinReader implements LineSource {
  private buffered = Buffer.alloc(0);
  private ended: boolean;
  private chunks: AsyncIterator<unknown> | undefined;

  /** `stream` undefined reads as empty input. Nothing is read before a command asks. */
  constructor(private readonly stream: Readable | undefined) {
    this.ended = stream === undefined;
  }

  /** Reads one more chunk into the buffer; false at end of input. */
  private async fill(): Promise<boolean> {
    if (this.ended || this.stream === undefined) return false;
    this.chunks ??= this.stream[Symbol.asyncIterator]();
    const next = await this.chunks.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = next.value;
    const bytes =
      typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk as Uint8Array);
    this.buffered = Buffer.concat([this.buffered, bytes]);
    return true;
  }

  /** Stops reading (a stream left half-read would keep the process alive). */
  close(): void {
    const chunks = this.chunks;
    this.chunks = undefined;
    this.ended = true;
    void chunks?.return?.();
  }

  /** Everything left on the input. */
  async readAll(): Promise<Uint8Array> {
    while (await this.fill());
    const all = this.buffered;
    this.buffered = Buffer.alloc(0);
    return all;
  }

  /** The next line as a byte string (latin1), without its "\n"; eof if the input ended first. */
  async nextLine(): Promise<{ line: string; eof: boolean }> {
    for (;;) {
      const nl = this.buffered.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.buffered.subarray(0, nl).toString("latin1");
        this.buffered = this.buffered.subarray(nl + 1);
        return { line, eof: false };
      }
      if (!(await this.fill())) {
        const line = this.buffered.toString("latin1");
        this.buffered = Buffer.alloc(0);
        return { line, eof: true };
      }
    }
  }
}

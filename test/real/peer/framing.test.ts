// Frame reassembly is independent of how the stream is chunked; oversize frames are refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FRAME_HEADER_BYTES,
  FrameDecoder,
  encodeFrame,
  sealFrame,
  type Frame,
} from "../../../src/real/peer/framing.js";

function frame(type: number, payload: Uint8Array): Uint8Array {
  const f = encodeFrame(type, payload);
  if (!f.ok) throw new Error("too large");
  return f.value;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `stream` at the given cut points (any order, duplicates allowed). */
function split(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  return chunks;
}

function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Frame[] {
  const frames: Frame[] = [];
  for (const c of chunks) {
    const r = decoder.push(c);
    if (!r.ok) throw new Error(r.error.type);
    // Copy: a payload may be a view of the chunk.
    frames.push(...r.value.map((f) => ({ type: f.type, payload: f.payload.slice() })));
  }
  return frames;
}

describe("framing", () => {
  it("reassembles frames whatever the chunk boundaries", () => {
    const frameArb = fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat()), (frames, cuts) => {
        const stream = concat(frames.map((f) => frame(f.type, f.payload)));
        const decoder = new FrameDecoder(1024);
        expect(decodeAll(decoder, split(stream, cuts))).toEqual(frames);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it("delivers several frames from one chunk and one frame from many one-byte chunks", () => {
    const stream = concat([
      frame(3, new Uint8Array([1, 2])),
      frame(4, new Uint8Array(0)),
      frame(5, new Uint8Array([7])),
    ]);
    expect(decodeAll(new FrameDecoder(), [stream]).map((f) => [f.type, [...f.payload]])).toEqual([
      [3, [1, 2]],
      [4, []],
      [5, [7]],
    ]);
    const big = new Uint8Array(1000).map((_v, i) => i % 251);
    const bytes = frame(9, big);
    const decoder = new FrameDecoder();
    const oneByOne = decodeAll(
      decoder,
      [...bytes].map((b) => new Uint8Array([b])),
    );
    expect(oneByOne).toEqual([{ type: 9, payload: big }]);
  });

  it("refuses a frame over the limit as soon as its header arrives, and stays failed", () => {
    const decoder = new FrameDecoder(100);
    const header = frame(3, new Uint8Array(101)).subarray(0, FRAME_HEADER_BYTES);
    const r = decoder.push(header);
    expect(r).toEqual({
      ok: false,
      error: { type: "frame-too-large", frameBytes: 101, maxFrameBytes: 100 },
    });
    expect(decoder.push(frame(3, new Uint8Array(1))).ok).toBe(false);
    expect(new FrameDecoder(100).push(frame(3, new Uint8Array(100))).ok).toBe(true);
  });

  it("refuses to encode a payload over the limit", () => {
    expect(encodeFrame(1, new Uint8Array(11), 10)).toEqual({
      ok: false,
      error: { type: "frame-too-large", frameBytes: 11, maxFrameBytes: 10 },
    });
    const sealed = sealFrame(2, new Uint8Array(FRAME_HEADER_BYTES + 3), 10);
    expect(sealed.ok && [...sealed.value]).toEqual([2, 3, 0, 0, 0, 0, 0, 0]);
  });
});

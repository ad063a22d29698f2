import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { Crc32c, crc32c } from "../../src/mvcc/crc32c.js";

/** The textbook bit-at-a-time CRC-32C, to hold the table-driven one to. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  test("the check value of CRC-32C", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  test.prop([fc.uint8Array({ maxLength: 300 })])("matches the bitwise definition", (bytes) => {
    expect(crc32c(bytes)).toBe(reference(bytes));
  });

  test.prop([fc.uint8Array({ maxLength: 100 }), fc.nat(100), fc.nat(100), fc.nat(0xffffffff)])(
    "ranges, single bytes and u32 words feed the same bytes as update over a copy",
    (bytes, x, y, word) => {
      const from = Math.min(x, bytes.length);
      const to = Math.max(from, Math.min(y, bytes.length));
      const le = new Uint8Array([
        word & 0xff,
        (word >>> 8) & 0xff,
        (word >>> 16) & 0xff,
        word >>> 24,
      ]);
      const expected = reference(new Uint8Array([...le, 7, ...bytes.slice(from, to)]));
      expect(new Crc32c().u32(word).u8(7).update(bytes, from, to).digest()).toBe(expected);
    },
  );
});

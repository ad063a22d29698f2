import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  bytesToLatin1,
  compareBytes,
  fromUtf8,
  inRange,
  latin1ToBytes,
  prefixEnd,
  utf8,
} from "../../src/lib/bytes.js";

describe("bytes", () => {
  it("computes etcd's prefix range end", () => {
    expect([...prefixEnd(utf8("abc"))]).toEqual([...utf8("abd")]);
    expect([...prefixEnd(Uint8Array.of(0x61, 0xff, 0xff))]).toEqual([0x62]);
    expect([...prefixEnd(Uint8Array.of(0xff, 0xff))]).toEqual([0]);
    expect([...prefixEnd(new Uint8Array(0))]).toEqual([0]);
  });

  it("selects ranges with etcd's empty and \\0 range_end rules", () => {
    const k = utf8("b");
    expect(inRange(utf8("b"), k, new Uint8Array(0))).toBe(true);
    expect(inRange(utf8("ba"), k, new Uint8Array(0))).toBe(false);
    expect(inRange(utf8("zzz"), k, Uint8Array.of(0))).toBe(true);
    expect(inRange(utf8("a"), k, Uint8Array.of(0))).toBe(false);
    expect(inRange(utf8("bz"), k, utf8("c"))).toBe(true);
    expect(inRange(utf8("c"), k, utf8("c"))).toBe(false);
  });

  it("keeps every key with a prefix inside [prefix, prefixEnd(prefix))", () => {
    const bytes = fc.uint8Array({ maxLength: 6 });
    fc.assert(
      fc.property(bytes, bytes, (prefix, rest) => {
        const key = new Uint8Array([...prefix, ...rest]);
        expect(inRange(key, prefix, prefixEnd(prefix))).toBe(true);
      }),
    );
  });

  it("orders latin1 strings exactly as bytes and round-trips them", () => {
    const bytes = fc.uint8Array({ maxLength: 12 });
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        const sa = bytesToLatin1(a);
        const sb = bytesToLatin1(b);
        expect(Math.sign(compareBytes(a, b))).toBe(sa < sb ? -1 : sa > sb ? 1 : 0);
        expect([...latin1ToBytes(sa)]).toEqual([...a]);
      }),
    );
    const big = new Uint8Array(20_000).map((_v, i) => i % 256);
    expect([...latin1ToBytes(bytesToLatin1(big))]).toEqual([...big]);
  });

  it("encodes and decodes UTF-8", () => {
    expect(fromUtf8(utf8("héllo/κλειδί"))).toBe("héllo/κλειδί");
  });
});

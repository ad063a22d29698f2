// The WAL's record bytes, pinned: a change to the encoder must not change the on-disk format.
// Also the u64 words every storage format uses, at their edges.
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, DecodeError } from "../../src/storage/codec.js";
import { encodeRecords, type WalRecord } from "../../src/storage/wal-record.js";

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

describe("WAL record bytes", () => {
  const cases: { name: string; records: WalRecord[]; bytes: string; crc: number }[] = [
    {
      name: "segment header",
      records: [{ type: "segment", seq: 7, prevCrc: 0xdeadbeef }],
      bytes: "0c0000000100000028645fda9a13fd2f0700000000000000efbeadde",
      crc: 3663684648,
    },
    {
      name: "entry",
      records: [
        {
          type: "entry",
          entry: {
            term: 3,
            index: 2 ** 32 + 5,
            type: "EntryConfChange",
            data: Uint8Array.of(1, 2, 3),
          },
        },
      ],
      bytes: "18000000020000008666e0db8983237e030000000000000005000000010000000103000000010203",
      crc: 3688916614,
    },
    {
      name: "hard state",
      records: [{ type: "hardState", hardState: { term: 2 ** 53 - 1, vote: 2, commit: 9 } }],
      bytes: "180000000300000043f48e809d6d7f60ffffffffffff1f0002000000000000000900000000000000",
      crc: 2156852291,
    },
    {
      name: "installed and local snapshot markers",
      records: [
        { type: "snapshot", index: 100, term: 4, installed: true },
        { type: "snapshot", index: 101, term: 4, installed: false },
      ],
      bytes:
        "100000000500000019f10fd98739f0ac64000000000000000400000000000000" +
        "100000000400000051873feb34a38aae65000000000000000400000000000000",
      crc: 3946809169,
    },
  ];

  it.each(cases)("$name", ({ records, bytes, crc }) => {
    const out = encodeRecords(records, 0x12345678);
    expect(hex(out.bytes)).toBe(bytes);
    expect(out.crc).toBe(crc);
  });

  it("hands out separate bytes for each encode", () => {
    const a = encodeRecords([{ type: "segment", seq: 1, prevCrc: 1 }], 0);
    const copy = a.bytes.slice();
    encodeRecords([{ type: "segment", seq: 2, prevCrc: 2 }], 0);
    expect(a.bytes).toEqual(copy);
  });
});

describe("u64 words", () => {
  it.each([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1])("%d round-trips", (v) => {
    const bytes = new ByteWriter().u64(v).finish();
    const expected = new DataView(new ArrayBuffer(8));
    expected.setBigUint64(0, BigInt(v), true);
    expect(hex(bytes)).toBe(hex(new Uint8Array(expected.buffer)));
    expect(new ByteReader(bytes).u64()).toBe(v);
  });

  it("refuses to write or read past 2^53 - 1", () => {
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(/u64 out of range/);
    expect(() => new ByteWriter().u64(-1)).toThrow(/u64 out of range/);
    const big = new DataView(new ArrayBuffer(8));
    big.setBigUint64(0, 2n ** 53n, true);
    expect(() => new ByteReader(new Uint8Array(big.buffer)).u64()).toThrow(DecodeError);
  });
});

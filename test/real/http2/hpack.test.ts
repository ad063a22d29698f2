// HPACK: the RFC 7541 Appendix C examples decoded byte for byte (fields and dynamic table after
// each block), the Huffman code (table shape, RFC strings, every octet, padding and EOS errors),
// every decoding error, encoder output and encoder->decoder round trips, and header blocks that
// node's own HTTP/2 client (nghttp2) puts on the wire.
import { fc } from "@fast-check/vitest";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { encodeHeaderBlock, HpackDecoder, HpackError } from "../../../src/real/http2/hpack.js";
import {
  huffmanCodeTable,
  huffmanDecode,
  huffmanEncode,
  huffmanLength,
} from "../../../src/real/http2/huffman.js";
import { parseFrames, type Frame } from "./raw-frames.js";

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

function decodeHuffman(bytes: Uint8Array): string {
  return huffmanDecode(bytes, 0, bytes.length);
}

/** One block of an RFC 7541 Appendix C series: the fields, then the table newest first. */
interface Step {
  readonly block: string;
  readonly fields: readonly string[];
  readonly table: readonly string[];
  readonly tableSize: number;
}

function expectSeries(maxTableSize: number, steps: readonly Step[]): void {
  const decoder = new HpackDecoder(maxTableSize);
  for (const step of steps) {
    expect(decoder.decode(hex(step.block))).toEqual(step.fields);
    expect(decoder.dynamicTableEntries()).toEqual(step.table);
    expect(decoder.dynamicTableSize).toBe(step.tableSize);
  }
}

const DATE_21 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE_22 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

// The fields and tables of C.3/C.4 (requests) and C.5/C.6 (responses); the encodings differ.
const REQUESTS = [
  {
    fields: [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
    table: [":authority", "www.example.com"],
    tableSize: 57,
  },
  {
    fields: [
      ...[":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
      ...["cache-control", "no-cache"],
    ],
    table: ["cache-control", "no-cache", ":authority", "www.example.com"],
    tableSize: 110,
  },
  {
    fields: [
      ...[":method", "GET", ":scheme", "https", ":path", "/index.html"],
      ...[":authority", "www.example.com", "custom-key", "custom-value"],
    ],
    table: [
      ...["custom-key", "custom-value", "cache-control", "no-cache"],
      ...[":authority", "www.example.com"],
    ],
    tableSize: 164,
  },
] as const;

const RESPONSES = [
  {
    fields: [":status", "302", "cache-control", "private", "date", DATE_21, "location", LOCATION],
    table: ["location", LOCATION, "date", DATE_21, "cache-control", "private", ":status", "302"],
    tableSize: 222,
  },
  {
    fields: [":status", "307", "cache-control", "private", "date", DATE_21, "location", LOCATION],
    table: [":status", "307", "location", LOCATION, "date", DATE_21, "cache-control", "private"],
    tableSize: 222,
  },
  {
    fields: [
      ...[":status", "200", "cache-control", "private", "date", DATE_22, "location", LOCATION],
      ...["content-encoding", "gzip", "set-cookie", COOKIE],
    ],
    table: ["set-cookie", COOKIE, "content-encoding", "gzip", "date", DATE_22],
    tableSize: 215,
  },
] as const;

describe("RFC 7541 Appendix C", () => {
  it("C.2.1 literal with indexing", () => {
    const decoder = new HpackDecoder();
    const block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    expect(decoder.decode(block)).toEqual(["custom-key", "custom-header"]);
    expect(decoder.dynamicTableEntries()).toEqual(["custom-key", "custom-header"]);
    expect(decoder.dynamicTableSize).toBe(55);
  });

  it("C.2.2 literal without indexing", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("040c 2f73 616d 706c 652f 7061 7468"))).toEqual([
      ":path",
      "/sample/path",
    ]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
    expect(decoder.dynamicTableSize).toBe(0);
  });

  it("C.2.3 literal never indexed", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))).toEqual([
      "password",
      "secret",
    ]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
  });

  it("C.2.4 indexed field", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("82"))).toEqual([":method", "GET"]);
    expect(decoder.dynamicTableSize).toBe(0);
  });

  it.each([
    {
      example: "C.3 requests without Huffman coding",
      blocks: [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
      ],
    },
    {
      example: "C.4 requests with Huffman coding",
      blocks: [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      ],
    },
  ])("$example", ({ blocks }) => {
    expectSeries(
      4096,
      REQUESTS.map((r, i) => ({ ...r, block: blocks[i] as string })),
    );
  });

  it("C.5 responses without Huffman coding, 256-octet table with eviction", () => {
    const blocks = [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
       6c65 2e63 6f6d`,
      "4803 3330 37c1 c0bf",
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
       3d31`,
    ];
    expectSeries(
      256,
      RESPONSES.map((r, i) => ({ ...r, block: blocks[i] as string })),
    );
  });

  it("C.6 responses with Huffman coding, 256-octet table with eviction", () => {
    const blocks = [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      "4883 640e ffc1 c0bf",
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ];
    expectSeries(
      256,
      RESPONSES.map((r, i) => ({ ...r, block: blocks[i] as string })),
    );
  });
});

// The Huffman-coded strings of RFC 7541 C.4 and C.6.
const HUFFMAN_STRINGS: readonly (readonly [string, string])[] = [
  ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
  ["no-cache", "a8eb 1064 9cbf"],
  ["custom-key", "25a8 49e9 5ba9 7d7f"],
  ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
  ["302", "6402"],
  ["307", "640e ff"],
  ["private", "aec3 771a 4b"],
  [DATE_21, "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
  [DATE_22, "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"],
  [LOCATION, "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
  ["gzip", "9bd9 ab"],
  [
    COOKIE,
    `94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0
     03ed 4ee5 b106 3d50 07`,
  ],
];

const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const latin1String = (maxLength: number) => fc.string({ unit: latin1Char, maxLength, size: "max" });

describe("Huffman code", () => {
  it("has 257 symbols forming a complete canonical code, EOS = 30 one bits", () => {
    const table = huffmanCodeTable();
    expect(table).toHaveLength(257);
    expect(table[256]).toEqual([0x3fffffff, 30]);
    expect(table[48]).toEqual([0x0, 5]); // '0'
    expect(table[97]).toEqual([0x3, 5]); // 'a'
    // Kraft: the codes fill the code space exactly.
    const kraft = table.reduce((sum, [, bits]) => sum + 2 ** (30 - bits), 0);
    expect(kraft).toBe(2 ** 30);
    // Canonical: ordered by (length, symbol), each code is the previous plus one, shifted left
    // by the growth in length.
    const order = table.map((_, sym) => sym);
    order.sort((a, b) => (table[a]?.[1] ?? 0) - (table[b]?.[1] ?? 0) || a - b);
    let code = 0;
    let bits = table[order[0] as number]?.[1] ?? 0;
    for (const [rank, sym] of order.entries()) {
      const [want, length] = table[sym] ?? [0, 0];
      if (rank > 0) code = (code + 1) * 2 ** (length - bits);
      bits = length;
      expect(code, `symbol ${sym}`).toBe(want);
    }
  });

  it("encodes and decodes the strings of RFC 7541 C.4 and C.6", () => {
    for (const [text, encoded] of HUFFMAN_STRINGS) {
      expect(toHex(huffmanEncode(text))).toBe(toHex(hex(encoded)));
      expect(huffmanLength(text)).toBe(hex(encoded).length);
      expect(decodeHuffman(hex(encoded))).toBe(text);
    }
  });

  it("round-trips every octet alone and all 256 in one string", () => {
    let all = "";
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      all += s;
      expect(decodeHuffman(huffmanEncode(s)), `octet ${c}`).toBe(s);
    }
    expect(decodeHuffman(huffmanEncode(all))).toBe(all);
    expect(decodeHuffman(new Uint8Array(0))).toBe("");
  });

  it("round-trips random latin1 strings, with the length huffmanLength predicts", () => {
    fc.assert(
      fc.property(latin1String(300), (s) => {
        const encoded = huffmanEncode(s);
        expect(encoded.length).toBe(huffmanLength(s));
        expect(decodeHuffman(encoded)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes a range inside a larger buffer", () => {
    const inner = hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
    const outer = new Uint8Array([0x00, ...inner, 0x00]);
    expect(huffmanDecode(outer, 1, 1 + inner.length)).toBe("www.example.com");
  });

  it.each([
    ["padding of 8 one bits", "ff"],
    ["'a' then 11 bits of padding", "1fff"],
    ["'a' then 19 bits of padding", "1fffff"],
    ["'a' then 27 bits of padding", "1fffffff"],
    ["'|' then 29 bits of padding", "ff9fffffff"],
    ["padding ending in a partial symbol", "52bc30ffffffff"],
    ["padding of zero bits ('0' then 000)", "00"],
    ["padding of mixed bits ('a' then 101)", "1d"],
    ["EOS then '?'", "fffffffffc"],
    ["EOS alone, padded", "ffffffff"],
  ])("rejects %s", (_, encoded) => {
    expect(() => decodeHuffman(hex(encoded))).toThrow(HpackError);
  });

  it("accepts padding of 1 to 7 one bits", () => {
    expect(decodeHuffman(hex("1f"))).toBe("a"); // 00011 111
    expect(decodeHuffman(hex("18ff"))).toBe("aa"); // 00011 00011 111111
    expect(decodeHuffman(hex("003f"))).toBe("00"); // 00000 00000 111111
  });
});

describe("HpackDecoder errors", () => {
  const cases: readonly { label: string; block: string; maxHeaderListSize?: number }[] = [
    { label: "index 0", block: "80" },
    { label: "index 0 after a valid field", block: "8280" },
    { label: "indexed field past the empty dynamic table", block: "be" },
    { label: "indexed field past the static table by a lot", block: "ff80 01" },
    { label: "literal name index past the table", block: "0f30 0161" },
    { label: "truncated integer", block: "ff" },
    { label: "truncated integer after continuations", block: "ff80 80" },
    { label: "truncated field (no name string)", block: "40" },
    { label: "truncated field (no value string)", block: "4001 61" },
    { label: "truncated raw string", block: "400a 63" },
    { label: "truncated Huffman string", block: "4085 f1e3" },
    { label: "Huffman string with bad padding", block: "4001 6181 00" },
    { label: "integer above 2^31 - 1", block: "ffff ffff ff0f" },
    { label: "integer 2^31 exactly", block: "ff81 ffff ff07" },
    { label: "integer with too many continuation octets", block: "ff80 8080 8080 8000" },
    { label: "table size update above the limit", block: "3fe2 1f" },
    { label: "table size update after a field", block: "8220" },
    { label: "table size update after a literal", block: "0001 6100 20" },
    // :authority with 60 octets: 10 + 60 + 32 = 102 > 90.
    { label: "header list too large", block: "413c" + "78".repeat(60), maxHeaderListSize: 90 },
  ];
  it.each(cases)("rejects $label", ({ block, maxHeaderListSize }) => {
    const decoder = new HpackDecoder(4096, maxHeaderListSize);
    expect(() => decoder.decode(hex(block))).toThrow(HpackError);
  });

  it("accepts an integer of 2^31 - 1 as a size update under a large limit", () => {
    // 31 + 0x7fffffe0 in 5 continuation octets (2^31 - 1).
    const decoder = new HpackDecoder(2 ** 31 - 1);
    expect(decoder.decode(hex("3fe0 ffff ff07 82"))).toEqual([":method", "GET"]);
  });
});

/** An HPACK integer (RFC 7541 §5.1) with an N-bit prefix under `flags`, written out longhand. */
function prefixInteger(flags: number, prefixBits: number, value: number): number[] {
  const mask = 2 ** prefixBits - 1;
  if (value < mask) return [flags | value];
  const octets = [flags | mask];
  let rest = value - mask;
  for (; rest >= 128; rest = Math.floor(rest / 128)) octets.push(128 + (rest % 128));
  octets.push(rest);
  return octets;
}

/** A raw string literal of ASCII text. */
function rawString(s: string): number[] {
  return [...prefixInteger(0x00, 7, s.length), ...Buffer.from(s, "latin1")];
}

describe("HpackDecoder", () => {
  it("accepts size updates at the block start, up to the limit, evicting", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    expect(decoder.dynamicTableSize).toBe(55);
    // Two updates (to 0, then to 4096), then a field: the table is emptied.
    expect(decoder.decode(hex("20 3fe1 1f 82"))).toEqual([":method", "GET"]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
    // The table works again at the restored size.
    expect(decoder.decode(hex("4001 6101 62be"))).toEqual(["a", "b", "a", "b"]);
    expect(decoder.dynamicTableSize).toBe(34);
  });

  it("lowers the table size, evicting the oldest entries, and drops entries that do not fit", () => {
    const decoder = new HpackDecoder(100);
    decoder.decode(hex("4001 6101 31 4001 6201 32")); // a: 1, then b: 2 (34 octets each)
    expect(decoder.dynamicTableEntries()).toEqual(["b", "2", "a", "1"]);
    decoder.decode(hex("3f04")); // size 35: "a" is evicted
    expect(decoder.dynamicTableEntries()).toEqual(["b", "2"]);
    expect(decoder.dynamicTableSize).toBe(34);
    // An entry of 36 octets is larger than the table: the table empties, nothing is added.
    expect(decoder.decode(hex("4001 6303 3333 33"))).toEqual(["c", "333"]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
    expect(() => decoder.decode(hex("3f46"))).toThrow(HpackError); // 101 > 100
  });

  it("keeps a referenced name that the same insertion evicts (RFC 7541 §4.4)", () => {
    const decoder = new HpackDecoder(40);
    decoder.decode(hex("4001 6101 31")); // a: 1 (34 octets)
    // Literal with indexing naming dynamic entry 62 ("a"), which must be evicted to insert.
    expect(decoder.decode(hex("7e01 32"))).toEqual(["a", "2"]);
    expect(decoder.dynamicTableEntries()).toEqual(["a", "2"]);
  });

  it("wraps its ring many times without losing entries", () => {
    const decoder = new HpackDecoder(200); // ring of 7 slots, at most 5 entries of 34 octets
    for (let i = 0; i < 50; i++) {
      const value = String.fromCharCode(0x41 + (i % 26));
      expect(decoder.decode(hex("4001 78 01" + Buffer.from(value).toString("hex")))).toEqual([
        "x",
        value,
      ]);
      const want: string[] = [];
      for (let age = 0; age < Math.min(5, i + 1); age++) {
        want.push("x", String.fromCharCode(0x41 + ((i - age) % 26)));
      }
      expect(decoder.dynamicTableEntries()).toEqual(want);
      expect(decoder.dynamicTableSize).toBe(want.length * 17);
    }
  });

  it("keeps its dynamic table equal to a naive model through inserts, lookups and resizes", () => {
    type Op =
      | { kind: "insert"; name: string; value: string }
      | { kind: "lookup"; pick: number }
      | { kind: "resize"; fraction: number };
    const text = (maxLength: number) =>
      fc.string({ unit: fc.constantFrom(..."abcxyz-0"), maxLength });
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant("insert"), name: text(20), value: text(100) }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("lookup"), pick: fc.nat() }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("resize"),
          fraction: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
      },
    ) as fc.Arbitrary<Op>;
    fc.assert(
      fc.property(
        fc.constantFrom(0, 64, 256, 4096),
        fc.array(op, { minLength: 100, maxLength: 300 }),
        (max, ops) => {
          const decoder = new HpackDecoder(max);
          let model: [string, string][] = []; // newest first
          let limit: number = max;
          const sizeOf = (entries: [string, string][]) =>
            entries.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);
          for (const o of ops) {
            if (o.kind === "insert") {
              const block = [0x40, ...rawString(o.name), ...rawString(o.value)];
              expect(decoder.decode(Uint8Array.from(block))).toEqual([o.name, o.value]);
              model = [[o.name, o.value], ...model];
              while (sizeOf(model) > limit) model.pop();
            } else if (o.kind === "lookup") {
              if (model.length === 0) continue;
              const age = o.pick % model.length;
              const block = prefixInteger(0x80, 7, 62 + age);
              expect(decoder.decode(Uint8Array.from(block))).toEqual(model[age]);
            } else {
              limit = Math.floor(o.fraction * max);
              expect(decoder.decode(Uint8Array.from(prefixInteger(0x20, 5, limit)))).toEqual([]);
              while (sizeOf(model) > limit) model.pop();
            }
            expect(decoder.dynamicTableEntries()).toEqual(model.flat());
            expect(decoder.dynamicTableSize).toBe(sizeOf(model));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("accepts a header list exactly at the limit", () => {
    const decoder = new HpackDecoder(4096, 102);
    const value = "x".repeat(60);
    expect(decoder.decode(hex("413c" + Buffer.from(value).toString("hex")))).toEqual([
      ":authority",
      value,
    ]);
  });

  it("reuses a repeated non-indexed value only while its octets are the same", () => {
    const decoder = new HpackDecoder();
    const raw = (path: string) =>
      "04" + Buffer.from([path.length, ...Buffer.from(path)]).toString("hex");
    const huffman = (path: string) =>
      "04" + (0x80 | huffmanLength(path)).toString(16) + toHex(huffmanEncode(path));
    const sequence = [raw("/a/b"), raw("/a/b"), raw("/a/c"), huffman("/a/c"), huffman("/a/c")];
    const want = ["/a/b", "/a/b", "/a/c", "/a/c", "/a/c"];
    expect(sequence.map((block) => decoder.decode(hex(block))[1])).toEqual(want);
    // The caller may reuse its buffer: the decoder compares against its own copy.
    const buffer = Buffer.from(hex(raw("/x/y")));
    expect(decoder.decode(buffer)).toEqual([":path", "/x/y"]);
    buffer[5] = 0x7a; // "/x/z"
    expect(decoder.decode(buffer)).toEqual([":path", "/x/z"]);
    // Two non-indexed values in one block alternate through the cache.
    const both = hex(raw("/p") + raw("/q"));
    expect(decoder.decode(both)).toEqual([":path", "/p", ":path", "/q"]);
    expect(decoder.decode(both)).toEqual([":path", "/p", ":path", "/q"]);
  });

  it("decodes latin1 octets above 0x7f and a block inside a larger buffer", () => {
    const bytes = hex("00 0178 02e9ff 82");
    const outer = new Uint8Array(bytes.length + 4);
    outer.set(bytes, 2);
    const view = outer.subarray(2, 2 + bytes.length);
    expect(new HpackDecoder().decode(view)).toEqual(["x", "\u00e9\u00ff", ":method", "GET"]);
  });
});

describe("encodeHeaderBlock", () => {
  it("uses full static matches, static names and literal names", () => {
    expect(toHex(encodeHeaderBlock([":status", "200"]))).toBe("88");
    expect(toHex(encodeHeaderBlock([":status", "500"]))).toBe("8e");
    expect(toHex(encodeHeaderBlock([":status", "418"]))).toBe("0803343138");
    expect(toHex(encodeHeaderBlock(["content-type", "application/grpc"]))).toBe(
      "0f10" + "10" + Buffer.from("application/grpc").toString("hex"),
    );
    expect(toHex(encodeHeaderBlock(["grpc-status", "0"]))).toBe(
      "000b" + Buffer.from("grpc-status").toString("hex") + "0130",
    );
    expect(toHex(encodeHeaderBlock(["accept-encoding", "gzip, deflate"]))).toBe("90");
    expect(toHex(encodeHeaderBlock([]))).toBe("");
  });

  it("writes multi-octet lengths", () => {
    const value = "v".repeat(300); // 127 + 173: 7f ad 01
    const block = encodeHeaderBlock(["x-long", value]);
    expect(toHex(block.subarray(0, 9))).toBe("0006" + Buffer.from("x-long").toString("hex") + "7f");
    expect(toHex(block.subarray(8, 11))).toBe("7fad01");
    expect(new HpackDecoder().decode(block)).toEqual(["x-long", value]);
  });

  it("round-trips through the decoder without touching its table", () => {
    const staticName = fc.constantFrom(
      ":status",
      ":path",
      "content-type",
      "accept-encoding",
      "www-authenticate",
      "user-agent",
    );
    const name = fc.oneof(
      staticName,
      fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-"), minLength: 1 }),
    );
    const value = fc.oneof(
      fc.constantFrom("200", "404", "/", "gzip, deflate", ""),
      latin1String(200),
    );
    const decoder = new HpackDecoder(4096, 1 << 20);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 20 }), (pairs) => {
        const fields = pairs.flat();
        expect(decoder.decode(encodeHeaderBlock(fields))).toEqual(fields);
        expect(decoder.dynamicTableSize).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- nghttp2 interop ----------------------------------------------------------------------------

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADERS = 0x1;
const FRAME_SETTINGS = 0x4;
const FRAME_CONTINUATION = 0x9;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

/** The header block fragment of a HEADERS frame: padding and priority fields removed. */
function headersFragment(frame: Frame): Buffer {
  let start = 0;
  let end = frame.payload.length;
  if ((frame.flags & FLAG_PADDED) !== 0) {
    start = 1;
    end -= frame.payload[0] as number;
  }
  if ((frame.flags & FLAG_PRIORITY) !== 0) start += 5;
  return frame.payload.subarray(start, end);
}

/**
 * Sends `requests` from node's HTTP/2 client (nghttp2) on one connection to a raw TCP server and
 * returns the header blocks it received, in wire order.
 */
async function captureHeaderBlocks(requests: readonly http2.OutgoingHttpHeaders[]) {
  const blocks: { streamId: number; block: Buffer }[] = [];
  let done!: () => void;
  const allReceived = new Promise<void>((resolve) => (done = resolve));
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let pending = Buffer.alloc(0);
    let sawPreface = false;
    let open: { streamId: number; parts: Buffer[] } | undefined;
    socket.write(Buffer.from("000000040000000000", "hex")); // empty SETTINGS
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!sawPreface) {
        if (pending.length < PREFACE.length) return;
        expect(pending.subarray(0, PREFACE.length).toString("latin1")).toBe(PREFACE);
        pending = pending.subarray(PREFACE.length);
        sawPreface = true;
      }
      const { frames, used } = parseFrames(pending);
      pending = pending.subarray(used);
      for (const frame of frames) {
        if (frame.type === FRAME_SETTINGS && (frame.flags & FLAG_ACK) === 0) {
          socket.write(Buffer.from("000000040100000000", "hex")); // SETTINGS ACK
        } else if (frame.type === FRAME_HEADERS) {
          open = { streamId: frame.streamId, parts: [headersFragment(frame)] };
        } else if (frame.type === FRAME_CONTINUATION) {
          expect(open?.streamId).toBe(frame.streamId);
          open?.parts.push(frame.payload);
        } else {
          continue;
        }
        if ((frame.flags & FLAG_END_HEADERS) !== 0 && open !== undefined) {
          blocks.push({ streamId: open.streamId, block: Buffer.concat(open.parts) });
          open = undefined;
          if (blocks.length === requests.length) done();
        }
      }
    });
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on("error", () => {});
  try {
    for (const headers of requests) {
      const stream = client.request(headers, { endStream: true });
      stream.on("error", () => {});
    }
    await allReceived;
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }
  return { port, blocks };
}

/** The header list as name -> values, in arrival order. */
function byName(fields: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    map.set(name, [...(map.get(name) ?? []), fields[i + 1] as string]);
  }
  return map;
}

describe("interop with node:http2 (nghttp2)", () => {
  it("decodes the header blocks of two gRPC-like requests on one connection", async () => {
    const common = {
      ":method": "POST",
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "grpc-node-js/1.14.7",
      "grpc-accept-encoding": "identity,deflate,gzip",
      "accept-encoding": "identity",
      "x-request-trace": "0123456789abcdef0123456789abcdef-span-0001-sampled-true",
      authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.c3ViamVjdC1sb25nLWVub3VnaA.c2lnbmF0dXJl",
      [http2.sensitiveHeaders]: ["authorization"],
    };
    const requests = [
      { ...common, ":path": "/etcdserverpb.KV/Range", "grpc-timeout": "4999m" },
      { ...common, ":path": "/etcdserverpb.KV/Put", "x-second": "\u00e9t\u00e9 latin1 value" },
    ];
    const { port, blocks } = await captureHeaderBlocks(requests);
    expect(blocks.map((b) => b.streamId)).toEqual([1, 3]);
    // The second block reuses the first one's dynamic entries, so it is shorter.
    expect(blocks[1]?.block.length).toBeLessThan(blocks[0]?.block.length ?? 0);

    const decoder = new HpackDecoder();
    for (const [i, request] of requests.entries()) {
      const fields = decoder.decode(blocks[i]?.block ?? Buffer.alloc(0));
      const got = byName(fields);
      expect(got.get(":method")).toEqual(["POST"]);
      expect(got.get(":scheme")).toEqual(["http"]);
      expect(got.get(":authority")).toEqual([`127.0.0.1:${port}`]);
      for (const [name, value] of Object.entries(request)) {
        expect(got.get(name), name).toEqual([value]);
      }
      // Pseudo-headers come first (RFC 7540 §8.1.2.1), and nothing else was added.
      const names = [...got.keys()];
      const firstRegular = names.findIndex((n) => !n.startsWith(":"));
      expect(names.slice(firstRegular).some((n) => n.startsWith(":"))).toBe(false);
      expect(names.length).toBe(Object.keys(request).length + 2);
    }
    expect(decoder.dynamicTableSize).toBeGreaterThan(0);
  });
});

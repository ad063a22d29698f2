import { describe, expect, it } from "vitest";
import {
  formatGoDuration,
  goQuote,
  hexEscaped,
  hexId,
  hexId016,
  hexId16,
  humanizeBytes,
} from "../../../src/real/ctl/go-format.js";
import { goJson } from "../../../src/real/ctl/go-json.js";
import { renderTable } from "../../../src/real/ctl/table-writer.js";

describe("Go's %q", () => {
  it("escapes quotes, backslashes, control characters and bad UTF-8, keeps printable text", () => {
    expect(goQuote("foo")).toBe('"foo"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote("\x07\b\f\n\r\t\v")).toBe('"\\a\\b\\f\\n\\r\\t\\v"');
    expect(goQuote("\x00\x1f\x7f")).toBe('"\\x00\\x1f\\x7f"');
    expect(goQuote("héllo €𝄞")).toBe('"héllo €𝄞"');
    expect(goQuote("\u00a0\u2028")).toBe('"\\u00a0\\u2028"');
    expect(goQuote(Uint8Array.of(0xff, 0x61, 0xc3))).toBe('"\\xffa\\xc3"');
    // An overlong encoding and a surrogate are not UTF-8 either.
    expect(goQuote(Uint8Array.of(0xc0, 0xaf, 0xed, 0xa0, 0x80))).toBe(
      '"\\xc0\\xaf\\xed\\xa0\\x80"',
    );
  });
});

describe("ids and sizes", () => {
  it("spells ids in hex as %x, %016x and %16x", () => {
    expect(hexId(0x8e9e05c52164694dn)).toBe("8e9e05c52164694d");
    expect(hexId016(0x1234n)).toBe("0000000000001234");
    expect(hexId16(0x1b0n)).toBe("             1b0");
    expect(hexEscaped(Uint8Array.of(0, 0xab))).toBe("\\x00\\xab");
  });

  it("writes byte sizes as go-humanize does", () => {
    const cases: [number, string][] = [
      [0, "0 B"],
      [9, "9 B"],
      [10, "10 B"],
      [999, "999 B"],
      [1000, "1.0 kB"],
      [4096, "4.1 kB"],
      [20480, "20 kB"],
      [2_500_000, "2.5 MB"],
      [1_234_567_890, "1.2 GB"],
      // 20.5 kB rounds half to even, as Go's %.0f does.
      [20_500, "20 kB"],
      [21_500, "22 kB"],
    ];
    for (const [size, text] of cases) expect(humanizeBytes(size)).toBe(text);
  });
});

describe("time.Duration's String", () => {
  it("picks the unit and trims trailing zeros", () => {
    const cases: [bigint, string][] = [
      [0n, "0s"],
      [999n, "999ns"],
      [1500n, "1.5µs"],
      [2_339_093n, "2.339093ms"],
      [76_965_582n, "76.965582ms"],
      [1_000_000_000n, "1s"],
      [5_001_094_909n, "5.001094909s"],
      [61_000_000_000n, "1m1s"],
      [3_600_000_000_000n, "1h0m0s"],
      [-1_500_000n, "-1.5ms"],
    ];
    for (const [ns, text] of cases) expect(formatGoDuration(ns)).toBe(text);
  });
});

describe("Go JSON", () => {
  it("writes 64-bit integers exactly and bytes as base64, leaving undefined fields out", () => {
    expect(goJson({ a: 18446744073709551615n, b: undefined, c: Uint8Array.of(0xff), d: [] })).toBe(
      '{"a":18446744073709551615,"c":"/w==","d":[]}',
    );
    expect(goJson("\u0001<\u2029")).toBe('"\\u0001\\u003c\\u2029"');
  });
});

describe("tables", () => {
  it("centres headers, right-aligns cells and wraps long cells with little raggedness", () => {
    expect(renderTable(["a_b", "long"], [["x", "one two three four five six seven eight"]])).toBe(
      [
        "+-----+--------------------------------+",
        "| A B |              LONG              |",
        "+-----+--------------------------------+",
        "|   x |    one two three four five six |",
        "|     |                    seven eight |",
        "+-----+--------------------------------+",
        "",
      ].join("\n"),
    );
  });
});

// etcdctl's txn input: compares, an empty line, success requests, an empty line, failure requests,
// an empty line. The error messages are etcdctl 3.4's for the same input (checked by hand against
// /usr/bin/etcdctl), with the line number in front.

import { describe, expect, it } from "vitest";
import type { TxnRequest } from "../../../src/api/rpc.js";
import { utf8 } from "../../../src/lib/bytes.js";
import { CtlError, ExitCode } from "../../../src/real/ctl/exit.js";
import { argify, goUnquote } from "../../../src/real/ctl/go-quote-scan.js";
import { bytesLineSource, readTxn, TXN_PROMPTS } from "../../../src/real/ctl/txn-parse.js";

function parse(input: string | Uint8Array): Promise<TxnRequest> {
  return readTxn(bytesLineSource(typeof input === "string" ? utf8(input) : input));
}

async function failure(input: string): Promise<{ code: number; message: string }> {
  try {
    await parse(input);
  } catch (e) {
    if (e instanceof CtlError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("the input was accepted");
}

const RANGE_DEFAULTS = {
  limit: 0,
  revision: 0,
  sort_order: "NONE",
  sort_target: "KEY",
  serializable: false,
  keys_only: false,
  count_only: false,
  min_mod_revision: 0,
  max_mod_revision: 0,
  min_create_revision: 0,
  max_create_revision: 0,
};

const PUT_DEFAULTS = { lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false };

describe("txn input", () => {
  it("reads etcdctl's README example", async () => {
    const txn = await parse(
      'mod("key1") > "0"\n\nput key1 "overwrote-key1"\n\nput key1 "created-key1"\nput key2 "some extra key"\n\n',
    );
    expect(txn).toEqual({
      compare: [{ target: "MOD", result: "GREATER", key: utf8("key1"), mod_revision: 0 }],
      success: [
        {
          request: "request_put",
          request_put: { key: utf8("key1"), value: utf8("overwrote-key1"), ...PUT_DEFAULTS },
        },
      ],
      failure: [
        {
          request: "request_put",
          request_put: { key: utf8("key1"), value: utf8("created-key1"), ...PUT_DEFAULTS },
        },
        {
          request: "request_put",
          request_put: { key: utf8("key2"), value: utf8("some extra key"), ...PUT_DEFAULTS },
        },
      ],
    });
  });

  it("knows every compare target, short and long, and every operator", async () => {
    const txn = await parse(
      [
        'ver("a") = "1"',
        'version("a") != "2"',
        'c("b") < "3"',
        'create("b") > "4"',
        'm("c") = "5"',
        'val("d") = "x y"',
        'value("d") != `raw\\n`',
        'lease("e") = "7587852521871779343"',
        "",
        "",
        "",
      ].join("\n") + "\n",
    );
    expect(txn.compare).toEqual([
      { target: "VERSION", result: "EQUAL", key: utf8("a"), version: 1 },
      { target: "VERSION", result: "NOT_EQUAL", key: utf8("a"), version: 2 },
      { target: "CREATE", result: "LESS", key: utf8("b"), create_revision: 3 },
      { target: "CREATE", result: "GREATER", key: utf8("b"), create_revision: 4 },
      { target: "MOD", result: "EQUAL", key: utf8("c"), mod_revision: 5 },
      { target: "VALUE", result: "EQUAL", key: utf8("d"), value: utf8("x y") },
      { target: "VALUE", result: "NOT_EQUAL", key: utf8("d"), value: utf8("raw\\n") },
      { target: "LEASE", result: "EQUAL", key: utf8("e"), lease: 7587852521871779343n },
    ]);
    expect(txn.success).toEqual([]);
    expect(txn.failure).toEqual([]);
  });

  it("takes Go escapes in quoted keys and values, byte for byte", async () => {
    const txn = await parse(
      'val("k\\x00\\377") = "\\u20ac\\t"\n\nput "a\\nb" \'single "quoted"\'\n\n\n',
    );
    expect(txn.compare?.[0]).toEqual({
      target: "VALUE",
      result: "EQUAL",
      key: Uint8Array.of(0x6b, 0x00, 0xff),
      value: Uint8Array.of(0xe2, 0x82, 0xac, 0x09),
    });
    expect(txn.success?.[0]).toEqual({
      request: "request_put",
      request_put: { key: utf8("a\nb"), value: utf8('single "quoted"'), ...PUT_DEFAULTS },
    });
  });

  it("keeps bytes that are not UTF-8 in unquoted words", async () => {
    const input = Buffer.concat([
      Buffer.from("\nput k "),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("\n\n\n"),
    ]);
    const txn = await parse(input);
    expect(txn.success?.[0]).toEqual({
      request: "request_put",
      request_put: { key: utf8("k"), value: Uint8Array.of(0xff, 0xfe), ...PUT_DEFAULTS },
    });
  });

  it("reads requests with the get, put and del flags (and their unique prefixes)", async () => {
    const txn = await parse(
      [
        "",
        "get a --prefix --limit 0x10 --rev=7 --order descend --sort-by MODIFY",
        "put k v --lease 694d77aa9e38260f --prev-kv",
        "del a z",
        "",
        "g --from-key ''",
        "d p --prefix --prev-kv",
        "",
        "",
      ].join("\n"),
    );
    expect(txn.success).toEqual([
      {
        request: "request_range",
        request_range: {
          ...RANGE_DEFAULTS,
          key: utf8("a"),
          range_end: utf8("b"),
          limit: 16,
          revision: 7,
          sort_order: "DESCEND",
          sort_target: "MOD",
        },
      },
      {
        request: "request_put",
        request_put: {
          key: utf8("k"),
          value: utf8("v"),
          ...PUT_DEFAULTS,
          lease: 0x694d77aa9e38260fn,
          prev_kv: true,
        },
      },
      {
        request: "request_delete_range",
        request_delete_range: { key: utf8("a"), range_end: utf8("z"), prev_kv: false },
      },
    ]);
    expect(txn.failure).toEqual([
      {
        request: "request_range",
        request_range: { ...RANGE_DEFAULTS, key: Uint8Array.of(0), range_end: Uint8Array.of(0) },
      },
      {
        request: "request_delete_range",
        request_delete_range: { key: utf8("p"), range_end: utf8("q"), prev_kv: true },
      },
    ]);
  });

  it("never takes the word after a bool flag as its value", async () => {
    const txn = await parse("\nput k --prev-kv true\n\n\n");
    expect(txn.success?.[0]).toEqual({
      request: "request_put",
      request_put: { key: utf8("k"), value: utf8("true"), ...PUT_DEFAULTS, prev_kv: true },
    });
  });

  it("trims white space around lines, so a line of spaces ends a section", async () => {
    const txn = await parse('  mod("a") = "1"  \n   \n\tput a b\t\n\n\n');
    expect(txn.compare).toHaveLength(1);
    expect(txn.success).toHaveLength(1);
  });

  it("prompts before each section", async () => {
    const prompts: string[] = [];
    await readTxn(bytesLineSource(utf8("\n\n\n")), (p) => prompts.push(p));
    expect(prompts).toEqual([TXN_PROMPTS.compares, TXN_PROMPTS.success, TXN_PROMPTS.failure]);
    expect(prompts).toEqual([
      "compares:",
      "success requests (get, put, del):",
      "failure requests (get, put, del):",
    ]);
  });
});

describe("txn input errors", () => {
  it("names malformed compares as etcdctl does, with the line number", async () => {
    const cases: [string, string][] = [
      ['mod("a" > "1"', 'malformed comparison: mod("a" > "1"; got mod("a")  ""'],
      ['mod("a") >"1"', 'malformed comparison: mod("a") >"1"; got mod("a") >"1" ""'],
      ['mod("a")', 'malformed comparison: mod("a"); got mod("a")  ""'],
      ['mod(a) = "1"', 'malformed comparison: mod(a) = "1"; got mod("")  ""'],
      ['mod("a\\q") = "1"', 'malformed comparison: mod("a\\q") = "1"; got mod("")  ""'],
      ['foo("a") = "1"', 'malformed comparison: foo("a") = "1" (unknown target foo)'],
      ["nope", "malformed comparison: nope"],
      ['mod("a") = "x"', 'invalid txn compare request: mod("a") = "x"'],
      ['mod("a") ~ "1"', 'malformed comparison: mod("a") ~ "1" (unknown operator ~)'],
    ];
    for (const [line, message] of cases) {
      expect(await failure(`mod("ok") = "1"\n${line}\n\n\n\n`)).toEqual({
        code: ExitCode.InvalidInput,
        message: `line 2: ${message}`,
      });
    }
  });

  it("names bad requests as etcdctl does, with the line number and exit code", async () => {
    expect(await failure("\nput a b --bogus\n\n\n")).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 2: invalid txn request: put a b --bogus",
    });
    expect(await failure("\n\nfrob a b\n\n")).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 3: invalid txn request: frob a b",
    });
    expect(await failure("\nput\n\n\n")).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 2: invalid txn compare request: put",
    });
    expect(await failure("\nget a --limit x\n\n\n")).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 2: invalid txn request: get a --limit x",
    });
    // The command's own checks keep their exit code (128, bad arguments).
    expect(await failure("\nput a\n\n\n")).toEqual({
      code: ExitCode.BadArgs,
      message: "line 2: put command needs 1 argument and input from stdin or 2 arguments",
    });
    expect(await failure("\nget a --prefix --from-key\n\n\n")).toEqual({
      code: ExitCode.BadArgs,
      message: "line 2: `--prefix` and `--from-key` cannot be set at the same time, choose one",
    });
    expect(await failure('\nput "a\\q" b\n\n\n')).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 2: invalid syntax",
    });
  });

  it("refuses input that ends before the last empty line", async () => {
    expect(await failure('mod("a") = "1"\n\nput a b\n')).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 4: EOF (each section must end with an empty line)",
    });
    expect(await failure('mod("a") = "1"\n\nput a b\n\nput c d')).toEqual({
      code: ExitCode.InvalidInput,
      message: "line 5: EOF (each section must end with an empty line)",
    });
  });
});

describe("argify and Go unquoting", () => {
  it("splits words like etcdctl", () => {
    expect(argify(`put a "b c" 'd "e"' f"g"`)).toEqual(["put", "a", "b c", 'd "e"', 'f"g"']);
    expect(argify("  get\tx  ")).toEqual(["get", "x"]);
  });

  it("unquotes Go string literals", () => {
    expect(goUnquote('"\\a\\b\\f\\n\\r\\t\\v\\\\\\""')).toBe('\x07\b\f\n\r\t\v\\"');
    expect(goUnquote('"\\x41\\101\\u00e9"')).toBe("AA\xc3\xa9");
    expect(goUnquote("`a\\n`")).toBe("a\\n");
    for (const bad of ['"\\q"', '"\\x4"', '"\\400"', '"\\ud800"', '"a\nb"', '"\\\'"']) {
      expect(() => goUnquote(bad)).toThrow();
    }
  });
});

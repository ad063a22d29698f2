// Parsers (errors name the line) and the HTML visualization of a small illegal history.
import { describe, expect, it } from "vitest";
import {
  casRegisterModel,
  check,
  etcdModel,
  formatParseError,
  parseHistoryJson,
  parseJepsenLog,
  parsePorcupineKv,
  visualize,
} from "../../src/porcupine/index.js";

describe("jepsen parser", () => {
  it("pairs invocations with completions and keeps unknown outcomes open", () => {
    const log = [
      "INFO  jepsen.util - 0\t:invoke\t:write\t4",
      "INFO  jepsen.util - 1\t:invoke\t:cas\t[4 1]",
      "INFO  jepsen.util - 0\t:ok\t:write\t4",
      "INFO  jepsen.util - 1\t:info\t:cas\t[4 1]",
      "INFO  jepsen.util - 2\t:invoke\t:read\tnil",
      "INFO  jepsen.util - 2\t:ok\t:read\t1",
      "INFO  jepsen.util - 3\t:invoke\t:cas\t[9 1]",
      "INFO  jepsen.util - 3\t:fail\t:cas\t[9 1]",
    ].join("\n");
    const parsed = parseJepsenLog(log);
    if (!parsed.ok) throw new Error(formatParseError(parsed.error));
    expect(parsed.value).toHaveLength(4);
    expect(parsed.value[1]).toEqual({
      clientId: 1,
      input: { kind: "cas", from: 4, to: 1 },
      call: 2,
    });
    expect(parsed.value[3]?.output).toEqual({ kind: "cas", ok: false });
    expect(check(casRegisterModel, parsed.value).result).toBe("ok");
  });
  it("names the bad line", () => {
    const parsed = parseJepsenLog("INFO  jepsen.util - 0\t:invoke\t:write\t4\n\nhello");
    expect(parsed).toEqual({
      ok: false,
      error: { line: 3, message: expect.stringContaining("not a Jepsen event") },
    });
    const twice = parseJepsenLog(
      "INFO  jepsen.util - 0\t:invoke\t:write\t4\nINFO  jepsen.util - 0\t:invoke\t:write\t5",
    );
    expect(twice.ok ? 0 : twice.error.line).toBe(2);
    const orphan = parseJepsenLog("INFO  jepsen.util - 0\t:ok\t:write\t4");
    expect(orphan.ok ? "" : formatParseError({ ...orphan.error, file: "f.log" })).toMatch(
      /^f\.log:1: .*never invoked/,
    );
  });
});

describe("porcupine kv parser", () => {
  it("parses gets, puts and appends", () => {
    const parsed = parsePorcupineKv(
      [
        '{:process 1, :type :invoke, :f :put, :key "k", :value "a"}',
        '{:process 1, :type :ok, :f :put, :key "k", :value "a"}',
        '{:process 2, :type :invoke, :f :get, :key "k", :value nil}',
        '{:process 2, :type :ok, :f :get, :key "k", :value "a"}',
      ].join("\n"),
    );
    if (!parsed.ok) throw new Error(formatParseError(parsed.error));
    expect(parsed.value.map((o) => o.output)).toEqual([
      { kind: "done" },
      { kind: "get", value: "a" },
    ]);
  });
  it("names the bad line", () => {
    const parsed = parsePorcupineKv(
      '{:process 1, :type :invoke, :f :put, :key "k", :value "a"}\n{:process 1, :type :ok}',
    );
    expect(parsed.ok ? 0 : parsed.error.line).toBe(2);
  });
});

describe("history JSON parser", () => {
  it("reads operations, unknown outcomes and annotations", () => {
    const text = [
      '{"clientId":0,"call":1,"return":2,"input":{"type":"put","key":"a","value":"1"},"output":{"type":"put","header":{"revision":2}}}',
      '{"clientId":1,"call":3,"input":{"type":"put","key":"a","value":"2"}}',
      '{"annotation":{"start":0,"end":5,"label":"partition"}}',
    ].join("\n");
    const parsed = parseHistoryJson(text);
    if (!parsed.ok) throw new Error(formatParseError(parsed.error));
    expect(parsed.value.operations).toHaveLength(2);
    expect(parsed.value.operations[1]?.return).toBeUndefined();
    expect(parsed.value.annotations).toEqual([{ start: 0, end: 5, label: "partition" }]);
    expect(check(etcdModel, parsed.value.operations).result).toBe("ok");
  });
  it("names the bad line and field", () => {
    const ok = '{"clientId":0,"call":1,"input":{"type":"range","key":"a"}}';
    expect(parseHistoryJson(`${ok}\n{"clientId":0`)).toMatchObject({
      ok: false,
      error: { line: 2 },
    });
    expect(
      parseHistoryJson(`${ok}\n${ok}\n{"clientId":0,"call":1,"input":{"type":"bogus"}}`),
    ).toMatchObject({
      ok: false,
      error: { line: 3, message: expect.stringContaining("input.type") },
    });
    expect(
      parseHistoryJson(
        '{"clientId":0,"call":5,"return":1,"input":{"type":"range","key":"a"},"output":{"type":"range","header":{"revision":1},"kvs":[],"count":0}}',
      ),
    ).toMatchObject({
      ok: false,
      error: { line: 1, message: expect.stringContaining("before its call") },
    });
  });
});

describe("visualize", () => {
  it("draws a small illegal history with its linearization, stuck operation, states and annotations", () => {
    const ops = [
      {
        clientId: 0,
        input: { kind: "write" as const, value: 1 },
        call: 0,
        output: { kind: "write" as const },
        return: 10,
      },
      {
        clientId: 1,
        input: { kind: "read" as const },
        call: 12,
        output: { kind: "read" as const, value: 1 },
        return: 20,
      },
      {
        clientId: 1,
        input: { kind: "read" as const },
        call: 22,
        output: { kind: "read" as const, value: 2 },
        return: 30,
      },
      { clientId: 2, input: { kind: "write" as const, value: 3 }, call: 5 },
    ];
    const report = check(casRegisterModel, ops);
    expect(report.result).toBe("illegal");
    const html = visualize(casRegisterModel, report, {
      title: "demo <x>",
      annotations: [{ start: 11, end: 25, label: "partition n1" }],
    });
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link/);
    expect(html).toContain("demo &lt;x&gt;");
    expect(html).toContain('id="result">illegal<');
    expect(html).toContain('class="annotation"');
    expect(html).toContain("partition n1");
    expect(html).toMatch(/class="op linearized" id="p0-op0"[^>]*><b>1<\/b> write\(1\)/);
    expect(html).toMatch(/class="op stuck" id="p0-op2"/);
    expect(html).toMatch(/class="op open[^"]*" id="p0-op3"/);
    expect(html).toContain("state after #1:\n1");
    expect(html).toContain('href="#p0-op2"');
    expect((html.match(/class="client"/g) ?? []).length).toBe(3);
  });
});

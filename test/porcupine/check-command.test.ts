// `detcd-sim check` through its handler: exit codes, the JSON line, FILE:LINE errors, the HTML.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkCommand } from "../../src/cli/sim/check-command.js";

const DATA = "/work/shared/data/porcupine";

function run(args: {
  file: string;
  format: "jepsen" | "porcupine-kv" | "history";
  json?: boolean;
  html?: string;
  timeoutMs?: number;
}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((s: string) => void out.push(s));
  const error = vi.spyOn(console, "error").mockImplementation((s: string) => void err.push(s));
  process.exitCode = undefined;
  const argv = {
    _: [],
    $0: "detcd-sim",
    file: args.file,
    format: args.format,
    json: args.json ?? false,
    html: args.html,
    "timeout-ms": args.timeoutMs,
    timeoutMs: args.timeoutMs,
  };
  void checkCommand.handler(argv);
  const code = process.exitCode;
  process.exitCode = undefined;
  log.mockRestore();
  error.mockRestore();
  return { code, out, err };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("detcd-sim check", () => {
  it("exits 0 with a JSON line for a linearizable history", () => {
    const r = run({ file: join(DATA, "kv/c10-ok.txt"), format: "porcupine-kv", json: true });
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out.at(-1) ?? "{}") as Record<string, unknown>;
    expect(line).toMatchObject({ result: "ok", operations: 337, partitions: 10 });
    expect(typeof line.ms).toBe("number");
  });
  it("exits 1 for an illegal history and writes the HTML", () => {
    const dir = mkdtempSync(join(tmpdir(), "detcd-check-"));
    const html = join(dir, "out.html");
    const r = run({ file: join(DATA, "jepsen/etcd_000.log"), format: "jepsen", html });
    expect(r.code).toBe(1);
    expect(r.out[0]).toContain("illegal");
    expect(readFileSync(html, "utf8")).toContain('class="op stuck"');
  });
  it("exits 2 with FILE:LINE for a bad file", () => {
    const dir = mkdtempSync(join(tmpdir(), "detcd-check-"));
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, '{"clientId":0,"call":1,"input":{"type":"range","key":"a"}}\nnot json\n');
    const r = run({ file, format: "history" });
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(new RegExp(`^detcd-sim: ${file}:2: not JSON`));
  });
  it("exits 3 when the timeout hits", () => {
    const r = run({
      file: join(DATA, "jepsen/etcd_002.log"),
      format: "jepsen",
      json: true,
      timeoutMs: 0,
    });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out.at(-1) ?? "{}")).toMatchObject({
      result: "unknown",
      unknownReason: "timeout",
    });
  });
});

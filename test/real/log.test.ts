import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/real/log.js";
import type { LogLevel } from "../../src/real/config/index.js";

function capture(level: LogLevel, withCaller = false) {
  const lines: string[] = [];
  const destination = { write: (chunk: string) => void lines.push(...chunk.trimEnd().split("\n")) };
  const logger = createLogger({ level, destination, withCaller });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records };
}

describe("server log", () => {
  it("writes zap-shaped JSON lines: level, ISO ts, msg and fields", () => {
    const { logger, lines, records } = capture("info");
    logger.info({ "member-id": "8e9e05c52164694d", term: 2 }, "became leader");
    expect(lines).toHaveLength(1);
    const [record] = records();
    expect(Object.keys(record ?? {})).toEqual(["level", "ts", "member-id", "term", "msg"]);
    expect(record).toMatchObject({
      level: "info",
      msg: "became leader",
      "member-id": "8e9e05c52164694d",
      term: 2,
    });
    expect(record?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(record?.ts as string) - Date.now())).toBeLessThan(60_000);
  });

  it("--log-level sets the least level written, panic between error and fatal", () => {
    const { logger, records } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.panic("p");
    logger.fatal("f");
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      ["warn", "w"],
      ["error", "e"],
      ["panic", "p"],
      ["fatal", "f"],
    ]);
    const panicOnly = capture("panic");
    panicOnly.logger.error("e");
    panicOnly.logger.panic("p");
    expect(panicOnly.records().map((r) => r.level)).toEqual(["panic"]);
    const debug = capture("debug");
    debug.logger.debug("d");
    expect(debug.records().map((r) => r.level)).toEqual(["debug"]);
  });

  it("an error field is its message, as zap writes it", () => {
    const { logger, records } = capture("info");
    logger.warn({ error: new Error("disk full") }, "failed to save");
    expect(records()[0]).toMatchObject({
      level: "warn",
      error: "disk full",
      msg: "failed to save",
    });
  });

  it("caller, when asked for, names the logging call's file and line", () => {
    const { logger, records } = capture("info", true);
    logger.info("here");
    const [record] = records();
    expect(record?.caller).toMatch(/test\/real\/log\.test\.ts:\d+$/);
    expect(Object.keys(record ?? {})).toEqual(["level", "ts", "caller", "msg"]);
  });
});

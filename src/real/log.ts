// The server's structured log: one JSON object per line on stderr, shaped like etcd's zap output
// ({"level":"info","ts":"2025-01-02T03:04:05.678Z","caller":"real/node.ts:42","msg":"...",...})
// so log pipelines built for etcd read it unchanged.
import { fileURLToPath } from "node:url";
import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config/server-config.js";

/** pino plus zap's "panic" level, which sits between error and fatal. */
export type ServerLogger = Logger<"panic">;

export interface LoggerOptions {
  /** The least level written (--log-level). */
  readonly level: LogLevel;
  /** Where lines go; stderr, written synchronously, when absent (no line lost at exit). */
  readonly destination?: DestinationStream;
  /**
   * Adds "caller": "<file>:<line>" of the logging call, as zap does. It costs a stack capture per
   * line, so it is off unless asked for.
   */
  readonly withCaller?: boolean;
}

/** pino's numeric levels; "panic" is placed between error (50) and fatal (60). */
const PANIC_LEVEL = 55;

export function createLogger(options: LoggerOptions): ServerLogger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino<"panic">(
    {
      // etcd's level names are pino's once "panic" is added, so --log-level passes through.
      level: options.level,
      customLevels: { panic: PANIC_LEVEL },
      base: undefined,
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: errorText },
      mixin: options.withCaller === true ? () => ({ caller: callerOfLogCall() }) : undefined,
    },
    destination,
  );
}

/** zap writes an error field as its message; so does this logger for an `error` field. */
function errorText(value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

const SRC_ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * The first stack frame outside pino and this file, relative to src/ ("real/node.ts:42"); frames
 * are read from V8's "at fn (file:line:col)" lines.
 */
function callerOfLogCall(): string | undefined {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  const self = fileURLToPath(import.meta.url);
  for (const frame of stack) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(frame.trim());
    if (match === null) continue;
    const file = match[1]?.startsWith("file://") ? fileURLToPath(match[1]) : (match[1] ?? "");
    if (file === self || file.includes("/node_modules/")) continue;
    const shown = file.startsWith(SRC_ROOT) ? file.slice(SRC_ROOT.length) : file;
    return `${shown}:${match[2]}`;
  }
  return undefined;
}

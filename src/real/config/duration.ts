// Durations in Go's syntax (time.ParseDuration), which etcd's duration flags take: a sequence of
// decimal numbers, each with a unit, such as "300ms", "1.5h" or "2h45m"; a bare "0" is allowed.
import { err, ok, type Result } from "../../lib/result.js";

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /^(\d+\.?\d*|\.\d+)([a-zµμ]+)/;

/** Parses a Go duration into milliseconds (may be fractional below 1 ms, or negative). */
export function parseGoDurationMs(text: string): Result<number, string> {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return ok(0);
  if (rest === "") return err(`invalid duration ${JSON.stringify(text)}`);
  let totalMs = 0;
  while (rest !== "") {
    const term = TERM.exec(rest);
    if (term === null) {
      const missingUnit = /^(\d+\.?\d*|\.\d+)$/.test(rest);
      return err(`${missingUnit ? "missing unit in" : "invalid"} duration ${JSON.stringify(text)}`);
    }
    const [whole, number = "", unit = ""] = term;
    const unitMs = UNIT_MS[unit];
    if (unitMs === undefined)
      return err(`unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    totalMs += Number(number) * unitMs;
    rest = rest.slice(whole.length);
  }
  return ok(sign * totalMs);
}

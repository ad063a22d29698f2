// Reading a scenario file for the command line: I/O errors and validation errors become one
// message naming the file (and line and field where known).
import { readFileSync } from "node:fs";
import { formatScenarioError, parseScenario, type Scenario } from "../../../sim/scenario.js";

export class BadInputError extends Error {
  override name = "BadInputError";
}

export function loadScenarioFile(file: string): { scenario: Scenario; text: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new BadInputError(`${file}: cannot read scenario (${code})`);
  }
  const parsed = parseScenario(text, file);
  if (!parsed.ok) throw new BadInputError(formatScenarioError(parsed.error));
  return { scenario: parsed.value, text };
}

export function parseSeed(value: unknown, flag = "--seed"): number {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new BadInputError(
      `${flag} must be a non-negative integer (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}

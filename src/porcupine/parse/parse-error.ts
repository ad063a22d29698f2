// Parse results: a bad input is a value naming its line, never an exception.

/** Where and why an input could not be parsed. `line` is 1-based; `file` is set by the caller. */
export interface ParseError {
  readonly file?: string;
  readonly line: number;
  readonly message: string;
}

export type ParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ParseError };

export function parseFailure<T>(line: number, message: string): ParseResult<T> {
  return { ok: false, error: { line, message } };
}

/** `file:line: message`, the form the command line prints. */
export function formatParseError(error: ParseError): string {
  return `${error.file ?? "<input>"}:${error.line}: ${error.message}`;
}

/** Non-empty lines with their 1-based numbers (a trailing carriage return is dropped). */
export function numberedLines(text: string): { line: number; text: string }[] {
  return text
    .split("\n")
    .map((raw, i) => ({ line: i + 1, text: raw.endsWith("\r") ? raw.slice(0, -1) : raw }))
    .filter((l) => l.text.trim() !== "");
}

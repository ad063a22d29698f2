// Reading Go-quoted strings, for `txn` input: strconv.Unquote for "..." and `...` literals, and
// etcdctl's argify, which splits a request line into words the way etcdctl does (double quotes
// with Go escapes, single quotes taken literally, other words up to a space).
//
// Strings here are "byte strings": each UTF-16 unit holds one byte (latin1), so a line read from
// stdin keeps every byte, and escapes such as \xff yield exactly that byte.

import { decodeRune } from "./go-format.js";
import { bytesToLatin1, latin1ToBytes } from "../../lib/bytes.js";

export class SyntaxError extends Error {
  override name = "SyntaxError";
}

const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ["a", 0x07],
  ["b", 0x08],
  ["f", 0x0c],
  ["n", 0x0a],
  ["r", 0x0d],
  ["t", 0x09],
  ["v", 0x0b],
  ["\\", 0x5c],
  ['"', 0x22],
]);

function utf8Of(rune: number): number[] {
  return [...new TextEncoder().encode(String.fromCodePoint(rune))];
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;

/** One escape after a backslash at `at` (the index of the letter): its bytes and its length. */
function unescape(s: string, at: number): { bytes: number[]; length: number } {
  const c = s[at];
  const simple = c === undefined ? undefined : SIMPLE_ESCAPES.get(c);
  if (simple !== undefined) return { bytes: [simple], length: 1 };
  const hexLength = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0;
  if (hexLength > 0) {
    const digits = s.slice(at + 1, at + 1 + hexLength);
    if (digits.length !== hexLength || !HEX_DIGITS.test(digits)) throw new SyntaxError();
    const value = parseInt(digits, 16);
    if (c === "x") return { bytes: [value], length: 3 };
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) throw new SyntaxError();
    return { bytes: utf8Of(value), length: 1 + hexLength };
  }
  const octal = s.slice(at, at + 3);
  if (/^[0-7]{3}$/.test(octal) && parseInt(octal, 8) <= 0xff) {
    return { bytes: [parseInt(octal, 8)], length: 3 };
  }
  throw new SyntaxError();
}

/** Go's strconv.Unquote of a byte string; throws SyntaxError ("invalid syntax"). */
export function goUnquote(quoted: string): string {
  const q = quoted[0];
  if (quoted.length < 2 || quoted[quoted.length - 1] !== q) throw new SyntaxError();
  const body = quoted.slice(1, -1);
  if (q === "`") {
    if (body.includes("`")) throw new SyntaxError();
    return body.replaceAll("\r", "");
  }
  if (q !== '"' || body.includes("\n")) throw new SyntaxError();
  const raw = latin1ToBytes(body);
  const out: number[] = [];
  for (let at = 0; at < body.length;) {
    if (body[at] === '"') throw new SyntaxError();
    if (body[at] === "\\") {
      const e = unescape(body, at + 1);
      out.push(...e.bytes);
      at += 1 + e.length;
      continue;
    }
    // Go decodes the literal text as UTF-8 and writes bad bytes back as U+FFFD.
    const d = decodeRune(raw, at);
    out.push(...(d.valid ? raw.subarray(at, at + d.width) : utf8Of(0xfffd)));
    at += d.width;
  }
  return bytesToLatin1(Uint8Array.from(out));
}

/**
 * Reads the quoted string that starts at `at` the way fmt's %q verb scans it: "..." up to the first
 * unescaped quote, or `...` up to the next backquote. Returns the value and the index after it.
 */
export function scanQuoted(s: string, at: number): { value: string; end: number } {
  const q = s[at];
  if (q !== '"' && q !== "`") throw new Error("expected quoted string");
  let i = at + 1;
  for (;;) {
    const c = s[i];
    if (c === undefined) throw new Error("unexpected EOF");
    if (q === '"' && c === "\\") {
      if (s[i + 1] === undefined) throw new Error("unexpected EOF");
      i += 2;
      continue;
    }
    i++;
    if (c === q) break;
  }
  try {
    return { value: goUnquote(s.slice(at, i)), end: i };
  } catch {
    throw new Error("invalid syntax");
  }
}

// Go's \s: tab, newline, form feed, carriage return, space.
const ARG = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\t\n\f\r ][^\t\n\f\r ]*[^'"\t\n\f\r ]?/g;

/** etcdctl's argify: the words of a request line, quotes removed. */
export function argify(line: string): string[] {
  return [...line.matchAll(ARG)].map(([word]) => {
    if (word.startsWith("'")) return word.slice(1, -1);
    if (word.startsWith('"')) return scanQuoted(word, 0).value;
    return word;
  });
}

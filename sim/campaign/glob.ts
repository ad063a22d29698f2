// Scenario globs for `campaign --scenarios`: `*` and `?` within one path segment, `**` across
// segments. Node 20 has no fs glob, and the shell may hand over a pattern unexpanded (quoted, or
// in CI configuration), so the campaign expands it itself. Results are sorted, so a campaign's
// job list (and with it every shard) is the same on every machine.
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

const GLOB_CHARS = /[*?[]/;

function segmentRegex(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` matches zero or more whole folders.
      const slash = pattern[i + 2] === "/";
      out += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return out;
}

/** The fixed folder prefix of a pattern (where the search starts). */
function baseOf(pattern: string): string {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (GLOB_CHARS.test(p)) break;
    fixed.push(p);
  }
  return fixed.join("/") || ".";
}

/** Files matching `pattern` (a plain path is returned as is, if it exists), sorted. */
export function expandGlob(given: string): string[] {
  const pattern = given.replace(/^(\.\/)+/, "");
  if (!GLOB_CHARS.test(pattern)) return exists(pattern) ? [pattern] : [];
  const base = baseOf(pattern);
  const regex = new RegExp(`^${segmentRegex(pattern)}$`);
  let entries: string[];
  try {
    entries = readdirSync(base, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries
    .map((e) => (base === "." ? e : join(base, e)).split(sep).join("/"))
    .filter((p) => regex.test(base === "." ? relative(".", p) : p) && isFile(p))
    .sort();
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// The box-drawn tables of etcdctl -w table (member list, endpoint status/health/hashkv, snapshot
// status). etcdctl draws them with the tablewriter package's defaults plus right-aligned cells; this
// renders the same layout: headers upper-cased and centred, cells wider than 30 columns wrapped at
// spaces with minimal raggedness, every row framed by "|" and "+---+" rules.

const MAX_CELL_WIDTH = 30;
/** Extra cost of a line that stays longer than the limit (a single word wider than it). */
const TOO_LONG_PENALTY = 1e5;

function width(s: string): number {
  return [...s].length;
}

/**
 * Splits words into lines of at most `limit` columns minimising the sum of squared gaps (dynamic
 * programming from the last word back), like tablewriter's WrapWords.
 */
function wrapWords(words: readonly string[], limit: number): string[][] {
  const n = words.length;
  const span = (i: number, j: number): number =>
    words.slice(i, j + 1).reduce((sum, w) => sum + width(w), 0) + (j - i);
  const cost: number[] = new Array<number>(n).fill(Number.MAX_SAFE_INTEGER);
  const breakAt: number[] = new Array<number>(n).fill(n);
  for (let i = n - 1; i >= 0; i--) {
    if (span(i, n - 1) <= limit) {
      cost[i] = 0;
      breakAt[i] = n;
      continue;
    }
    for (let j = i + 1; j < n; j++) {
      const len = span(i, j - 1);
      const gap = limit - len;
      const c = gap * gap + (cost[j] as number) + (len > limit ? TOO_LONG_PENALTY : 0);
      if (c < (cost[i] as number)) {
        cost[i] = c;
        breakAt[i] = j;
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = breakAt[i] as number) lines.push(words.slice(i, breakAt[i]));
  return lines;
}

/** The lines of one cell and the width they need. */
function cellLines(text: string): { lines: string[]; width: number } {
  const paragraph = text.split("\n").join(" ");
  const natural = Math.max(...text.split("\n").map(width));
  const words = paragraph.split(" ");
  const limit = Math.max(Math.min(natural, MAX_CELL_WIDTH), ...words.map(width));
  const lines = wrapWords(words, limit).map((ws) => ws.join(" "));
  return { lines, width: Math.max(Math.min(natural, MAX_CELL_WIDTH), ...lines.map(width)) };
}

/** tablewriter's header title: "_" and most "." become spaces, trimmed, upper case. */
function title(name: string): string {
  const chars = [...name];
  const numOrSpace = (c: string | undefined): boolean => c !== undefined && /[0-9 ]/.test(c);
  const replaced = chars.map((c, i) => {
    if (c === "_") return " ";
    if (c !== ".") return c;
    const before = i !== 0 && !numOrSpace(chars[i - 1]);
    const after = i !== chars.length - 1 && !numOrSpace(chars[i + 1]);
    return before || after ? " " : c;
  });
  const trimmed = replaced.join("").trim();
  return (trimmed === "" && name !== "" ? " " : trimmed).toUpperCase();
}

function center(s: string, w: number): string {
  const gap = w - width(s);
  if (gap <= 0) return s;
  const left = Math.floor(gap / 2);
  return " ".repeat(left) + s + " ".repeat(gap - left);
}

function padLeft(s: string, w: number): string {
  const gap = w - width(s);
  return gap > 0 ? " ".repeat(gap) + s : s;
}

/** Renders the table, ending with a newline. Every row must have the header's number of cells. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map(() => 0);
  const measure = (cells: readonly string[]): string[][] =>
    cells.map((cell, i) => {
      const c = cellLines(cell);
      widths[i] = Math.max(widths[i] as number, c.width);
      return c.lines;
    });
  const head = measure(header);
  const body = rows.map(measure);
  const rule = "+" + widths.map((w) => "-".repeat(w + 2) + "+").join("") + "\n";
  let out = rule;
  const headHeight = Math.max(...head.map((l) => l.length));
  for (let x = 0; x < headHeight; x++) {
    out +=
      "|" + head.map((l, y) => ` ${center(title(l[x] ?? ""), widths[y] as number)} |`).join("");
    out += "\n";
  }
  out += rule;
  for (const row of body) {
    const height = Math.max(...row.map((l) => l.length));
    for (let x = 0; x < height; x++) {
      // tablewriter fills the missing lines of shorter cells with two spaces.
      out += "|" + row.map((l, y) => ` ${padLeft(l[x] ?? "  ", widths[y] as number)} |`).join("");
      out += "\n";
    }
  }
  return out + rule;
}

// Text formats that etcdctl's output inherits from Go's standard library and the small packages it
// uses: %q quoting (strconv.Quote), time.Duration's String and parsing, go-humanize's byte sizes,
// and the hex spellings of ids. Scripts parse these texts, so the spelling must be Go's exactly.

/** One code point decoded from UTF-8 the way Go's utf8.DecodeRune does: bad input is 1 byte wide. */
interface Decoded {
  readonly rune: number;
  readonly width: number;
  readonly valid: boolean;
}

const INVALID = (width: number): Decoded => ({ rune: 0xfffd, width, valid: false });

function continuation(bytes: Uint8Array, at: number): number | undefined {
  const b = bytes[at];
  return b !== undefined && (b & 0xc0) === 0x80 ? b & 0x3f : undefined;
}

/** Decodes the rune at `at` with Go's rules: no overlongs, no surrogates, nothing past U+10FFFF. */
export function decodeRune(bytes: Uint8Array, at: number): Decoded {
  const b0 = bytes[at] as number;
  if (b0 < 0x80) return { rune: b0, width: 1, valid: true };
  const size = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (size === 0 || b0 > 0xf4) return INVALID(1);
  let rune = b0 & (0xff >> (size + 1));
  for (let i = 1; i < size; i++) {
    const c = continuation(bytes, at + i);
    if (c === undefined) return INVALID(1);
    rune = (rune << 6) | c;
  }
  const min = size === 2 ? 0x80 : size === 3 ? 0x800 : 0x10000;
  if (rune < min || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return INVALID(1);
  return { rune, width: size, valid: true };
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint: graphic characters and the ASCII space, but no other space. */
function isPrint(rune: number): boolean {
  return rune === 0x20 || PRINTABLE.test(String.fromCodePoint(rune));
}

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x0c, "\\f"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x09, "\\t"],
  [0x0b, "\\v"],
]);

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, "0");
}

function quoteRune(rune: number): string {
  if (rune === 0x22) return '\\"';
  if (rune === 0x5c) return "\\\\";
  if (isPrint(rune)) return String.fromCodePoint(rune);
  const short = SHORT_ESCAPES.get(rune);
  if (short !== undefined) return short;
  if (rune < 0x20 || rune === 0x7f) return `\\x${hex(rune, 2)}`;
  if (rune < 0x10000) return `\\u${hex(rune, 4)}`;
  return `\\U${hex(rune, 8)}`;
}

/** Go's strconv.Quote of the bytes as a string (fmt's %q): invalid UTF-8 bytes become \xNN. */
export function goQuote(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let out = '"';
  for (let at = 0; at < b.length;) {
    const d = decodeRune(b, at);
    out += d.valid ? quoteRune(d.rune) : `\\x${hex(b[at] as number, 2)}`;
    at += d.width;
  }
  return out + '"';
}

/** etcdctl's --hex spelling of bytes: every byte as \xNN. */
export function hexEscaped(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += `\\x${hex(b, 2)}`;
  return out;
}

/** An int64 or uint64 id as Go's %x: lower-case hex, a minus sign for negative values. */
export function hexId(id: bigint): string {
  return id < 0n ? `-${(-id).toString(16)}` : id.toString(16);
}

/** Go's %016x: zero-padded to 16 digits (lease ids). */
export function hexId016(id: bigint): string {
  return id < 0n ? `-${(-id).toString(16).padStart(16, "0")}` : id.toString(16).padStart(16, "0");
}

/** Go's %16x: space-padded to 16 characters (member ids in member add/remove/update). */
export function hexId16(id: bigint): string {
  return hexId(id).padStart(16, " ");
}

const BYTE_SIZES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/** Rounds x to an integer the way Go's %.0f does: exact halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** go-humanize's Bytes: SI units, "20 kB", "1.2 MB", "7 B". */
export function humanizeBytes(size: number): string {
  if (size < 10) return `${size} B`;
  const e = Math.floor(Math.log(size) / Math.log(1000));
  const suffix = BYTE_SIZES[e] ?? "EB";
  const val = Math.floor((size / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${suffix}` : `${roundHalfEven(val)} ${suffix}`;
}

/** Fraction digits of v / 10^prec without trailing zeros ("" when the fraction is zero). */
function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  const scale = 10n ** BigInt(prec);
  const digits = (v % scale).toString().padStart(prec, "0").replace(/0+$/, "");
  return { text: digits === "" ? "" : `.${digits}`, rest: v / scale };
}

/** Go's time.Duration.String for a number of nanoseconds: "0s", "850µs", "1.5s", "1h2m3s". */
export function formatGoDuration(nanoseconds: bigint | number): string {
  const ns = BigInt(nanoseconds);
  const sign = ns < 0n ? "-" : "";
  const u = ns < 0n ? -ns : ns;
  if (u === 0n) return "0s";
  if (u < 1_000_000_000n) {
    const [prec, unit] = u < 1000n ? [0, "ns"] : u < 1_000_000n ? [3, "µs"] : [6, "ms"];
    const f = fraction(u, prec);
    return `${sign}${f.rest}${f.text}${unit}`;
  }
  const f = fraction(u, 9);
  const totalSeconds = f.rest;
  const seconds = `${totalSeconds % 60n}${f.text}s`;
  const totalMinutes = totalSeconds / 60n;
  if (totalMinutes === 0n) return `${sign}${seconds}`;
  const hours = totalMinutes / 60n;
  const minutes = `${totalMinutes % 60n}m`;
  return hours === 0n ? `${sign}${minutes}${seconds}` : `${sign}${hours}h${minutes}${seconds}`;
}

/** Go's %f of a float64: six decimals. */
export function goFloat6(x: number): string {
  return x.toFixed(6);
}

// A JSON writer that produces what Go's encoding/json.Marshal produces for the same values, because
// etcdctl's -w json output is Go's encoding of etcd's Go structs: 64-bit integers as exact decimal
// numbers, []byte as standard base64, HTML-unsafe characters escaped, and fields in struct order.
//
// Values are described with plain data: objects keep their insertion order (callers build them
// field by field, in Go's struct order) and `undefined` fields are left out, which is how callers
// express `omitempty`.

export type GoJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly GoJson[]
  | { readonly [field: string]: GoJson | undefined };

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'],
  ["\\", "\\\\"],
  ["\n", "\\n"],
  ["\r", "\\r"],
  ["\t", "\\t"],
  ["<", "\\u003c"],
  [">", "\\u003e"],
  ["&", "\\u0026"],
  ["\u2028", "\\u2028"],
  ["\u2029", "\\u2029"],
]);

function escapeChar(ch: string): string {
  const known = ESCAPES.get(ch);
  if (known !== undefined) return known;
  const code = ch.charCodeAt(0);
  if (code < 0x20) return `\\u${code.toString(16).padStart(4, "0")}`;
  // A lone surrogate is not valid UTF-8: Go writes the replacement character.
  if (code >= 0xd800 && code <= 0xdfff) return "\\ufffd";
  return ch;
}

/** A Go string as encoding/json writes it. */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) out += ch.length === 1 ? escapeChar(ch) : ch;
  return out + '"';
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a JSON number: ${n}`);
  return String(n);
}

/** Encodes `value` like Go's json.Marshal (compact, no trailing newline). */
export function goJson(value: GoJson): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return encodeNumber(value);
    case "bigint":
      return value.toString();
    case "string":
      return goJsonString(value);
  }
  if (value instanceof Uint8Array) return `"${Buffer.from(value).toString("base64")}"`;
  if (Array.isArray(value)) return `[${(value as readonly GoJson[]).map(goJson).join(",")}]`;
  const fields: string[] = [];
  for (const [name, field] of Object.entries(value)) {
    if (field !== undefined) fields.push(`${goJsonString(name)}:${goJson(field)}`);
  }
  return `{${fields.join(",")}}`;
}

// Helpers for `omitempty`: Go leaves out zero numbers, false, "" and empty slices or maps.

export function omitZero(n: number | bigint): number | bigint | undefined {
  return n === 0 || n === 0n ? undefined : n;
}

export function omitFalse(b: boolean): boolean | undefined {
  return b ? true : undefined;
}

export function omitEmptyString(s: string): string | undefined {
  return s === "" ? undefined : s;
}

export function omitEmptyBytes(b: Uint8Array): Uint8Array | undefined {
  return b.length === 0 ? undefined : b;
}

export function omitEmptyList<T extends GoJson>(list: readonly T[]): readonly T[] | undefined {
  return list.length === 0 ? undefined : list;
}

// HPACK (RFC 7541), the header compression of HTTP/2, for a server: a decoder for the header blocks
// a client sends (static and dynamic tables, Huffman strings, table size updates, limits), and a
// stateless encoder for the blocks the server sends back. Header lists are flat string arrays
// [name0, value0, name1, value1, ...] of latin1 strings (one char per octet).
import { Buffer } from "node:buffer";
import { assert } from "../../lib/assert.js";
import { HpackError, huffmanDecode } from "./huffman.js";

export { HpackError };

/** RFC 7541 §4.1: an entry's size is its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;

/** Integers past this are refused: no HPACK length or index is that big (RFC 7541 §5.1). */
const INTEGER_MAX = 2 ** 31 - 1;
/** Continuation octets of one integer; 5 carry 35 bits, more than INTEGER_MAX needs. */
const INTEGER_CONTINUATIONS_MAX = 5;

// RFC 7541 Appendix A: the static table, entries 1..61 (slot 0 is unused, index 0 is an error).
// prettier-ignore
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ["", ""],
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"],
  [":path", "/index.html"], [":scheme", "http"], [":scheme", "https"], [":status", "200"],
  [":status", "204"], [":status", "206"], [":status", "304"], [":status", "400"],
  [":status", "404"], [":status", "500"], ["accept-charset", ""], ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""], ["accept-ranges", ""], ["accept", ""], ["access-control-allow-origin", ""],
  ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""],
  ["date", ""], ["etag", ""], ["expect", ""], ["expires", ""],
  ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""],
  ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""],
  ["retry-after", ""], ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""],
  ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/** The number of static entries; dynamic entries are indexed from it plus 1. */
export const HPACK_STATIC_TABLE_LENGTH = STATIC_TABLE.length - 1;

const STATIC_NAMES: readonly string[] = STATIC_TABLE.map(([name]) => name);
const STATIC_VALUES: readonly string[] = STATIC_TABLE.map(([, value]) => value);

/** Each static name's first index; entries with one name are adjacent in the table. */
const STATIC_NAME_INDEX: ReadonlyMap<string, number> = (() => {
  const byName = new Map<string, number>();
  for (let i = HPACK_STATIC_TABLE_LENGTH; i >= 1; i--) byName.set(STATIC_NAMES[i] as string, i);
  return byName;
})();

// ---- Decoder ------------------------------------------------------------------------------------

const EMPTY = new Uint8Array(0);
const EMPTY_BUFFER = Buffer.alloc(0);
/** Initial dynamic table ring slots: a gRPC client's usual handful of entries fits. */
const RING_INITIAL_SLOTS = 16;
/** The longest encoded literal value remembered by the repeat cache. */
const REPEAT_MAX_OCTETS = 128;

/**
 * Decodes the header blocks of one HTTP/2 connection, in the order they arrive (the dynamic table
 * carries state from block to block). Any HpackError leaves the table unusable: the connection
 * must be torn down with COMPRESSION_ERROR.
 */
export class HpackDecoder {
  /** The dynamic table size limit we advertise (SETTINGS_HEADER_TABLE_SIZE). */
  private readonly maxTableSize: number;
  /** The largest header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE, sizes as in §4.1). */
  private readonly maxHeaderListSize: number;
  /** The table size the encoder chose by size updates; never above maxTableSize. */
  private tableSizeLimit: number;
  private tableSize = 0;

  // The dynamic table: a ring of names and values; `newest` is the slot of dynamic index 1. The ring
  // starts small and doubles when full, so a large maxTableSize costs nothing until it is used.
  private names: string[];
  private values: string[];
  private capacity: number;
  private newest = 0;
  private count = 0;

  // The block being decoded (only during decode()).
  private block: Uint8Array = EMPTY;
  private text: Buffer = EMPTY_BUFFER;
  private pos = 0;
  /** Where the string skipString passed begins. */
  private stringStart = 0;

  // The encoded octets and decoded text of the last non-indexed literal value. Such values are
  // re-sent in every block (nghttp2 never indexes :path), and comparing octets is cheaper than
  // Huffman-decoding them again.
  private repeatOctets = EMPTY; // allocated on first use
  private repeatLength = -1;
  private repeatValue = "";

  constructor(maxTableSize = 4096, maxHeaderListSize = 65536) {
    assert(Number.isInteger(maxTableSize) && maxTableSize >= 0, "hpack: bad maxTableSize");
    assert(
      Number.isInteger(maxHeaderListSize) && maxHeaderListSize >= 0,
      "hpack: bad maxHeaderListSize",
    );
    this.maxTableSize = maxTableSize;
    this.maxHeaderListSize = maxHeaderListSize;
    this.tableSizeLimit = maxTableSize;
    // An entry takes at least 32 octets, so the table never holds more than maxTableSize / 32.
    this.capacity = Math.min(Math.floor(maxTableSize / ENTRY_OVERHEAD) + 1, RING_INITIAL_SLOTS);
    this.names = new Array<string>(this.capacity).fill("");
    this.values = new Array<string>(this.capacity).fill("");
  }

  /**
   * Decodes one complete header block (HEADERS plus any CONTINUATION payloads, joined) into a flat
   * [name, value, ...] list in block order. Throws HpackError on any malformed or oversized input.
   * The strings returned are the caller's; `block` is not kept.
   */
  decode(block: Uint8Array): string[] {
    this.block = block;
    this.text =
      block instanceof Buffer ? block : Buffer.from(block.buffer, block.byteOffset, block.length);
    this.pos = 0;
    try {
      return this.decodeFields();
    } finally {
      this.block = EMPTY;
      this.text = EMPTY_BUFFER;
    }
  }

  private decodeFields(): string[] {
    const block = this.block;
    const end = block.length;
    const fields: string[] = [];
    let listSize = 0;
    while (this.pos < end) {
      const first = block[this.pos] as number;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // §6.1 indexed field.
        const index = this.readInteger(7);
        name = this.nameAt(index);
        value = this.valueAt(index);
      } else if (first >= 0x40) {
        // §6.2.1 literal with incremental indexing.
        name = this.readName(6);
        value = this.readString();
        this.insert(name, value);
      } else if (first >= 0x20) {
        // §6.3 dynamic table size update: only before the block's first field (§4.2).
        if (fields.length !== 0) throw new HpackError("hpack: table size update after a field");
        this.resize(this.readInteger(5));
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001): the same to a decoder.
        name = this.readName(4);
        value = this.readRepeatableString();
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        throw new HpackError(`hpack: header list larger than ${this.maxHeaderListSize}`);
      }
      fields.push(name, value);
    }
    return fields;
  }

  /** An integer with an N-bit prefix (§5.1) starting at pos, which the caller checked is in range. */
  private readInteger(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let value = (block[this.pos++] as number) & mask;
    if (value < mask) return value;
    let scale = 1;
    for (let i = 0; i < INTEGER_CONTINUATIONS_MAX; i++) {
      if (this.pos >= block.length) throw new HpackError("hpack: truncated integer");
      const octet = block[this.pos++] as number;
      value += (octet & 0x7f) * scale;
      if (value > INTEGER_MAX) throw new HpackError("hpack: integer too large");
      if (octet < 0x80) return value;
      scale *= 128;
    }
    throw new HpackError("hpack: integer too long");
  }

  /** A string literal (§5.2): H bit, 7-bit-prefix length, octets. */
  private readString(): string {
    const huffman = this.skipString();
    return this.decodeString(huffman, this.stringStart, this.pos);
  }

  /** readString, answered from the repeat cache when the encoded octets are the last ones seen. */
  private readRepeatableString(): string {
    const block = this.block;
    const from = this.pos;
    const huffman = this.skipString();
    const length = this.pos - from;
    let cached = this.repeatOctets;
    if (length === this.repeatLength) {
      let i = 0;
      while (i < length && cached[i] === block[from + i]) i++;
      if (i === length) return this.repeatValue;
    }
    const value = this.decodeString(huffman, this.stringStart, this.pos);
    if (length <= REPEAT_MAX_OCTETS) {
      if (cached === EMPTY) this.repeatOctets = cached = Buffer.allocUnsafe(REPEAT_MAX_OCTETS);
      for (let i = 0; i < length; i++) cached[i] = block[from + i] as number;
      this.repeatLength = length;
      this.repeatValue = value;
    }
    return value;
  }

  /** Moves past a string literal, leaving its octets in [stringStart, pos); true if Huffman. */
  private skipString(): boolean {
    const block = this.block;
    if (this.pos >= block.length) throw new HpackError("hpack: truncated field");
    const huffman = (block[this.pos] as number) >= 0x80;
    const length = this.readInteger(7);
    const stop = this.pos + length;
    if (stop > block.length) throw new HpackError("hpack: truncated string");
    this.stringStart = this.pos;
    this.pos = stop;
    return huffman;
  }

  private decodeString(huffman: boolean, start: number, stop: number): string {
    if (start === stop) return "";
    return huffman
      ? huffmanDecode(this.block, start, stop)
      : this.text.toString("latin1", start, stop);
  }

  /** A literal field's name: an index in the N-bit prefix, or 0 then a string literal. */
  private readName(prefixBits: number): string {
    const index = this.readInteger(prefixBits);
    return index === 0 ? this.readString() : this.nameAt(index);
  }

  private nameAt(index: number): string {
    if (index <= HPACK_STATIC_TABLE_LENGTH) {
      if (index === 0) throw new HpackError("hpack: index 0");
      return STATIC_NAMES[index] as string;
    }
    return this.names[this.slotOf(index)] as string;
  }

  private valueAt(index: number): string {
    if (index <= HPACK_STATIC_TABLE_LENGTH) {
      if (index === 0) throw new HpackError("hpack: index 0");
      return STATIC_VALUES[index] as string;
    }
    return this.values[this.slotOf(index)] as string;
  }

  /** The ring slot of a dynamic-table index (§2.3.3: the newest entry is static length + 1). */
  private slotOf(index: number): number {
    const age = index - HPACK_STATIC_TABLE_LENGTH - 1;
    if (age >= this.count) throw new HpackError(`hpack: index ${index} past the table`);
    const slot = this.newest - age;
    return slot < 0 ? slot + this.capacity : slot;
  }

  /** §4.4: evicts until the entry fits; an entry larger than the table empties it and is dropped. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (this.count > 0 && this.tableSize + size > this.tableSizeLimit) this.evictOldest();
    if (size > this.tableSizeLimit) return;
    if (this.count === this.capacity) this.grow();
    this.newest = this.newest + 1 === this.capacity ? 0 : this.newest + 1;
    this.names[this.newest] = name;
    this.values[this.newest] = value;
    this.count++;
    this.tableSize += size;
  }

  /** Doubles the ring, moving entries so the oldest is in slot 0 and the newest at count - 1. */
  private grow(): void {
    const capacity = this.capacity * 2;
    const names = new Array<string>(capacity).fill("");
    const values = new Array<string>(capacity).fill("");
    for (let age = 0; age < this.count; age++) {
      const slot = this.slotOf(HPACK_STATIC_TABLE_LENGTH + 1 + age);
      names[this.count - 1 - age] = this.names[slot] as string;
      values[this.count - 1 - age] = this.values[slot] as string;
    }
    this.names = names;
    this.values = values;
    this.capacity = capacity;
    this.newest = this.count - 1;
  }

  private resize(size: number): void {
    if (size > this.maxTableSize) {
      throw new HpackError(`hpack: table size update ${size} above ${this.maxTableSize}`);
    }
    this.tableSizeLimit = size;
    while (this.tableSize > size) this.evictOldest();
  }

  private evictOldest(): void {
    let slot = this.newest - this.count + 1;
    if (slot < 0) slot += this.capacity;
    const name = this.names[slot] as string;
    const value = this.values[slot] as string;
    this.tableSize -= name.length + value.length + ENTRY_OVERHEAD;
    this.names[slot] = "";
    this.values[slot] = "";
    this.count--;
  }

  /** The dynamic table's size in octets (§4.1), for tests and metrics. */
  get dynamicTableSize(): number {
    return this.tableSize;
  }

  /** The dynamic table as a flat [name, value, ...] list, newest (index 62) first; for tests. */
  dynamicTableEntries(): string[] {
    const entries: string[] = [];
    for (let age = 0; age < this.count; age++) {
      const slot = this.slotOf(HPACK_STATIC_TABLE_LENGTH + 1 + age);
      entries.push(this.names[slot] as string, this.values[slot] as string);
    }
    return entries;
  }
}

// ---- Encoder ------------------------------------------------------------------------------------

/**
 * The header block of a flat [name, value, ...] list, in order, encoded without a dynamic table, so
 * it never needs the peer's table size and never emits a size update: a field equal to a static
 * entry is sent as that index (§6.1); any other is a literal without indexing (§6.2.2), naming a
 * static entry where one has the name, with raw (not Huffman) strings. Names should be lowercase
 * (HTTP/2 requires it; not checked here); every char must be latin1. Returns a fresh buffer.
 */
export function encodeHeaderBlock(fields: readonly string[]): Uint8Array {
  assert(fields.length % 2 === 0, "hpack: fields must be [name, value] pairs");
  // Upper bound per field: prefix octet, two 6-octet lengths, the strings.
  let bound = 0;
  for (let i = 0; i < fields.length; i++) bound += (fields[i] as string).length + 7;
  const out = Buffer.allocUnsafe(bound);
  let pos = 0;
  for (let i = 0; i < fields.length; i += 2) {
    pos = encodeField(out, pos, fields[i] as string, fields[i + 1] as string);
  }
  return out.subarray(0, pos);
}

function encodeField(out: Buffer, pos: number, name: string, value: string): number {
  const nameIndex = STATIC_NAME_INDEX.get(name);
  if (nameIndex === undefined) {
    out[pos++] = 0x00;
    pos = writeString(out, pos, name);
    return writeString(out, pos, value);
  }
  for (let i = nameIndex; STATIC_NAMES[i] === name; i++) {
    if (STATIC_VALUES[i] === value) return writeInteger(out, pos, 0x80, 7, i);
  }
  pos = writeInteger(out, pos, 0x00, 4, nameIndex);
  return writeString(out, pos, value);
}

/** §5.1: `value` with an N-bit prefix, the octet's high bits set to `flags`. */
function writeInteger(
  out: Buffer,
  pos: number,
  flags: number,
  prefixBits: number,
  value: number,
): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | mask;
  let rest = value - mask;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** §5.2 raw string literal: H = 0, length, latin1 octets. */
function writeString(out: Buffer, pos: number, s: string): number {
  assert(s.length <= INTEGER_MAX, "hpack: string too long");
  pos = writeInteger(out, pos, 0x00, 7, s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    assert(c <= 0xff, () => `hpack: char ${c} of ${JSON.stringify(s)} is not latin1`);
    out[pos++] = c;
  }
  return pos;
}

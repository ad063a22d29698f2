// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum etcd uses for HashKV. Written
// here because the engine may not use node:crypto or node:zlib.

// Slicing-by-8: TABLES[k * 256 + n] is the CRC of byte n followed by k zero bytes, so eight input
// bytes fold into the state with eight lookups instead of eight dependent steps.
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n] as number;
      t[k * 256 + n] = ((prev >>> 8) ^ (t[prev & 0xff] as number)) >>> 0;
    }
  }
  return t;
}

/** An incremental CRC-32C: feed bytes with update(), read the checksum with digest(). */
export class Crc32c {
  private state = 0xffffffff;

  /** Feeds bytes[from, to) (default: all of them). */
  update(bytes: Uint8Array, from = 0, to = bytes.length): this {
    const t = TABLES;
    let c = this.state;
    let i = from;
    for (; i + 8 <= to; i += 8) {
      const a =
        c ^
        ((bytes[i] as number) |
          ((bytes[i + 1] as number) << 8) |
          ((bytes[i + 2] as number) << 16) |
          ((bytes[i + 3] as number) << 24));
      c =
        (t[1792 + (a & 0xff)] as number) ^
        (t[1536 + ((a >>> 8) & 0xff)] as number) ^
        (t[1280 + ((a >>> 16) & 0xff)] as number) ^
        (t[1024 + (a >>> 24)] as number) ^
        (t[768 + (bytes[i + 4] as number)] as number) ^
        (t[512 + (bytes[i + 5] as number)] as number) ^
        (t[256 + (bytes[i + 6] as number)] as number) ^
        (t[bytes[i + 7] as number] as number);
    }
    for (; i < to; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
    this.state = c;
    return this;
  }

  /** Feeds one byte. */
  u8(byte: number): this {
    this.state = (TABLES[(this.state ^ byte) & 0xff] as number) ^ (this.state >>> 8);
    return this;
  }

  /** Feeds a 32-bit number as its four little-endian bytes. */
  u32(value: number): this {
    return this.u8(value & 0xff)
      .u8((value >>> 8) & 0xff)
      .u8((value >>> 16) & 0xff)
      .u8((value >>> 24) & 0xff);
  }

  /** The checksum of everything fed so far, as an unsigned 32-bit number. */
  digest(): number {
    return (this.state ^ 0xffffffff) >>> 0;
  }
}

export function crc32c(bytes: Uint8Array): number {
  return new Crc32c().update(bytes).digest();
}

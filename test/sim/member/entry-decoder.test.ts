// The simulated cluster's shared decoder of committed entries.
import { describe, expect, it } from "vitest";
import { sharedEntryDecoder } from "../../../sim/member/entry-decoder.js";
import { latin1ToBytes as b } from "../../../src/lib/bytes.js";
import {
  decodeInternalRequest,
  encodeInternalRequest,
} from "../../../src/server/internal-request.js";

describe("sharedEntryDecoder", () => {
  const bytes = encodeInternalRequest({ kind: "put", id: 42, put: { key: b("k"), value: b("v") } });

  it("decodes as decodeInternalRequest does, once per byte array", () => {
    const decode = sharedEntryDecoder();
    const first = decode(bytes);
    expect(first).toEqual(decodeInternalRequest(bytes));
    expect(decode(bytes)).toBe(first);
    // Equal bytes in another array (an entry read back from disk) are decoded on their own.
    const other = decode(bytes.slice());
    expect(other).not.toBe(first);
    expect(other).toEqual(first);
  });

  it("answers a malformed entry with the decoder's error", () => {
    const decode = sharedEntryDecoder();
    const bad = Uint8Array.of(9, 9, 9);
    const r = decode(bad);
    expect(r.ok).toBe(false);
    expect(r).toEqual(decodeInternalRequest(bad));
  });
});

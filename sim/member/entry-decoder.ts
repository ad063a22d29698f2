// Simulated members share entry bytes: the network hands every follower the leader's own entry
// objects. So one decoder serves the whole cluster and keeps each decoded request with the bytes it
// came from: an entry that reached the members that way is decoded once, by the first member to
// apply it (or the checks), not once per member. (Entries a restarted member reads back from its
// disk are new bytes and are decoded again.) Decoding is pure and nobody mutates a decoded request,
// so sharing the answer changes nothing but the time taken.
import type { Result } from "../../src/lib/result.js";
import { decodeInternalRequest, type InternalRequest } from "../../src/server/internal-request.js";

export type EntryDecoder = (data: Uint8Array) => Result<InternalRequest, string>;

export function sharedEntryDecoder(): EntryDecoder {
  const decoded = new WeakMap<Uint8Array, Result<InternalRequest, string>>();
  return (data) => {
    let r = decoded.get(data);
    if (r === undefined) {
      r = decodeInternalRequest(data);
      decoded.set(data, r);
    }
    return r;
  };
}

// A Backend for gRPC tests: the methods a test scripts, and every other one throws when called.
import { header, type WatchResponse } from "../../../src/api/rpc.js";
import type { Backend } from "../../../src/real/grpc/backend.js";

/** The response that says watch `watchId` was created, at `revision`. */
export function watchCreated(watchId: number, revision: number): WatchResponse {
  return {
    header: header(revision),
    watch_id: watchId,
    created: true,
    canceled: false,
    compact_revision: 0,
    cancel_reason: "",
    fragment: false,
    events: [],
  };
}

const METHODS = [
  "range",
  "put",
  "deleteRange",
  "txn",
  "compact",
  "hashKV",
  "leaseGrant",
  "leaseRevoke",
  "leaseKeepAlive",
  "leaseTimeToLive",
  "leaseLeases",
  "memberAdd",
  "memberRemove",
  "memberUpdate",
  "memberList",
  "memberPromote",
  "watch",
  "status",
  "alarm",
  "defragment",
  "hash",
  "moveLeader",
  "snapshot",
] as const;

export function stubBackend(scripted: Partial<Backend>): Backend {
  const unused = (): never => {
    throw new Error("not scripted");
  };
  const all = Object.fromEntries(METHODS.map((m) => [m, unused]));
  return { ...all, ...scripted } as Backend;
}

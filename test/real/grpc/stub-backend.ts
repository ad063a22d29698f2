// A Backend for gRPC tests: the methods a test scripts, and every other one throws when called.
import type { Backend } from "../../../src/real/grpc/backend.js";

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

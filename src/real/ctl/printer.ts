// The printers behind --write-out (etcdctl's printer interface): one method per kind of result, one
// implementation per format. A format that cannot show a result refuses it with etcdctl's
// "<format> not supported as output format" (exit 4), as etcdctl does after the request is done.

import type {
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
} from "../../api/cluster.js";
import type {
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutResponse,
  RangeResponse,
  TxnResponse,
  WatchResponse,
} from "../../api/rpc.js";
import type { Output } from "./output.js";
import { FieldsPrinter } from "./printer-fields.js";
import { JsonPrinter } from "./printer-json.js";
import { SimplePrinter } from "./printer-simple.js";
import { TablePrinter } from "./printer-table.js";
import type {
  AlarmResult,
  EndpointHashKV,
  EndpointHealth,
  EndpointStatus,
  MoveLeaderResponse,
  SnapshotStatus,
} from "./types.js";

export type OutputFormat = "simple" | "json" | "fields" | "table";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["simple", "json", "fields", "table"];

export interface Printer {
  readonly format: OutputFormat;
  get(r: RangeResponse, valueOnly: boolean): void;
  put(r: PutResponse): void;
  del(r: DeleteRangeResponse): void;
  txn(r: TxnResponse): void;
  watch(r: WatchResponse): void;

  grant(r: LeaseGrantResponse): void;
  revoke(id: bigint, r: LeaseRevokeResponse): void;
  keepAlive(r: LeaseKeepAliveResponse): void;
  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void;
  leases(r: LeaseLeasesResponse): void;

  memberAdd(r: MemberAddResponse): void;
  memberRemove(id: bigint, r: MemberRemoveResponse): void;
  memberUpdate(id: bigint, r: MemberUpdateResponse): void;
  memberPromote(id: bigint, r: MemberPromoteResponse): void;
  memberList(r: MemberListResponse): void;

  endpointHealth(list: readonly EndpointHealth[]): void;
  endpointStatus(list: readonly EndpointStatus[]): void;
  endpointHashKV(list: readonly EndpointHashKV[]): void;
  moveLeader(leader: bigint, target: bigint, r: MoveLeaderResponse): void;
  alarm(r: AlarmResult): void;
  dbStatus(s: SnapshotStatus): void;
}

/** A printer for `format`, or undefined for a format etcdctl does not know. */
export function newPrinter(format: string, isHex: boolean, output: Output): Printer | undefined {
  switch (format) {
    case "simple":
      return new SimplePrinter(output, isHex);
    case "json":
      return new JsonPrinter(output, isHex);
    case "fields":
      return new FieldsPrinter(output);
    case "table":
      return new TablePrinter(output);
    default:
      return undefined;
  }
}

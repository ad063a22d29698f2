// -w fields: etcdctl's `"Name" : value` lines, strings and bytes in Go's %q quoting, numbers in
// decimal. Member changes and move-leader have no fields form in etcdctl and are refused.

import type { MemberListResponse } from "../../api/cluster.js";
import type { KeyValue } from "../../api/kv.js";
import type {
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnResponse,
  WatchResponse,
} from "../../api/rpc.js";
import { unreachable } from "../../lib/assert.js";
import { goQuote } from "./go-format.js";
import { println, type Output } from "./output.js";
import type { Printer } from "./printer.js";
import { unsupported } from "./printer-rows.js";
import type {
  AlarmResult,
  EndpointHashKV,
  EndpointHealth,
  EndpointStatus,
  SnapshotStatus,
} from "./types.js";

type Scalar = string | number | bigint | boolean;

export class FieldsPrinter implements Printer {
  readonly format = "fields";

  constructor(private readonly output: Output) {}

  private field(name: string, value: Scalar): void {
    println(this.output.stdout, `"${name}" : ${String(value)}`);
  }

  private quoted(name: string, value: string | Uint8Array): void {
    this.field(name, goQuote(value));
  }

  private blank(): void {
    println(this.output.stdout);
  }

  private hdr(h: ResponseHeader): void {
    this.field("ClusterID", h.cluster_id);
    this.field("MemberID", h.member_id);
    this.field("Revision", h.revision);
    this.field("RaftTerm", h.raft_term);
  }

  private kv(prefix: string, kv: KeyValue): void {
    this.quoted(`${prefix}Key`, kv.key);
    this.field(`${prefix}CreateRevision`, kv.create_revision);
    this.field(`${prefix}ModRevision`, kv.mod_revision);
    this.field(`${prefix}Version`, kv.version);
    this.quoted(`${prefix}Value`, kv.value);
    this.field(`${prefix}Lease`, kv.lease);
  }

  get(r: RangeResponse): void {
    this.hdr(r.header);
    for (const kv of r.kvs) this.kv("", kv);
    this.field("More", r.more);
    this.field("Count", r.count);
  }

  put(r: PutResponse): void {
    this.hdr(r.header);
    if (r.prev_kv !== undefined) this.kv("Prev", r.prev_kv);
  }

  del(r: DeleteRangeResponse): void {
    this.hdr(r.header);
    this.field("Deleted", r.deleted);
    for (const kv of r.prev_kvs) this.kv("Prev", kv);
  }

  txn(r: TxnResponse): void {
    this.hdr(r.header);
    this.field("Succeeded", r.succeeded);
    for (const op of r.responses) this.responseOp(op);
  }

  private responseOp(op: ResponseOp): void {
    switch (op.response) {
      case "response_range":
        return this.get(op.response_range);
      case "response_put":
        return this.put(op.response_put);
      case "response_delete_range":
        return this.del(op.response_delete_range);
      case "response_txn":
        return this.txn(op.response_txn);
      default:
        return unreachable(op, "txn response");
    }
  }

  watch(r: WatchResponse): void {
    this.hdr(r.header);
    for (const e of r.events) {
      this.field("Type", e.type);
      if (e.prev_kv !== undefined) this.kv("Prev", e.prev_kv);
      this.kv("", e.kv);
    }
  }

  grant(r: LeaseGrantResponse): void {
    this.hdr(r.header);
    this.field("ID", r.ID);
    this.field("TTL", r.TTL);
  }

  revoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.hdr(r.header);
  }

  keepAlive(r: LeaseKeepAliveResponse): void {
    this.hdr(r.header);
    this.field("ID", r.ID);
    this.field("TTL", r.TTL);
  }

  timeToLive(r: LeaseTimeToLiveResponse): void {
    this.hdr(r.header);
    this.field("ID", r.ID);
    this.field("TTL", r.TTL);
    this.field("GrantedTTL", r.grantedTTL);
    for (const k of r.keys) this.quoted("Key", k);
  }

  leases(r: LeaseLeasesResponse): void {
    this.hdr(r.header);
    for (const l of r.leases) this.field("ID", l.ID);
  }

  memberAdd(): void {
    throw unsupported(this.format);
  }

  memberRemove(): void {
    throw unsupported(this.format);
  }

  memberUpdate(): void {
    throw unsupported(this.format);
  }

  memberPromote(): void {
    throw unsupported(this.format);
  }

  memberList(r: MemberListResponse): void {
    this.hdr(r.header);
    for (const m of r.members) {
      this.field("ID", m.ID);
      this.quoted("Name", m.name);
      for (const u of m.peerURLs) this.quoted("PeerURL", u);
      for (const u of m.clientURLs) this.quoted("ClientURL", u);
      this.field("IsLearner", m.isLearner);
      this.blank();
    }
  }

  endpointHealth(list: readonly EndpointHealth[]): void {
    for (const h of list) {
      this.quoted("Endpoint", h.endpoint);
      this.field("Health", h.health);
      this.field("Took", h.took);
      this.field("Error", h.error);
      this.blank();
    }
  }

  endpointStatus(list: readonly EndpointStatus[]): void {
    for (const { endpoint, status: s } of list) {
      this.hdr(s.header);
      this.quoted("Version", s.version);
      this.field("DBSize", s.dbSize);
      this.field("Leader", s.leader);
      this.field("IsLearner", s.isLearner);
      this.field("RaftIndex", s.raftIndex);
      this.field("RaftTerm", s.raftTerm);
      this.field("RaftAppliedIndex", s.raftAppliedIndex);
      this.field("Errors", `[${s.errors.join(" ")}]`);
      this.quoted("Endpoint", endpoint);
      this.blank();
    }
  }

  endpointHashKV(list: readonly EndpointHashKV[]): void {
    for (const h of list) {
      this.hdr(h.hashKV.header);
      this.quoted("Endpoint", h.endpoint);
      this.field("Hash", h.hashKV.hash);
      this.blank();
    }
  }

  moveLeader(): void {
    throw unsupported(this.format);
  }

  alarm(r: AlarmResult): void {
    this.hdr(r.header ?? { cluster_id: 0n, member_id: 0n, revision: 0, raft_term: 0 });
    for (const a of r.alarms) {
      this.field("MemberID", a.memberID);
      this.field("AlarmType", a.alarm);
      this.blank();
    }
  }

  dbStatus(s: SnapshotStatus): void {
    this.field("Hash", s.hash);
    this.field("Revision", s.revision);
    this.field("Keys", s.totalKey);
    this.field("Size", s.totalSize);
  }
}

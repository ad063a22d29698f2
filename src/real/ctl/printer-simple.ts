// -w simple (the default): etcdctl's plain lines. Keys and values are written as raw bytes, one per
// line, or as \xNN escapes with --hex.

import type {
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
} from "../../api/cluster.js";
import type { KeyValue } from "../../api/kv.js";
import type {
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  PutResponse,
  RangeResponse,
  ResponseOp,
  TxnResponse,
  WatchResponse,
} from "../../api/rpc.js";
import { unreachable } from "../../lib/assert.js";
import { hexEscaped, hexId, hexId016, hexId16 } from "./go-format.js";
import { println, type Output } from "./output.js";
import type { Printer } from "./printer.js";
import {
  dbStatusTable,
  endpointHashKVTable,
  endpointStatusTable,
  memberListTable,
  type Table,
} from "./printer-rows.js";
import type {
  AlarmResult,
  EndpointHashKV,
  EndpointHealth,
  EndpointStatus,
  SnapshotStatus,
} from "./types.js";

export class SimplePrinter implements Printer {
  readonly format = "simple";

  constructor(
    private readonly output: Output,
    private readonly isHex: boolean,
  ) {}

  private line(text = ""): void {
    println(this.output.stdout, text);
  }

  private bytesLine(bytes: Uint8Array): void {
    if (this.isHex) return this.line(hexEscaped(bytes));
    this.output.stdout.write(bytes);
    this.output.stdout.write("\n");
  }

  private kv(kv: KeyValue, valueOnly = false): void {
    if (!valueOnly) this.bytesLine(kv.key);
    this.bytesLine(kv.value);
  }

  private rows(table: Table): void {
    for (const row of table.rows) this.line(row.join(", "));
  }

  get(r: RangeResponse, valueOnly: boolean): void {
    for (const kv of r.kvs) this.kv(kv, valueOnly);
  }

  put(r: PutResponse): void {
    this.line("OK");
    if (r.prev_kv !== undefined) this.kv(r.prev_kv);
  }

  del(r: DeleteRangeResponse): void {
    this.line(String(r.deleted));
    for (const kv of r.prev_kvs) this.kv(kv);
  }

  txn(r: TxnResponse): void {
    this.line(r.succeeded ? "SUCCESS" : "FAILURE");
    for (const op of r.responses) {
      this.line();
      this.responseOp(op);
    }
  }

  private responseOp(op: ResponseOp): void {
    switch (op.response) {
      case "response_range":
        return this.get(op.response_range, false);
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
    for (const e of r.events) {
      this.line(e.type);
      if (e.prev_kv !== undefined) this.kv(e.prev_kv);
      this.kv(e.kv);
    }
  }

  grant(r: LeaseGrantResponse): void {
    this.line(`lease ${hexId016(r.ID)} granted with TTL(${r.TTL}s)`);
  }

  revoke(id: bigint): void {
    this.line(`lease ${hexId016(id)} revoked`);
  }

  keepAlive(r: LeaseKeepAliveResponse): void {
    this.line(`lease ${hexId016(r.ID)} keepalived with TTL(${r.TTL})`);
  }

  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void {
    if (r.grantedTTL === 0 && r.TTL === -1) {
      return this.line(`lease ${hexId016(r.ID)} already expired`);
    }
    let text = `lease ${hexId016(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`;
    if (keys) {
      const names = r.keys.map((k) => Buffer.from(k).toString("utf8"));
      text += `, attached keys([${names.join(" ")}])`;
    }
    this.line(text);
  }

  leases(r: LeaseLeasesResponse): void {
    this.line(`found ${r.leases.length} leases`);
    for (const l of r.leases) this.line(hexId016(l.ID));
  }

  memberAdd(r: MemberAddResponse): void {
    this.line(`Member ${hexId16(r.member.ID)} added to cluster ${hexId16(r.header.cluster_id)}`);
  }

  memberRemove(id: bigint, r: MemberRemoveResponse): void {
    this.line(`Member ${hexId16(id)} removed from cluster ${hexId16(r.header.cluster_id)}`);
  }

  memberUpdate(id: bigint, r: MemberUpdateResponse): void {
    this.line(`Member ${hexId16(id)} updated in cluster ${hexId16(r.header.cluster_id)}`);
  }

  memberPromote(id: bigint, r: MemberPromoteResponse): void {
    this.line(`Member ${hexId16(id)} promoted in cluster ${hexId16(r.header.cluster_id)}`);
  }

  memberList(r: MemberListResponse): void {
    this.rows(memberListTable(r.members));
  }

  endpointHealth(list: readonly EndpointHealth[]): void {
    for (const h of list) {
      if (h.error === "") {
        this.line(`${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}`);
      } else {
        println(
          this.output.stderr,
          `${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}`,
        );
      }
    }
  }

  endpointStatus(list: readonly EndpointStatus[]): void {
    this.rows(endpointStatusTable(list));
  }

  endpointHashKV(list: readonly EndpointHashKV[]): void {
    this.rows(endpointHashKVTable(list));
  }

  moveLeader(leader: bigint, target: bigint): void {
    this.line(`Leadership transferred from ${hexId(leader)} to ${hexId(target)}`);
  }

  alarm(r: AlarmResult): void {
    // etcdctl prints each alarm with %+v, i.e. protobuf's compact text form, which leaves out
    // zero fields and ends every field with a space.
    for (const a of r.alarms) {
      const id = a.memberID === 0n ? "" : `memberID:${a.memberID} `;
      this.line(id + (a.alarm === "NONE" ? "" : `alarm:${a.alarm} `));
    }
  }

  dbStatus(s: SnapshotStatus): void {
    this.rows(dbStatusTable(s));
  }
}

// -w table: box-drawn tables for member list, endpoint health/status/hashkv and snapshot status, the
// results etcdctl draws as tables; every other result is refused as in etcdctl.

import type { MemberListResponse } from "../../api/cluster.js";
import { type Output } from "./output.js";
import type { Printer } from "./printer.js";
import {
  dbStatusTable,
  endpointHashKVTable,
  endpointHealthTable,
  endpointStatusTable,
  memberListTable,
  unsupported,
  type Table,
} from "./printer-rows.js";
import { renderTable } from "./table-writer.js";
import type { EndpointHashKV, EndpointHealth, EndpointStatus, SnapshotStatus } from "./types.js";

export class TablePrinter implements Printer {
  readonly format = "table";

  constructor(private readonly output: Output) {}

  private table(t: Table): void {
    this.output.stdout.write(renderTable(t.header, t.rows));
  }

  private refuse(): never {
    throw unsupported(this.format);
  }

  get(): void {
    this.refuse();
  }
  put(): void {
    this.refuse();
  }
  del(): void {
    this.refuse();
  }
  txn(): void {
    this.refuse();
  }
  watch(): void {
    this.refuse();
  }
  grant(): void {
    this.refuse();
  }
  revoke(): void {
    this.refuse();
  }
  keepAlive(): void {
    this.refuse();
  }
  timeToLive(): void {
    this.refuse();
  }
  leases(): void {
    this.refuse();
  }
  memberAdd(): void {
    this.refuse();
  }
  memberRemove(): void {
    this.refuse();
  }
  memberUpdate(): void {
    this.refuse();
  }
  memberPromote(): void {
    this.refuse();
  }
  moveLeader(): void {
    this.refuse();
  }
  alarm(): void {
    this.refuse();
  }

  memberList(r: MemberListResponse): void {
    this.table(memberListTable(r.members));
  }

  endpointHealth(list: readonly EndpointHealth[]): void {
    this.table(endpointHealthTable(list));
  }

  endpointStatus(list: readonly EndpointStatus[]): void {
    this.table(endpointStatusTable(list));
  }

  endpointHashKV(list: readonly EndpointHashKV[]): void {
    this.table(endpointHashKVTable(list));
  }

  dbStatus(s: SnapshotStatus): void {
    this.table(dbStatusTable(s));
  }
}

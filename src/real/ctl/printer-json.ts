// -w json: one line of JSON per result, as etcdctl's json.Marshal of the Go value it holds. That is
// the protobuf message with its snake_case/camelCase json tags and omitempty for most results, but
// the client library's own structs for leases (header fields flattened into the top level) and
// watch responses (Go field names, nothing omitted).

import type {
  ClusterMember,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
} from "../../api/cluster.js";
import { EVENT_TYPE_VALUES, type Event, type KeyValue } from "../../api/kv.js";
import type {
  DeleteRangeResponse,
  HashKVResponse,
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
import { hexId } from "./go-format.js";
import {
  goJson,
  goJsonString,
  omitEmptyBytes,
  omitEmptyList,
  omitEmptyString,
  omitFalse,
  omitZero,
  type GoJson,
} from "./go-json.js";
import { println, type Output } from "./output.js";
import type { Printer } from "./printer.js";
import {
  ALARM_TYPE_VALUES,
  type AlarmResult,
  type EndpointHashKV,
  type EndpointHealth,
  type EndpointStatus,
  type MoveLeaderResponse,
  type SnapshotStatus,
  type StatusResponse,
} from "./types.js";

type JsonObject = { readonly [field: string]: GoJson | undefined };

export function headerJson(h: ResponseHeader): JsonObject {
  return {
    cluster_id: omitZero(h.cluster_id),
    member_id: omitZero(h.member_id),
    revision: omitZero(h.revision),
    raft_term: omitZero(h.raft_term),
  };
}

export function keyValueJson(kv: KeyValue): JsonObject {
  return {
    key: omitEmptyBytes(kv.key),
    create_revision: omitZero(kv.create_revision),
    mod_revision: omitZero(kv.mod_revision),
    version: omitZero(kv.version),
    value: omitEmptyBytes(kv.value),
    lease: omitZero(kv.lease),
  };
}

function eventJson(e: Event): JsonObject {
  return {
    type: omitZero(EVENT_TYPE_VALUES[e.type]),
    kv: keyValueJson(e.kv),
    prev_kv: e.prev_kv === undefined ? undefined : keyValueJson(e.prev_kv),
  };
}

export function rangeJson(r: RangeResponse): JsonObject {
  return {
    header: headerJson(r.header),
    kvs: omitEmptyList(r.kvs.map(keyValueJson)),
    more: omitFalse(r.more),
    count: omitZero(r.count),
  };
}

function putJson(r: PutResponse): JsonObject {
  return {
    header: headerJson(r.header),
    prev_kv: r.prev_kv === undefined ? undefined : keyValueJson(r.prev_kv),
  };
}

function deleteJson(r: DeleteRangeResponse): JsonObject {
  return {
    header: headerJson(r.header),
    deleted: omitZero(r.deleted),
    prev_kvs: omitEmptyList(r.prev_kvs.map(keyValueJson)),
  };
}

function responseOpJson(op: ResponseOp): JsonObject {
  switch (op.response) {
    case "response_range":
      return { Response: { response_range: rangeJson(op.response_range) } };
    case "response_put":
      return { Response: { response_put: putJson(op.response_put) } };
    case "response_delete_range":
      return { Response: { response_delete_range: deleteJson(op.response_delete_range) } };
    case "response_txn":
      return { Response: { response_txn: txnJson(op.response_txn) } };
    default:
      return unreachable(op, "txn response");
  }
}

function txnJson(r: TxnResponse): JsonObject {
  return {
    header: headerJson(r.header),
    succeeded: omitFalse(r.succeeded),
    responses: omitEmptyList(r.responses.map(responseOpJson)),
  };
}

export function memberJson(m: ClusterMember): JsonObject {
  return {
    ID: omitZero(m.ID),
    name: omitEmptyString(m.name),
    peerURLs: omitEmptyList(m.peerURLs),
    clientURLs: omitEmptyList(m.clientURLs),
    isLearner: omitFalse(m.isLearner),
  };
}

function membersJson(header: ResponseHeader, members: readonly ClusterMember[]): JsonObject {
  return { header: headerJson(header), members: omitEmptyList(members.map(memberJson)) };
}

function statusJson(s: StatusResponse): JsonObject {
  return {
    header: headerJson(s.header),
    version: omitEmptyString(s.version),
    dbSize: omitZero(s.dbSize),
    leader: omitZero(s.leader),
    raftIndex: omitZero(s.raftIndex),
    raftTerm: omitZero(s.raftTerm),
    raftAppliedIndex: omitZero(s.raftAppliedIndex),
    errors: omitEmptyList(s.errors),
    dbSizeInUse: omitZero(s.dbSizeInUse),
    isLearner: omitFalse(s.isLearner),
  };
}

function hashKVJson(r: HashKVResponse): JsonObject {
  return {
    header: headerJson(r.header),
    hash: omitZero(r.hash),
    compact_revision: omitZero(r.compact_revision),
  };
}

/** etcdctl's member list with --hex: ids as hex strings, written by hand (note "clientURLS"). */
function memberListHex(r: MemberListResponse): string {
  const h = r.header;
  let out = `{"header":{"cluster_id":"${hexId(h.cluster_id)}","member_id":"${hexId(h.member_id)}"`;
  out += `,"raft_term":${h.raft_term}}`;
  r.members.forEach((m, i) => {
    out += i === 0 ? `,"members":[` : ",";
    out += `{"ID":"${hexId(m.ID)}","name":${goJsonString(m.name)},`;
    out += `"peerURLs":${m.peerURLs.length === 0 ? "null" : goJson(m.peerURLs)},`;
    out += `"clientURLS":${m.clientURLs.length === 0 ? "null" : goJson(m.clientURLs)}}`;
    if (i === r.members.length - 1) out += "]";
  });
  return out + "}";
}

export class JsonPrinter implements Printer {
  readonly format = "json";

  constructor(
    private readonly output: Output,
    private readonly isHex: boolean,
  ) {}

  private print(value: GoJson): void {
    println(this.output.stdout, goJson(value));
  }

  get(r: RangeResponse): void {
    this.print(rangeJson(r));
  }

  put(r: PutResponse): void {
    this.print(putJson(r));
  }

  del(r: DeleteRangeResponse): void {
    this.print(deleteJson(r));
  }

  txn(r: TxnResponse): void {
    this.print(txnJson(r));
  }

  watch(r: WatchResponse): void {
    this.print({
      Header: headerJson(r.header),
      Events: r.events.length === 0 ? null : r.events.map(eventJson),
      CompactRevision: r.compact_revision,
      Canceled: r.canceled,
      Created: r.created,
    });
  }

  grant(r: LeaseGrantResponse): void {
    this.print({ ...headerJson(r.header), ID: r.ID, TTL: r.TTL, Error: r.error });
  }

  revoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.print({ header: headerJson(r.header) });
  }

  keepAlive(r: LeaseKeepAliveResponse): void {
    this.print({ ...headerJson(r.header), ID: r.ID, TTL: r.TTL });
  }

  timeToLive(r: LeaseTimeToLiveResponse): void {
    this.print({
      ...headerJson(r.header),
      id: r.ID,
      ttl: r.TTL,
      "granted-ttl": r.grantedTTL,
      keys: r.keys.length === 0 ? null : r.keys,
    });
  }

  leases(r: LeaseLeasesResponse): void {
    this.print({ ...headerJson(r.header), leases: r.leases.map((l) => ({ id: l.ID })) });
  }

  memberAdd(r: MemberAddResponse): void {
    this.print({
      header: headerJson(r.header),
      member: memberJson(r.member),
      members: omitEmptyList(r.members.map(memberJson)),
    });
  }

  memberRemove(_id: bigint, r: MemberRemoveResponse): void {
    this.print(membersJson(r.header, r.members));
  }

  memberUpdate(_id: bigint, r: MemberUpdateResponse): void {
    this.print(membersJson(r.header, r.members));
  }

  memberPromote(_id: bigint, r: MemberPromoteResponse): void {
    this.print(membersJson(r.header, r.members));
  }

  memberList(r: MemberListResponse): void {
    if (this.isHex) return println(this.output.stdout, memberListHex(r));
    this.print(membersJson(r.header, r.members));
  }

  endpointHealth(list: readonly EndpointHealth[]): void {
    this.print(
      list.map((h) => ({
        endpoint: h.endpoint,
        health: h.health,
        took: h.took,
        error: omitEmptyString(h.error),
      })),
    );
  }

  endpointStatus(list: readonly EndpointStatus[]): void {
    this.print(list.map((s) => ({ Endpoint: s.endpoint, Status: statusJson(s.status) })));
  }

  endpointHashKV(list: readonly EndpointHashKV[]): void {
    this.print(list.map((h) => ({ Endpoint: h.endpoint, HashKV: hashKVJson(h.hashKV) })));
  }

  moveLeader(_leader: bigint, _target: bigint, r: MoveLeaderResponse): void {
    this.print({ header: headerJson(r.header) });
  }

  alarm(r: AlarmResult): void {
    this.print({
      header: r.header === undefined ? undefined : headerJson(r.header),
      alarms: omitEmptyList(
        r.alarms.map((a) => ({
          memberID: omitZero(a.memberID),
          alarm: omitZero(ALARM_TYPE_VALUES[a.alarm]),
        })),
      ),
    });
  }

  dbStatus(s: SnapshotStatus): void {
    this.print({
      hash: s.hash,
      revision: s.revision,
      totalKey: s.totalKey,
      totalSize: s.totalSize,
    });
  }
}

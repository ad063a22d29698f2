// Shapes detcdctl prints beyond etcd's messages (src/api): the per-endpoint records etcdctl builds
// for `endpoint health|status|hashkv`, the alarm result of `alarm disarm`, and what `snapshot status`
// reports.

import type { AlarmMember, StatusResponse } from "../../api/maintenance.js";
import type { HashKVResponse, ResponseHeader } from "../../api/rpc.js";

export { ALARM_TYPE_VALUES } from "../../api/maintenance.js";
export type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from "../../api/maintenance.js";

/**
 * What `alarm list|disarm` prints. etcd's client answers a disarm-everything with the alarms it
 * cleared and no header at all.
 */
export interface AlarmResult {
  header: ResponseHeader | undefined;
  alarms: AlarmMember[];
}

/** One endpoint's health as etcdctl reports it. */
export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  /** How long the probe took, in Go's duration spelling ("1.234ms"). */
  took: string;
  /** Empty when healthy. */
  error: string;
}

export interface EndpointStatus {
  endpoint: string;
  status: StatusResponse;
}

export interface EndpointHashKV {
  endpoint: string;
  hashKV: HashKVResponse;
}

/** What `snapshot status` reports about a snapshot file (etcdutl's snapshot.Status). */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

// Rows and errors shared by the printers: the tables etcdctl builds once and prints either as
// comma-separated lines (simple) or as box-drawn tables (table).

import type { ClusterMember } from "../../api/cluster.js";
import { badFeature } from "./exit.js";
import { hexId, humanizeBytes } from "./go-format.js";
import type { OutputFormat } from "./printer.js";
import type { EndpointHashKV, EndpointHealth, EndpointStatus, SnapshotStatus } from "./types.js";

/** The error of a printer asked for a result its format cannot show. */
export function unsupported(format: OutputFormat): Error {
  return badFeature(`${format} not supported as output format`);
}

export type Table = { header: string[]; rows: string[][] };

export function memberListTable(members: readonly ClusterMember[]): Table {
  return {
    header: ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"],
    rows: members.map((m) => [
      hexId(m.ID),
      m.name === "" ? "unstarted" : "started",
      m.name,
      m.peerURLs.join(","),
      m.clientURLs.join(","),
      String(m.isLearner),
    ]),
  };
}

export function endpointHealthTable(list: readonly EndpointHealth[]): Table {
  return {
    header: ["endpoint", "health", "took", "error"],
    rows: list.map((h) => [h.endpoint, String(h.health), h.took, h.error]),
  };
}

export function endpointStatusTable(list: readonly EndpointStatus[]): Table {
  return {
    header: [
      "endpoint",
      "ID",
      "version",
      "db size",
      "is leader",
      "is learner",
      "raft term",
      "raft index",
      "raft applied index",
      "errors",
    ],
    rows: list.map(({ endpoint, status: s }) => [
      endpoint,
      hexId(s.header.member_id),
      s.version,
      humanizeBytes(s.dbSize),
      String(s.leader === s.header.member_id),
      String(s.isLearner),
      String(s.raftTerm),
      String(s.raftIndex),
      String(s.raftAppliedIndex),
      s.errors.join(", "),
    ]),
  };
}

export function endpointHashKVTable(list: readonly EndpointHashKV[]): Table {
  return {
    header: ["endpoint", "hash"],
    rows: list.map((h) => [h.endpoint, String(h.hashKV.hash)]),
  };
}

export function dbStatusTable(s: SnapshotStatus): Table {
  return {
    header: ["hash", "revision", "total keys", "total size"],
    rows: [
      [s.hash.toString(16), String(s.revision), String(s.totalKey), humanizeBytes(s.totalSize)],
    ],
  };
}

// Fixed responses for the printer tests, and a printer that writes into buffers. The ids are large
// 64-bit values (as etcd draws them) so any loss of precision shows.

import type { ClusterMember, MemberListResponse } from "../../../src/api/cluster.js";
import type { KeyValue } from "../../../src/api/kv.js";
import type { ResponseHeader } from "../../../src/api/rpc.js";
import { utf8 } from "../../../src/lib/bytes.js";
import { BufferSink } from "../../../src/real/ctl/output.js";
import { newPrinter, type Printer } from "../../../src/real/ctl/printer.js";
import type { EndpointStatus } from "../../../src/real/ctl/types.js";

export const HEADER: ResponseHeader = {
  cluster_id: 14841639068965178418n,
  member_id: 10276657743932975437n,
  revision: 5,
  raft_term: 2,
};

/** The header etcd puts on the responses inside a txn: only the revision. */
export const INNER_HEADER: ResponseHeader = {
  cluster_id: 0n,
  member_id: 0n,
  revision: 5,
  raft_term: 0,
};

export function kv(key: string, value: string, fields: Partial<KeyValue> = {}): KeyValue {
  return {
    key: utf8(key),
    value: utf8(value),
    create_revision: 2,
    mod_revision: 5,
    version: 2,
    lease: 0n,
    ...fields,
  };
}

export const MEMBERS: ClusterMember[] = [
  {
    ID: 10276657743932975437n,
    name: "infra1",
    peerURLs: ["http://127.0.0.1:12380", "http://10.0.0.1:12380"],
    clientURLs: ["http://127.0.0.1:2379"],
    isLearner: false,
  },
  { ID: 2n, name: "", peerURLs: ["http://127.0.0.1:22380"], clientURLs: [], isLearner: true },
  {
    ID: 3n,
    name: "a name with several words in it for wrapping",
    peerURLs: ["http://x:1"],
    clientURLs: ["http://x:2"],
    isLearner: false,
  },
];

export const MEMBER_LIST: MemberListResponse = { header: HEADER, members: MEMBERS };

export const STATUS: EndpointStatus = {
  endpoint: "127.0.0.1:23791",
  status: {
    header: HEADER,
    version: "3.5.33",
    dbSize: 2_500_000,
    leader: 10276657743932975437n,
    raftIndex: 12,
    raftTerm: 2,
    raftAppliedIndex: 11,
    errors: ["etcdserver: no leader", "memberID:8e9e05c52164694d alarm:NOSPACE "],
    dbSizeInUse: 1_000_000,
    isLearner: false,
  },
};

export interface Captured {
  readonly printer: Printer;
  stdout(): string;
  stderr(): string;
  stdoutBytes(): Buffer;
}

export function capture(format: string, isHex = false): Captured {
  const stdout = new BufferSink();
  const stderr = new BufferSink();
  const printer = newPrinter(format, isHex, { stdout, stderr });
  if (printer === undefined) throw new Error(`no printer ${format}`);
  return {
    printer,
    stdout: () => stdout.text(),
    stderr: () => stderr.text(),
    stdoutBytes: () => stdout.bytes(),
  };
}

/** The lines joined with "\n", plus the final newline. */
export function lines(...text: string[]): string {
  return text.join("\n") + "\n";
}

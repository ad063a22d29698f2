// Shared helpers of the peer transport tests: transports on 127.0.0.1 port 0 that record what
// they receive and log, and a poll-until helper.
import type { Message, NodeId } from "../../../src/raft/types.js";
import type { MemberMessage } from "../../../src/server/messages.js";
import {
  PeerTransport,
  type PeerLogLevel,
  type PeerTransportOptions,
} from "../../../src/real/peer/transport.js";

export interface LogLine {
  readonly level: PeerLogLevel;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export interface Node {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly port: number;
  readonly url: string;
  readonly received: { from: NodeId; message: MemberMessage }[];
  readonly logs: LogLine[];
}

const open: PeerTransport[] = [];

export async function startNode(
  id: NodeId,
  extra: Partial<PeerTransportOptions> = {},
  port = 0,
): Promise<Node> {
  const received: Node["received"] = [];
  const logs: LogLine[] = [];
  const transport = new PeerTransport({
    selfId: id,
    clusterId: 0xc1057e5n,
    listen: { host: "127.0.0.1", port },
    onMessage: (from, message) => received.push({ from, message }),
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    ...extra,
  });
  open.push(transport);
  const bound = await transport.start();
  return { id, transport, port: bound, url: `http://127.0.0.1:${bound}`, received, logs };
}

/** Closes every transport a test started (call from afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((t) => t.close()));
}

/** Gives every node the others as peers. */
export function mesh(nodes: readonly Node[]): void {
  for (const n of nodes) {
    n.transport.setPeers(new Map(nodes.filter((o) => o !== n).map((o) => [o.id, o.url])));
  }
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function raftMessage(
  from: NodeId,
  to: NodeId,
  index: number,
  overrides: Partial<Message> = {},
): MemberMessage {
  return {
    type: "raft",
    message: {
      type: "MsgApp",
      from,
      to,
      term: 3,
      logTerm: 3,
      index,
      entries: [
        { term: 3, index: index + 1, type: "EntryNormal", data: new Uint8Array([index % 256, 1]) },
      ],
      commit: index,
      reject: false,
      rejectHint: 0,
      context: new Uint8Array(0),
      ...overrides,
    },
  };
}

/** The `index` field of each received raft message, in arrival order. */
export function indexes(node: Node, from?: NodeId): number[] {
  return node.received
    .filter((r) => from === undefined || r.from === from)
    .map((r) => (r.message.type === "raft" ? r.message.message.index : -1));
}

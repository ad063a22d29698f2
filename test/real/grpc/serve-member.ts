// A single real-time Member served on a client port, for the end-to-end tests and for trying
// clients by hand: `npx tsx test/real/grpc/serve-member.ts [port]` prints the port and serves
// until killed (e.g. `ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:PORT put a 1`).

import { pathToFileURL } from "node:url";
import { err, ok } from "../../../src/lib/result.js";
import { Errors } from "../../../src/api/errors.js";
import type { AlarmMember } from "../../../src/api/maintenance.js";
import type { ResponseHeader } from "../../../src/api/rpc.js";
import { Member } from "../../../src/server/member.js";
import { SystemClock, SystemRandom, SystemTimers } from "../../../src/real/system-clock.js";
import type { Backend } from "../../../src/real/grpc/backend.js";
import { startClientServer, type ClientServer } from "../../../src/real/grpc/client-port.js";
import type { IncomingMessage, ServerResponse } from "node:http";

export const SERVER_VERSION = "3.6.0";

/** A fixed, recognisable snapshot body of `size` bytes. */
export function testSnapshot(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

/** The member as a Backend: its own methods plus test versions of the maintenance ones. */
export function memberBackend(member: Member, snapshotBytes = 100_000): Backend {
  const header = (): ResponseHeader => {
    const s = member.status();
    return {
      cluster_id: 0n,
      member_id: BigInt(member.id),
      revision: s.revision,
      raft_term: s.raftTerm,
    };
  };
  return {
    range: member.range.bind(member),
    put: member.put.bind(member),
    deleteRange: member.deleteRange.bind(member),
    txn: member.txn.bind(member),
    compact: member.compact.bind(member),
    hashKV: member.hashKV.bind(member),
    leaseGrant: member.leaseGrant.bind(member),
    leaseRevoke: member.leaseRevoke.bind(member),
    leaseKeepAlive: member.leaseKeepAlive.bind(member),
    leaseTimeToLive: member.leaseTimeToLive.bind(member),
    leaseLeases: member.leaseLeases.bind(member),
    memberAdd: member.memberAdd.bind(member),
    memberRemove: member.memberRemove.bind(member),
    memberUpdate: member.memberUpdate.bind(member),
    memberList: member.memberList.bind(member),
    memberPromote: member.memberPromote.bind(member),
    watch: member.watch.bind(member),
    status: (done) => {
      const s = member.status();
      const errors = s.leader === 0 ? [Errors.NoLeader.message] : [];
      done(
        ok({
          header: header(),
          version: SERVER_VERSION,
          dbSize: 4096,
          leader: BigInt(s.leader),
          raftIndex: s.commitIndex,
          raftTerm: s.raftTerm,
          raftAppliedIndex: s.appliedIndex,
          errors: [...errors, ...s.alarms.map((a) => `memberID:${member.id} alarm:${a} `)],
          dbSizeInUse: 2048,
          isLearner: member.isLearner,
        }),
      );
    },
    alarm: (req, done) => {
      if ((req.action ?? "GET") !== "GET") return done(err(Errors.NotCapable));
      const alarms: AlarmMember[] = member.status().alarms.map((a) => ({
        memberID: BigInt(member.id),
        alarm: a,
      }));
      done(ok({ header: header(), alarms }));
    },
    defragment: (done) => member.defragment((r) => done(r.ok ? ok({ header: header() }) : r)),
    hash: (done) =>
      member.hashKV({}, (r) => done(r.ok ? ok({ header: r.value.header, hash: r.value.hash }) : r)),
    moveLeader: (req, done) => {
      member.transferLeadership(Number(req.targetID));
      done(ok({ header: header() }));
    },
    snapshot: (done) => done(ok(testSnapshot(snapshotBytes))),
  };
}

export interface ServedMember {
  readonly member: Member;
  readonly timers: SystemTimers;
  readonly server: ClientServer;
  readonly port: number;
  stop(): Promise<void>;
}

function httpHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"health":"true","reason":""}');
    return;
  }
  res.writeHead(404);
  res.end();
}

/** Starts a one-member cluster, waits until it leads, and serves it on 127.0.0.1. */
export async function serveMember(port = 0): Promise<ServedMember> {
  const timers = new SystemTimers();
  const member = new Member({
    id: 1,
    peers: [1],
    env: { clock: new SystemClock(), timers, random: new SystemRandom() },
    send: () => {},
    config: { heartbeatMs: 10, electionMs: 100 },
  });
  member.campaign();
  for (let i = 0; i < 500 && !member.isLeader; i++) await new Promise((r) => setTimeout(r, 10));
  if (!member.isLeader) throw new Error("the member did not become leader");
  const server = await startClientServer({
    backend: memberBackend(member),
    http: httpHandler,
    listen: [{ host: "127.0.0.1", port }],
  });
  return {
    member,
    timers,
    server,
    port: server.ports[0] as number,
    stop: async () => {
      await server.close();
      member.stop();
      timers.cancelAll();
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const served = await serveMember(Number(process.argv[2] ?? 0));
  console.log(`serving member 1 on 127.0.0.1:${served.port}`);
}

// The Maintenance service over a running member: status, alarms, defragment, hash, leadership
// transfer and the snapshot file. These need more than the member's client methods (the version,
// the quota, timers to wait for a transfer), so the server supplies them.
import { err, ok } from "../../lib/result.js";
import { Errors } from "../../api/errors.js";
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from "../../api/maintenance.js";
import type { Timers } from "../../env/timers.js";
import { crc32c } from "../../mvcc/crc32c.js";
import { effectiveQuotaBytes } from "../../server/quota.js";
import type { Done, Member } from "../../server/member.js";
import type { MaintenanceBackend } from "../grpc/backend.js";
import { ETCD_SERVER_VERSION } from "../version.js";
import { encodeSnapshotFile } from "./snapshot-file.js";

/** How often a leadership transfer is checked while the caller waits. */
const TRANSFER_POLL_MS = 10;

export class MemberMaintenance implements MaintenanceBackend {
  constructor(
    private readonly member: Member,
    private readonly timers: Timers,
  ) {}

  status(done: Done<StatusResponse>): void {
    const m = this.member;
    const s = m.status();
    if (s.stopped) return done(err(Errors.Stopped));
    const errors = [
      ...(s.leader === 0 ? [Errors.NoLeader.message] : []),
      ...m.alarms.list().map((a) => `memberID:${a.memberID.toString(16)} alarm:${a.alarm} `),
    ];
    done(
      ok({
        header: m.responseHeader(),
        version: ETCD_SERVER_VERSION,
        dbSize: m.dbSizeBytes,
        leader: BigInt(s.leader),
        // etcd reports the commit index as raftIndex.
        raftIndex: s.commitIndex,
        raftTerm: s.raftTerm,
        raftAppliedIndex: s.appliedIndex,
        errors,
        dbSizeInUse: m.dbSizeInUseBytes,
        isLearner: m.isLearner,
        dbSizeQuota: effectiveQuotaBytes(m.config.quotaBackendBytes),
      }),
    );
  }

  alarm(req: AlarmRequest, done: Done<AlarmResponse>): void {
    const request = {
      action: req.action ?? "GET",
      memberID: req.memberID ?? 0n,
      alarm: req.alarm ?? "NONE",
    };
    this.member.alarm(request, done);
  }

  defragment(done: Done<DefragmentResponse>): void {
    this.member.defragment((r) => done(r.ok ? ok({ header: this.member.responseHeader() }) : r));
  }

  /** A CRC-32C of the member's whole applied state (kv, leases, alarms, members). */
  hash(done: Done<HashResponse>): void {
    if (this.member.status().stopped) return done(err(Errors.Stopped));
    const { data } = this.member.exportSnapshot();
    done(ok({ header: this.member.responseHeader(), hash: crc32c(data) }));
  }

  /**
   * etcd's MoveLeader: only the leader takes it, the target must be a started voter; answered
   * when the target leads, or with a timeout after the request timeout.
   */
  moveLeader(req: MoveLeaderRequest, done: Done<MoveLeaderResponse>): void {
    const m = this.member;
    if (!m.isLeader) return done(err(Errors.NotLeader));
    const target = Number(req.targetID);
    const voter = m.members().find((x) => x.id === target && !x.isLearner);
    if (voter === undefined) return done(err(Errors.BadLeaderTransferee));
    if (target === m.id) return done(ok({ header: m.responseHeader() }));
    m.transferLeadership(target);
    const deadline = m.config.requestTimeoutMs;
    let waited = 0;
    const check = () => {
      if (m.leader === target) return done(ok({ header: m.responseHeader() }));
      waited += TRANSFER_POLL_MS;
      if (waited >= deadline) return done(err(Errors.TimeoutLeaderTransfer));
      this.timers.schedule(TRANSFER_POLL_MS, check);
    };
    this.timers.schedule(TRANSFER_POLL_MS, check);
  }

  snapshot(done: Done<Uint8Array>): void {
    if (this.member.status().stopped) return done(err(Errors.Stopped));
    done(ok(encodeSnapshotFile(this.member.exportSnapshot().data)));
  }
}

// The client port's view of a member: its client methods with the caller's identity, the
// Maintenance service (root only while auth is enabled, as etcd's authMaintenanceServer) and the
// Auth service over HostAuth.
import { err } from "../../lib/result.js";
import type { AuthInfo } from "../../api/auth.js";
import type { Member } from "../../server/member.js";
import type { AuthTokenConfig } from "../config/auth-token.js";
import type { Backend, Done } from "../grpc/backend.js";
import { HostAuth } from "../auth/host-auth.js";
import { JwtTokens } from "../auth/jwt.js";
import type { ScryptParams } from "../auth/passwords.js";
import type { SystemTimers } from "../system-clock.js";
import { MemberMaintenance } from "./maintenance.js";

/** The token provider --auth-token asks for; JWT key files are read and checked here. */
export async function loadAuthTokens(config: AuthTokenConfig): Promise<"simple" | JwtTokens> {
  return config.kind === "simple" ? "simple" : JwtTokens.load(config);
}

export interface ClientBackendOptions {
  readonly tokens: "simple" | JwtTokens;
  /** --client-cert-auth: a verified certificate's CN names the user when no token is given. */
  readonly clientCertAuth: boolean;
  readonly scrypt?: ScryptParams;
}

export function clientBackend(
  member: Member,
  timers: SystemTimers,
  o: ClientBackendOptions,
): Backend {
  const maintenance = new MemberMaintenance(member, timers);
  const auth = new HostAuth(member, {
    tokens: o.tokens,
    clientCertAuth: o.clientCertAuth,
    ...(o.scrypt === undefined ? {} : { scrypt: o.scrypt }),
  });
  /** Runs a maintenance call for the root role only (everyone while auth is off). */
  const root = <T>(done: Done<T>, as: AuthInfo | undefined, run: () => void): void => {
    const denied = member.auth.checkAdmin(as);
    if (denied !== undefined) return done(err(denied));
    run();
  };
  return {
    range: (req, done, as) => member.range(req, done, as),
    put: (req, done, as) => member.put(req, done, as),
    deleteRange: (req, done, as) => member.deleteRange(req, done, as),
    txn: (req, done, as) => member.txn(req, done, as),
    compact: (req, done, as) => member.compact(req, done, as),
    hashKV: (req, done, as) => member.hashKV(req, done, as),
    leaseGrant: (req, done, as) => member.leaseGrant(req, done, as),
    leaseRevoke: (req, done, as) => member.leaseRevoke(req, done, as),
    leaseKeepAlive: (req, done) => member.leaseKeepAlive(req, done),
    leaseTimeToLive: (req, done, as) => member.leaseTimeToLive(req, done, as),
    leaseLeases: (req, done) => member.leaseLeases(req, done),
    memberAdd: (req, done, as) => member.memberAdd(req, done, as),
    memberRemove: (req, done, as) => member.memberRemove(req, done, as),
    memberUpdate: (req, done, as) => member.memberUpdate(req, done, as),
    memberList: (req, done) => member.memberList(req, done),
    memberPromote: (req, done, as) => member.memberPromote(req, done, as),
    watch: (onResponses, credentials) => member.watch(onResponses, credentials),
    status: (done, as) => root(done, as, () => maintenance.status(done)),
    alarm: (req, done, as) => root(done, as, () => maintenance.alarm(req, done)),
    defragment: (done, as) => root(done, as, () => maintenance.defragment(done)),
    hash: (done, as) => root(done, as, () => maintenance.hash(done)),
    moveLeader: (req, done, as) => root(done, as, () => maintenance.moveLeader(req, done)),
    snapshot: (done, as) => root(done, as, () => maintenance.snapshot(done)),
    auth,
  };
}

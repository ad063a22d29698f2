// Auth in simulated clusters: enabling needs root, users and roles go through Raft, every request
// is checked on the member that serves it and writes again when they apply, tokens are known to
// every member, and the auth state survives snapshots and restarts on disk.
import { describe, expect, it } from "vitest";
import type { AuthInfo, AuthRequest, AuthResponseOf, Permission } from "../../src/api/auth.js";
import type {
  LeaseTimeToLiveResponse,
  RangeResponse,
  TxnResponse,
  WatchResponse,
} from "../../src/api/rpc.js";
import { prefixEnd } from "../../src/lib/bytes.js";
import type { Member } from "../../src/server/member.js";
import { simpleTokenInfo } from "../../src/server/auth-gate.js";
import { AuthStore } from "../../src/auth/index.js";
import { KvStore } from "../../src/mvcc/kv-store.js";
import { AlarmStore } from "../../src/server/alarms.js";
import { Membership } from "../../src/server/membership.js";
import { decodeMemberSnapshot, encodeMemberSnapshot } from "../../src/server/member-snapshot.js";
import type { World } from "../../sim/world.js";
import { awaitLeader, b, call, errorOf, makeCluster, value } from "./helpers.js";

function auth<R extends AuthRequest>(world: World, m: Member, req: R, as?: AuthInfo) {
  return call<AuthResponseOf<R>>(world, (d) => m.authRequest(req, d, as));
}

const readA: Permission = { permType: "READ", key: b("/a/"), range_end: prefixEnd(b("/a/")) };

/** Root (password hash "h-root") with the root role, alice (hash "h-alice") with read on /a/. */
function setUp(world: World, m: Member, enable = true): void {
  const steps: AuthRequest[] = [
    { op: "user-add", name: "root", passwordHash: "h-root" },
    { op: "role-add", name: "root" },
    { op: "user-grant-role", user: "root", role: "root" },
    { op: "user-add", name: "alice", passwordHash: "h-alice" },
    { op: "role-add", name: "reader" },
    { op: "role-grant-permission", name: "reader", perm: readA },
    { op: "user-grant-role", user: "alice", role: "reader" },
  ];
  for (const req of steps) value(auth(world, m, req));
  if (enable) value(auth(world, m, { op: "auth-enable" }));
}

/** Logs in with a simple token and resolves it on `on` as a host would. */
function login(world: World, m: Member, name: string, on: Member = m): AuthInfo {
  const r = value(
    auth(world, m, { op: "authenticate", name, passwordHash: `h-${name}`, tokenPrefix: "tok" }),
  );
  expect(r.token).toMatch(/^tok\.\d+$/);
  const info = value(
    call<AuthInfo | undefined>(world, (d) => on.simpleTokenCredentials(r.token, d)),
  );
  if (info === undefined) throw new Error("token not known");
  return info;
}

function watchOnce(world: World, m: Member, key: string, as?: AuthInfo): WatchResponse {
  const got: WatchResponse[] = [];
  const w = m.watch(
    (rs) => got.push(...rs),
    () => ({ ok: true, value: as }),
  );
  w.request({
    request_union: "create_request",
    create_request: { key: b(key), range_end: prefixEnd(b(key)), watch_id: 7 },
  });
  world.runUntil({ until: () => got.length > 0, untilMs: world.nowMs + 5_000 });
  w.close();
  expect(got.length).toBeGreaterThan(0);
  return got[0]!;
}

describe("auth in a cluster", () => {
  it("enabling requires the root user with the root role", () => {
    const { world, cluster } = makeCluster(3, 31);
    const m = awaitLeader(world, cluster).member!;
    expect(errorOf(auth(world, m, { op: "auth-enable" })).name).toBe("RootUserNotExist");
    value(auth(world, m, { op: "user-add", name: "root", passwordHash: "h-root" }));
    const refused = errorOf(auth(world, m, { op: "auth-enable" }));
    expect([refused.name, refused.message]).toEqual([
      "RootRoleNotExist",
      "etcdserver: root user does not have root role",
    ]);
    value(auth(world, m, { op: "user-grant-role", user: "root", role: "root" }));
    value(auth(world, m, { op: "auth-enable" }));
    world.runUntil({ untilMs: world.nowMs + 500 });
    // Every member applied it; the status is a root-only read.
    for (const s of cluster.slots) expect(s.member!.auth.isEnabled).toBe(true);
    expect(errorOf(auth(world, m, { op: "auth-status" })).name).toBe("UserEmpty");
    const root = login(world, m, "root");
    expect(value(auth(world, m, { op: "auth-status" }, root))).toMatchObject({
      enabled: true,
      authRevision: 3,
    });
    expect(errorOf(auth(world, m, { op: "user-delete", name: "root" }, root)).name).toBe(
      "InvalidAuthMgmt",
    );
  });

  it("a reader of /a/ reads /a/x, cannot write it, cannot read /b/, on any member", () => {
    const { world, cluster } = makeCluster(3, 32);
    const leader = awaitLeader(world, cluster).member!;
    const follower = cluster.slots.find((s) => s.member !== leader)!.member!;
    value(call(world, (d) => leader.put({ key: b("/a/x"), value: b("1") }, d)));
    value(call(world, (d) => leader.put({ key: b("/b/y"), value: b("2") }, d)));
    setUp(world, leader);
    // Without credentials nothing passes once auth is on.
    expect(errorOf(call(world, (d) => follower.range({ key: b("/a/x") }, d))).name).toBe(
      "UserEmpty",
    );
    expect(
      errorOf(call(world, (d) => follower.put({ key: b("/a/x"), value: b("3") }, d))).name,
    ).toBe("UserEmpty");
    // The token was assigned on every member when the login applied.
    const alice = login(world, leader, "alice", follower);
    for (const m of [leader, follower]) {
      const got = value(call<RangeResponse>(world, (d) => m.range({ key: b("/a/x") }, d, alice)));
      expect(got.kvs.map((kv) => kv.value)).toEqual([b("1")]);
      const serializable = { key: b("/a/"), range_end: prefixEnd(b("/a/")), serializable: true };
      expect(value(call<RangeResponse>(world, (d) => m.range(serializable, d, alice))).count).toBe(
        1,
      );
      const denied = errorOf(
        call(world, (d) => m.put({ key: b("/a/x"), value: b("3") }, d, alice)),
      );
      expect([denied.name, denied.code, denied.message]).toEqual([
        "PermissionDenied",
        "PermissionDenied",
        "etcdserver: permission denied",
      ]);
      expect(errorOf(call(world, (d) => m.range({ key: b("/b/y") }, d, alice))).name).toBe(
        "PermissionDenied",
      );
      // A range reaching beyond /a/ is refused as a whole.
      const wide = { key: b("/a/"), range_end: b("/c") };
      expect(errorOf(call(world, (d) => m.range(wide, d, alice))).name).toBe("PermissionDenied");
    }
    // The root role may do anything; maintenance and membership need it.
    const root = login(world, leader, "root");
    value(call(world, (d) => follower.put({ key: b("/b/y"), value: b("4") }, d, root)));
    expect(errorOf(call(world, (d) => leader.hashKV({ revision: 0 }, d, alice))).name).toBe(
      "PermissionDenied",
    );
    value(call(world, (d) => leader.hashKV({ revision: 0 }, d, root)));
    const add = { peerURLs: ["http://new:2380"], isLearner: true };
    expect(errorOf(call(world, (d) => leader.memberAdd(add, d, alice))).name).toBe(
      "PermissionDenied",
    );
  });

  it("a txn needs READ on its compares and the rights of every op of both branches", () => {
    const { world, cluster } = makeCluster(3, 33);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m);
    const alice = login(world, m, "alice");
    const readOnly = {
      compare: [
        { key: b("/a/x"), result: "EQUAL" as const, target: "VERSION" as const, version: 0 },
      ],
      success: [{ request: "request_range" as const, request_range: { key: b("/a/x") } }],
    };
    expect(value(call<TxnResponse>(world, (d) => m.txn(readOnly, d, alice))).succeeded).toBe(true);
    const compareB = {
      ...readOnly,
      compare: [
        { key: b("/b/x"), result: "EQUAL" as const, target: "VERSION" as const, version: 0 },
      ],
    };
    expect(errorOf(call(world, (d) => m.txn(compareB, d, alice))).name).toBe("PermissionDenied");
    // The failure branch never runs here, yet its put is refused: both branches are checked.
    const putInElse = {
      ...readOnly,
      failure: [
        { request: "request_put" as const, request_put: { key: b("/a/y"), value: b("v") } },
      ],
    };
    expect(errorOf(call(world, (d) => m.txn(putInElse, d, alice))).name).toBe("PermissionDenied");
    expect(m.kv.currentRevision).toBe(1);
  });

  it("a watch needs READ on its range", () => {
    const { world, cluster } = makeCluster(3, 34);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m);
    const alice = login(world, m, "alice");
    const ok = watchOnce(world, m, "/a/", alice);
    expect([ok.created, ok.canceled]).toEqual([true, false]);
    const refused = watchOnce(world, m, "/b/", alice);
    expect(refused).toMatchObject({
      watch_id: 7,
      created: true,
      canceled: true,
      cancel_reason: "rpc error: code = PermissionDenied desc = etcdserver: permission denied",
    });
    expect(watchOnce(world, m, "/a/").canceled).toBe(true);
  });

  it("revoking a role takes effect for an existing token once the auth revision moves", () => {
    const { world, cluster } = makeCluster(3, 35);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m);
    const root = login(world, m, "root");
    const aliceToken = value(
      auth(world, m, {
        op: "authenticate",
        name: "alice",
        passwordHash: "h-alice",
        tokenPrefix: "t",
      }),
    ).token;
    const resolve = () => {
      const info = simpleTokenInfo(m.auth, m.authTokens, aliceToken);
      if (!info.ok || info.value === undefined) throw new Error("token lost");
      return info.value;
    };
    const before = resolve();
    value(call(world, (d) => m.range({ key: b("/a/x") }, d, before)));
    value(auth(world, m, { op: "user-revoke-role", name: "alice", role: "reader" }, root));
    expect(m.auth.revision).toBe(before.revision + 1);
    // Credentials signed at the old revision (a JWT) are refused outright ...
    expect(errorOf(call(world, (d) => m.range({ key: b("/a/x") }, d, before))).name).toBe(
      "AuthOldRevision",
    );
    // ... and the simple token, resolved now, meets the new permissions.
    expect(errorOf(call(world, (d) => m.range({ key: b("/a/x") }, d, resolve()))).name).toBe(
      "PermissionDenied",
    );
  });

  it("a write is checked again when it applies: a revoke proposed first wins", () => {
    const { world, cluster } = makeCluster(3, 36);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m);
    const writeA: Permission = { ...readA, permType: "READWRITE" };
    const root = login(world, m, "root");
    value(auth(world, m, { op: "role-grant-permission", name: "reader", perm: writeA }, root));
    const alice = login(world, m, "alice");
    // The revoke commits first, so the put, proposed with the older auth revision, applies as an error.
    const answers: string[] = [];
    m.authRequest(
      { op: "user-revoke-role", name: "alice", role: "reader" },
      (r) => answers.push(r.ok ? "revoked" : r.error.name),
      root,
    );
    m.put(
      { key: b("/a/x"), value: b("v") },
      (r) => answers.push(r.ok ? "put" : r.error.name),
      alice,
    );
    world.runUntil({ until: () => answers.length === 2, untilMs: world.nowMs + 5_000 });
    expect(answers).toEqual(["revoked", "AuthOldRevision"]);
    expect(m.kv.currentRevision).toBe(1);
  });

  it("leases: revoking needs WRITE on the lease's keys; expiry revokes whatever auth says", () => {
    const { world, cluster } = makeCluster(3, 39);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m);
    const root = login(world, m, "root");
    const alice = login(world, m, "alice");
    // Anyone may grant; a lease without keys may be revoked by anyone (nothing to check).
    value(call(world, (d) => m.leaseGrant({ TTL: 60, ID: 5n }, d, alice)));
    value(call(world, (d) => m.leaseRevoke({ ID: 5n }, d, alice)));
    value(call(world, (d) => m.leaseGrant({ TTL: 60, ID: 6n }, d)));
    value(call(world, (d) => m.put({ key: b("/a/k"), value: b("v"), lease: 6n }, d, root)));
    expect(errorOf(call(world, (d) => m.leaseRevoke({ ID: 6n }, d, alice))).name).toBe(
      "PermissionDenied",
    );
    expect(errorOf(call(world, (d) => m.leaseRevoke({ ID: 6n }, d))).name).toBe("UserEmpty");
    // Time-to-live with keys needs READ on them: alice reads /a/.
    const ttl = { ID: 6n, keys: true };
    expect(
      value(call<LeaseTimeToLiveResponse>(world, (d) => m.leaseTimeToLive(ttl, d, alice))).keys,
    ).toEqual([b("/a/k")]);
    expect(errorOf(call(world, (d) => m.leaseTimeToLive(ttl, d))).name).toBe("UserEmpty");
    // The leader's expiry revoke is the member's own: auth does not stop it.
    value(call(world, (d) => m.leaseGrant({ TTL: 3, ID: 7n }, d, root)));
    value(call(world, (d) => m.put({ key: b("/a/short"), value: b("v"), lease: 7n }, d, root)));
    world.runUntil({ untilMs: world.nowMs + 6_000 });
    const left = value(call<RangeResponse>(world, (d) => m.range({ key: b("/a/short") }, d, root)));
    expect(left.count).toBe(0);
  });

  it("logins check the stored hash and tokens die with their user, password or auth", () => {
    const { world, cluster } = makeCluster(3, 37);
    const m = awaitLeader(world, cluster).member!;
    setUp(world, m, false);
    expect(
      errorOf(auth(world, m, { op: "authenticate", name: "alice", passwordHash: "h-alice" })).name,
    ).toBe("AuthNotEnabled");
    value(auth(world, m, { op: "auth-enable" }));
    expect(
      errorOf(auth(world, m, { op: "authenticate", name: "alice", passwordHash: "nope" })).message,
    ).toBe("etcdserver: authentication failed, invalid user ID or password");
    expect(value(auth(world, m, { op: "password-of", name: "alice" })).passwordHash).toBe(
      "h-alice",
    );
    const root = login(world, m, "root");
    const token = value(
      auth(world, m, {
        op: "authenticate",
        name: "alice",
        passwordHash: "h-alice",
        tokenPrefix: "p",
      }),
    ).token;
    expect(simpleTokenInfo(m.auth, m.authTokens, token).ok).toBe(true);
    value(auth(world, m, { op: "user-change-password", name: "alice", passwordHash: "h2" }, root));
    expect(simpleTokenInfo(m.auth, m.authTokens, token)).toMatchObject({
      ok: false,
      error: { name: "InvalidAuthToken" },
    });
    // A user reads itself and its roles, not others; root reads everything.
    const alice = { user: "alice", revision: m.auth.revision };
    expect(value(auth(world, m, { op: "user-get", name: "alice" }, alice)).roles).toEqual([
      "reader",
    ]);
    expect(value(auth(world, m, { op: "role-get", role: "reader" }, alice)).perm).toEqual([readA]);
    expect(errorOf(auth(world, m, { op: "user-get", name: "root" }, alice)).name).toBe(
      "PermissionDenied",
    );
    expect(errorOf(auth(world, m, { op: "user-list" }, alice)).name).toBe("PermissionDenied");
    expect(value(auth(world, m, { op: "user-list" }, root)).users).toEqual(["alice", "root"]);
    value(auth(world, m, { op: "auth-disable" }, root));
    expect(m.authTokens.size).toBe(0);
    value(call(world, (d) => m.put({ key: b("/b/x"), value: b("free") }, d)));
  });

  it("the auth state survives snapshots, restarts on disk and a catch-up by snapshot", () => {
    const { world, cluster } = makeCluster(3, 38, {
      disk: { snapshotCount: 10, catchUpEntries: 2, segmentBytes: 64 * 1024, restartAfterMs: 200 },
    });
    const leaderSlot = awaitLeader(world, cluster);
    const m = leaderSlot.member!;
    const lagging = cluster.slots.find((s) => s !== leaderSlot)!;
    cluster.crash(lagging.name);
    setUp(world, m);
    const root = login(world, m, "root");
    for (let i = 0; i < 30; i++) {
      value(call(world, (d) => m.put({ key: b(`/a/${i}`), value: b("v") }, d, root)));
    }
    const encoded = m.auth.encode();
    // The lagging member is behind the compacted log: it gets the leader's snapshot.
    cluster.restart(lagging.name);
    world.runUntil({
      until: () => lagging.member?.status().appliedIndex === m.status().appliedIndex,
      untilMs: world.nowMs + 10_000,
    });
    expect(lagging.durability.installedSnapshots.length).toBeGreaterThan(0);
    expect(lagging.member!.auth.encode()).toEqual(encoded);
    // Every member restarts from its own snapshot and log.
    for (const s of cluster.slots) {
      cluster.crash(s.name);
      cluster.restart(s.name);
    }
    const leader = awaitLeader(world, cluster).member!;
    world.runUntil({ untilMs: world.nowMs + 2_000 });
    for (const s of cluster.slots) expect(s.member!.auth.encode()).toEqual(encoded);
    expect(leader.auth.isEnabled).toBe(true);
    // Simple tokens are member memory: a restarted member forgets them, the users stay.
    const alice = login(world, leader, "alice");
    value(call(world, (d) => leader.range({ key: b("/a/1") }, d, alice)));
    expect(
      errorOf(call(world, (d) => leader.put({ key: b("/a/1"), value: b("w") }, d, alice))).name,
    ).toBe("PermissionDenied");
  });
});

describe("auth in member snapshots", () => {
  it("carries the auth store, and reads a snapshot from before auth with auth off", () => {
    const auth = new AuthStore();
    auth.apply({ op: "user-add", name: "root", passwordHash: "h" });
    auth.apply({ op: "user-grant-role", user: "root", role: "root" });
    auth.apply({ op: "auth-enable" });
    const parts = {
      consistentIndex: 5,
      kv: new KvStore(),
      lessor: { leases: [] },
      membership: Membership.initial([1, 2, 3]),
      appliedIds: [1],
      alarms: new AlarmStore(),
      auth,
    };
    const bytes = encodeMemberSnapshot(parts);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe("DMS4");
    const decoded = decodeMemberSnapshot(bytes, {});
    expect(decoded.ok && decoded.value.auth.encode()).toEqual(auth.encode());
    // A DMS3 snapshot is the same bytes without the auth part at the end.
    const authBytes = auth.encode().length;
    const v3 = bytes.slice(0, bytes.length - 4 - authBytes);
    v3[3] = 0x33;
    const old = decodeMemberSnapshot(v3, {});
    expect(old.ok).toBe(true);
    if (!old.ok) return;
    expect([old.value.auth.isEnabled, old.value.auth.revision, old.value.consistentIndex]).toEqual([
      false,
      1,
      5,
    ]);
    expect(decodeMemberSnapshot(bytes.subarray(0, bytes.length - 1), {}).ok).toBe(false);
  });
});

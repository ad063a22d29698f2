// The auth store's changes, reads and checks, with etcd's errors and revisions.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { AuthChange, AuthInfo, Permission } from "../../src/api/auth.js";
import { AuthStore, ROOT_PERMISSION } from "../../src/auth/auth-store.js";
import { latin1ToBytes } from "../../src/lib/bytes.js";

const k = latin1ToBytes;
const none = new Uint8Array(0);

function applyAll(store: AuthStore, changes: AuthChange[]): void {
  for (const c of changes) {
    const r = store.apply(c);
    if (!r.ok) throw new Error(`${c.op}: ${r.error.message}`);
  }
}

function withRoot(): AuthStore {
  const store = new AuthStore();
  applyAll(store, [
    { op: "user-add", name: "root", passwordHash: "h-root" },
    { op: "role-add", name: "root" },
    { op: "user-grant-role", user: "root", role: "root" },
  ]);
  return store;
}

const errorName = (r: { ok: boolean; error?: { name: string } }) =>
  r.ok ? "ok" : (r.error?.name ?? "?");

describe("AuthStore", () => {
  it("starts disabled at revision 1 and allows everything", () => {
    const store = new AuthStore();
    expect(store.isEnabled).toBe(false);
    expect(store.revision).toBe(1);
    expect(store.checkRange(undefined, "WRITE", k("a"), none)).toBeUndefined();
    expect(store.checkAdmin(undefined)).toBeUndefined();
  });

  it("enables only with a root user holding the root role", () => {
    const store = new AuthStore();
    expect(errorName(store.apply({ op: "auth-enable" }))).toBe("RootUserNotExist");
    store.apply({ op: "user-add", name: "root", passwordHash: "h" });
    expect(errorName(store.apply({ op: "auth-enable" }))).toBe("RootRoleNotExist");
    // The root role may be granted before the role exists, as etcd allows.
    expect(store.apply({ op: "user-grant-role", user: "root", role: "root" }).ok).toBe(true);
    expect(store.revision).toBe(3);
    expect(store.apply({ op: "auth-enable" }).ok).toBe(true);
    expect(store.isEnabled).toBe(true);
    // Enabling changes no revision (etcd's AuthEnable does not either); disabling does.
    expect(store.revision).toBe(3);
    expect(store.apply({ op: "auth-enable" }).ok).toBe(true);
    expect(store.revision).toBe(3);
    store.apply({ op: "auth-disable" });
    expect(store.revision).toBe(4);
    store.apply({ op: "auth-disable" });
    expect(store.revision).toBe(4);
  });

  it("refuses what etcd refuses while enabled", () => {
    const store = withRoot();
    store.apply({ op: "auth-enable" });
    expect(errorName(store.apply({ op: "user-delete", name: "root" }))).toBe("InvalidAuthMgmt");
    expect(errorName(store.apply({ op: "role-delete", role: "root" }))).toBe("InvalidAuthMgmt");
    expect(errorName(store.apply({ op: "user-revoke-role", name: "root", role: "root" }))).toBe(
      "InvalidAuthMgmt",
    );
    expect(errorName(store.apply({ op: "user-add", name: "" }))).toBe("UserEmpty");
    expect(errorName(store.apply({ op: "user-add", name: "root" }))).toBe("UserAlreadyExist");
    expect(errorName(store.apply({ op: "role-add", name: "" }))).toBe("RoleEmpty");
    expect(errorName(store.apply({ op: "role-add", name: "root" }))).toBe("RoleAlreadyExist");
    expect(errorName(store.apply({ op: "user-grant-role", user: "x", role: "root" }))).toBe(
      "UserNotFound",
    );
    expect(errorName(store.apply({ op: "user-grant-role", user: "root", role: "r" }))).toBe(
      "RoleNotFound",
    );
    expect(errorName(store.apply({ op: "role-grant-permission", name: "root" }))).toBe(
      "PermissionNotGiven",
    );
    const inverted: Permission = { permType: "READ", key: k("b"), range_end: k("a") };
    expect(
      errorName(store.apply({ op: "role-grant-permission", name: "root", perm: inverted })),
    ).toBe("InvalidAuthMgmt");
    expect(
      errorName(
        store.apply({ op: "role-revoke-permission", role: "root", key: k("a"), range_end: none }),
      ),
    ).toBe("PermissionNotGranted");
    expect(errorName(store.apply({ op: "user-revoke-role", name: "root", role: "x" }))).toBe(
      "RoleNotGranted",
    );
    // Nothing of this changed the revision.
    expect(store.revision).toBe(4);
  });

  it("checks ranges with the user's merged roles and the credentials' revision", () => {
    const store = withRoot();
    applyAll(store, [
      { op: "user-add", name: "alice", passwordHash: "h-a" },
      { op: "role-add", name: "ra" },
      {
        op: "role-grant-permission",
        name: "ra",
        perm: { permType: "READ", key: k("/a/"), range_end: k("/a0") },
      },
      { op: "user-grant-role", user: "alice", role: "ra" },
      { op: "auth-enable" },
    ]);
    const alice: AuthInfo = { user: "alice", revision: store.revision };
    expect(store.checkRange(alice, "READ", k("/a/x"), none)).toBeUndefined();
    expect(store.checkRange(alice, "READ", k("/a/"), k("/a0"))).toBeUndefined();
    expect(store.checkRange(alice, "WRITE", k("/a/x"), none)?.name).toBe("PermissionDenied");
    expect(store.checkRange(alice, "READ", k("/b/x"), none)?.name).toBe("PermissionDenied");
    expect(store.checkRange(undefined, "READ", k("/a/x"), none)?.name).toBe("UserEmpty");
    expect(
      store.checkRange({ user: "bob", revision: store.revision }, "READ", k("/a/x"), none)?.name,
    ).toBe("PermissionDenied");
    expect(store.checkAdmin(alice)?.name).toBe("PermissionDenied");
    expect(store.checkAdmin({ user: "bob", revision: 9 })?.name).toBe("UserNotFound");
    expect(store.checkAdmin({ user: "root", revision: 1 })).toBeUndefined();
    // Revoking the role moves the revision: older credentials are refused outright.
    applyAll(store, [{ op: "user-revoke-role", name: "alice", role: "ra" }]);
    expect(store.checkRange(alice, "READ", k("/a/x"), none)?.name).toBe("AuthOldRevision");
    const fresh: AuthInfo = { user: "alice", revision: store.revision };
    expect(store.checkRange(fresh, "READ", k("/a/x"), none)?.name).toBe("PermissionDenied");
    // Root may do anything.
    expect(
      store.checkRange({ user: "root", revision: store.revision }, "WRITE", k("z"), k("\0")),
    ).toBeUndefined();
  });

  it("keeps permissions sorted, replaces a granted range's type, and deletes roles from users", () => {
    const store = withRoot();
    const grant = (key: string, end: string, permType: Permission["permType"]) =>
      store.apply({
        op: "role-grant-permission",
        name: "r",
        perm: { permType, key: k(key), range_end: k(end) },
      });
    applyAll(store, [
      { op: "role-add", name: "r" },
      { op: "user-add", name: "u" },
    ]);
    grant("b", "", "READ");
    grant("a", "c", "WRITE");
    grant("b", "", "READWRITE");
    const perms = store.rolePermissions("r");
    expect(perms.ok && perms.value.map((p) => [p.permType, p.key[0], p.range_end.length])).toEqual([
      ["WRITE", 97, 1],
      ["READWRITE", 98, 0],
    ]);
    expect(store.rolePermissions("root")).toEqual({ ok: true, value: [ROOT_PERMISSION] });
    applyAll(store, [
      { op: "user-grant-role", user: "u", role: "r" },
      { op: "user-grant-role", user: "u", role: "root" },
    ]);
    expect(store.user("u")?.roles).toEqual(["r", "root"]);
    const before = store.revision;
    applyAll(store, [{ op: "user-grant-role", user: "u", role: "r" }]);
    expect(store.revision).toBe(before);
    applyAll(store, [{ op: "role-delete", role: "r" }]);
    expect(store.user("u")?.roles).toEqual(["root"]);
    expect(store.roleNames()).toEqual(["root"]);
    expect(store.userNames()).toEqual(["root", "u"]);
  });

  it("authenticates against the stored hash only while enabled", () => {
    const store = withRoot();
    applyAll(store, [{ op: "user-add", name: "cert-user" }]);
    const login = (name: string, passwordHash: string) =>
      errorName(store.apply({ op: "authenticate", name, passwordHash }));
    expect(login("root", "h-root")).toBe("AuthNotEnabled");
    expect(errorName(store.passwordOf("root"))).toBe("AuthNotEnabled");
    store.apply({ op: "auth-enable" });
    expect(login("root", "h-root")).toBe("ok");
    expect(login("root", "wrong")).toBe("AuthFailed");
    expect(login("nobody", "h")).toBe("AuthFailed");
    expect(login("cert-user", "")).toBe("AuthFailed");
    expect(store.passwordOf("root")).toEqual({
      ok: true,
      value: { passwordHash: "h-root", revision: store.revision },
    });
    // A password change of a user without one keeps it without one.
    applyAll(store, [{ op: "user-change-password", name: "cert-user", passwordHash: "x" }]);
    expect(store.user("cert-user")?.passwordHash).toBeUndefined();
  });

  it("round-trips through its snapshot form", () => {
    const store = withRoot();
    applyAll(store, [
      { op: "role-add", name: "rö" },
      {
        op: "role-grant-permission",
        name: "rö",
        perm: { permType: "WRITE", key: k("\xff"), range_end: k("\0") },
      },
      { op: "user-add", name: "ü" },
      { op: "user-grant-role", user: "ü", role: "rö" },
      { op: "auth-enable" },
    ]);
    const decoded = AuthStore.decode(store.encode());
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const copy = decoded.value;
    expect(copy.encode()).toEqual(store.encode());
    expect(copy.isEnabled).toBe(true);
    expect(copy.revision).toBe(store.revision);
    expect(copy.user("ü")).toEqual({ name: "ü", passwordHash: undefined, roles: ["rö"] });
    expect(
      copy.checkRange({ user: "ü", revision: copy.revision }, "WRITE", k("\xff\x01"), none),
    ).toBeUndefined();
    expect(AuthStore.decode(store.encode().subarray(1)).ok).toBe(false);
    expect(AuthStore.decode(new Uint8Array([...store.encode(), 0])).ok).toBe(false);
  });
});

describe("AuthStore permission checks against a model of roles", () => {
  // Random user and role changes interleaved with checks: the store (merged, cached permissions)
  // must answer every check as the model's raw permission lists do. fast-check prints the seed.
  const ROLES = ["r1", "r2", "r3"];
  const keyArb = fc.constantFrom("a", "a\0", "ab", "b", "c");
  const endArb = fc.constantFrom("", "\0", "b", "c", "d");
  const permArb = fc.record({
    permType: fc.constantFrom<Permission["permType"]>("READ", "WRITE", "READWRITE"),
    key: keyArb,
    range_end: endArb,
  });
  type Command =
    | {
        c: "grant";
        role: string;
        perm: { permType: Permission["permType"]; key: string; range_end: string };
      }
    | { c: "revoke"; role: string; key: string; range_end: string }
    | { c: "role"; role: string; give: boolean }
    | { c: "delete-role"; role: string }
    | { c: "check"; type: "READ" | "WRITE"; key: string; range_end: string };
  const role = fc.constantFrom(...ROLES);
  const commandArb: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ c: fc.constant("grant" as const), role, perm: permArb }),
    fc.record({ c: fc.constant("revoke" as const), role, key: keyArb, range_end: endArb }),
    fc.record({ c: fc.constant("role" as const), role, give: fc.boolean() }),
    fc.record({ c: fc.constant("delete-role" as const), role }),
    fc.record({
      c: fc.constant("check" as const),
      type: fc.constantFrom<"READ" | "WRITE">("READ", "WRITE"),
      key: keyArb,
      range_end: endArb,
    }),
  );

  function modelAllows(
    perms: { permType: string; key: string; range_end: string }[],
    type: string,
    key: string,
    end: string,
  ): boolean {
    const granted = perms.filter((p) => p.permType === type || p.permType === "READWRITE");
    const holds = (p: (typeof granted)[number], x: string) =>
      p.range_end === ""
        ? x === p.key
        : p.range_end === "\0"
          ? x >= p.key
          : x >= p.key && x < p.range_end;
    const held = (x: string) => granted.some((p) => holds(p, x));
    if (end === "") return held(key);
    if (end !== "\0" && end <= key) return false;
    const inside = (x: string) => x > key && (end === "\0" || x < end);
    const ends = granted.flatMap((p) =>
      p.range_end === "" ? [p.key + "\0"] : p.range_end === "\0" ? [] : [p.range_end],
    );
    return [key, ...ends.filter(inside)].every(held);
  }

  it("answers as the model after any sequence of changes", () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), (commands) => {
        const store = withRoot();
        applyAll(store, [
          { op: "user-add", name: "u" },
          ...ROLES.map((name) => ({ op: "role-add" as const, name })),
        ]);
        store.apply({ op: "auth-enable" });
        const rolePerms = new Map(
          ROLES.map((r) => [r, [] as { permType: string; key: string; range_end: string }[]]),
        );
        const userRoles = new Set<string>();
        for (const cmd of commands) {
          switch (cmd.c) {
            case "grant": {
              const r = store.apply({
                op: "role-grant-permission",
                name: cmd.role,
                perm: {
                  permType: cmd.perm.permType,
                  key: k(cmd.perm.key),
                  range_end: k(cmd.perm.range_end),
                },
              });
              const list = rolePerms.get(cmd.role);
              const valid =
                cmd.perm.range_end === "" ||
                cmd.perm.range_end === "\0" ||
                cmd.perm.key < cmd.perm.range_end;
              expect(r.ok).toBe(list !== undefined && valid);
              if (r.ok && list !== undefined) {
                const kept = list.filter(
                  (p) => !(p.key === cmd.perm.key && p.range_end === cmd.perm.range_end),
                );
                rolePerms.set(cmd.role, [...kept, cmd.perm]);
              }
              break;
            }
            case "revoke": {
              const r = store.apply({
                op: "role-revoke-permission",
                role: cmd.role,
                key: k(cmd.key),
                range_end: k(cmd.range_end),
              });
              const list = rolePerms.get(cmd.role);
              const kept = list?.filter(
                (p) => !(p.key === cmd.key && p.range_end === cmd.range_end),
              );
              expect(r.ok).toBe(list !== undefined && kept!.length < list.length);
              if (r.ok) rolePerms.set(cmd.role, kept!);
              break;
            }
            case "role":
              if (cmd.give) {
                const r = store.apply({ op: "user-grant-role", user: "u", role: cmd.role });
                expect(r.ok).toBe(rolePerms.has(cmd.role));
                if (r.ok) userRoles.add(cmd.role);
              } else {
                const r = store.apply({ op: "user-revoke-role", name: "u", role: cmd.role });
                expect(r.ok).toBe(userRoles.has(cmd.role));
                userRoles.delete(cmd.role);
              }
              break;
            case "delete-role": {
              const r = store.apply({ op: "role-delete", role: cmd.role });
              expect(r.ok).toBe(rolePerms.has(cmd.role));
              rolePerms.delete(cmd.role);
              userRoles.delete(cmd.role);
              break;
            }
            case "check": {
              const perms = [...userRoles].flatMap((r) => rolePerms.get(r) ?? []);
              const info = { user: "u", revision: store.revision };
              const denied = store.checkRange(info, cmd.type, k(cmd.key), k(cmd.range_end));
              expect(denied === undefined).toBe(
                modelAllows(perms, cmd.type, cmd.key, cmd.range_end),
              );
              if (denied !== undefined) expect(denied.name).toBe("PermissionDenied");
              break;
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

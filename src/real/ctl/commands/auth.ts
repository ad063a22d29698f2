// auth enable | disable | status, user add | delete | get | list | passwd | grant-role |
// revoke-role, role add | delete | get | list | grant-permission | revoke-permission: etcdctl's
// commands, arguments, messages and simple output; -w json prints each response as etcdctl's JSON
// printer does; fields and table refuse these results, as etcdctl's do.
import { equalBytes, isFromKeyEnd, prefixEnd, utf8 } from "../../../lib/bytes.js";
import type { AnyMessage } from "../../grpc/codec.js";
import { allArgs, type Command, type CommandContext, type CommandGroup } from "../command.js";
import { isEtcdErrorNamed, request } from "../errors.js";
import { badArgs, badFeature } from "../exit.js";
import { flag } from "../flags.js";
import {
  goJson,
  omitEmptyBytes,
  omitEmptyList,
  omitFalse,
  omitZero,
  type GoJson,
} from "../go-json.js";
import { println, type Sink } from "../output.js";
import { headerJson } from "../printer-json.js";
import type { ResponseHeader } from "../../../api/rpc.js";
import { askPassword } from "../auth-login.js";

type Message = AnyMessage;

function authCall(ctx: CommandContext, method: string, req: Message = {}): Promise<Message> {
  return request(ctx.client().call("etcdserverpb.Auth", method, req, ctx.call()));
}

/**
 * Prints an answer: `simple` for the simple format, the response as JSON for json; the fields and
 * table formats have no printer for auth results in etcdctl either.
 */
function show(ctx: CommandContext, resp: Message, simple: (out: Sink) => void): void {
  const printer = ctx.printer();
  if (printer.format === "simple") return simple(ctx.output.stdout);
  if (printer.format !== "json")
    throw badFeature(`${printer.format} not supported as output format`);
  println(ctx.output.stdout, goJson(responseJson(resp)));
}

function responseJson(resp: Message): GoJson {
  const out: Record<string, GoJson | undefined> = {};
  for (const [field, value] of Object.entries(resp)) {
    if (field === "header") out.header = headerJson(value as ResponseHeader);
    else if (field === "perm") out.perm = omitEmptyList((value as Message[]).map(permissionJson));
    else if (Array.isArray(value)) out[field] = omitEmptyList(value as string[]);
    else if (typeof value === "boolean") out[field] = omitFalse(value);
    else if (typeof value === "number") out[field] = omitZero(value);
    else if (typeof value === "string") out[field] = value === "" ? undefined : value;
  }
  return out;
}

function permissionJson(p: Message): GoJson {
  const types = ["READ", "WRITE", "READWRITE"];
  return {
    permType: omitZero(types.indexOf(String(p.permType))),
    key: omitEmptyBytes(p.key as Uint8Array),
    range_end: omitEmptyBytes(p.range_end as Uint8Array),
  } as GoJson;
}

function noArgs(what: string): (ctx: CommandContext, args: readonly string[]) => void {
  return (_ctx, args) => {
    if (args.length !== 0) throw badArgs(what);
  };
}

// ---- auth -------------------------------------------------------------------------------------

const authEnable: Command = {
  name: "enable",
  usage: "",
  describe: "Enables authentication",
  flags: [],
  run: async (ctx, a) => {
    noArgs("auth enable command does not accept any arguments")(ctx, allArgs(a));
    // As etcdctl: a root user without the root role gets it (and the role is made) first.
    for (;;) {
      try {
        await ctx.client().call("etcdserverpb.Auth", "AuthEnable", {}, ctx.call());
        break;
      } catch (e) {
        if (!isEtcdErrorNamed(e, "RootRoleNotExist")) await request(Promise.reject(e));
        await authCall(ctx, "RoleAdd", { name: "root" });
        await authCall(ctx, "UserGrantRole", { user: "root", role: "root" });
      }
    }
    println(ctx.output.stdout, "Authentication Enabled");
  },
};

const authDisable: Command = {
  name: "disable",
  usage: "",
  describe: "Disables authentication",
  flags: [],
  run: async (ctx, a) => {
    noArgs("auth disable command does not accept any arguments")(ctx, allArgs(a));
    await authCall(ctx, "AuthDisable");
    println(ctx.output.stdout, "Authentication Disabled");
  },
};

const authStatus: Command = {
  name: "status",
  usage: "",
  describe: "Returns authentication status",
  flags: [],
  run: async (ctx, a) => {
    noArgs("auth status command does not accept any arguments")(ctx, allArgs(a));
    const resp = await authCall(ctx, "AuthStatus");
    show(ctx, resp, (out) => {
      println(out, `Authentication Status: ${String(resp.enabled === true)}`);
      println(out, `AuthRevision: ${String(resp.authRevision ?? 0)}`);
    });
  },
};

export const authCommand: CommandGroup = {
  name: "auth",
  describe: "Enable or disable authentication",
  flags: [],
  subcommands: [authDisable, authEnable, authStatus],
};

// ---- user -------------------------------------------------------------------------------------

const INTERACTIVE = flag(
  "interactive",
  "bool",
  true,
  "Read password from stdin instead of interactive terminal",
);

/** etcdctl's password prompt (twice, they must match); with --interactive=false one stdin word. */
async function readPassword(ctx: CommandContext, name: string, interactive: boolean) {
  if (!interactive) {
    const { line } = await ctx.stdin.nextLine();
    return line.trim().split(/\s+/)[0] ?? "";
  }
  const first = await askPassword(`Password of ${name}: `, ctx.output.stderr, ctx.stdin);
  if (first === "") throw badArgs("empty password");
  const again = await askPassword(
    `Type password of ${name} again for confirmation: `,
    ctx.output.stderr,
    ctx.stdin,
  );
  if (first !== again) throw badArgs("given passwords are different");
  return first;
}

const userAdd: Command = {
  name: "add",
  usage: "<user name or user:password> [options]",
  describe: "Adds a new user",
  flags: [
    INTERACTIVE,
    flag("new-user-password", "string", "", "Supply password from the command line flag"),
    flag("no-password", "bool", false, "Create a user without password (CN based auth only)"),
  ],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("user add command requires user name as its argument");
    const arg = args[0] as string;
    let user = arg;
    let password = "";
    const noPassword = a.flags.bool("no-password");
    if (!noPassword) {
      const given = a.flags.string("new-user-password");
      const colon = arg.indexOf(":");
      if (given !== "") password = given;
      else if (colon >= 0) {
        user = arg.slice(0, colon);
        password = arg.slice(colon + 1);
        if (user === "") throw badArgs("empty user name is not allowed");
      } else password = await readPassword(ctx, arg, a.flags.bool("interactive"));
    }
    const resp = await authCall(ctx, "UserAdd", {
      name: user,
      password,
      ...(noPassword ? { options: { no_password: true } } : {}),
    });
    show(ctx, resp, (out) => println(out, `User ${user} created`));
  },
};

const userDelete: Command = {
  name: "delete",
  usage: "<user name>",
  describe: "Deletes a user",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("user delete command requires user name as its argument");
    const resp = await authCall(ctx, "UserDelete", { name: args[0] });
    show(ctx, resp, (out) => println(out, `User ${args[0] as string} deleted`));
  },
};

const userGet: Command = {
  name: "get",
  usage: "<user name> [options]",
  describe: "Gets detailed information of a user",
  flags: [flag("detail", "bool", false, "Show permissions of roles granted to the user")],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("user get command requires user name as its argument");
    const name = args[0] as string;
    const resp = await authCall(ctx, "UserGet", { name });
    const roles = (resp.roles as string[] | undefined) ?? [];
    if (!a.flags.bool("detail")) {
      return show(ctx, resp, (out) => {
        println(out, `User: ${name}`);
        println(out, `Roles:${roles.map((r) => ` ${r}`).join("")}`);
      });
    }
    println(ctx.output.stdout, `User: ${name}`);
    for (const role of roles) {
      println(ctx.output.stdout);
      const perms = await authCall(ctx, "RoleGet", { role });
      show(ctx, perms, (out) => printRole(out, role, perms));
    }
  },
};

const userList: Command = {
  name: "list",
  usage: "",
  describe: "Lists all users",
  flags: [],
  run: async (ctx, a) => {
    noArgs("user list command requires no arguments")(ctx, allArgs(a));
    const resp = await authCall(ctx, "UserList");
    show(ctx, resp, (out) => {
      for (const u of (resp.users as string[] | undefined) ?? []) println(out, u);
    });
  },
};

const userPasswd: Command = {
  name: "passwd",
  usage: "<user name> [options]",
  describe: "Changes password of user",
  flags: [INTERACTIVE],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("user passwd command requires user name as its argument");
    const name = args[0] as string;
    const password = await readPassword(ctx, name, a.flags.bool("interactive"));
    const resp = await authCall(ctx, "UserChangePassword", { name, password });
    show(ctx, resp, (out) => println(out, "Password updated"));
  },
};

const userGrantRole: Command = {
  name: "grant-role",
  usage: "<user name> <role name>",
  describe: "Grants a role to a user",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 2) {
      throw badArgs("user grant command requires user name and role name as its argument");
    }
    const [user, role] = args as [string, string];
    const resp = await authCall(ctx, "UserGrantRole", { user, role });
    show(ctx, resp, (out) => println(out, `Role ${role} is granted to user ${user}`));
  },
};

const userRevokeRole: Command = {
  name: "revoke-role",
  usage: "<user name> <role name>",
  describe: "Revokes a role from a user",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 2) {
      throw badArgs("user revoke-role requires user name and role name as its argument");
    }
    const [name, role] = args as [string, string];
    const resp = await authCall(ctx, "UserRevokeRole", { name, role });
    show(ctx, resp, (out) => println(out, `Role ${role} is revoked from user ${name}`));
  },
};

export const userCommand: CommandGroup = {
  name: "user",
  describe: "User related commands",
  flags: [],
  subcommands: [userAdd, userDelete, userGet, userGrantRole, userList, userPasswd, userRevokeRole],
};

// ---- role -------------------------------------------------------------------------------------

const PREFIX = (what: string) => flag("prefix", "bool", false, `${what} a prefix permission`);
const FROM_KEY = (what: string) =>
  flag(
    "from-key",
    "bool",
    false,
    `${what} a permission of keys that are greater than or equal to the given key using byte compare`,
  );

/** etcdctl's permRange: the key and range end from the arguments and --prefix / --from-key. */
function permRange(
  args: readonly string[],
  prefix: boolean,
  fromKey: boolean,
): { key: Uint8Array; rangeEnd: Uint8Array } {
  const key = args[0] as string;
  if (prefix && fromKey) throw badArgs("--from-key and --prefix flags are mutually exclusive");
  if (key === "") {
    // The empty key means every key: ["\0", end).
    return {
      key: Uint8Array.of(0),
      rangeEnd: prefix || fromKey ? Uint8Array.of(0) : new Uint8Array(0),
    };
  }
  const bytes = utf8(key);
  if (args.length === 1) {
    if (prefix) return { key: bytes, rangeEnd: prefixEnd(bytes) };
    return { key: bytes, rangeEnd: fromKey ? Uint8Array.of(0) : new Uint8Array(0) };
  }
  if (prefix) throw badArgs("unexpected endkey argument with --prefix flag");
  if (fromKey) throw badArgs("unexpected endkey argument with --from-key flag");
  return { key: bytes, rangeEnd: utf8(args[1] as string) };
}

/** etcdctl's simple RoleGet: read and write permissions, ranges as [key, end). */
function printRole(out: Sink, role: string, resp: Message): void {
  const perms = (resp.perm as Message[] | undefined) ?? [];
  println(out, `Role ${role}`);
  const section = (title: string, types: readonly string[]) => {
    println(out, title);
    for (const p of perms.filter((x) => types.includes(String(x.permType)))) {
      const key = (p.key as Uint8Array | undefined) ?? new Uint8Array(0);
      const end = (p.range_end as Uint8Array | undefined) ?? new Uint8Array(0);
      out.write("\t");
      if (end.length === 0) {
        out.write(key);
        out.write("\n");
        continue;
      }
      out.write("[");
      out.write(key);
      if (isFromKeyEnd(end)) out.write(", <open ended>");
      else {
        out.write(", ");
        out.write(end);
        out.write(")");
      }
      if (key.length > 0 && equalBytes(prefixEnd(key), end)) {
        out.write(" (prefix ");
        out.write(key);
        out.write(")");
      }
      out.write("\n");
    }
  };
  section("KV Read:", ["READ", "READWRITE"]);
  section("KV Write:", ["WRITE", "READWRITE"]);
}

const PERMISSION_TYPES: Readonly<Record<string, string>> = {
  read: "READ",
  write: "WRITE",
  readwrite: "READWRITE",
};

const roleAdd: Command = {
  name: "add",
  usage: "<role name>",
  describe: "Adds a new role",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("role add command requires role name as its argument");
    const resp = await authCall(ctx, "RoleAdd", { name: args[0] });
    show(ctx, resp, (out) => println(out, `Role ${args[0] as string} created`));
  },
};

const roleDelete: Command = {
  name: "delete",
  usage: "<role name>",
  describe: "Deletes a role",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("role delete command requires role name as its argument");
    const resp = await authCall(ctx, "RoleDelete", { role: args[0] });
    show(ctx, resp, (out) => println(out, `Role ${args[0] as string} deleted`));
  },
};

const roleGet: Command = {
  name: "get",
  usage: "<role name>",
  describe: "Gets detailed information of a role",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("role get command requires role name as its argument");
    const role = args[0] as string;
    const resp = await authCall(ctx, "RoleGet", { role });
    show(ctx, resp, (out) => printRole(out, role, resp));
  },
};

const roleList: Command = {
  name: "list",
  usage: "",
  describe: "Lists all roles",
  flags: [],
  run: async (ctx, a) => {
    noArgs("role list command requires no arguments")(ctx, allArgs(a));
    const resp = await authCall(ctx, "RoleList");
    show(ctx, resp, (out) => {
      for (const r of (resp.roles as string[] | undefined) ?? []) println(out, r);
    });
  },
};

const roleGrantPermission: Command = {
  name: "grant-permission",
  usage: "[options] <role name> <permission type> <key> [endkey]",
  describe: "Grants a key to a role",
  flags: [PREFIX("grant"), FROM_KEY("grant")],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length < 3) {
      throw badArgs(
        "role grant command requires role name, permission type, and key [endkey] as its argument",
      );
    }
    const permType = PERMISSION_TYPES[(args[1] as string).toLowerCase()];
    if (permType === undefined) throw badArgs(`invalid permission type: ${args[1] as string}`);
    const { key, rangeEnd } = permRange(
      args.slice(2),
      a.flags.bool("prefix"),
      a.flags.bool("from-key"),
    );
    const perm = { permType, key, range_end: rangeEnd };
    const resp = await authCall(ctx, "RoleGrantPermission", { name: args[0], perm });
    show(ctx, resp, (out) => println(out, `Role ${args[0] as string} updated`));
  },
};

const roleRevokePermission: Command = {
  name: "revoke-permission",
  usage: "<role name> <key> [endkey]",
  describe: "Revokes a key from a role",
  flags: [PREFIX("revoke"), FROM_KEY("revoke")],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length < 2) {
      throw badArgs(
        "role revoke-permission command requires role name and key [endkey] as its argument",
      );
    }
    const role = args[0] as string;
    const { key, rangeEnd } = permRange(
      args.slice(1),
      a.flags.bool("prefix"),
      a.flags.bool("from-key"),
    );
    const resp = await authCall(ctx, "RoleRevokePermission", { role, key, range_end: rangeEnd });
    show(ctx, resp, (out) => {
      const shown = args[1] as string;
      if (rangeEnd.length === 0) {
        return println(out, `Permission of key ${shown} is revoked from role ${role}`);
      }
      out.write(`Permission of range [${shown}, `);
      if (isFromKeyEnd(rangeEnd)) out.write("<open ended>");
      else {
        out.write(rangeEnd);
        out.write(")");
      }
      println(out, ` is revoked from role ${role}`);
    });
  },
};

export const roleCommand: CommandGroup = {
  name: "role",
  describe: "Role related commands",
  flags: [],
  subcommands: [roleAdd, roleDelete, roleGet, roleGrantPermission, roleList, roleRevokePermission],
};

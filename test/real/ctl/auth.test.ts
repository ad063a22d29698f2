// detcdctl's auth, user and role commands and --user/--password against a real member in this
// process: etcdctl's messages and output, and the permissions they set taking effect.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import {
  clientFor,
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
} from "../server/helpers.js";
import { ctl, type CtlOptions } from "./helpers.js";

let server: DetcdServer;
let endpoint: string;

beforeAll(async () => {
  const [m] = await memberPorts(["ctl-auth"]);
  const flags = memberFlags(m!, [m!], join(tempDir("ctl-auth"), "data"));
  server = await DetcdServer.start({ config: configOf(flags), log: memoryLogger().log });
  endpoint = `127.0.0.1:${m!.client}`;
  const c = clientFor([m!.client]);
  await eventually(async () => ((await c.status()).leader !== 0n ? true : undefined));
  c.close();
});

afterAll(async () => {
  await server.stop();
});

const run = (args: string[], options?: CtlOptions) =>
  ctl(["--endpoints", endpoint, ...args], options);

describe("detcdctl auth, user and role", () => {
  it("sets up users and roles, enables auth, and --user logs in", async () => {
    expect(await run(["user", "add", "root:rootpw"])).toMatchObject({
      code: 0,
      stdout: "User root created\n",
    });
    // auth enable gives root the root role (making the role) as etcdctl does.
    expect(await run(["auth", "enable"])).toMatchObject({
      code: 0,
      stdout: "Authentication Enabled\n",
    });
    const root = ["--user", "root:rootpw"];
    expect((await run([...root, "role", "get", "root"])).stdout).toBe(
      "Role root\nKV Read:\n\t[, <open ended>\nKV Write:\n\t[, <open ended>\n",
    );
    expect(
      await run([...root, "user", "add", "alice", "--interactive=false"], { stdin: "alicepw\n" }),
    ).toMatchObject({ code: 0, stdout: "User alice created\n" });
    expect((await run([...root, "role", "add", "reader"])).stdout).toBe("Role reader created\n");
    expect(
      (await run([...root, "role", "grant-permission", "reader", "read", "/a/", "--prefix"]))
        .stdout,
    ).toBe("Role reader updated\n");
    await run([...root, "role", "grant-permission", "reader", "readwrite", "/w"]);
    expect((await run([...root, "user", "grant-role", "alice", "reader"])).stdout).toBe(
      "Role reader is granted to user alice\n",
    );
    expect((await run([...root, "role", "get", "reader"])).stdout).toBe(
      "Role reader\nKV Read:\n\t[/a/, /a0) (prefix /a/)\n\t/w\nKV Write:\n\t/w\n",
    );
    expect((await run([...root, "user", "get", "alice"])).stdout).toBe(
      "User: alice\nRoles: reader\n",
    );
    expect((await run([...root, "user", "list"])).stdout).toBe("alice\nroot\n");
    expect((await run([...root, "role", "list"])).stdout).toBe("reader\nroot\n");
    expect((await run([...root, "auth", "status"])).stdout).toMatch(
      /^Authentication Status: true\nAuthRevision: \d+\n$/,
    );
    const status = JSON.parse((await run([...root, "-w", "json", "auth", "status"])).stdout);
    expect(status.enabled).toBe(true);
    expect(status.header.revision).toBeGreaterThanOrEqual(1);

    await run([...root, "put", "/a/x", "ax"]);
    // The password asked for on stdin when --user has none.
    const asAlice = ["--user", "alice"];
    expect(await run([...asAlice, "get", "/a/x"], { stdin: "alicepw\n" })).toMatchObject({
      code: 0,
      stdout: "/a/x\nax\n",
    });
    expect(
      await run(["--user", "alice", "--password", "alicepw", "put", "/a/x", "no"]),
    ).toMatchObject({ code: 1, stderr: "Error: etcdserver: permission denied\n" });
    expect(await run(["--user", "alice:alicepw", "get", "/b/y"])).toMatchObject({
      code: 1,
      stderr: "Error: etcdserver: permission denied\n",
    });
    expect(await run(["--user", "alice:wrong", "get", "/a/x"])).toMatchObject({
      code: 2,
      stderr: "Error: etcdserver: authentication failed, invalid user ID or password\n",
    });
    expect(await run(["get", "/a/x"])).toMatchObject({
      code: 1,
      stderr: "Error: etcdserver: user name is empty\n",
    });
    // ETCDCTL_USER works like --user.
    expect(
      await run(["get", "/a/x", "--print-value-only"], { env: { ETCDCTL_USER: "alice:alicepw" } }),
    ).toMatchObject({ code: 0, stdout: "ax\n" });

    expect(
      (await run([...root, "role", "revoke-permission", "reader", "/a/", "--prefix"])).stdout,
    ).toBe("Permission of range [/a/, /a0) is revoked from role reader\n");
    expect((await run([...root, "role", "revoke-permission", "reader", "/w"])).stdout).toBe(
      "Permission of key /w is revoked from role reader\n",
    );
    expect(await run(["--user", "alice:alicepw", "get", "/a/x"])).toMatchObject({ code: 1 });
    expect((await run([...root, "user", "revoke-role", "alice", "reader"])).stdout).toBe(
      "Role reader is revoked from user alice\n",
    );
    expect(
      await run([...root, "user", "passwd", "alice", "--interactive=false"], { stdin: "newpw\n" }),
    ).toMatchObject({ code: 0, stdout: "Password updated\n" });
    expect((await run(["--user", "alice:newpw", "user", "get", "alice"])).stdout).toBe(
      "User: alice\nRoles:\n",
    );
    expect(await run([...root, "user", "delete", "root"])).toMatchObject({
      code: 1,
      stderr: "Error: etcdserver: invalid auth management\n",
    });
    expect((await run([...root, "user", "delete", "alice"])).stdout).toBe("User alice deleted\n");
    expect((await run([...root, "role", "delete", "reader"])).stdout).toBe("Role reader deleted\n");
    expect(await run([...root, "role", "grant-permission", "x", "readsome", "k"])).toMatchObject({
      code: 128,
      stderr: "Error: invalid permission type: readsome\n",
    });
    expect((await run([...root, "auth", "disable"])).stdout).toBe("Authentication Disabled\n");
    expect((await run(["get", "/a/x", "--print-value-only"])).stdout).toBe("ax\n");
  });
});

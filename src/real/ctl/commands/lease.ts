// lease grant | revoke | timetolive | list | keep-alive.

import type { LeaseId } from "../../../api/kv.js";
import { allArgs, type Command, type CommandContext, type CommandGroup } from "../command.js";
import type { KeepAliveStream } from "../ctl-client.js";
import { request } from "../errors.js";
import { badArgs, ExitCode } from "../exit.js";
import { flag, parseGoInt, parseHexId } from "../flags.js";
import { hexId016 } from "../go-format.js";
import { println } from "../output.js";
import type { Printer } from "../printer.js";

/** A lease id argument, in hex as etcdctl prints them. */
export function leaseFromArg(arg: string): LeaseId {
  try {
    return parseHexId(arg);
  } catch (e) {
    throw badArgs(`bad lease ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

function oneArg(args: readonly string[], message: string): string {
  if (args.length !== 1) throw badArgs(message);
  return args[0] as string;
}

const grant: Command = {
  name: "grant",
  usage: "<ttl>",
  describe: "Creates leases",
  flags: [],
  run: async (ctx, a) => {
    const text = oneArg(allArgs(a), "lease grant command needs TTL argument");
    let ttl: number;
    try {
      ttl = parseGoInt(text, 10);
    } catch (e) {
      throw badArgs(`bad TTL (${(e as Error).message})`);
    }
    const printer = ctx.printer();
    const resp = await request(
      ctx.client().leaseGrant({ TTL: ttl }, ctx.call()),
      (m) => `failed to grant lease (${m})`,
    );
    printer.grant(resp);
  },
};

const revoke: Command = {
  name: "revoke",
  usage: "<leaseID>",
  describe: "Revokes leases",
  flags: [],
  run: async (ctx, a) => {
    const id = leaseFromArg(oneArg(allArgs(a), "lease revoke command needs 1 argument"));
    const printer = ctx.printer();
    const resp = await request(
      ctx.client().leaseRevoke({ ID: id }, ctx.call()),
      (m) => `failed to revoke lease (${m})`,
    );
    printer.revoke(id, resp);
  },
};

const timeToLive: Command = {
  name: "timetolive",
  usage: "<leaseID> [options]",
  describe: "Get lease information",
  flags: [flag("keys", "bool", false, "Get keys attached to this lease")],
  run: async (ctx, a) => {
    const arg = oneArg(allArgs(a), "lease timetolive command needs lease ID as argument");
    const keys = a.flags.bool("keys");
    const printer = ctx.printer();
    const id = leaseFromArg(arg);
    const resp = await request(
      ctx.client().leaseTimeToLive({ ID: id, keys }, ctx.call()),
      undefined,
      ExitCode.BadConnection,
    );
    printer.timeToLive(resp, keys);
  },
};

const list: Command = {
  name: "list",
  usage: "",
  describe: "List all active leases",
  flags: [],
  run: async (ctx) => {
    const printer = ctx.printer();
    const resp = await request(
      ctx.client().leaseLeases(ctx.call()),
      undefined,
      ExitCode.BadConnection,
    );
    printer.leases(resp);
  },
};

const KEEP_ALIVE_RETRY_MS = 500;
const MS_PER_S = 1000;

/**
 * Renews the lease until it is gone, as etcd's client does: a renewal at once, then every third of
 * the TTL; after a failure the stream is opened again until the lease would have expired.
 * Returns when the lease expired or was revoked, or when the command is stopped.
 */
async function keepAliveUntilGone(
  ctx: CommandContext,
  id: LeaseId,
  printer: Printer,
): Promise<void> {
  const client = ctx.client();
  let deadlineNs = ctx.nowNs() + BigInt(ctx.global.dialTimeoutMs + MS_PER_S) * 1_000_000n;
  let stream: KeepAliveStream | undefined;
  const stop = (): void => stream?.close();
  ctx.signal.addEventListener("abort", stop);
  try {
    while (!ctx.signal.aborted) {
      try {
        stream = client.leaseKeepAlive();
        for (;;) {
          stream.keepAlive(id);
          const resp = await stream.next();
          if (resp.TTL <= 0) return;
          printer.keepAlive(resp);
          deadlineNs = ctx.nowNs() + BigInt(resp.TTL * MS_PER_S) * 1_000_000n;
          await ctx.sleep((resp.TTL * MS_PER_S) / 3);
          if (ctx.signal.aborted) return;
        }
      } catch {
        stream?.close();
        if (ctx.signal.aborted || ctx.nowNs() > deadlineNs) return;
        await ctx.sleep(KEEP_ALIVE_RETRY_MS);
      }
    }
  } finally {
    ctx.signal.removeEventListener("abort", stop);
    stream?.close();
  }
}

const keepAlive: Command = {
  name: "keep-alive",
  usage: "[options] <leaseID>",
  describe: "Keeps leases alive (renew)",
  flags: [
    flag(
      "once",
      "bool",
      false,
      "Resets the keep-alive time to its original value and exits immediately",
    ),
  ],
  run: async (ctx, a) => {
    const id = leaseFromArg(
      oneArg(allArgs(a), "lease keep-alive command needs lease ID as argument"),
    );
    const printer = ctx.printer();
    if (a.flags.bool("once")) {
      const resp = await request(
        ctx
          .client()
          .leaseKeepAliveOnce(id, ctx.call())
          .then((r) => {
            if (r.TTL <= 0) throw new Error("etcdserver: requested lease not found");
            return r;
          }),
        undefined,
        ExitCode.BadConnection,
      );
      return printer.keepAlive(resp);
    }
    await keepAliveUntilGone(ctx, id, printer);
    if (!ctx.signal.aborted && printer.format === "simple") {
      println(ctx.output.stdout, `lease ${hexId016(id)} expired or revoked.`);
    }
  },
};

export const leaseCommand: CommandGroup = {
  name: "lease",
  describe: "Lease related commands",
  flags: [],
  subcommands: [grant, revoke, timeToLive, list, keepAlive],
};

// get, put, del, txn and compaction.

import { utf8 } from "../../../lib/bytes.js";
import { allArgs, type Command } from "../command.js";
import { request } from "../errors.js";
import { badArgs, CtlError, ExitCode } from "../exit.js";
import { flag, parseGoInt } from "../flags.js";
import { DEL_FLAGS, GET_FLAGS, PUT_FLAGS, delRequest, getRequest, putRequest } from "../kv-ops.js";
import { println } from "../output.js";
import { readTxn } from "../txn-parse.js";

export const getCommand: Command = {
  name: "get",
  usage: "[options] <key> [range_end]",
  describe: "Gets the key or a range of keys",
  flags: GET_FLAGS,
  run: async (ctx, a) => {
    const req = getRequest(allArgs(a).map(utf8), a.flags);
    const printer = ctx.printer();
    const resp = await request(ctx.client().range(req, ctx.call()));
    if (a.flags.bool("count-only") && printer.format !== "fields") {
      throw badArgs("--count-only is only for `--write-out=fields`");
    }
    const valueOnly = a.flags.bool("print-value-only");
    if (valueOnly && printer.format !== "simple") {
      throw badArgs("print-value-only is only for `--write-out=simple`");
    }
    printer.get(resp, valueOnly);
  },
};

export const putCommand: Command = {
  name: "put",
  usage: "[options] <key> <value> (<value> can also be given from stdin)",
  describe: "Puts the given key into the store",
  flags: PUT_FLAGS,
  run: async (ctx, a) => {
    const args = allArgs(a).map(utf8);
    const needsStdin = args.length === 1 && !a.flags.bool("ignore-value");
    const stdin = needsStdin ? await ctx.stdin.readAll() : undefined;
    const req = putRequest(args, a.flags, stdin);
    const printer = ctx.printer();
    const resp = await request(ctx.client().put(req, ctx.call()));
    printer.put(resp);
  },
};

export const delCommand: Command = {
  name: "del",
  usage: "[options] <key> [range_end]",
  describe: "Removes the specified key or range of keys [key, range_end)",
  flags: DEL_FLAGS,
  run: async (ctx, a) => {
    const req = delRequest(allArgs(a).map(utf8), a.flags);
    const printer = ctx.printer();
    const resp = await request(ctx.client().deleteRange(req, ctx.call()));
    printer.del(resp);
  },
};

export const txnCommand: Command = {
  name: "txn",
  usage: "[options]",
  describe: "Txn processes all the requests in one transaction",
  flags: [flag("interactive", "bool", false, "Input transaction in interactive mode", "i")],
  run: async (ctx, a) => {
    if (allArgs(a).length !== 0) throw badArgs("txn command does not accept argument");
    const printer = ctx.printer();
    const interactive = a.flags.bool("interactive");
    const prompt = (text: string): void => {
      if (interactive) println(ctx.output.stdout, text);
    };
    const req = await readTxn(ctx.stdin, prompt);
    const resp = await request(ctx.client().txn(req, ctx.call()));
    printer.txn(resp);
  },
};

export const compactionCommand: Command = {
  name: "compaction",
  usage: "[options] <revision>",
  describe: "Compacts the event history in etcd",
  flags: [
    flag(
      "physical",
      "bool",
      false,
      "'true' to wait for compaction to physically remove all old revisions",
    ),
  ],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("compaction command needs 1 argument");
    let revision: number;
    try {
      revision = parseGoInt(args[0] as string, 10);
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    await request(
      ctx.client().compact({ revision, physical: a.flags.bool("physical") }, ctx.call()),
    );
    println(ctx.output.stdout, `compacted revision ${revision}`);
  },
};

// member add | remove | update | list | promote. Member ids are hex on the command line and in the
// output, as etcdctl writes them.

import type { MemberAddResponse } from "../../../api/cluster.js";
import { allArgs, type Command, type CommandGroup } from "../command.js";
import { request } from "../errors.js";
import { badArgs } from "../exit.js";
import { flag, parseHexUint } from "../flags.js";
import { goQuote } from "../go-format.js";
import { println, type Output } from "../output.js";

function memberIdArg(args: readonly string[]): bigint {
  if (args.length !== 1) throw badArgs("member ID is not provided");
  try {
    return parseHexUint(args[0] as string);
  } catch (e) {
    throw badArgs(`bad member ID arg (${(e as Error).message}), expecting ID in Hex`);
  }
}

function peerURLs(text: string): string[] {
  if (text === "") throw badArgs("member peer urls not provided");
  return text.split(",");
}

/** The environment a new member starts with, as etcdctl suggests it after `member add`. */
function printNewMemberEnv(
  out: Output,
  name: string,
  peerURLsText: string,
  r: MemberAddResponse,
): void {
  const cluster = r.members.flatMap((m) =>
    m.peerURLs.map((u) => `${m.ID === r.member.ID ? name : m.name}=${u}`),
  );
  println(out.stdout);
  println(out.stdout, `ETCD_NAME=${goQuote(name)}`);
  println(out.stdout, `ETCD_INITIAL_CLUSTER=${goQuote(cluster.join(","))}`);
  println(out.stdout, `ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerURLsText)}`);
  println(out.stdout, `ETCD_INITIAL_CLUSTER_STATE="existing"`);
}

const add: Command = {
  name: "add",
  usage: "<memberName> [options]",
  describe: "Adds a member into the cluster",
  flags: [
    flag("peer-urls", "string", "", "comma separated peer URLs for the new member."),
    flag("learner", "bool", false, "indicates if the new member is raft learner"),
  ],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length < 1) throw badArgs("member name not provided");
    if (args.length > 1) {
      const hints = args
        .filter((s) => s.toLowerCase().startsWith("http"))
        .map((s) => `, did you mean --peer-urls=${s}`);
      throw badArgs(`too many arguments${hints.join("")}`);
    }
    const name = args[0] as string;
    const urlsText = a.flags.string("peer-urls");
    const urls = peerURLs(urlsText);
    const printer = ctx.printer();
    const isLearner = a.flags.bool("learner");
    const resp = await request(ctx.client().memberAdd({ peerURLs: urls, isLearner }, ctx.call()));
    printer.memberAdd(resp);
    if (printer.format === "simple") printNewMemberEnv(ctx.output, name, urlsText, resp);
  },
};

const remove: Command = {
  name: "remove",
  usage: "<memberID>",
  describe: "Removes a member from the cluster",
  flags: [],
  run: async (ctx, a) => {
    const id = memberIdArg(allArgs(a));
    const printer = ctx.printer();
    const resp = await request(ctx.client().memberRemove({ ID: id }, ctx.call()));
    printer.memberRemove(id, resp);
  },
};

const update: Command = {
  name: "update",
  usage: "<memberID> [options]",
  describe: "Updates a member in the cluster",
  flags: [flag("peer-urls", "string", "", "comma separated peer URLs for the updated member.")],
  run: async (ctx, a) => {
    const id = memberIdArg(allArgs(a));
    const urls = peerURLs(a.flags.string("peer-urls"));
    const printer = ctx.printer();
    const resp = await request(ctx.client().memberUpdate({ ID: id, peerURLs: urls }, ctx.call()));
    printer.memberUpdate(id, resp);
  },
};

const list: Command = {
  name: "list",
  usage: "",
  describe: "Lists all members in the cluster",
  flags: [],
  run: async (ctx) => {
    const printer = ctx.printer();
    const resp = await request(ctx.client().memberList({ linearizable: true }, ctx.call()));
    printer.memberList(resp);
  },
};

const promote: Command = {
  name: "promote",
  usage: "<memberID>",
  describe: "Promotes a non-voting member in the cluster",
  flags: [],
  run: async (ctx, a) => {
    const id = memberIdArg(allArgs(a));
    const printer = ctx.printer();
    const resp = await request(ctx.client().memberPromote({ ID: id }, ctx.call()));
    printer.memberPromote(id, resp);
  },
};

export const memberCommand: CommandGroup = {
  name: "member",
  describe: "Membership related commands",
  flags: [],
  subcommands: [add, remove, update, list, promote],
};

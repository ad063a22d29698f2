// defrag, alarm list | disarm, move-leader.

import { allArgs, type Command, type CommandGroup } from "../command.js";
import { errorText, request } from "../errors.js";
import { badArgs } from "../exit.js";
import { parseHexUint } from "../flags.js";
import { println } from "../output.js";
import type { AlarmMember } from "../types.js";
import { CLUSTER_FLAG, endpointsFromCluster, quietFailure } from "./endpoint.js";

export const defragCommand: Command = {
  name: "defrag",
  usage: "",
  describe: "Defragments the storage of the etcd members with given endpoints",
  flags: [CLUSTER_FLAG],
  run: async (ctx, a) => {
    ctx.printer();
    let failures = 0;
    for (const endpoint of await endpointsFromCluster(ctx, a.flags.bool("cluster"))) {
      try {
        await ctx.client([endpoint]).defragment(ctx.call());
        println(ctx.output.stdout, `Finished defragmenting etcd member[${endpoint}]`);
      } catch (e) {
        failures++;
        println(
          ctx.output.stderr,
          `Failed to defragment etcd member[${endpoint}] (${errorText(e)})`,
        );
      }
    }
    if (failures !== 0) throw quietFailure();
  },
};

const alarmList: Command = {
  name: "list",
  usage: "",
  describe: "Lists all alarms",
  flags: [],
  run: async (ctx, a) => {
    if (allArgs(a).length !== 0) throw badArgs("alarm list command accepts no arguments");
    const printer = ctx.printer();
    const resp = await request(
      ctx.client().alarm({ action: "GET", memberID: 0n, alarm: "NONE" }, ctx.call()),
    );
    printer.alarm(resp);
  },
};

const alarmDisarm: Command = {
  name: "disarm",
  usage: "",
  describe: "Disarms all alarms",
  flags: [],
  run: async (ctx, a) => {
    if (allArgs(a).length !== 0) throw badArgs("alarm disarm command accepts no arguments");
    const printer = ctx.printer();
    const client = ctx.client();
    // As etcd's client does for "every alarm": list them, then clear each one.
    const listed = await request(
      client.alarm({ action: "GET", memberID: 0n, alarm: "NONE" }, ctx.call()),
    );
    const cleared: AlarmMember[] = [];
    for (const alarm of listed.alarms) {
      const resp = await request(client.alarm({ action: "DEACTIVATE", ...alarm }, ctx.call()));
      cleared.push(...resp.alarms);
    }
    printer.alarm({ header: undefined, alarms: cleared });
  },
};

export const alarmCommand: CommandGroup = {
  name: "alarm",
  describe: "Alarm related commands",
  flags: [],
  subcommands: [alarmDisarm, alarmList],
};

export const moveLeaderCommand: Command = {
  name: "move-leader",
  usage: "<transferee-member-id>",
  describe: "Transfers leadership to another etcd cluster member.",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("move-leader command needs 1 argument");
    let target: bigint;
    try {
      target = parseHexUint(args[0] as string);
    } catch (e) {
      throw badArgs((e as Error).message);
    }
    const printer = ctx.printer();
    const endpoints = ctx.global.endpoints;
    for (const endpoint of endpoints) {
      const client = ctx.client([endpoint]);
      const status = await request(client.status(ctx.call()));
      if (status.header.member_id !== status.leader) continue;
      const resp = await request(client.moveLeader({ targetID: target }, ctx.call()));
      return printer.moveLeader(status.leader, target, resp);
    }
    throw badArgs(`no leader endpoint given at [${endpoints.join(" ")}]`);
  },
};

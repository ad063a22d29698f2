// endpoint health | status | hashkv, each over --endpoints or, with --cluster, over every client
// URL in the member list. Each endpoint gets its own client, so the answer is that member's.

import { type Command, type CommandContext, type CommandGroup } from "../command.js";
import { errorText, isEtcdErrorNamed, request } from "../errors.js";
import { CtlError, ExitCode } from "../exit.js";
import { flag } from "../flags.js";
import { formatGoDuration } from "../go-format.js";
import { println } from "../output.js";
import type { EndpointHashKV, EndpointHealth, EndpointStatus } from "../types.js";

export const CLUSTER_FLAG = flag(
  "cluster",
  "bool",
  false,
  "use all endpoints from the cluster member list",
);

/** --endpoints, or with --cluster the client URLs of every member (etcdctl's endpointsFromCluster). */
export async function endpointsFromCluster(
  ctx: CommandContext,
  cluster: boolean,
): Promise<string[]> {
  if (!cluster) return [...ctx.global.endpoints];
  const members = await request(
    ctx.client().memberList({ linearizable: true }, ctx.call()),
    (m) => `failed to fetch endpoints from etcd cluster member list: ${m}`,
  );
  return members.members.flatMap((m) => m.clientURLs);
}

/** Exit 1 without a message: the failures were already reported per endpoint. */
export function quietFailure(): CtlError {
  return new CtlError(ExitCode.Error, "", undefined, true);
}

/** One endpoint's health: a linearizable read, then no raised alarm. */
async function probe(ctx: CommandContext, endpoint: string): Promise<EndpointHealth> {
  const client = ctx.client([endpoint]);
  const started = ctx.nowNs();
  let error = "";
  try {
    await client.range({ key: new TextEncoder().encode("health") }, ctx.call());
  } catch (e) {
    // A permission error still went through consensus.
    if (!isEtcdErrorNamed(e, "PermissionDenied")) error = errorText(e);
  }
  const took = formatGoDuration(ctx.nowNs() - started);
  if (error !== "") return { endpoint, health: false, took, error };
  try {
    const alarms = await client.alarm({ action: "GET", memberID: 0n, alarm: "NONE" }, ctx.call());
    if (alarms.alarms.length === 0) return { endpoint, health: true, took, error: "" };
    const names = alarms.alarms.map((a) => (a.alarm === "NONE" ? "UNKNOWN" : a.alarm) + " ");
    return { endpoint, health: false, took, error: `Active Alarm(s): ${names.join("")}` };
  } catch {
    return { endpoint, health: false, took, error: "Unable to fetch the alarm list" };
  }
}

const health: Command = {
  name: "health",
  usage: "",
  describe: "Checks the healthiness of endpoints specified in `--endpoints` flag",
  flags: [],
  run: async (ctx, a) => {
    const printer = ctx.printer();
    const endpoints = await endpointsFromCluster(ctx, a.flags.bool("cluster"));
    const list = await Promise.all(endpoints.map((ep) => probe(ctx, ep)));
    printer.endpointHealth(list);
    if (list.some((h) => h.error !== "")) throw new CtlError(ExitCode.Error, "unhealthy cluster");
  },
};

const status: Command = {
  name: "status",
  usage: "",
  describe: "Prints out the status of endpoints specified in `--endpoints` flag",
  flags: [],
  run: async (ctx, a) => {
    const printer = ctx.printer();
    const list: EndpointStatus[] = [];
    let failed = false;
    for (const endpoint of await endpointsFromCluster(ctx, a.flags.bool("cluster"))) {
      try {
        list.push({ endpoint, status: await ctx.client([endpoint]).status(ctx.call()) });
      } catch (e) {
        failed = true;
        println(
          ctx.output.stderr,
          `Failed to get the status of endpoint ${endpoint} (${errorText(e)})`,
        );
      }
    }
    printer.endpointStatus(list);
    if (failed) throw quietFailure();
  },
};

const hashKV: Command = {
  name: "hashkv",
  usage: "",
  describe: "Prints the KV history hash for each endpoint in --endpoints",
  flags: [flag("rev", "int", 0, "maximum revision to hash (default: all revisions)")],
  run: async (ctx, a) => {
    const printer = ctx.printer();
    const list: EndpointHashKV[] = [];
    let lastError: string | undefined;
    for (const endpoint of await endpointsFromCluster(ctx, a.flags.bool("cluster"))) {
      try {
        const req = { revision: a.flags.number("rev") };
        list.push({ endpoint, hashKV: await ctx.client([endpoint]).hashKV(req, ctx.call()) });
      } catch (e) {
        lastError = errorText(e);
        println(ctx.output.stderr, `Failed to get the hash of endpoint ${endpoint} (${lastError})`);
      }
    }
    printer.endpointHashKV(list);
    if (lastError !== undefined) throw new CtlError(ExitCode.Error, lastError);
  },
};

export const endpointCommand: CommandGroup = {
  name: "endpoint",
  describe: "Endpoint related commands",
  flags: [CLUSTER_FLAG],
  subcommands: [health, status, hashKV],
};

// snapshot save <file>: downloads a member's snapshot, checks its sha256 trailer and writes the file
// through a ".part" file renamed into place once it is synced, so a failed save leaves no file.
// snapshot status <file>: etcdutl's hash, revision, total keys and total size of a saved file.
// snapshot restore <file>: etcdutl's restore, a new data directory for a member of a new cluster
// holding the snapshot's data (see src/real/server/snapshot-file.ts).

import { open, rename, rm } from "node:fs/promises";
import { verifySnapshotTrailer } from "../../grpc/snapshot-trailer.js";
import { parseInitialCluster } from "../../config/initial-cluster.js";
import { parseAdvertiseURLs } from "../../config/urls.js";
import { restoreSnapshot, snapshotFileStatus } from "../../server/snapshot-file.js";
import { allArgs, type Command, type CommandGroup } from "../command.js";
import { errorText } from "../errors.js";
import { badArgs, CtlError, ExitCode } from "../exit.js";
import { flag } from "../flags.js";

async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const file = await open(path, "w", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

const save: Command = {
  name: "save",
  usage: "<filename>",
  describe: "Stores an etcd node backend snapshot to a given file",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("snapshot save expects one argument");
    const path = args[0] as string;
    const interrupted = (message: string): CtlError => new CtlError(ExitCode.Interrupted, message);
    const endpoints = ctx.global.endpoints;
    if (endpoints.length !== 1) {
      throw interrupted(
        `snapshot must be requested to one selected node, not multiple [${endpoints.join(" ")}]`,
      );
    }
    // Without --command-timeout a snapshot may take as long as it takes (etcdctl's rule).
    const options = ctx.global.commandTimeoutGiven ? ctx.call() : {};
    let file: Uint8Array;
    try {
      file = await ctx.client().snapshot(options);
    } catch (e) {
      throw interrupted(errorText(e));
    }
    const checked = verifySnapshotTrailer(file);
    if (!checked.ok) throw interrupted(checked.error);
    const partPath = `${path}.part`;
    try {
      await writeSynced(partPath, file);
      await rename(partPath, path);
    } catch (e) {
      await rm(partPath, { force: true });
      throw interrupted((e as Error).message);
    }
    ctx.output.stdout.write(`Snapshot saved at ${path}\n`);
  },
};

const status: Command = {
  name: "status",
  usage: "<filename>",
  describe: "Gets backend snapshot status of a given file",
  flags: [],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("snapshot status requires exactly one argument");
    const printer = ctx.printer();
    let s;
    try {
      s = await snapshotFileStatus(args[0] as string);
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    printer.dbStatus({
      hash: s.hash,
      revision: s.revision,
      totalKey: s.totalKey,
      totalSize: s.totalSize,
    });
  },
};

const restore: Command = {
  name: "restore",
  usage: "<filename> [options]",
  describe: "Restores an etcd member snapshot to an etcd directory",
  flags: [
    flag("data-dir", "string", "", "Path to the data directory"),
    flag("name", "string", "default", "Human-readable name for this member"),
    flag(
      "initial-cluster",
      "string",
      "default=http://localhost:2380",
      "Initial cluster configuration for restore bootstrap",
    ),
    flag(
      "initial-cluster-token",
      "string",
      "etcd-cluster",
      "Initial cluster token for the etcd cluster during restore bootstrap",
    ),
    flag(
      "initial-advertise-peer-urls",
      "string",
      "http://localhost:2380",
      "List of this member's peer URLs to advertise to the rest of the cluster",
    ),
    flag("skip-hash-check", "bool", false, "Ignore snapshot integrity hash value"),
  ],
  run: async (ctx, a) => {
    const args = allArgs(a);
    if (args.length !== 1) throw badArgs("snapshot restore requires exactly one argument");
    const name = a.flags.string("name");
    const dataDir = a.flags.string("data-dir") || `${name}.etcd`;
    const cluster = parseInitialCluster(a.flags.string("initial-cluster"));
    if (!cluster.ok) throw new CtlError(ExitCode.Error, `--initial-cluster: ${cluster.error}`);
    const urls = parseAdvertiseURLs(a.flags.string("initial-advertise-peer-urls"));
    if (!urls.ok) {
      throw new CtlError(ExitCode.Error, `--initial-advertise-peer-urls: ${urls.error}`);
    }
    try {
      await restoreSnapshot({
        snapshotPath: args[0] as string,
        dataDir,
        name,
        initialCluster: cluster.value,
        initialClusterToken: a.flags.string("initial-cluster-token"),
        initialAdvertisePeerURLs: urls.value,
        skipHashCheck: a.flags.bool("skip-hash-check"),
      });
    } catch (e) {
      throw new CtlError(ExitCode.Error, (e as Error).message);
    }
    ctx.output.stderr.write(`restored snapshot ${args[0] as string} into ${dataDir}\n`);
  },
};

export const snapshotCommand: CommandGroup = {
  name: "snapshot",
  describe: "Manages etcd node snapshots",
  flags: [],
  subcommands: [save, restore, status],
};

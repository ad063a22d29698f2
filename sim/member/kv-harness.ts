// The pieces of a KV run, wired on one world: the cluster, the recording clients with their
// traffic and compactor, and the watchers of the key prefix. Runs add faults and checks around it.
// Clients and watchers pick members from the cluster's endpoints, which follow the membership.
import { latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import type { MemberConfig } from "../../src/server/config.js";
import type { LinkFaults } from "../net.js";
import { World } from "../world.js";
import { KvCluster, type KvDiskOptions } from "./kv-cluster.js";
import { SimClient, SimWatcher } from "./kv-client.js";
import { KvTraffic, type KvProfile } from "./kv-traffic.js";
import { AUTH_ADMIN_CLIENT, authUserOf, credentialsUserOf, KvAuthTraffic } from "./kv-auth.js";

export interface KvHarnessOptions {
  readonly seed: number;
  readonly members: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly link: LinkFaults;
  readonly profile: KvProfile;
  readonly clients: number;
  readonly keys: number;
  readonly watchers: number;
  readonly ratePerS: number;
  /** No client operation or compaction starts at or after this virtual time. */
  readonly trafficEndMs: number;
  readonly leaseTtlS: number;
  readonly compactEveryMs: number;
  readonly memberConfig?: Partial<MemberConfig>;
  /** Members on simulated disks (see KvCluster). */
  readonly disk?: KvDiskOptions;
  /** Auth traffic (kv-auth.ts): clients act as users, root changes auth as the traffic runs. */
  readonly auth?: boolean;
}

/** About this long between two auth changes of the auth traffic. */
const AUTH_CHANGE_EVERY_MS = 1_000;

/** etcd clients give up on a request after this long; members a little earlier. */
export const CLIENT_TIMEOUT_MS = 3_000;

export function keyPrefixOf(profile: KvProfile): string {
  return profile === "kubernetes" ? "/registry/pods/" : "k/";
}

export class KvHarness {
  readonly world: World;
  readonly cluster: KvCluster;
  readonly traffic: KvTraffic;
  readonly watchers: SimWatcher[];
  readonly keyPrefix: string;
  readonly clientNames: string[];
  /** The auth traffic, in runs that have it. */
  readonly auth: KvAuthTraffic | undefined;

  constructor(readonly o: KvHarnessOptions) {
    this.world = new World(o.seed);
    this.cluster = new KvCluster(this.world, {
      members: o.members,
      heartbeatMs: o.heartbeatMs,
      electionMs: o.electionMs,
      link: o.link,
      ...(o.disk === undefined ? {} : { disk: o.disk }),
      ...(o.auth === true ? { users: credentialsUserOf } : {}),
      // Requests give up on the member before the client does, so most outcomes are known.
      memberConfig: {
        requestTimeoutMs: CLIENT_TIMEOUT_MS - 500,
        leaseCheckpointIntervalMs: 5_000,
        watchProgressNotifyMs: 1_000,
        ...o.memberConfig,
      },
    });
    this.keyPrefix = keyPrefixOf(o.profile);
    const client = (name: string) =>
      new SimClient(this.world, this.cluster.network, name, CLIENT_TIMEOUT_MS);
    const clients = Array.from({ length: o.clients }, (_, i) => client(`client-${i}`));
    this.traffic = new KvTraffic(
      this.world,
      clients,
      client("compactor"),
      this.cluster.endpoints,
      this.world.stream("workload"),
      {
        profile: o.profile,
        keyPrefix: this.keyPrefix,
        keys: o.keys,
        ratePerS: o.ratePerS,
        leaseTtlS: o.leaseTtlS,
        compactEveryMs: o.compactEveryMs,
        endMs: o.trafficEndMs,
        ...(o.auth === true ? { userOf: authUserOf } : {}),
      },
    );
    this.auth =
      o.auth === true
        ? new KvAuthTraffic(
            this.world,
            client(AUTH_ADMIN_CLIENT),
            this.traffic,
            this.cluster.endpoints,
            this.world.stream("auth"),
            { keyPrefix: this.keyPrefix, everyMs: AUTH_CHANGE_EVERY_MS, endMs: o.trafficEndMs },
          )
        : undefined;
    const prefix = latin1ToBytes(this.keyPrefix);
    this.watchers = Array.from(
      { length: o.watchers },
      (_, i) =>
        new SimWatcher(
          this.world,
          this.cluster.network,
          `watch-${i}`,
          client(`watch-${i}-lister`),
          this.cluster.endpoints,
          this.world.stream(`watch-${i}`),
          {
            key: prefix,
            rangeEnd: prefixEnd(prefix),
            progressEveryMs: 1_000,
            staleAfterMs: 2_500,
            prevKv: true,
            progressNotify: true,
            listFirst: o.profile === "kubernetes",
            listRetryMs: 200,
          },
        ),
    );
    this.clientNames = [
      ...clients.map((c) => c.name),
      "compactor",
      ...this.watchers.flatMap((w) => [w.name, `${w.name}-lister`]),
      ...(this.auth === undefined ? [] : [AUTH_ADMIN_CLIENT]),
    ];
  }

  start(): void {
    this.traffic.start();
    this.auth?.start();
    for (const w of this.watchers) w.start();
  }

  stopWatchers(): void {
    for (const w of this.watchers) w.stop();
  }
}

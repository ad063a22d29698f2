// One detcd member as a real process: the engine's Member on the system clock and timers, its
// Raft log and snapshots on the real disk, members talking over the TCP peer transport, clients on
// the gRPC + HTTP client port. Everything here wires parts together; the decisions are the
// engine's.
import { promises as fs } from "node:fs";
import { Errors } from "../../api/errors.js";
import type { ConfState } from "../../raft/types.js";
import { noFailpoints } from "../../lib/failpoints.js";
import { Member, type MemberDurability } from "../../server/member.js";
import type { MemberInfo } from "../../server/membership.js";
import { DiskStorage, describeFailure, type Recovered } from "../../storage/index.js";
import type { ServerConfig } from "../config/server-config.js";
import type { ListenURL } from "../config/urls.js";
import { FsDisk } from "../fs-disk.js";
import { startClientServer, type ClientServer } from "../grpc/client-port.js";
import type { CallObserver } from "../grpc/server.js";
import type { ServerLogger } from "../log.js";
import { PeerTransport } from "../peer/transport.js";
import { SystemClock, SystemRandom, SystemTimers } from "../system-clock.js";
import { openMemberTls, type MemberTls } from "../tls/member-tls.js";
import type { TlsEndpoint } from "../tls/reloading-tls.js";
import { compactionPlanner } from "./auto-compaction.js";
import { newClusterIdentity } from "./cluster-identity.js";
import { answerMembersQuery, planJoin } from "./join.js";
import { clientBackend, loadAuthTokens } from "./client-backend.js";
import { MEMBER_DIR, readMemberMeta, writeMemberMeta, type MemberMeta } from "./member-meta.js";

/** etcd keeps this many entries below a snapshot so slow followers catch up from the log. */
const CATCH_UP_ENTRIES = 5_000;
/** How often the transport's peer addresses are refreshed from the applied member list. */
const PEER_REFRESH_MS = 100;
const JOIN_QUERY_TIMEOUT_MS = 5_000;

export interface DetcdServerOptions {
  readonly config: ServerConfig;
  readonly log: ServerLogger;
  /**
   * The member stopped for good on a storage failure; the process should exit (a supervisor
   * restarts it from its data directory). Default: log only.
   */
  readonly onFatal?: (reason: string) => void;
  /** Hears each fsync of the member's storage files and how long it took, in seconds. */
  readonly onFsync?: (seconds: number) => void;
  /** Told when each gRPC call starts and ends (the metrics). */
  readonly grpcObserver?: CallObserver;
  /** Extra HTTP handler for the client port (the endpoints module's); 404 when absent. */
  readonly http?: Parameters<typeof startClientServer>[0]["http"];
  /** How often TLS certificate files are checked for a rotation (default 1000 ms). */
  readonly tlsReloadPollMs?: number;
}

export class DetcdServer {
  private readonly refresh: NodeJS.Timeout;
  private compactionTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly member: Member,
    readonly meta: MemberMeta,
    private readonly storage: DiskStorage | undefined,
    private readonly timers: SystemTimers,
    private readonly transport: PeerTransport,
    private readonly clients: ClientServer,
    readonly peerPort: number,
    /** The member's TLS roles (certificates in use, reloaded on change). */
    readonly tls: MemberTls,
    private readonly o: DetcdServerOptions,
  ) {
    this.refresh = setInterval(() => this.refreshPeers(), PEER_REFRESH_MS);
    this.refreshPeers();
    this.startAutoCompaction();
  }

  /** The peer transport, for its traffic counters. */
  get transportForMetrics(): PeerTransport {
    return this.transport;
  }

  /** The ports the client URLs bound (useful when a URL asked for port 0). */
  get clientPorts(): readonly number[] {
    return this.clients.ports;
  }

  static async start(o: DetcdServerOptions): Promise<DetcdServer> {
    const c = o.config;
    await fs.mkdir(c.dataDir, { recursive: true, mode: 0o700 });
    const tls = await openMemberTls(c, {
      ...(o.tlsReloadPollMs === undefined ? {} : { reloadPollMs: o.tlsReloadPollMs }),
      log: (level, msg, fields) => o.log[level](fields, msg),
    });
    try {
      return await DetcdServer.startWith(o, tls);
    } catch (e) {
      tls.close();
      throw e;
    }
  }

  private static async startWith(o: DetcdServerOptions, tls: MemberTls): Promise<DetcdServer> {
    const c = o.config;
    // JWT key files are checked before anything starts.
    const authTokens = await loadAuthTokens(c.authToken);
    const meta = (await readMemberMeta(c.dataDir)) ?? (await bootstrap(c, o.log, tls.peer));
    o.log.info(
      {
        name: meta.name,
        "member-id": meta.id.toString(16),
        "cluster-id": meta.clusterId.toString(16),
      },
      "starting a member",
    );
    const opened = await openStorage(c.dataDir, meta, o.onFsync);
    const timers = new SystemTimers();
    // The transport delivers to the member, which needs the transport to send: built in turn.
    const ref: { member?: Member } = {};
    const peerListen = c.listenPeerURLs[0];
    if (peerListen === undefined) throw new Error("--listen-peer-urls: no URL to listen on");
    const transport = new PeerTransport({
      selfId: meta.id,
      clusterId: meta.clusterId,
      listen: {
        host: peerListen.bindHost,
        port: peerListen.port,
        tls: peerListen.scheme === "https",
      },
      ...(tls.peer === undefined ? {} : { tls: tls.peer }),
      onMessage: (from, message) => ref.member?.receive(from, message),
      onQuery: (body) =>
        answerMembersQuery(body, () => ({
          clusterId: meta.clusterId,
          bootstrapMembers: meta.bootstrapMembers,
          members: ref.member?.members() ?? [],
        })),
      log: (level, msg, fields) => o.log[level](fields, msg),
    });
    const member = newMember(c, meta, opened, timers, transport, o);
    ref.member = member;
    const peerPort = await transport.start();
    const clients = await startClientServer({
      backend: clientBackend(member, timers, {
        tokens: authTokens,
        clientCertAuth: c.clientTls.clientCertAuth,
      }),
      ...(o.http === undefined ? {} : { http: o.http }),
      listen: c.listenClientURLs.map((u) => clientListen(u, tls.client)),
      onTlsError: (error, remote) =>
        o.log.warn({ "remote-addr": remote, error: error.message }, "rejected connection"),
      grpc: {
        maxRequestBytes: c.maxRequestBytes,
        ...(o.grpcObserver === undefined ? {} : { observer: o.grpcObserver }),
        onInternalError: (method, error) =>
          o.log.error({ method: method.path, error }, "internal error serving a request"),
      },
    });
    o.log.info(
      { "client-urls": c.listenClientURLs.map((u) => u.url), "peer-url": peerListen.url },
      "serving client and peer traffic",
    );
    return new DetcdServer(
      member,
      meta,
      opened.storage,
      timers,
      transport,
      clients,
      peerPort,
      tls,
      o,
    );
  }

  /** Stops serving and closes everything; the data directory stays as it is. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.refresh);
    if (this.compactionTimer !== undefined) clearInterval(this.compactionTimer);
    this.member.stop();
    this.timers.cancelAll();
    await Promise.all([this.clients.close(), this.transport.close()]);
    this.tls.close();
    const storage = this.storage;
    if (storage !== undefined) await new Promise<void>((resolve) => storage.close(() => resolve()));
    this.o.log.info({ name: this.meta.name }, "stopped the member");
  }

  private refreshPeers(): void {
    const peers = new Map<number, string>();
    for (const m of this.member.members()) {
      const url = m.peerURLs[0];
      if (m.id !== this.member.id && url !== undefined) peers.set(m.id, url);
    }
    this.transport.setPeers(peers);
  }

  /** etcd's compactor runs on the leader only; followers apply the compaction it proposes. */
  private startAutoCompaction(): void {
    const planner = compactionPlanner(this.o.config.autoCompaction);
    if (planner === undefined) return;
    const clock = new SystemClock();
    this.compactionTimer = setInterval(() => {
      const m = this.member;
      const target = planner.tick(clock.now(), m.kv.currentRevision);
      if (target === undefined || !m.isLeader) return;
      m.compact({ revision: target }, (r) => {
        if (r.ok || r.error === Errors.Compacted) planner.compacted(target);
        this.o.log.info({ revision: target, ok: r.ok }, "auto compaction");
      });
    }, planner.tickMs);
  }
}

/** The identity of a fresh data directory: a new cluster's member, or a member joining one. */
async function bootstrap(
  c: ServerConfig,
  log: ServerLogger,
  peerTls: TlsEndpoint | undefined,
): Promise<MemberMeta> {
  let meta: MemberMeta;
  if (c.initialClusterState === "new") {
    const identity = newClusterIdentity(c.initialCluster, c.initialClusterToken);
    const me = identity.members.find((m) => m.name === c.name);
    if (me === undefined)
      throw new Error(`couldn't find local name "${c.name}" in the initial cluster configuration`);
    meta = {
      name: c.name,
      id: me.id,
      clusterId: identity.clusterId,
      bootstrapMembers: identity.members,
      joined: false,
    };
  } else {
    const own = new Set(c.initialAdvertisePeerURLs);
    const others = c.initialCluster.flatMap((m) => m.peerURLs).filter((u) => !own.has(u));
    log.info({ peers: others }, "joining an existing cluster");
    const plan = await planJoin(others, c.initialAdvertisePeerURLs, JOIN_QUERY_TIMEOUT_MS, peerTls);
    meta = {
      name: c.name,
      id: plan.id,
      clusterId: plan.view.clusterId,
      bootstrapMembers: plan.view.bootstrapMembers,
      joined: true,
    };
  }
  await writeMemberMeta(c.dataDir, meta);
  return meta;
}

/** A client URL to listen on; an https one serves TLS with the client certificate. */
function clientListen(u: ListenURL, tls: TlsEndpoint | undefined) {
  if (u.scheme === "http") return { host: u.bindHost, port: u.port };
  if (tls === undefined) throw new Error(`${u.url}: https needs the client TLS files`);
  return { host: u.bindHost, port: u.port, tls };
}

interface OpenedStorage {
  readonly storage: DiskStorage | undefined;
  readonly recovered: Recovered | undefined;
  /** Recovery found corruption: the member starts with the CORRUPT alarm raised. */
  readonly corrupt: string | undefined;
}

function confStateOf(members: readonly MemberInfo[]): ConfState {
  return {
    voters: members.map((m) => m.id),
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
}

function openStorage(
  dataDir: string,
  meta: MemberMeta,
  onFsync: ((seconds: number) => void) | undefined,
): Promise<OpenedStorage> {
  const disk = new FsDisk(dataDir, onFsync);
  const options = { dir: MEMBER_DIR, initialConfState: confStateOf(meta.bootstrapMembers) };
  return new Promise((resolve, reject) => {
    DiskStorage.open(disk, options, (opened) => {
      if (!opened.ok) {
        const reason = describeFailure(opened.error);
        if (opened.error.kind === "corrupt") {
          return resolve({ storage: undefined, recovered: undefined, corrupt: reason });
        }
        return reject(new Error(`${dataDir}: ${reason}`));
      }
      const { storage, recovered } = opened.value;
      const bad = recovered.corruptSnapshots[0];
      resolve({
        storage,
        recovered,
        corrupt: bad === undefined ? undefined : `${bad.file}: ${bad.reason}`,
      });
    });
  });
}

function newMember(
  c: ServerConfig,
  meta: MemberMeta,
  opened: OpenedStorage,
  timers: SystemTimers,
  transport: PeerTransport,
  o: DetcdServerOptions,
): Member {
  const fatal = (reason: string) => {
    o.log.error({ reason }, "the member stopped on a storage failure");
    o.onFatal?.(reason);
  };
  const durable: MemberDurability | undefined =
    opened.storage === undefined || opened.recovered === undefined
      ? undefined
      : {
          storage: opened.storage,
          recovered: opened.recovered,
          failpoints: noFailpoints(),
          snapshotCount: c.snapshotCount,
          catchUpEntries: CATCH_UP_ENTRIES,
          snapshotReportTimeoutMs: c.electionTimeoutMs * 10,
          onFatal: fatal,
          onCorrupt: (reason) => o.log.error({ reason }, "corruption found: CORRUPT alarm raised"),
        };
  return new Member({
    id: meta.id,
    peers: meta.bootstrapMembers.map((m) => m.id),
    joining: meta.joined,
    initialMembers: meta.bootstrapMembers,
    clusterId: meta.clusterId,
    attributes: { name: c.name, clientURLs: c.advertiseClientURLs },
    env: { clock: new SystemClock(), timers, random: new SystemRandom() },
    send: (to, message) => transport.send(to, message),
    config: {
      heartbeatMs: c.heartbeatIntervalMs,
      electionMs: c.electionTimeoutMs,
      maxRequestBytes: c.maxRequestBytes,
      maxTxnOps: c.maxTxnOps,
      quotaBackendBytes: c.quotaBackendBytes,
      watchProgressNotifyMs: c.watchProgressNotifyIntervalMs,
      authTokenTtlMs: c.authTokenTtlMs,
    },
    ...(durable === undefined ? {} : { durable }),
    ...(opened.corrupt === undefined ? {} : { corrupt: opened.corrupt }),
  });
}

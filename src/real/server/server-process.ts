// The detcd process around a DetcdServer: metrics, the HTTP endpoints (on the client port and on
// --listen-metrics-urls), signal handling, and exit on a fatal storage error.
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import { utf8 } from "../../lib/bytes.js";
import type { ServerConfig } from "../config/server-config.js";
import type { ListenURL } from "../config/urls.js";
import type { MethodInfo } from "../grpc/services.js";
import type { CallObserver } from "../grpc/server.js";
import { httpHandler, type HealthQuery, type HealthResult } from "../http-endpoints.js";
import type { ServerLogger } from "../log.js";
import { grpcCodeName, ServerMetrics, type GrpcType } from "../metrics.js";
import { DetcdServer } from "./detcd-server.js";
import { LeaderChangeSampler, metricsSourceOf } from "./server-metrics-source.js";

/** etcd's /health reads the key "health" with this timeout. */
const HEALTH_READ_TIMEOUT_MS = 2_000;
const SAMPLE_MS = 500;

export interface RunningProcess {
  readonly server: DetcdServer;
  readonly metrics: ServerMetrics;
  stop(): Promise<void>;
}

export async function startServerProcess(
  config: ServerConfig,
  log: ServerLogger,
  options: { readonly exitOnSignal?: boolean } = {},
): Promise<RunningProcess> {
  const metrics = new ServerMetrics();
  // The endpoints answer from the server once it has started.
  const ref: { server?: DetcdServer } = {};
  const http = httpHandler({
    health: (q) => (ref.server === undefined ? notStarted() : health(ref.server, q)),
    metrics,
  });
  const s = await DetcdServer.start({
    config,
    log,
    http,
    grpcObserver: grpcObserver(metrics),
    onFsync: (seconds) => metrics.walFsync(seconds),
    onFatal: () => process.exit(1),
  });
  ref.server = s;
  metrics.setSource(metricsSourceOf(s.member, s.transportForMetrics));
  metrics.setServerId(s.member.id.toString(16));
  const sampler = new LeaderChangeSampler(s.member, metrics);
  const sampling = setInterval(() => sampler.sample(), SAMPLE_MS);
  const metricsServers = await Promise.all(
    config.listenMetricsURLs.map((u) => listen(metricsServer(u, s, http), u.bindHost, u.port)),
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(sampling);
      await Promise.all(metricsServers.map((m) => new Promise((r) => m.close(r))));
      await s.stop();
    })();
    return stopping;
  };
  if (options.exitOnSignal !== false) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        log.info({ signal }, "received a signal, shutting down");
        void stop().then(() => process.exit(0));
      });
    }
  }
  return { server: s, metrics, stop };
}

/** A --listen-metrics-urls server: https ones use the client certificate (reloaded with it). */
function metricsServer(
  u: ListenURL,
  s: DetcdServer,
  handler: ReturnType<typeof httpHandler>,
): Server {
  const tls = s.tls.client;
  if (u.scheme === "http" || tls === undefined) return createServer(handler);
  const server = createHttpsServer(tls.serverOptions(), handler);
  // Client certificates are judged as on the client port, before a request is read.
  server.on("secureConnection", (socket: TLSSocket) => {
    if (tls.checkPeer(socket) !== undefined) socket.destroy();
  });
  const unsubscribe = tls.onReload(() => server.setSecureContext(tls.serverOptions()));
  server.once("close", unsubscribe);
  return server;
}

function notStarted(): HealthResult {
  return { hasLeader: false, alarms: [], isLearner: false };
}

/** etcd's /health: a leader, no alarm, and a read of "health" (linearizable unless asked not to). */
function health(server: DetcdServer, q: HealthQuery): Promise<HealthResult> {
  const m = server.member;
  const alarms = m.alarms.list().map((a) => a.alarm);
  const base = { hasLeader: m.leader !== 0, alarms, isLearner: m.isLearner };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) return resolve(base);
      resolve(
        q.linearizable
          ? { ...base, linearizableReadError: error }
          : { ...base, serializableReadError: error },
      );
    };
    const timer = setTimeout(() => finish("context deadline exceeded"), HEALTH_READ_TIMEOUT_MS);
    m.range({ key: utf8("health"), serializable: !q.linearizable }, (r) =>
      finish(r.ok ? undefined : r.error.message),
    );
  });
}

function grpcTypeOf(m: MethodInfo): GrpcType {
  if (m.requestStream) return m.responseStream ? "bidi_stream" : "client_stream";
  return m.responseStream ? "server_stream" : "unary";
}

function grpcObserver(metrics: ServerMetrics): CallObserver {
  return {
    started: (m) => metrics.grpcStarted(grpcTypeOf(m), m.service, m.method),
    handled: (m, code) =>
      metrics.grpcHandled(grpcTypeOf(m), m.service, m.method, grpcCodeName(code)),
  };
}

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

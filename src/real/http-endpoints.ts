// etcd's HTTP endpoints beside the gRPC API: /health, /livez, /readyz, /version and /metrics, with
// etcd's status codes, bodies and reason strings (etcdhttp's health.go, version.go), so load
// balancers, Kubernetes probes and Prometheus treat a detcd member as an etcd one.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AlarmType } from "../server/member.js";
import type { ServerMetrics } from "./metrics.js";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "./version.js";

/** What the member answers about its health; the host builds it for each request. */
export interface HealthResult {
  readonly hasLeader: boolean;
  /** Alarms raised in the cluster. */
  readonly alarms: readonly AlarmType[];
  readonly isLearner: boolean;
  /** Why a local (serializable) read failed; absent when it succeeded or was not tried. */
  readonly serializableReadError?: string;
  /** Why a linearizable read failed; absent when it succeeded or was not tried. */
  readonly linearizableReadError?: string;
}

/** Which reads the endpoint looks at, so the host may skip a linearizable read nobody checks. */
export interface HealthQuery {
  readonly linearizable: boolean;
}

/** The body of /version (etcd 3.5's shape). */
export interface VersionInfo {
  readonly etcdserver: string;
  readonly etcdcluster: string;
}

export interface HttpEndpointsOptions {
  readonly health: (query: HealthQuery) => HealthResult | Promise<HealthResult>;
  readonly metrics: ServerMetrics;
  /** Defaults to the versions of src/real/version.ts; a function is read per request. */
  readonly version?: VersionInfo | (() => VersionInfo);
}

export type HttpListener = (req: IncomingMessage, res: ServerResponse) => void;

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** A check of /livez or /readyz: an error message, or undefined when it passes. */
type Check = (h: HealthResult) => string | undefined;

const NO_LEADER = "etcdserver: no leader";

const CHECKS: Readonly<Record<string, Check>> = {
  data_corruption: (h) => (h.alarms.includes("CORRUPT") ? "alarm activated: CORRUPT" : undefined),
  serializable_read: (h) => h.serializableReadError,
  linearizable_read: (h) => h.linearizableReadError ?? (h.hasLeader ? undefined : NO_LEADER),
  non_learner: (h) => (h.isLearner ? "not supported for learner" : undefined),
};

/** etcd's checks per endpoint, in the order they are reported. */
const LIVEZ_CHECKS = ["serializable_read"];
const READYZ_CHECKS = ["data_corruption", "serializable_read", "linearizable_read", "non_learner"];

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

/**
 * A node:http request listener serving the endpoints. GET only (other methods get 405 with an
 * Allow header); unknown paths get 404. It never throws: a failing health or metrics callback
 * answers 500 with the error's message.
 */
export function httpHandler(options: HttpEndpointsOptions): HttpListener {
  return (req, res) => {
    void route(options, req)
      .catch((e: unknown) => textReply(500, `${e instanceof Error ? e.message : String(e)}\n`))
      .then((reply) => send(res, reply));
  };
}

async function route(options: HttpEndpointsOptions, req: IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  const known =
    path === "/health" ||
    path === "/version" ||
    path === "/metrics" ||
    checksOf(path) !== undefined;
  if (!known) return textReply(404, "404 page not found\n");
  if (req.method !== "GET") return textReply(405, "Method Not Allowed\n");
  if (path === "/health") return health(options, url.searchParams);
  if (path === "/version") return jsonReply(200, versionOf(options));
  if (path === "/metrics")
    return {
      status: 200,
      contentType: options.metrics.contentType,
      body: await options.metrics.render(),
    };
  return probe(options, path, url.searchParams);
}

function send(res: ServerResponse, reply: Reply): void {
  res.statusCode = reply.status;
  res.setHeader("Content-Type", reply.contentType);
  res.setHeader("X-Content-Type-Options", "nosniff");
  if (reply.status === 405) res.setHeader("Allow", "GET");
  res.end(reply.body);
}

function textReply(status: number, body: string): Reply {
  return { status, contentType: TEXT, body };
}

function jsonReply(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

function versionOf(options: HttpEndpointsOptions): VersionInfo {
  const v = options.version;
  const info =
    v === undefined
      ? { etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION }
      : typeof v === "function"
        ? v()
        : v;
  return { etcdserver: info.etcdserver, etcdcluster: info.etcdcluster };
}

/** Query values of `name`, empty ones dropped (etcd's getQuerySet). */
function querySet(params: URLSearchParams, name: string): Set<string> {
  return new Set(params.getAll(name).filter((v) => v !== ""));
}

/**
 * /health as etcd 3.5 answers it: alarms first (except those in ?exclude=), then the leader
 * (skipped with ?serializable=true), then the read; the first failure is the reason.
 */
async function health(options: HttpEndpointsOptions, params: URLSearchParams): Promise<Reply> {
  const serializable = params.get("serializable") === "true";
  const h = await options.health({ linearizable: !serializable });
  const reason = healthReason(h, querySet(params, "exclude"), serializable);
  return reason === undefined
    ? jsonReply(200, { health: "true", reason: "" })
    : jsonReply(503, { health: "false", reason });
}

function healthReason(
  h: HealthResult,
  excluded: ReadonlySet<string>,
  serializable: boolean,
): string | undefined {
  const alarm = h.alarms.find((a) => !excluded.has(a));
  if (alarm !== undefined) return alarmReason(alarm);
  if (!serializable && !h.hasLeader) return "RAFT NO LEADER";
  const readError = serializable ? h.serializableReadError : h.linearizableReadError;
  if (readError !== undefined) return `RANGE ERROR:${readError}`;
  return undefined;
}

function alarmReason(alarm: AlarmType): string {
  switch (alarm) {
    case "NOSPACE":
      return "ALARM NOSPACE";
    case "CORRUPT":
      return "ALARM CORRUPT";
    default:
      return "ALARM UNKNOWN";
  }
}

/** The checks behind a probe path: /livez, /readyz, or one check such as /readyz/non_learner. */
function checksOf(path: string): string[] | undefined {
  const [, root, check, ...more] = path.split("/");
  const all = root === "livez" ? LIVEZ_CHECKS : root === "readyz" ? READYZ_CHECKS : undefined;
  if (all === undefined || more.length > 0) return undefined;
  if (check === undefined) return all;
  return all.includes(check) ? [check] : undefined;
}

/**
 * /livez and /readyz (etcd 3.5.11+): "ok" when every check passes, with each check's line first
 * when ?verbose is given; 503 with every check's line otherwise. ?exclude=<check> skips one.
 */
async function probe(
  options: HttpEndpointsOptions,
  path: string,
  params: URLSearchParams,
): Promise<Reply> {
  const excluded = querySet(params, "exclude");
  const names = (checksOf(path) ?? []).filter((n) => !excluded.has(n));
  const h = await options.health({ linearizable: names.includes("linearizable_read") });
  let failed = false;
  const lines = names.map((name) => {
    const error = (CHECKS[name] as Check)(h);
    if (error === undefined) return `[+]${name} ok\n`;
    failed = true;
    return `[-]${name} failed: ${error}\n`;
  });
  if (failed) return textReply(503, `${lines.join("")}\n`);
  return textReply(200, `${params.has("verbose") ? lines.join("") : ""}ok\n`);
}

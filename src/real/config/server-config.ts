// The detcd server's configuration from its command line and ETCD_* environment variables, with
// etcd's flag names, defaults, precedence and checks (etcd's embed.Config.Validate and bootstrap
// checks, with their messages where etcd has them).
import { err, ok, type Result } from "../../lib/result.js";
import { parseAuthToken, type AuthTokenConfig } from "./auth-token.js";
import { parseGoDurationMs } from "./duration.js";
import { helpText, versionText } from "./help.js";
import {
  parseInitialCluster,
  verifyInitialCluster,
  type InitialClusterMember,
} from "./initial-cluster.js";
import { scanCommandLine, scanEnvironment, type RawValue, type ScanError } from "./flags.js";
import { parseCipherSuites } from "../tls/cipher-suites.js";
import { parseAdvertiseURLs, parseListenURLs, type ListenURL } from "./urls.js";

export type ClusterState = "new" | "existing";
export type LogLevel = "debug" | "info" | "warn" | "error" | "panic" | "fatal";

/** Auto compaction; a retention of 0 disables it (etcd's default). */
export type AutoCompaction =
  | { readonly mode: "periodic"; readonly retentionMs: number }
  | { readonly mode: "revision"; readonly retentionRevisions: number };

/** The TLS flags of one role: the client port (--cert-file, ...) or the peers (--peer-*). */
export interface TlsFlags {
  /** "" when unset, as for every file below. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly crlFile: string;
  readonly clientCertAuth: boolean;
  /** Generate a self-signed certificate when no certificate file is given. */
  readonly autoTls: boolean;
  /** Peers only (--peer-cert-allowed-cn); "" for any. */
  readonly allowedCN: string;
}

export type TlsVersionName = "TLS1.2" | "TLS1.3";

/** A member's configuration, every default filled in and every check passed. Immutable. */
export interface ServerConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientURLs: readonly ListenURL[];
  readonly advertiseClientURLs: readonly string[];
  readonly listenPeerURLs: readonly ListenURL[];
  readonly initialAdvertisePeerURLs: readonly string[];
  readonly initialCluster: readonly InitialClusterMember[];
  readonly initialClusterState: ClusterState;
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  /** The effective quota: --quota-backend-bytes, or 2 GiB when it is 0. */
  readonly quotaBackendBytes: number;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  readonly autoCompaction: AutoCompaction;
  /** Extra listeners for /metrics and the health endpoints (none by default). */
  readonly listenMetricsURLs: readonly ListenURL[];
  readonly logLevel: LogLevel;
  readonly watchProgressNotifyIntervalMs: number;
  readonly preVote: boolean;
  readonly clientTls: TlsFlags;
  readonly peerTls: TlsFlags;
  readonly tlsMinVersion: TlsVersionName;
  /** undefined: the newest the runtime supports. */
  readonly tlsMaxVersion: TlsVersionName | undefined;
  /** --cipher-suites as OpenSSL names, in order; empty for the defaults. */
  readonly cipherSuites: readonly string[];
  readonly selfSignedCertValidityYears: number;
  /** --auth-token: simple tokens or JWTs. */
  readonly authToken: AuthTokenConfig;
  /** --auth-token-ttl: how long a simple token lives after its last use. */
  readonly authTokenTtlMs: number;
  /** Flags set on the command line or through the environment (canonical names). */
  readonly explicitFlags: readonly string[];
  /** Things etcd would log as warnings while reading its configuration; the host logs them. */
  readonly warnings: readonly string[];
}

/**
 * Why no configuration came out. `help` and `version` are not failures: their message goes to
 * stdout and the process exits 0. `usage` is a malformed command line (unknown flag, missing or bad
 * value), exit 2 as Go's flag package does for etcd; `invalid` is a bad environment variable or a
 * configuration that fails a check, exit 1.
 */
export interface ConfigError {
  readonly kind: "help" | "version" | "usage" | "invalid";
  readonly message: string;
  readonly exitCode: 0 | 1 | 2;
  /** The flag concerned (canonical name, no dashes), when there is one. */
  readonly flag?: string;
  /** The environment variable concerned, when the value came from one. */
  readonly variable?: string;
}

export const DEFAULT_NAME = "default";
// etcd 3.2 raised its default from 10,000 to 100,000; `etcd --help` of 3.4 prints 100000.
export const DEFAULT_SNAPSHOT_COUNT = 100_000;
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd warns above this quota (8 GiB). */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;
export const DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60_000;
/** etcd raises shorter watch progress intervals to this. */
export const MIN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS = 100;
/** etcd's maxElectionMs. */
export const MAX_ELECTION_TIMEOUT_MS = 50_000;

const DEFAULT_CLIENT_URL = "http://localhost:2379";
const DEFAULT_PEER_URL = "http://localhost:2380";
const DEFAULT_INITIAL_CLUSTER = `${DEFAULT_NAME}=${DEFAULT_PEER_URL}`;
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "panic", "fatal"];

/** Reads the server configuration. `argv` excludes the program name; `env` is process.env. */
export function parseServerConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Result<ServerConfig, ConfigError> {
  const cli = scanCommandLine(argv);
  if (!cli.ok) return err(scanError(cli.error));
  const version = cli.value.get("version");
  if (version !== undefined) {
    const wanted = parseBool(version.value);
    if (!wanted.ok) return err(invalidValue("version", version, wanted.error));
    if (wanted.value) return err({ kind: "version", message: versionText(), exitCode: 0 });
    cli.value.delete("version");
  }
  const fromEnv = scanEnvironment(env, cli.value);
  if (!fromEnv.ok) return err({ kind: "invalid", exitCode: 1, ...fromEnv.error });
  const raw = new Map([...fromEnv.value.values, ...cli.value]);
  const reader = new FlagReader(raw);
  const config = readConfig(reader, fromEnv.value.warnings);
  if (reader.error !== undefined) return err(reader.error);
  return checkConfig(config, raw);
}

function scanError(e: ScanError): ConfigError {
  switch (e.kind) {
    case "help":
      return { kind: "help", message: helpText(), exitCode: 0 };
    case "unknown-flag":
      return { kind: "usage", message: e.message, exitCode: 2, flag: e.flag };
    case "syntax":
      return { kind: "usage", message: e.message, exitCode: 2, flag: e.flag };
  }
}

function invalidValue(flag: string, raw: RawValue, reason: string): ConfigError {
  const quoted = JSON.stringify(raw.value);
  if (raw.origin.kind === "flag")
    return {
      kind: "usage",
      exitCode: 2,
      flag,
      message: `invalid value ${quoted} for flag ${raw.origin.spelled}: ${reason}`,
    };
  const variable = raw.origin.variable;
  return {
    kind: "invalid",
    exitCode: 1,
    flag,
    variable,
    message: `invalid value ${quoted} for ${variable}: ${reason}`,
  };
}

function invalid(message: string, flag: string, raw?: RawValue): ConfigError {
  const variable = raw?.origin.kind === "env" ? raw.origin.variable : undefined;
  return variable === undefined
    ? { kind: "invalid", exitCode: 1, flag, message }
    : { kind: "invalid", exitCode: 1, flag, variable, message };
}

/** Converts raw values, keeping the first error; a flag that fails reads as its default. */
class FlagReader {
  error: ConfigError | undefined;

  constructor(private readonly raw: ReadonlyMap<string, RawValue>) {}

  /** The raw text of a flag, if set. */
  text(flag: string): string | undefined {
    return this.raw.get(flag)?.value;
  }

  setFlags(): string[] {
    return [...this.raw.keys()].sort();
  }

  read<T>(flag: string, fallback: T, convert: (text: string) => Result<T, string>): T {
    const raw = this.raw.get(flag);
    if (raw === undefined) return fallback;
    const converted = convert(raw.value);
    if (converted.ok) return converted.value;
    this.error ??= invalidValue(flag, raw, converted.error);
    return fallback;
  }
}

function readConfig(r: FlagReader, warnings: string[]): ServerConfig {
  const name = r.read("name", DEFAULT_NAME, nonEmpty);
  const dataDir = r.read("data-dir", "", (t) => ok(t)) || `${name}.etcd`;
  const urls = readURLs(r);
  const initialCluster = readInitialCluster(r, name, urls.initialAdvertisePeerURLs);
  const mode = r.read("auto-compaction-mode", "periodic" as const, (t) =>
    oneOf(t, ["periodic", "revision"] as const),
  );
  const autoCompaction = r.read("auto-compaction-retention", retentionOff(mode), (t) =>
    parseRetention(mode, t),
  );
  const quotaBackendBytes = r.read("quota-backend-bytes", 0, nonNegativeInt);
  const progressMs = r.read("watch-progress-notify-interval", 0, nonNegativeDurationMs);
  return {
    name,
    dataDir,
    ...urls,
    initialCluster,
    initialClusterState: r.read("initial-cluster-state", "new" as const, (t) =>
      oneOf(t, ["existing", "new"] as const),
    ),
    initialClusterToken: r.read("initial-cluster-token", "etcd-cluster", (t) => ok(t)),
    heartbeatIntervalMs: r.read("heartbeat-interval", 100, nonNegativeInt),
    electionTimeoutMs: r.read("election-timeout", 1000, nonNegativeInt),
    snapshotCount: r.read("snapshot-count", 0, nonNegativeInt) || DEFAULT_SNAPSHOT_COUNT,
    quotaBackendBytes: quotaBackendBytes || DEFAULT_QUOTA_BACKEND_BYTES,
    maxRequestBytes: r.read("max-request-bytes", 1_572_864, nonNegativeInt),
    maxTxnOps: r.read("max-txn-ops", 128, nonNegativeInt),
    autoCompaction,
    listenMetricsURLs: r.read("listen-metrics-urls", [], parseListenURLs),
    logLevel: r.read("log-level", "info" as LogLevel, (t) => oneOf(t.toLowerCase(), LOG_LEVELS)),
    watchProgressNotifyIntervalMs:
      progressMs === 0
        ? DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL_MS
        : Math.max(progressMs, MIN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS),
    preVote: r.read("pre-vote", true, parseBool),
    ...readTls(r),
    authToken: r.read("auth-token", { kind: "simple" } as AuthTokenConfig, parseAuthToken),
    authTokenTtlMs: 1000 * r.read("auth-token-ttl", 300, positiveInt),
    explicitFlags: r.setFlags(),
    warnings: [...warnings, ...readWarnings(name, quotaBackendBytes, progressMs)],
  };
}

type TlsFields =
  | "clientTls"
  | "peerTls"
  | "tlsMinVersion"
  | "tlsMaxVersion"
  | "cipherSuites"
  | "selfSignedCertValidityYears";

const TLS_VERSIONS: readonly TlsVersionName[] = ["TLS1.2", "TLS1.3"];

function readTls(r: FlagReader): Pick<ServerConfig, TlsFields> {
  const text = (flag: string) => r.read(flag, "", (t) => ok(t));
  const bool = (flag: string) => r.read(flag, false, parseBool);
  return {
    clientTls: {
      certFile: text("cert-file"),
      keyFile: text("key-file"),
      trustedCaFile: text("trusted-ca-file"),
      crlFile: text("client-crl-file"),
      clientCertAuth: bool("client-cert-auth"),
      autoTls: bool("auto-tls"),
      allowedCN: "",
    },
    peerTls: {
      certFile: text("peer-cert-file"),
      keyFile: text("peer-key-file"),
      trustedCaFile: text("peer-trusted-ca-file"),
      crlFile: text("peer-crl-file"),
      clientCertAuth: bool("peer-client-cert-auth"),
      autoTls: bool("peer-auto-tls"),
      allowedCN: text("peer-cert-allowed-cn"),
    },
    tlsMinVersion: r.read("tls-min-version", "TLS1.2" as TlsVersionName, (t) =>
      oneOf(t, TLS_VERSIONS),
    ),
    tlsMaxVersion: r.read("tls-max-version", undefined as TlsVersionName | undefined, (t) =>
      t === "" ? ok(undefined) : oneOf(t, TLS_VERSIONS),
    ),
    cipherSuites: r.read("cipher-suites", [], parseCipherSuites),
    selfSignedCertValidityYears: r.read("self-signed-cert-validity", 1, positiveInt),
  };
}

/** What etcd logs about TLS flags that a URL's scheme makes useless. */
function tlsWarnings(c: ServerConfig): string[] {
  const warnings: string[] = [];
  const roles = [
    { tls: c.clientTls, urls: c.listenClientURLs, what: "client", prefix: "" },
    { tls: c.peerTls, urls: c.listenPeerURLs, what: "peer", prefix: "peer-" },
  ];
  for (const { tls, urls, what, prefix } of roles) {
    const hasCert = tls.certFile !== "";
    if (tls.autoTls && hasCert)
      warnings.push(`ignoring ${what} auto TLS since certs given (--${prefix}cert-file)`);
    if (tls.autoTls && !hasCert && (tls.clientCertAuth || tls.trustedCaFile !== ""))
      warnings.push(
        `--${prefix}auto-tls: self-signed certificates cannot be verified; --${prefix}client-cert-auth and --${prefix}trusted-ca-file are ignored`,
      );
    for (const u of urls.filter((u) => u.scheme === "http")) {
      if (hasCert)
        warnings.push(
          `${what} URL ${u.url}: scheme is HTTP while key and cert files are present; ignoring key and cert files`,
        );
      if (tls.clientCertAuth)
        warnings.push(
          `${what} URL ${u.url}: scheme is HTTP while --${prefix}client-cert-auth is enabled; ignoring client cert auth for this URL`,
        );
    }
  }
  return warnings;
}

type URLFields =
  "listenClientURLs" | "advertiseClientURLs" | "listenPeerURLs" | "initialAdvertisePeerURLs";

function readURLs(r: FlagReader): Pick<ServerConfig, URLFields> {
  return {
    listenClientURLs: r.read(
      "listen-client-urls",
      defaultListen(DEFAULT_CLIENT_URL),
      parseListenURLs,
    ),
    advertiseClientURLs: r.read("advertise-client-urls", [DEFAULT_CLIENT_URL], parseAdvertiseURLs),
    listenPeerURLs: r.read("listen-peer-urls", defaultListen(DEFAULT_PEER_URL), parseListenURLs),
    initialAdvertisePeerURLs: r.read(
      "initial-advertise-peer-urls",
      [DEFAULT_PEER_URL],
      parseAdvertiseURLs,
    ),
  };
}

/**
 * etcd's default cluster is "default=http://localhost:2380"; when only --name changes, the default
 * becomes this member alone at its advertised peer URLs (etcd's UpdateDefaultClusterFromName).
 */
function readInitialCluster(
  r: FlagReader,
  name: string,
  advertisePeerURLs: readonly string[],
): readonly InitialClusterMember[] {
  const text = r.text("initial-cluster") ?? DEFAULT_INITIAL_CLUSTER;
  if (text === DEFAULT_INITIAL_CLUSTER && name !== DEFAULT_NAME)
    return [{ name, peerURLs: advertisePeerURLs }];
  const fallback = [{ name: DEFAULT_NAME, peerURLs: [DEFAULT_PEER_URL] }];
  return r.read("initial-cluster", fallback, parseInitialCluster);
}

function readWarnings(name: string, quotaBytes: number, progressMs: number): string[] {
  const warnings: string[] = [];
  if (name === DEFAULT_NAME)
    warnings.push(
      `member name is the default ${JSON.stringify(DEFAULT_NAME)}: set --name, members sharing a name confuse membership`,
    );
  if (quotaBytes > MAX_QUOTA_BACKEND_BYTES)
    warnings.push(
      `--quota-backend-bytes ${quotaBytes} exceeds the recommended maximum of ${MAX_QUOTA_BACKEND_BYTES}`,
    );
  if (progressMs > 0 && progressMs < MIN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS)
    warnings.push(
      `--watch-progress-notify-interval raised to the minimum of ${MIN_WATCH_PROGRESS_NOTIFY_INTERVAL_MS}ms`,
    );
  return warnings;
}

/** The checks that span several flags, in etcd's order. */
function checkConfig(
  c: ServerConfig,
  raw: ReadonlyMap<string, RawValue>,
): Result<ServerConfig, ConfigError> {
  const fail = (message: string, flag: string): Result<ServerConfig, ConfigError> =>
    err(invalid(message, flag, raw.get(flag)));
  if (c.heartbeatIntervalMs === 0)
    return fail(`--heartbeat-interval must be >0 (set to 0ms)`, "heartbeat-interval");
  if (c.electionTimeoutMs === 0)
    return fail(`--election-timeout must be >0 (set to 0ms)`, "election-timeout");
  if (5 * c.heartbeatIntervalMs > c.electionTimeoutMs)
    return fail(
      `--election-timeout[${c.electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${c.heartbeatIntervalMs}ms]`,
      "election-timeout",
    );
  if (c.electionTimeoutMs > MAX_ELECTION_TIMEOUT_MS)
    return fail(
      `--election-timeout[${c.electionTimeoutMs}ms] is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`,
      "election-timeout",
    );
  if (raw.has("listen-client-urls") && !raw.has("advertise-client-urls"))
    return fail(
      "--advertise-client-urls is required when --listen-client-urls is set explicitly",
      "advertise-client-urls",
    );
  const cluster = verifyInitialCluster(
    c.name,
    c.initialCluster,
    c.initialAdvertisePeerURLs,
    c.initialClusterState,
  );
  if (!cluster.ok) return fail(cluster.error, "initial-cluster");
  const tls = checkTls(c);
  if (tls !== undefined) return fail(tls.message, tls.flag);
  return ok({ ...c, warnings: [...c.warnings, ...tlsWarnings(c)] });
}

/** The TLS checks: key and certificate together, https URLs with a certificate, versions. */
function checkTls(c: ServerConfig): { message: string; flag: string } | undefined {
  const roles = [
    { tls: c.clientTls, urls: c.listenClientURLs, what: "client", prefix: "" },
    { tls: c.peerTls, urls: c.listenPeerURLs, what: "peer", prefix: "peer-" },
  ];
  for (const { tls, urls, what, prefix } of roles) {
    if ((tls.certFile === "") !== (tls.keyFile === "")) {
      const missing = tls.certFile === "" ? "cert-file" : "key-file";
      return {
        message: `--${prefix}cert-file and --${prefix}key-file must be given together (--${prefix}${missing} is missing)`,
        flag: `${prefix}${missing}`,
      };
    }
    const https = urls.find((u) => u.scheme === "https");
    if (https !== undefined && tls.certFile === "" && !tls.autoTls)
      return {
        message: `TLS key/cert (--${prefix}cert-file, --${prefix}key-file) must be provided for ${what} url ${https.url} with HTTPS scheme`,
        flag: `listen-${what}-urls`,
      };
  }
  if (c.tlsMaxVersion !== undefined && c.tlsMinVersion > c.tlsMaxVersion)
    return {
      message: `min version (${c.tlsMinVersion}) is greater than max version (${c.tlsMaxVersion})`,
      flag: "tls-min-version",
    };
  if (c.cipherSuites.length > 0 && c.tlsMinVersion === "TLS1.3")
    return {
      message: "cipher suites cannot be configured when only TLS1.3 or greater is supported",
      flag: "cipher-suites",
    };
  return undefined;
}

function defaultListen(url: string): ListenURL[] {
  const parsed = parseListenURLs(url);
  if (!parsed.ok) throw new Error(`default URL ${url} does not parse: ${parsed.error}`);
  return parsed.value;
}

function nonEmpty(text: string): Result<string, string> {
  return text === "" ? err("must not be empty") : ok(text);
}

function nonNegativeInt(text: string): Result<number, string> {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) return err("must be a non-negative integer");
  return ok(n);
}

function positiveInt(text: string): Result<number, string> {
  const n = nonNegativeInt(text);
  if (n.ok && n.value === 0) return err("must be a positive integer");
  return n;
}

function nonNegativeDurationMs(text: string): Result<number, string> {
  const ms = parseGoDurationMs(text);
  if (!ms.ok) return ms;
  return ms.value < 0 ? err("must not be negative") : ms;
}

/** Go's strconv.ParseBool. */
function parseBool(text: string): Result<boolean, string> {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return ok(true);
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return ok(false);
  return err("not a boolean (true or false)");
}

function oneOf<T extends string>(text: string, choices: readonly T[]): Result<T, string> {
  const found = choices.find((c) => c === text);
  if (found !== undefined) return ok(found);
  return err(`must be one of ${choices.join(", ")}`);
}

function retentionOff(mode: "periodic" | "revision"): AutoCompaction {
  return mode === "periodic" ? { mode, retentionMs: 0 } : { mode, retentionRevisions: 0 };
}

/**
 * etcd's reading of --auto-compaction-retention: a bare non-negative integer is hours when periodic
 * and a revision count when revision; otherwise a Go duration, which only periodic mode takes.
 */
export function parseRetention(
  mode: "periodic" | "revision",
  text: string,
): Result<AutoCompaction, string> {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) return err("too large");
    return ok(
      mode === "periodic" ? { mode, retentionMs: n * 3_600_000 } : { mode, retentionRevisions: n },
    );
  }
  if (mode === "revision") return err("revision mode takes a number of revisions");
  const ms = nonNegativeDurationMs(text);
  return ms.ok ? ok({ mode, retentionMs: ms.value }) : ms;
}

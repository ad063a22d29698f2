// The server's flags and how raw values reach them: the command line, read with the syntax of Go's
// flag package that etcd uses (-flag or --flag; a value as -flag=value or -flag value; a boolean
// flag only as -flag or -flag=value; "--" or the first non-flag ends the flags), then ETCD_*
// environment variables for the flags the command line did not give.
import { err, ok, type Result } from "../../lib/result.js";

export type FlagGroup = "Member" | "Clustering" | "Security" | "Operations" | "Logging" | "Other";

export interface FlagSpec {
  /** The flag's name without dashes, as etcd spells it. */
  readonly name: string;
  readonly group: FlagGroup;
  /** A boolean flag may stand alone ("--pre-vote" means true). */
  readonly isBool: boolean;
  /** The default as the help shows it. */
  readonly defaultText: string;
  readonly usage: string;
  /** An older etcd name this flag also answers to (3.5's --experimental-* spellings). */
  readonly alias?: string;
}

function flag(
  name: string,
  group: FlagGroup,
  defaultText: string,
  usage: string,
  extra: { isBool?: boolean; alias?: string } = {},
): FlagSpec {
  return { name, group, isBool: extra.isBool === true, defaultText, usage, ...extra };
}

/** Every flag detcd accepts; anything else on the command line is an unknown flag. */
export const FLAG_SPECS: readonly FlagSpec[] = [
  flag("name", "Member", "default", "Human-readable name of this member."),
  flag("data-dir", "Member", "${name}.etcd", "Directory holding this member's data."),
  flag("snapshot-count", "Member", "100000", "Committed entries between two snapshots."),
  flag("heartbeat-interval", "Member", "100", "Leader heartbeat interval in milliseconds."),
  flag("election-timeout", "Member", "1000", "Election timeout in milliseconds."),
  flag("listen-peer-urls", "Member", "http://localhost:2380", "URLs to serve peers on."),
  flag("listen-client-urls", "Member", "http://localhost:2379", "URLs to serve clients on."),
  flag(
    "quota-backend-bytes",
    "Member",
    "0",
    "Backend size at which the NOSPACE alarm is raised; 0 means 2 GiB.",
  ),
  flag("max-txn-ops", "Member", "128", "Most operations allowed in one transaction."),
  flag("max-request-bytes", "Member", "1572864", "Largest client request accepted, in bytes."),
  flag(
    "initial-advertise-peer-urls",
    "Clustering",
    "http://localhost:2380",
    "Peer URLs of this member announced to the rest of the cluster.",
  ),
  flag(
    "initial-cluster",
    "Clustering",
    "default=http://localhost:2380",
    "Members of the cluster to bootstrap, as name=peerURL pairs.",
  ),
  flag(
    "initial-cluster-state",
    "Clustering",
    "new",
    "'new' to bootstrap a cluster, 'existing' to join one.",
  ),
  flag(
    "initial-cluster-token",
    "Clustering",
    "etcd-cluster",
    "Token that keeps separate clusters apart at bootstrap.",
  ),
  flag(
    "advertise-client-urls",
    "Clustering",
    "http://localhost:2379",
    "Client URLs of this member announced to clients.",
  ),
  flag("pre-vote", "Clustering", "true", "Run Raft's pre-vote phase before elections.", {
    isBool: true,
  }),
  flag("cert-file", "Security", "", "Path to the client server TLS certificate file."),
  flag("key-file", "Security", "", "Path to the client server TLS key file."),
  flag(
    "client-cert-auth",
    "Security",
    "false",
    "Require client certificates signed by --trusted-ca-file on https client URLs.",
    { isBool: true },
  ),
  flag("client-crl-file", "Security", "", "Path to the client certificate revocation list file."),
  flag("trusted-ca-file", "Security", "", "Path to the client server TLS trusted CA file."),
  flag(
    "auto-tls",
    "Security",
    "false",
    "Client TLS with a generated self-signed certificate (in <data-dir>/fixtures/client).",
    { isBool: true },
  ),
  flag("peer-cert-file", "Security", "", "Path to the peer server TLS certificate file."),
  flag("peer-key-file", "Security", "", "Path to the peer server TLS key file."),
  flag(
    "peer-client-cert-auth",
    "Security",
    "false",
    "Require peer certificates signed by --peer-trusted-ca-file on https peer URLs.",
    { isBool: true },
  ),
  flag("peer-trusted-ca-file", "Security", "", "Path to the peer server TLS trusted CA file."),
  flag(
    "peer-cert-allowed-cn",
    "Security",
    "",
    "Accept peer connections only with a verified certificate of this Common Name.",
  ),
  flag(
    "peer-auto-tls",
    "Security",
    "false",
    "Peer TLS with generated self-signed certificates (peers are not verified).",
    { isBool: true },
  ),
  flag("peer-crl-file", "Security", "", "Path to the peer certificate revocation list file."),
  flag(
    "self-signed-cert-validity",
    "Security",
    "1",
    "Validity in years of the certificates --auto-tls and --peer-auto-tls generate.",
  ),
  flag(
    "cipher-suites",
    "Security",
    "",
    "Comma-separated TLS 1.2 cipher suites by Go's names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...); empty for the defaults.",
  ),
  flag("tls-min-version", "Security", "TLS1.2", "Minimum TLS version: TLS1.2 or TLS1.3."),
  flag(
    "tls-max-version",
    "Security",
    "",
    "Maximum TLS version: TLS1.2 or TLS1.3; empty for the newest supported.",
  ),
  flag(
    "auth-token",
    "Security",
    "simple",
    "Token type: 'simple', or 'jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256|ES256|...[,ttl=5m]'.",
  ),
  flag("auth-token-ttl", "Security", "300", "Time to live of simple tokens, in seconds."),
  flag(
    "auto-compaction-retention",
    "Operations",
    "0",
    "History kept by auto compaction (hours or a duration such as 30m when periodic, revisions when revision); 0 disables it.",
  ),
  flag(
    "auto-compaction-mode",
    "Operations",
    "periodic",
    "How to read --auto-compaction-retention: periodic or revision.",
  ),
  flag(
    "watch-progress-notify-interval",
    "Operations",
    "10m",
    "Interval of progress notifications to watchers that asked for them.",
    { alias: "experimental-watch-progress-notify-interval" },
  ),
  flag(
    "listen-metrics-urls",
    "Operations",
    "",
    "Additional URLs serving /metrics and the health endpoints.",
  ),
  flag(
    "log-level",
    "Logging",
    "info",
    "Least level logged: debug, info, warn, error, panic or fatal.",
  ),
  flag("version", "Other", "false", "Print the version and exit.", { isBool: true }),
];

const SPEC_BY_NAME = new Map<string, FlagSpec>(
  FLAG_SPECS.flatMap((s) =>
    s.alias === undefined
      ? [[s.name, s]]
      : [
          [s.name, s],
          [s.alias, s],
        ],
  ),
);

/** ETCD_SOME_FLAG for --some-flag. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.toUpperCase().replaceAll("-", "_")}`;
}

/** Where a raw value came from: error messages name the flag or the variable. */
export type ValueOrigin =
  | { readonly kind: "flag"; readonly spelled: string }
  | { readonly kind: "env"; readonly variable: string };

export interface RawValue {
  readonly value: string;
  readonly origin: ValueOrigin;
}

export type ScanError =
  | { readonly kind: "help" }
  | { readonly kind: "unknown-flag"; readonly flag: string; readonly message: string }
  | { readonly kind: "syntax"; readonly flag?: string; readonly message: string };

/** What the command line set, by canonical flag name; a repeated flag keeps its last value. */
export function scanCommandLine(argv: readonly string[]): Result<Map<string, RawValue>, ScanError> {
  const values = new Map<string, RawValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return positional(argv[i + 1]);
    if (!arg.startsWith("-") || arg === "-") return positional(arg);
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body.startsWith("-") || body.startsWith("="))
      return err({ kind: "syntax", message: `bad flag syntax: ${arg}` });
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === "h" || name === "help") return err({ kind: "help" });
    const spec = SPEC_BY_NAME.get(name);
    if (spec === undefined)
      return err({
        kind: "unknown-flag",
        flag: name,
        message: `flag provided but not defined: --${name}`,
      });
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.isBool) value = "true";
    else if (i + 1 < argv.length) value = argv[++i] as string;
    else
      return err({ kind: "syntax", flag: spec.name, message: `flag needs an argument: --${name}` });
    values.set(spec.name, { value, origin: { kind: "flag", spelled: `--${name}` } });
  }
  return ok(values);
}

function positional(arg: string | undefined): Result<Map<string, RawValue>, ScanError> {
  if (arg === undefined) return ok(new Map());
  return err({ kind: "syntax", message: `${JSON.stringify(arg)} is not a valid flag` });
}

export interface EnvScan {
  readonly values: Map<string, RawValue>;
  readonly warnings: string[];
}

/**
 * ETCD_* variables for the flags the command line left unset. Empty values are ignored (as etcd
 * does); a variable whose flag the command line also gave is shadowed by it; an ETCD_ variable that
 * names no flag is an error.
 */
export function scanEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  fromCommandLine: ReadonlyMap<string, RawValue>,
): Result<EnvScan, { readonly variable: string; readonly message: string }> {
  const values = new Map<string, RawValue>();
  const warnings: string[] = [];
  const variables = Object.keys(env).sort();
  for (const variable of variables) {
    if (!variable.startsWith("ETCD_")) continue;
    const value = env[variable];
    if (IGNORED_VARIABLES.has(variable)) {
      if (variable === "ETCD_VERSION" && value !== undefined && value !== "")
        warnings.push(`cannot set special environment variable ETCD_VERSION=${value}; ignored`);
      continue;
    }
    const spec = SPEC_FOR_VARIABLE.get(variable);
    if (spec === undefined)
      return err({ variable, message: `unrecognized environment variable ${variable}` });
    if (value === undefined || value === "") continue;
    if (fromCommandLine.has(spec.name)) {
      warnings.push(
        `environment variable ${variable} is shadowed by the command-line flag --${spec.name}`,
      );
      continue;
    }
    values.set(spec.name, { value, origin: { kind: "env", variable } });
  }
  return ok({ values, warnings });
}

/** Variables etcd itself reads other than through a flag: accepted, with no effect here. */
const IGNORED_VARIABLES = new Set(["ETCD_VERSION", "ETCD_UNSUPPORTED_ARCH"]);

const SPEC_FOR_VARIABLE = new Map<string, FlagSpec>(
  FLAG_SPECS.filter((s) => s.name !== "version").flatMap((s) =>
    s.alias === undefined
      ? [[flagToEnv(s.name), s]]
      : [
          [flagToEnv(s.name), s],
          [flagToEnv(s.alias), s],
        ],
  ),
);

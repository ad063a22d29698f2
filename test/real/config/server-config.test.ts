import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  FLAG_SPECS,
  flagToEnv,
  parseServerConfig,
  type ConfigError,
  type ServerConfig,
} from "../../../src/real/config/index.js";
import { DETCD_VERSION, ETCD_SERVER_VERSION } from "../../../src/real/version.js";

function parse(argv: string[], env: Record<string, string | undefined> = {}): ServerConfig {
  const r = parseServerConfig(argv, env);
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

function fail(argv: string[], env: Record<string, string | undefined> = {}): ConfigError {
  const r = parseServerConfig(argv, env);
  if (r.ok) throw new Error(`expected an error for ${argv.join(" ")}`);
  return r.error;
}

const localhost = (port: number) => ({
  url: `http://localhost:${port}`,
  scheme: "http" as const,
  host: "localhost",
  port,
  bindHost: "127.0.0.1",
});

const noTls = {
  certFile: "",
  keyFile: "",
  trustedCaFile: "",
  crlFile: "",
  clientCertAuth: false,
  autoTls: false,
  allowedCN: "",
};

describe("defaults", () => {
  it("describe one member on localhost:2379/2380, as etcd's", () => {
    const c = parse([]);
    expect(c).toEqual({
      name: "default",
      dataDir: "default.etcd",
      listenClientURLs: [localhost(2379)],
      advertiseClientURLs: ["http://localhost:2379"],
      listenPeerURLs: [localhost(2380)],
      initialAdvertisePeerURLs: ["http://localhost:2380"],
      initialCluster: [{ name: "default", peerURLs: ["http://localhost:2380"] }],
      initialClusterState: "new",
      initialClusterToken: "etcd-cluster",
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      snapshotCount: 100000,
      quotaBackendBytes: 2147483648,
      maxRequestBytes: 1572864,
      maxTxnOps: 128,
      autoCompaction: { mode: "periodic", retentionMs: 0 },
      listenMetricsURLs: [],
      logLevel: "info",
      watchProgressNotifyIntervalMs: 600000,
      preVote: true,
      clientTls: noTls,
      peerTls: noTls,
      tlsMinVersion: "TLS1.2",
      tlsMaxVersion: undefined,
      cipherSuites: [],
      selfSignedCertValidityYears: 1,
      authToken: { kind: "simple" },
      authTokenTtlMs: 300_000,
      explicitFlags: [],
      warnings: [
        'member name is the default "default": set --name, members sharing a name confuse membership',
      ],
    } satisfies ServerConfig);
  });

  it("--name alone renames the data dir and the one-member cluster", () => {
    const c = parse(["--name", "infra0"]);
    expect(c.dataDir).toBe("infra0.etcd");
    expect(c.initialCluster).toEqual([{ name: "infra0", peerURLs: ["http://localhost:2380"] }]);
    expect(c.warnings).toEqual([]);
    expect(c.explicitFlags).toEqual(["name"]);
  });

  it("--name with advertised peer URLs makes the cluster from them", () => {
    const c = parse([
      "--name=n1",
      "--initial-advertise-peer-urls=http://10.0.0.1:2380,http://10.0.0.2:2380",
    ]);
    expect(c.initialCluster).toEqual([
      { name: "n1", peerURLs: ["http://10.0.0.1:2380", "http://10.0.0.2:2380"] },
    ]);
  });

  it("0 means the default for --snapshot-count and --quota-backend-bytes, as in etcd", () => {
    const c = parse(["--snapshot-count", "0", "--quota-backend-bytes", "0"]);
    expect(c.snapshotCount).toBe(100000);
    expect(c.quotaBackendBytes).toBe(2 * 1024 ** 3);
  });

  it("an empty --data-dir means ${name}.etcd", () => {
    expect(parse(["--name", "x", "--data-dir", ""]).dataDir).toBe("x.etcd");
  });
});

describe("every flag", () => {
  const argv = [
    "--name=n2",
    "--data-dir=/var/lib/detcd",
    "--listen-client-urls=https://0.0.0.0:12379,https://[::1]:12379",
    "--advertise-client-urls=https://n2.example:12379",
    "--listen-peer-urls=https://10.1.2.3:12380",
    "--initial-advertise-peer-urls=https://n2.example:12380",
    "--initial-cluster=n1=https://n1.example:12380,n2=https://n2.example:12380,n3=https://n3.example:12380",
    "--initial-cluster-state=existing",
    "--initial-cluster-token=tok-1",
    "--heartbeat-interval=50",
    "--election-timeout=500",
    "--snapshot-count=2000",
    "--quota-backend-bytes=1048576",
    "--max-request-bytes=65536",
    "--max-txn-ops=16",
    "--auto-compaction-mode=revision",
    "--auto-compaction-retention=1000",
    "--listen-metrics-urls=http://127.0.0.1:12381",
    "--log-level=debug",
    "--watch-progress-notify-interval=5s",
    "--pre-vote=false",
    "--cert-file=/tls/server.crt",
    "--key-file=/tls/server.key",
    "--trusted-ca-file=/tls/ca.crt",
    "--client-cert-auth=true",
    "--client-crl-file=/tls/clients.crl",
    "--auto-tls=false",
    "--peer-cert-file=/tls/peer.crt",
    "--peer-key-file=/tls/peer.key",
    "--peer-trusted-ca-file=/tls/peer-ca.crt",
    "--peer-client-cert-auth=true",
    "--peer-crl-file=/tls/peers.crl",
    "--peer-cert-allowed-cn=etcd-peer",
    "--peer-auto-tls=false",
    "--self-signed-cert-validity=3",
    "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "--tls-min-version=TLS1.2",
    "--tls-max-version=TLS1.3",
    "--auth-token=jwt,pub-key=/keys/jwt.pub,priv-key=/keys/jwt.key,sign-method=ES256,ttl=10m",
    "--auth-token-ttl=60",
  ];

  it("reads each value", () => {
    const c = parse(argv);
    expect(c).toMatchObject({
      name: "n2",
      dataDir: "/var/lib/detcd",
      listenClientURLs: [
        {
          url: "https://0.0.0.0:12379",
          scheme: "https",
          host: "0.0.0.0",
          port: 12379,
          bindHost: "0.0.0.0",
        },
        { url: "https://[::1]:12379", scheme: "https", host: "::1", port: 12379, bindHost: "::1" },
      ],
      advertiseClientURLs: ["https://n2.example:12379"],
      listenPeerURLs: [
        {
          url: "https://10.1.2.3:12380",
          scheme: "https",
          host: "10.1.2.3",
          port: 12380,
          bindHost: "10.1.2.3",
        },
      ],
      initialAdvertisePeerURLs: ["https://n2.example:12380"],
      initialCluster: [
        { name: "n1", peerURLs: ["https://n1.example:12380"] },
        { name: "n2", peerURLs: ["https://n2.example:12380"] },
        { name: "n3", peerURLs: ["https://n3.example:12380"] },
      ],
      initialClusterState: "existing",
      initialClusterToken: "tok-1",
      heartbeatIntervalMs: 50,
      electionTimeoutMs: 500,
      snapshotCount: 2000,
      quotaBackendBytes: 1048576,
      maxRequestBytes: 65536,
      maxTxnOps: 16,
      autoCompaction: { mode: "revision", retentionRevisions: 1000 },
      listenMetricsURLs: [
        { url: "http://127.0.0.1:12381", host: "127.0.0.1", port: 12381, bindHost: "127.0.0.1" },
      ],
      logLevel: "debug",
      watchProgressNotifyIntervalMs: 5000,
      preVote: false,
      clientTls: {
        certFile: "/tls/server.crt",
        keyFile: "/tls/server.key",
        trustedCaFile: "/tls/ca.crt",
        crlFile: "/tls/clients.crl",
        clientCertAuth: true,
        autoTls: false,
        allowedCN: "",
      },
      peerTls: {
        certFile: "/tls/peer.crt",
        keyFile: "/tls/peer.key",
        trustedCaFile: "/tls/peer-ca.crt",
        crlFile: "/tls/peers.crl",
        clientCertAuth: true,
        autoTls: false,
        allowedCN: "etcd-peer",
      },
      tlsMinVersion: "TLS1.2",
      tlsMaxVersion: "TLS1.3",
      cipherSuites: ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"],
      selfSignedCertValidityYears: 3,
      authToken: {
        kind: "jwt",
        signMethod: "ES256",
        publicKeyFile: "/keys/jwt.pub",
        privateKeyFile: "/keys/jwt.key",
        ttlMs: 600_000,
      },
      authTokenTtlMs: 60_000,
      warnings: [],
    });
    expect(c.explicitFlags).toHaveLength(40);
  });

  it("reads the same values from ETCD_* variables", () => {
    const env: Record<string, string> = {};
    for (const arg of argv) {
      const [flag, ...rest] = arg.slice(2).split("=");
      env[flagToEnv(flag as string)] = rest.join("=");
    }
    expect(parse([], env)).toEqual(parse(argv));
  });

  it("takes the value as the next argument, and single dashes as Go's flag package does", () => {
    const c = parse(["-name", "a", "--heartbeat-interval", "20", "-election-timeout=300"]);
    expect([c.name, c.heartbeatIntervalMs, c.electionTimeoutMs]).toEqual(["a", 20, 300]);
  });

  it("a repeated flag keeps its last value", () => {
    expect(parse(["--name", "a", "--name", "b"]).name).toBe("b");
  });

  it("boolean flags stand alone or take =value", () => {
    expect(parse(["--pre-vote"]).preVote).toBe(true);
    expect(parse(["--pre-vote=0"]).preVote).toBe(false);
    expect(parse(["--pre-vote=TRUE"]).preVote).toBe(true);
  });

  it("periodic retention: a bare number is hours, else a duration", () => {
    expect(parse(["--auto-compaction-retention=1"]).autoCompaction).toEqual({
      mode: "periodic",
      retentionMs: 3_600_000,
    });
    expect(parse(["--auto-compaction-retention", "30m"]).autoCompaction).toEqual({
      mode: "periodic",
      retentionMs: 1_800_000,
    });
    expect(parse(["--auto-compaction-retention", "1h30m"]).autoCompaction).toEqual({
      mode: "periodic",
      retentionMs: 5_400_000,
    });
  });

  it("log levels map in any case", () => {
    for (const level of ["debug", "info", "warn", "error", "panic", "fatal"] as const)
      expect(parse([`--log-level=${level.toUpperCase()}`]).logLevel).toBe(level);
  });

  it("watch progress: 0 is the 10m default, below 100ms is raised with a warning", () => {
    expect(parse(["--watch-progress-notify-interval=0"]).watchProgressNotifyIntervalMs).toBe(
      600_000,
    );
    const c = parse(["--name=a", "--watch-progress-notify-interval=10ms"]);
    expect(c.watchProgressNotifyIntervalMs).toBe(100);
    expect(c.warnings).toEqual(["--watch-progress-notify-interval raised to the minimum of 100ms"]);
  });

  it("accepts etcd 3.5's --experimental-watch-progress-notify-interval", () => {
    const c = parse(["--experimental-watch-progress-notify-interval=2m"]);
    expect(c.watchProgressNotifyIntervalMs).toBe(120_000);
    expect(c.explicitFlags).toEqual(["watch-progress-notify-interval"]);
    const e = parse([], { ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL: "3s" });
    expect(e.watchProgressNotifyIntervalMs).toBe(3000);
  });

  it("warns about a quota above 8 GiB", () => {
    const c = parse(["--name=a", `--quota-backend-bytes=${9 * 1024 ** 3}`]);
    expect(c.quotaBackendBytes).toBe(9 * 1024 ** 3);
    expect(c.warnings).toEqual([
      "--quota-backend-bytes 9663676416 exceeds the recommended maximum of 8589934592",
    ]);
  });

  it("several URLs for one member in --initial-cluster, deduplicated and sorted", () => {
    const c = parse([
      "--name=a",
      "--initial-advertise-peer-urls=http://h2:2380,http://h1:2380",
      "--initial-cluster=a=http://h2:2380,b=http://h3:2380,a=http://h1:2380,a=http://h1:2380",
    ]);
    expect(c.initialCluster).toEqual([
      { name: "a", peerURLs: ["http://h1:2380", "http://h2:2380"] },
      { name: "b", peerURLs: ["http://h3:2380"] },
    ]);
    expect(c.initialAdvertisePeerURLs).toEqual(["http://h1:2380", "http://h2:2380"]);
  });

  it("every flag in the table has a test above", () => {
    const tested = new Set(argv.map((a) => a.slice(2).split("=")[0]));
    const untested = FLAG_SPECS.map((s) => s.name).filter((n) => !tested.has(n) && n !== "version");
    expect(untested).toEqual([]);
  });
});

describe("environment", () => {
  it("the command line wins over a variable, with a warning", () => {
    const c = parse(["--name=cli", "--snapshot-count=7"], {
      ETCD_NAME: "env",
      ETCD_SNAPSHOT_COUNT: "9",
      ETCD_MAX_TXN_OPS: "64",
    });
    expect([c.name, c.snapshotCount, c.maxTxnOps]).toEqual(["cli", 7, 64]);
    expect(c.warnings).toEqual([
      "environment variable ETCD_NAME is shadowed by the command-line flag --name",
      "environment variable ETCD_SNAPSHOT_COUNT is shadowed by the command-line flag --snapshot-count",
    ]);
  });

  it("ignores empty variables and variables of other programs", () => {
    const c = parse([], { ETCD_NAME: "", ETCDCTL_API: "3", PATH: "/bin", HOME: undefined });
    expect(c.name).toBe("default");
  });

  it("an ETCD_ variable naming no flag is an error naming it", () => {
    expect(fail([], { ETCD_NAME: "a", ETCD_CERT_FILES: "/x.pem" })).toEqual({
      kind: "invalid",
      exitCode: 1,
      variable: "ETCD_CERT_FILES",
      message: "unrecognized environment variable ETCD_CERT_FILES",
    });
    expect(fail([], { ETCD_WAL_DIR: "" }).variable).toBe("ETCD_WAL_DIR");
  });

  it("ETCD_VERSION is ignored with a warning, as etcd does", () => {
    const c = parse(["--name=a"], { ETCD_VERSION: "1" });
    expect(c.warnings).toEqual(["cannot set special environment variable ETCD_VERSION=1; ignored"]);
  });

  it("a bad value names the variable and exits 1", () => {
    expect(fail([], { ETCD_HEARTBEAT_INTERVAL: "fast" })).toEqual({
      kind: "invalid",
      exitCode: 1,
      flag: "heartbeat-interval",
      variable: "ETCD_HEARTBEAT_INTERVAL",
      message: 'invalid value "fast" for ETCD_HEARTBEAT_INTERVAL: must be a non-negative integer',
    });
  });

  it("a check that fails on a value from the environment names the variable", () => {
    const e = fail([], { ETCD_ELECTION_TIMEOUT: "200" });
    expect(e.variable).toBe("ETCD_ELECTION_TIMEOUT");
    expect(e.message).toBe(
      "--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]",
    );
  });
});

describe("command-line errors (exit 2)", () => {
  it("an unknown flag is named", () => {
    expect(fail(["--name=a", "--cert", "x.pem"])).toEqual({
      kind: "usage",
      exitCode: 2,
      flag: "cert",
      message: "flag provided but not defined: --cert",
    });
    expect(fail(["-peer-auto-tlss"]).message).toBe(
      "flag provided but not defined: --peer-auto-tlss",
    );
  });

  it("a missing value, bad syntax and a positional argument", () => {
    expect(fail(["--name"])).toMatchObject({
      exitCode: 2,
      flag: "name",
      message: "flag needs an argument: --name",
    });
    expect(fail(["---name=a"]).message).toBe("bad flag syntax: ---name=a");
    expect(fail(["--name=a", "extra"]).message).toBe('"extra" is not a valid flag');
    expect(fail(["--", "extra"]).message).toBe('"extra" is not a valid flag');
  });

  it("a bad value names the flag as written", () => {
    const cases: [string[], string][] = [
      [
        ["--snapshot-count=-1"],
        'invalid value "-1" for flag --snapshot-count: must be a non-negative integer',
      ],
      [
        ["--max-txn-ops", "1.5"],
        'invalid value "1.5" for flag --max-txn-ops: must be a non-negative integer',
      ],
      [["--name="], 'invalid value "" for flag --name: must not be empty'],
      [
        ["--initial-cluster-state=old"],
        'invalid value "old" for flag --initial-cluster-state: must be one of existing, new',
      ],
      [
        ["--auto-compaction-mode=daily"],
        'invalid value "daily" for flag --auto-compaction-mode: must be one of periodic, revision',
      ],
      [
        ["--log-level=trace"],
        'invalid value "trace" for flag --log-level: must be one of debug, info, warn, error, panic, fatal',
      ],
      [
        ["--pre-vote=yes"],
        'invalid value "yes" for flag --pre-vote: not a boolean (true or false)',
      ],
      [
        ["--watch-progress-notify-interval=10"],
        'invalid value "10" for flag --watch-progress-notify-interval: missing unit in duration "10"',
      ],
      [
        ["--watch-progress-notify-interval=-1s"],
        'invalid value "-1s" for flag --watch-progress-notify-interval: must not be negative',
      ],
      [
        ["--auto-compaction-retention=1d"],
        'invalid value "1d" for flag --auto-compaction-retention: unknown unit "d" in duration "1d"',
      ],
      [
        ["--auto-compaction-mode=revision", "--auto-compaction-retention=1h"],
        'invalid value "1h" for flag --auto-compaction-retention: revision mode takes a number of revisions',
      ],
      [
        ["--quota-backend-bytes=-1"],
        'invalid value "-1" for flag --quota-backend-bytes: must be a non-negative integer',
      ],
      [
        ["--listen-peer-urls=unix://127.0.0.1:2380"],
        'invalid value "unix://127.0.0.1:2380" for flag --listen-peer-urls: URL scheme unix needs unix sockets, not supported yet: unix://127.0.0.1:2380',
      ],
      [
        ["--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_FANCY"],
        'invalid value "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_FANCY" for flag --cipher-suites: unknown cipher suite "TLS_FANCY"',
      ],
      [
        ["--cipher-suites=TLS_RSA_WITH_RC4_128_SHA"],
        'invalid value "TLS_RSA_WITH_RC4_128_SHA" for flag --cipher-suites: cipher suite TLS_RSA_WITH_RC4_128_SHA (OpenSSL RC4-SHA) is not available in this Node.js build\'s OpenSSL',
      ],
      [
        ["--tls-min-version=TLS1.1"],
        'invalid value "TLS1.1" for flag --tls-min-version: must be one of TLS1.2, TLS1.3',
      ],
      [
        ["--self-signed-cert-validity=0"],
        'invalid value "0" for flag --self-signed-cert-validity: must be a positive integer',
      ],
      [
        ["--listen-client-urls=http://example.com:2379"],
        'invalid value "http://example.com:2379" for flag --listen-client-urls: expected IP in URL for binding (http://example.com:2379)',
      ],
      [
        ["--advertise-client-urls=http://h"],
        'invalid value "http://h" for flag --advertise-client-urls: URL address does not have the form "host:port": http://h',
      ],
      [
        ["--initial-advertise-peer-urls=http://h:2380/x"],
        'invalid value "http://h:2380/x" for flag --initial-advertise-peer-urls: URL must not contain a path: http://h:2380/x',
      ],
      [
        ["--listen-metrics-urls=localhost:2381"],
        'invalid value "localhost:2381" for flag --listen-metrics-urls: URL scheme must be http or https: "localhost:2381"',
      ],
      [
        ["--initial-cluster=a"],
        'invalid value "a" for flag --initial-cluster: entry "a" is not of the form name=URL',
      ],
      [
        ["--initial-cluster=a=ftp://h:1"],
        'invalid value "a=ftp://h:1" for flag --initial-cluster: URL scheme must be http or https: "ftp://h:1"',
      ],
      [
        ["--version=maybe"],
        'invalid value "maybe" for flag --version: not a boolean (true or false)',
      ],
    ];
    for (const [argv, message] of cases) {
      const e = fail(argv);
      expect(e.message).toBe(message);
      expect(e.exitCode).toBe(2);
      expect(e.kind).toBe("usage");
    }
  });
});

describe("checks (exit 1, etcd's wording)", () => {
  it("heartbeat and election timeouts", () => {
    expect(fail(["--heartbeat-interval=0"]).message).toBe(
      "--heartbeat-interval must be >0 (set to 0ms)",
    );
    expect(fail(["--election-timeout=0"]).message).toBe(
      "--election-timeout must be >0 (set to 0ms)",
    );
    expect(fail(["--heartbeat-interval=300", "--election-timeout=1000"])).toEqual({
      kind: "invalid",
      exitCode: 1,
      flag: "election-timeout",
      message:
        "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]",
    });
    expect(fail(["--election-timeout=50001"]).message).toBe(
      "--election-timeout[50001ms] is too long, and should be set less than 50000ms",
    );
    expect(parse(["--heartbeat-interval=200", "--election-timeout=1000"]).electionTimeoutMs).toBe(
      1000,
    );
  });

  it("--listen-client-urls needs --advertise-client-urls", () => {
    expect(fail(["--listen-client-urls=http://0.0.0.0:2379"])).toMatchObject({
      flag: "advertise-client-urls",
      message: "--advertise-client-urls is required when --listen-client-urls is set explicitly",
    });
  });

  it("the local name must be in --initial-cluster", () => {
    expect(
      fail([
        "--name=x",
        "--initial-cluster=a=http://h:1,b=http://h:2",
        "--initial-cluster-state=existing",
      ]),
    ).toMatchObject({
      flag: "initial-cluster",
      message: `couldn't find local name "x" in the initial cluster configuration`,
    });
  });

  it("a new member's URLs in --initial-cluster equal --initial-advertise-peer-urls", () => {
    expect(fail(["--initial-advertise-peer-urls=http://10.0.0.1:2380"]).message).toBe(
      "--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://10.0.0.1:2380",
    );
    expect(
      fail([
        "--name=a",
        "--initial-cluster=a=http://h:1",
        "--initial-advertise-peer-urls=http://h:1,http://h:2",
      ]).message,
    ).toBe(
      "--initial-advertise-peer-urls has http://h:2 but missing from --initial-cluster=a=http://h:1,a=http://h:2",
    );
    // A joining member's URLs are in the cluster's member list already: not compared.
    const joining = parse([
      "--name=a",
      "--initial-cluster=a=http://h:1",
      "--initial-advertise-peer-urls=http://h:2",
      "--initial-cluster-state=existing",
    ]);
    expect(joining.initialClusterState).toBe("existing");
  });

  it("no peer URL twice in --initial-cluster", () => {
    expect(
      fail([
        "--name=a",
        "--initial-cluster=a=http://h:1,b=http://h:1",
        "--initial-advertise-peer-urls=http://h:1",
      ]).message,
    ).toBe("initial cluster a=http://h:1,b=http://h:1 has duplicate url");
  });
});

describe("--help and --version", () => {
  it("help lists every flag with its default and exits 0", () => {
    for (const argv of [["-h"], ["--help"], ["-help"], ["--name=a", "--help", "--bogus"]]) {
      const e = fail(argv);
      expect(e.kind).toBe("help");
      expect(e.exitCode).toBe(0);
      expect(e.message).toContain("--snapshot-count '100000'");
      expect(e.message).toContain("--initial-cluster 'default=http://localhost:2380'");
      for (const spec of FLAG_SPECS) expect(e.message).toContain(`--${spec.name}`);
    }
  });

  it("version prints the etcd and detcd versions and exits 0", () => {
    const e = fail(["--version"]);
    expect(e.kind).toBe("version");
    expect(e.exitCode).toBe(0);
    expect(e.message.split("\n").slice(0, 2)).toEqual([
      `etcd Version: ${ETCD_SERVER_VERSION}`,
      `detcd Version: ${DETCD_VERSION}`,
    ]);
    expect(parse(["--name=a", "--version=false"]).name).toBe("a");
  });

  it("DETCD_VERSION matches package.json", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(DETCD_VERSION).toBe(pkg.version);
  });
});

describe("--auth-token", () => {
  it("reads etcd's forms and refuses malformed ones with etcd's words", () => {
    expect(parse(["--auth-token=simple"]).authToken).toEqual({ kind: "simple" });
    expect(parse(["--auth-token=jwt,pub-key=p.pem,sign-method=RS256"]).authToken).toEqual({
      kind: "jwt",
      signMethod: "RS256",
      publicKeyFile: "p.pem",
      privateKeyFile: undefined,
      ttlMs: 300_000,
    });
    const refused = (value: string) => {
      const r = parseServerConfig([`--auth-token=${value}`], {});
      return r.ok ? "ok" : r.error.message;
    };
    expect(refused("jwt,priv-key=k.pem,sign-method=HS1")).toBe(
      'invalid value "jwt,priv-key=k.pem,sign-method=HS1" for flag --auth-token: auth: invalid auth signature method',
    );
    expect(refused("jwt,sign-method=ES256")).toContain("auth: missing key data");
    expect(refused("jwt,priv-key=a,priv-key=b,sign-method=ES256")).toContain("given twice");
    expect(refused("jwt,priv-key")).toContain("auth: invalid auth options");
    expect(refused("oauth")).toContain("unknown token type");
    expect(refused("jwt,priv-key=k,sign-method=ES256,ttl=5")).toContain("missing unit");
  });
});

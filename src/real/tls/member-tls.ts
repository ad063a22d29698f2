// A member's two TLS roles from its configuration: the client port (--cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth, --client-crl-file, --auto-tls) and the peers (the same
// with --peer-, plus --peer-cert-allowed-cn), sharing --tls-min-version, --tls-max-version and
// --cipher-suites. Auto TLS writes a self-signed certificate under <data-dir>/fixtures/client (or
// peer) as etcd does, and reuses it on the next start.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { ServerConfig, TlsFlags, TlsVersionName } from "../config/server-config.js";
import type { ListenURL } from "../config/urls.js";
import { makeCertificate } from "./certificates.js";
import { ReloadingTls, type TlsPolicy, type TlsVersion } from "./reloading-tls.js";
import type { TlsFileSet } from "./tls-files.js";

export interface MemberTls {
  /** Present when some client URL (or metrics URL) is https. */
  readonly client: ReloadingTls | undefined;
  /** Present when a peer URL is https or peer certificates are given (to dial https peers). */
  readonly peer: ReloadingTls | undefined;
  close(): void;
}

export interface MemberTlsOptions {
  /** How often certificate files are checked for changes (ms; 0: never). */
  readonly reloadPollMs?: number;
  readonly log?: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void;
}

const DAY_MS = 86_400_000;

/** Loads (or generates) the certificates the configuration asks for. Throws TlsFileError. */
export async function openMemberTls(c: ServerConfig, o: MemberTlsOptions = {}): Promise<MemberTls> {
  const clientURLs = [...c.listenClientURLs, ...c.listenMetricsURLs];
  const wantClient = clientURLs.some((u) => u.scheme === "https");
  const peerHttps =
    c.listenPeerURLs.some((u) => u.scheme === "https") ||
    c.initialCluster.some((m) => m.peerURLs.some((u) => u.startsWith("https://")));
  const wantPeer = peerHttps && (c.peerTls.certFile !== "" || c.peerTls.autoTls);
  const client = wantClient
    ? await openRole(c, c.clientTls, "client", hostsOf(clientURLs, c.advertiseClientURLs), o)
    : undefined;
  let peer: ReloadingTls | undefined;
  try {
    peer = wantPeer
      ? await openRole(
          c,
          c.peerTls,
          "peer",
          hostsOf(c.listenPeerURLs, c.initialAdvertisePeerURLs),
          o,
        )
      : undefined;
  } catch (e) {
    client?.close();
    throw e;
  }
  return {
    client,
    peer,
    close: () => {
      client?.close();
      peer?.close();
    },
  };
}

async function openRole(
  c: ServerConfig,
  flags: TlsFlags,
  role: "client" | "peer",
  hosts: readonly string[],
  o: MemberTlsOptions,
): Promise<ReloadingTls> {
  const auto = flags.certFile === "" && flags.autoTls;
  const prefix = role === "client" ? "" : "peer-";
  let set: TlsFileSet = {
    certFile: flags.certFile,
    keyFile: flags.keyFile,
    trustedCaFile: auto ? "" : flags.trustedCaFile,
    crlFile: flags.crlFile,
    flags: {
      cert: `--${prefix}cert-file`,
      key: `--${prefix}key-file`,
      ca: `--${prefix}trusted-ca-file`,
      crl: role === "client" ? "--client-crl-file" : "--peer-crl-file",
    },
  };
  if (auto) {
    const dir = join(c.dataDir, "fixtures", role);
    const files = await selfSignedFiles(dir, hosts, c.selfSignedCertValidityYears);
    set = {
      ...set,
      ...files,
      flags: {
        ...set.flags,
        cert: `--${prefix}auto-tls certificate`,
        key: `--${prefix}auto-tls key`,
      },
    };
  }
  const policy: TlsPolicy = {
    clientCertAuth: !auto && flags.clientCertAuth,
    allowedCN: auto ? "" : flags.allowedCN,
    insecureSkipVerify: auto,
    minVersion: nodeVersion(c.tlsMinVersion),
    maxVersion: c.tlsMaxVersion === undefined ? undefined : nodeVersion(c.tlsMaxVersion),
    ciphers: c.cipherSuites,
  };
  return ReloadingTls.open(set, policy, {
    ...(o.reloadPollMs === undefined ? {} : { pollMs: o.reloadPollMs }),
    ...(o.log === undefined ? {} : { log: o.log }),
  });
}

function nodeVersion(v: TlsVersionName): TlsVersion {
  return v === "TLS1.2" ? "TLSv1.2" : "TLSv1.3";
}

/** The hosts a generated certificate names: those of the URLs it serves, without duplicates. */
function hostsOf(listen: readonly ListenURL[], advertise: readonly string[]): string[] {
  const hosts = listen.map((u) => u.host);
  for (const url of advertise) {
    try {
      hosts.push(new URL(url).hostname.replace(/^\[(.*)\]$/, "$1"));
    } catch {
      // checked when the configuration was read
    }
  }
  return [...new Set(hosts)].sort();
}

/** etcd's SelfCert: cert.pem and key.pem in `dir`, made once and kept. */
async function selfSignedFiles(
  dir: string,
  hosts: readonly string[],
  validityYears: number,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  if ((await exists(certFile)) && (await exists(keyFile))) return { certFile, keyFile };
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const made = await makeCertificate({
    commonName: "etcd",
    organization: "etcd",
    hosts,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validityYears * 365 * DAY_MS),
  });
  await fs.writeFile(keyFile, made.pem.key, { mode: 0o600 });
  await fs.writeFile(certFile, made.pem.cert, { mode: 0o644 });
  return { certFile, keyFile };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

// TLS for one role of a member (its client port, or its peer port and peer dialling): the
// certificate files, re-read when they change so a rotated certificate is used without a restart,
// and the policy the flags set (client certificates, allowed CN, versions, cipher suites).
//
// Rotation: the files are polled (size, mtime and inode, which also catches a symlink swap as
// Kubernetes does it). A change is loaded and checked like at startup; a set that fails the checks
// (say the certificate was written and the key not yet) is logged and skipped, and the last good
// set stays in use until the files change again. Connections already open keep their session;
// new ones use the new certificate.
import { promises as fs } from "node:fs";
import type { ConnectionOptions, SecureContextOptions, TLSSocket, TlsOptions } from "node:tls";
import {
  loadTlsFiles,
  type CertificateSummary,
  type TlsFileSet,
  type TlsFiles,
} from "./tls-files.js";

export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/** What connections must show and may use, beyond the certificate files. */
export interface TlsPolicy {
  /** Accepted connections must present a certificate that verifies against the trusted CA. */
  readonly clientCertAuth: boolean;
  /** Accepted connections must present a verified certificate with this CN ("" for any). */
  readonly allowedCN: string;
  /** Dialled servers are not verified (self-signed certificates of --peer-auto-tls). */
  readonly insecureSkipVerify: boolean;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion | undefined;
  /** OpenSSL cipher suite names, in preference order; empty for OpenSSL's defaults. */
  readonly ciphers: readonly string[];
  /** ALPN protocols a server offers, in preference order (none: no ALPN). */
  readonly alpnProtocols?: readonly string[];
}

/**
 * TLS settings a listener or a dialler asks for each time it needs them, so that they always
 * reflect the files as last loaded. `onReload` listeners run after a successful reload, from a
 * timer, and should install serverOptions() on their tls.Server (setSecureContext).
 */
export interface TlsEndpoint {
  serverOptions(): TlsOptions;
  connectOptions(): ConnectionOptions;
  /**
   * A reason to refuse an accepted, handshaken connection (a client certificate that is missing,
   * does not verify, is revoked, or has another CN than the allowed one), or undefined to keep it.
   * Servers call it before reading a byte of the connection.
   */
  checkPeer(socket: TLSSocket): string | undefined;
  onReload(listener: () => void): () => void;
}

export interface ReloadingTlsOptions {
  /** How often the files are checked for changes (default 1000 ms; 0: never). */
  readonly pollMs?: number;
  readonly log?: (level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void;
  readonly now?: () => number;
}

const DEFAULT_POLL_MS = 1000;

export class ReloadingTls implements TlsEndpoint {
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  private constructor(
    private readonly set: TlsFileSet,
    private readonly policy: TlsPolicy,
    private files: TlsFiles,
    private signature: string,
    private readonly o: ReloadingTlsOptions,
  ) {
    const pollMs = o.pollMs ?? DEFAULT_POLL_MS;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.poll(), pollMs);
      this.timer.unref();
    }
  }

  /** Loads the files (throwing TlsFileError when they cannot be used) and starts watching them. */
  static async open(
    set: TlsFileSet,
    policy: TlsPolicy,
    o: ReloadingTlsOptions = {},
  ): Promise<ReloadingTls> {
    const files = await loadTlsFiles(set, (o.now ?? Date.now)());
    const signature = await signatureOf(set).catch(() => "");
    return new ReloadingTls(set, policy, files, signature, o);
  }

  /** The certificate in use. */
  get leaf(): CertificateSummary {
    return this.files.leaf;
  }

  /**
   * Client certificates are requested in the handshake but judged by checkPeer as soon as it
   * completes: Node's own rejection (rejectUnauthorized) leaves a TLS 1.3 client that sent a bad
   * certificate hanging on an open connection, where checkPeer lets the server close it at once.
   */
  serverOptions(): TlsOptions {
    const p = this.policy;
    return {
      ...this.contextOptions(),
      requestCert: this.verifiesClients() || p.allowedCN !== "",
      rejectUnauthorized: false,
      ...(p.alpnProtocols === undefined ? {} : { ALPNProtocols: [...p.alpnProtocols] }),
    };
  }

  connectOptions(): ConnectionOptions {
    return { ...this.contextOptions(), rejectUnauthorized: !this.policy.insecureSkipVerify };
  }

  checkPeer(socket: TLSSocket): string | undefined {
    const wanted = this.policy.allowedCN;
    if (!this.verifiesClients() && wanted === "") return undefined;
    if (!socket.authorized) {
      const reason = socket.authorizationError as Error | string | null | undefined;
      const text = reason instanceof Error ? reason.message : String(reason ?? "no certificate");
      return `client certificate authentication failed: ${text}`;
    }
    if (wanted === "") return undefined;
    const cn = socket.getPeerCertificate().subject?.CN;
    const got = Array.isArray(cn) ? cn.join(",") : (cn ?? "");
    if (got !== wanted)
      return `client certificate authentication failed: CN ${JSON.stringify(got)} is not the allowed CN ${JSON.stringify(wanted)}`;
    return undefined;
  }

  onReload(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Checks the files now; resolves true when a changed set was loaded. */
  async poll(): Promise<boolean> {
    if (this.polling || this.closed) return false;
    this.polling = true;
    try {
      return await this.reloadIfChanged();
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.listeners.clear();
  }

  private async reloadIfChanged(): Promise<boolean> {
    let signature: string;
    try {
      signature = await signatureOf(this.set);
    } catch {
      return false; // a file is missing for a moment in the middle of a rotation
    }
    if (signature === this.signature) return false;
    this.signature = signature;
    try {
      this.files = await loadTlsFiles(this.set, (this.o.now ?? Date.now)());
    } catch (e) {
      this.o.log?.("warn", "changed TLS files not loaded; the previous certificate stays in use", {
        error: (e as Error).message,
      });
      return false;
    }
    if (this.closed) return false;
    this.o.log?.("info", "reloaded TLS certificate", {
      file: this.set.certFile,
      subject: this.files.leaf.subject,
      serial: this.files.leaf.serialNumber,
      "valid-until": this.files.leaf.validTo.toISOString(),
    });
    for (const listener of this.listeners) listener();
    return true;
  }

  private verifiesClients(): boolean {
    return this.policy.clientCertAuth && !this.policy.insecureSkipVerify;
  }

  private contextOptions(): SecureContextOptions {
    const f = this.files;
    const p = this.policy;
    return {
      cert: f.cert,
      key: f.key,
      ...(f.ca === undefined ? {} : { ca: f.ca }),
      ...(f.crl === undefined ? {} : { crl: f.crl }),
      minVersion: p.minVersion,
      ...(p.maxVersion === undefined ? {} : { maxVersion: p.maxVersion }),
      ...(p.ciphers.length === 0 ? {} : { ciphers: p.ciphers.join(":") }),
    };
  }
}

async function signatureOf(set: TlsFileSet): Promise<string> {
  const files = [set.certFile, set.keyFile, set.trustedCaFile, set.crlFile].filter((f) => f !== "");
  const stats = await Promise.all(files.map((f) => fs.stat(f)));
  return stats.map((s) => `${s.ino}:${s.size}:${s.mtimeMs}`).join("|");
}

// Reading the PEM files the TLS flags name, checked the way an operator needs at startup: every
// failure says which flag, which file and why (unreadable, not a certificate, key and certificate
// that do not match, a certificate expired or not valid yet, a CRL OpenSSL will not take).
import { Buffer } from "node:buffer";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { createSecureContext } from "node:tls";

/** The files of one TLS role (client or peer), each with the flag that named it. */
export interface TlsFileSet {
  readonly certFile: string;
  readonly keyFile: string;
  /** "" when none: verification then uses the system's roots. */
  readonly trustedCaFile: string;
  /** "" when none. */
  readonly crlFile: string;
  /** Flag names for messages: { cert: "--cert-file", ... }. */
  readonly flags: {
    readonly cert: string;
    readonly key: string;
    readonly ca: string;
    readonly crl: string;
  };
}

/** The loaded contents, ready for tls.createSecureContext. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  readonly crl: Buffer | undefined;
  /** The leaf certificate (the first in --cert-file). */
  readonly leaf: CertificateSummary;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly commonName: string;
  readonly serialNumber: string;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** A TLS file that cannot be used; the message names the flag, the file and the reason. */
export class TlsFileError extends Error {
  override name = "TlsFileError";
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Loads and checks `set` against the time `nowMs`. Throws TlsFileError. */
export async function loadTlsFiles(set: TlsFileSet, nowMs: number): Promise<TlsFiles> {
  const [cert, key, ca, crl] = await Promise.all([
    readPem(set.flags.cert, set.certFile),
    readPem(set.flags.key, set.keyFile),
    set.trustedCaFile === "" ? undefined : readPem(set.flags.ca, set.trustedCaFile),
    set.crlFile === "" ? undefined : readPem(set.flags.crl, set.crlFile),
  ]);
  const chain = certificatesIn(set.flags.cert, set.certFile, cert);
  const leaf = chain[0] as X509Certificate;
  checkValidity(set.flags.cert, set.certFile, leaf, nowMs);
  const privateKey = parseKey(set.flags.key, set.keyFile, key);
  if (!leaf.checkPrivateKey(privateKey))
    throw new TlsFileError(
      `${set.flags.key} ${set.keyFile}: the private key does not match the certificate in ${set.flags.cert} ${set.certFile}`,
    );
  if (ca !== undefined) certificatesIn(set.flags.ca, set.trustedCaFile, ca);
  if (crl !== undefined) checkCrl(set.flags.crl, set.crlFile, crl);
  return { cert, key, ca, crl, leaf: summarize(leaf) };
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/, open '.*'$/, "") : String(e);
    throw new TlsFileError(`${flag} ${file}: cannot read the file: ${reason}`);
  }
}

function certificatesIn(flag: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString("latin1").match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0)
    throw new TlsFileError(`${flag} ${file}: no PEM certificate ("BEGIN CERTIFICATE") in the file`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new TlsFileError(
        `${flag} ${file}: certificate ${i + 1} cannot be parsed: ${(e as Error).message}`,
      );
    }
  });
}

function parseKey(flag: string, file: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new TlsFileError(`${flag} ${file}: not a usable private key: ${(e as Error).message}`);
  }
}

function checkValidity(flag: string, file: string, cert: X509Certificate, nowMs: number): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const now = new Date(nowMs).toISOString();
  if (nowMs < from.getTime())
    throw new TlsFileError(
      `${flag} ${file}: the certificate is not valid yet: valid from ${from.toISOString()}, now ${now}`,
    );
  if (nowMs > to.getTime())
    throw new TlsFileError(
      `${flag} ${file}: the certificate has expired: valid until ${to.toISOString()}, now ${now}`,
    );
}

function checkCrl(flag: string, file: string, crl: Buffer): void {
  try {
    createSecureContext({ crl });
  } catch (e) {
    throw new TlsFileError(`${flag} ${file}: not a usable CRL: ${(e as Error).message}`);
  }
}

function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject,
    commonName: commonNameOf(cert.subject),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
  };
}

/** The CN of an X509Certificate subject ("O=etcd\nCN=infra0"); "" when there is none. */
export function commonNameOf(subject: string): string {
  const line = subject.split("\n").find((l) => l.startsWith("CN="));
  return line === undefined ? "" : line.slice(3);
}

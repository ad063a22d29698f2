// A small PKI for the TLS tests, made with the library detcd uses for --auto-tls: a CA and the
// certificates it issues (server, peers, clients), a second CA that detcd does not trust, expired and
// not-yet-valid certificates, and a CRL revoking one client. Everything is written to a temp dir.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { makeCertificate, type Issuer, type PemPair } from "../../../src/real/tls/certificates.js";
import { tempDir } from "../server/helpers.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A certificate and key written to files; `pem` holds their contents. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  readonly pem: PemPair;
  readonly serial: string;
}

export interface Pki {
  readonly dir: string;
  /** The CA detcd trusts (file and PEM). */
  readonly caFile: string;
  readonly caPem: string;
  readonly ca: Issuer;
  /** A CA detcd does not trust. */
  readonly otherCaFile: string;
  readonly otherCa: Issuer;
  /** Server certificate for 127.0.0.1 and localhost. */
  readonly server: CertFiles;
  /** Peer certificates (CN etcd-peer) for 127.0.0.1, also usable as client certificates. */
  readonly peer: CertFiles;
  /** A peer certificate from the trusted CA with another CN. */
  readonly peerOtherCN: CertFiles;
  readonly client: CertFiles;
  /** A client certificate the CRL revokes. */
  readonly revokedClient: CertFiles;
  readonly otherCaClient: CertFiles;
  readonly expired: CertFiles;
  readonly notYetValid: CertFiles;
  readonly crlFile: string;
}

export interface IssueSpec {
  readonly name: string;
  readonly commonName: string;
  readonly hosts?: readonly string[];
  readonly issuer?: Issuer;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** Issues a certificate into `dir` as NAME.crt and NAME.key. */
export async function issue(dir: string, ca: Issuer, spec: IssueSpec): Promise<CertFiles> {
  const now = Date.now();
  const made = await makeCertificate({
    commonName: spec.commonName,
    hosts: spec.hosts ?? ["127.0.0.1", "localhost"],
    issuer: spec.issuer ?? ca,
    notBefore: spec.notBefore ?? new Date(now - HOUR_MS),
    notAfter: spec.notAfter ?? new Date(now + DAY_MS),
  });
  const cert = join(dir, `${spec.name}.crt`);
  const key = join(dir, `${spec.name}.key`);
  await fs.writeFile(cert, made.pem.cert);
  await fs.writeFile(key, made.pem.key);
  return { cert, key, pem: made.pem, serial: made.cert.serialNumber };
}

async function makeCA(dir: string, name: string): Promise<{ ca: Issuer; file: string }> {
  const now = Date.now();
  const ca = await makeCertificate({
    commonName: name,
    isCA: true,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 30 * DAY_MS),
  });
  const file = join(dir, `${name}.crt`);
  await fs.writeFile(file, ca.pem.cert);
  return { ca, file };
}

export async function makePki(): Promise<Pki> {
  const dir = tempDir("pki");
  const trusted = await makeCA(dir, "test-ca");
  const other = await makeCA(dir, "other-ca");
  const ca = trusted.ca;
  const now = Date.now();
  const revokedClient = await issue(dir, ca, { name: "revoked", commonName: "mallory" });
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: new Date(now - HOUR_MS),
    nextUpdate: new Date(now + DAY_MS),
    entries: [{ serialNumber: revokedClient.serial, revocationDate: new Date(now - HOUR_MS) }],
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    signingKey: ca.keys.privateKey,
  });
  const crlFile = join(dir, "clients.crl");
  // OpenSSL reads a CRL under the "X509 CRL" PEM label.
  await fs.writeFile(crlFile, x509.PemConverter.encode(crl.rawData, "X509 CRL"));
  return {
    dir,
    caFile: trusted.file,
    caPem: ca.pem.cert,
    ca,
    otherCaFile: other.file,
    otherCa: other.ca,
    server: await issue(dir, ca, { name: "server", commonName: "detcd-server" }),
    peer: await issue(dir, ca, { name: "peer", commonName: "etcd-peer" }),
    peerOtherCN: await issue(dir, ca, { name: "peer-other", commonName: "intruder" }),
    client: await issue(dir, ca, { name: "client", commonName: "root" }),
    revokedClient,
    otherCaClient: await issue(dir, ca, {
      name: "other-client",
      commonName: "root",
      issuer: other.ca,
    }),
    expired: await issue(dir, ca, {
      name: "expired",
      commonName: "detcd-server",
      notBefore: new Date(now - 10 * DAY_MS),
      notAfter: new Date(now - DAY_MS),
    }),
    notYetValid: await issue(dir, ca, {
      name: "future",
      commonName: "detcd-server",
      notBefore: new Date(now + DAY_MS),
      notAfter: new Date(now + 10 * DAY_MS),
    }),
    crlFile,
  };
}

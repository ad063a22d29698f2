// X.509 certificates made here rather than by an outside tool: the self-signed certificates of
// --auto-tls and --peer-auto-tls, and (for tests) a certificate authority and the certificates it
// issues. Keys are ECDSA P-256, written as PKCS #8 PEM, which Node.js and Go both read.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { Buffer } from "node:buffer";
import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// The library types its provider as the DOM Crypto, which Node.js's webcrypto implements.
x509.cryptoProvider.set(webcrypto as never);

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** The signer of a certificate: its certificate and the key pair behind it. */
export interface Issuer {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  readonly pem: PemPair;
}

export interface CertificateSpec {
  readonly commonName: string;
  /** Subject alternative names: IP literals become IP entries, anything else a DNS name. */
  readonly hosts?: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A certificate authority (may sign certificates and CRLs) rather than a leaf. */
  readonly isCA?: boolean;
  /** Signed by this issuer; self-signed when absent. */
  readonly issuer?: Issuer;
  /** Organization in the subject (etcd's self-signed certificates say "etcd"). */
  readonly organization?: string;
}

/** Makes a certificate as `spec` says; returns it with its keys so it can issue others. */
export async function makeCertificate(spec: CertificateSpec): Promise<Issuer> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const subject = subjectName(spec);
  const params = {
    serialNumber: randomSerial(),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: await extensionsOf(spec, keys.publicKey),
  };
  const cert =
    spec.issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({ ...params, name: subject, keys })
      : await x509.X509CertificateGenerator.create({
          ...params,
          subject,
          issuer: spec.issuer.cert.subject,
          publicKey: keys.publicKey,
          signingKey: spec.issuer.keys.privateKey,
        });
  return { cert, keys, pem: { cert: cert.toString("pem"), key: await privateKeyPem(keys) } };
}

function subjectName(spec: CertificateSpec): string {
  const cn = `CN=${escapeName(spec.commonName)}`;
  return spec.organization === undefined ? cn : `O=${escapeName(spec.organization)}, ${cn}`;
}

/** RFC 4514 escaping of the characters that would end or confuse a name attribute. */
function escapeName(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

async function extensionsOf(
  spec: CertificateSpec,
  publicKey: CryptoKey,
): Promise<x509.Extension[]> {
  const extensions: x509.Extension[] = [await x509.SubjectKeyIdentifierExtension.create(publicKey)];
  if (spec.issuer !== undefined)
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.keys.publicKey));
  if (spec.isCA === true) {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    );
    return extensions;
  }
  extensions.push(
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(
      [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
  );
  const hosts = spec.hosts ?? [];
  if (hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => ({ type: isIPLiteral(h) ? "ip" : "dns", value: h })),
      ),
    );
  }
  return extensions;
}

function isIPLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(":");
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f; // a positive serial
  return Buffer.from(bytes).toString("hex");
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

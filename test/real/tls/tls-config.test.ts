// The TLS flags' checks that span several flags, and the warnings etcd gives for TLS flags an http
// URL makes useless.
import { describe, expect, it } from "vitest";
import { parseServerConfig, type ServerConfig } from "../../../src/real/config/index.js";
import { KNOWN_CIPHER_SUITES, parseCipherSuites } from "../../../src/real/tls/cipher-suites.js";

const https = [
  "--name=a",
  "--listen-client-urls=https://127.0.0.1:2379",
  "--advertise-client-urls=https://127.0.0.1:2379",
  "--listen-peer-urls=https://127.0.0.1:2380",
  "--initial-advertise-peer-urls=https://127.0.0.1:2380",
  "--initial-cluster=a=https://127.0.0.1:2380",
];
const certs = ["--cert-file=s.crt", "--key-file=s.key"];
const peerCerts = ["--peer-cert-file=p.crt", "--peer-key-file=p.key"];

function parse(argv: string[]): ServerConfig {
  const r = parseServerConfig(argv, {});
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

function failure(argv: string[]) {
  const r = parseServerConfig(argv, {});
  if (r.ok) throw new Error(`expected an error for ${argv.join(" ")}`);
  return r.error;
}

describe("TLS configuration", () => {
  it("https URLs with certificates, or with auto TLS", () => {
    const c = parse([...https, ...certs, ...peerCerts]);
    expect(c.listenClientURLs.map((u) => u.scheme)).toEqual(["https"]);
    expect(c.clientTls.certFile).toBe("s.crt");
    expect(c.peerTls.keyFile).toBe("p.key");
    expect(c.warnings).toEqual([]);
    const auto = parse([...https, "--auto-tls", "--peer-auto-tls"]);
    expect([auto.clientTls.autoTls, auto.peerTls.autoTls]).toEqual([true, true]);
  });

  it("an https URL without a certificate names the flags and the URL", () => {
    expect(failure([...https, ...peerCerts])).toEqual({
      kind: "invalid",
      exitCode: 1,
      flag: "listen-client-urls",
      message:
        "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme",
    });
    expect(failure([...https, ...certs]).message).toBe(
      "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:2380 with HTTPS scheme",
    );
  });

  it("a certificate without its key, or a key without its certificate", () => {
    expect(failure([...https, "--cert-file=s.crt", ...peerCerts])).toMatchObject({
      flag: "key-file",
      message: "--cert-file and --key-file must be given together (--key-file is missing)",
    });
    expect(failure([...https, ...certs, "--peer-key-file=p.key"]).message).toBe(
      "--peer-cert-file and --peer-key-file must be given together (--peer-cert-file is missing)",
    );
  });

  it("versions: min above max, and cipher suites with TLS 1.3 only", () => {
    const all = [...https, ...certs, ...peerCerts];
    expect(failure([...all, "--tls-min-version=TLS1.3", "--tls-max-version=TLS1.2"])).toMatchObject(
      {
        flag: "tls-min-version",
        message: "min version (TLS1.3) is greater than max version (TLS1.2)",
      },
    );
    expect(
      failure([
        ...all,
        "--tls-min-version=TLS1.3",
        "--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      ]),
    ).toMatchObject({
      flag: "cipher-suites",
      message: "cipher suites cannot be configured when only TLS1.3 or greater is supported",
    });
    const c = parse([...all, "--tls-min-version=TLS1.3"]);
    expect([c.tlsMinVersion, c.tlsMaxVersion]).toEqual(["TLS1.3", undefined]);
  });

  it("warns about TLS flags that http URLs ignore, and auto TLS beside certificates", () => {
    const c = parse(["--name=a", ...certs, "--client-cert-auth", "--auto-tls"]);
    expect(c.warnings).toEqual([
      "ignoring client auto TLS since certs given (--cert-file)",
      "client URL http://localhost:2379: scheme is HTTP while key and cert files are present; ignoring key and cert files",
      "client URL http://localhost:2379: scheme is HTTP while --client-cert-auth is enabled; ignoring client cert auth for this URL",
    ]);
    const auto = parse([...https, "--auto-tls", "--peer-auto-tls", "--peer-client-cert-auth"]);
    expect(auto.warnings).toEqual([
      "--peer-auto-tls: self-signed certificates cannot be verified; --peer-client-cert-auth and --peer-trusted-ca-file are ignored",
    ]);
  });
});

describe("cipher suites", () => {
  it("Go's names map to OpenSSL's, in the order given, duplicates dropped", () => {
    expect(
      parseCipherSuites(
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_RSA_WITH_AES_128_CBC_SHA",
      ),
    ).toEqual({
      ok: true,
      value: ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305", "AES128-SHA"],
    });
    expect(parseCipherSuites("")).toEqual({ ok: true, value: [] });
  });

  it("every known suite either maps to one OpenSSL has or says it is unavailable", () => {
    const unavailable = KNOWN_CIPHER_SUITES.filter((name) => !parseCipherSuites(name).ok);
    expect(unavailable.every((n) => /RC4|3DES/.test(n))).toBe(true);
    expect(KNOWN_CIPHER_SUITES.length - unavailable.length).toBeGreaterThanOrEqual(20);
  });

  it("an unknown name is an error naming it", () => {
    expect(parseCipherSuites("ECDHE-RSA-AES128-GCM-SHA256")).toEqual({
      ok: false,
      error: 'unknown cipher suite "ECDHE-RSA-AES128-GCM-SHA256"',
    });
  });
});

// Certificate rotation, checked step by step: a changed set of files is loaded only when it passes
// the startup checks; listeners hear of each successful reload; the last good set stays in use.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Buffer } from "node:buffer";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { ReloadingTls } from "../../../src/real/tls/reloading-tls.js";
import { tempDir } from "../server/helpers.js";
import { issue, makePki, type Pki } from "./pki.js";

let pki: Pki;

beforeAll(async () => {
  pki = await makePki();
});

afterAll(async () => {
  await fs.rm(pki.dir, { recursive: true, force: true });
});

describe("ReloadingTls", () => {
  it("reloads a valid rotation, refuses an expired certificate and keeps the last good one", async () => {
    const dir = tempDir("reload");
    const cert = join(dir, "tls.crt");
    const key = join(dir, "tls.key");
    await fs.copyFile(pki.server.cert, cert);
    await fs.copyFile(pki.server.key, key);
    const logs: string[] = [];
    const tls = await ReloadingTls.open(
      {
        certFile: cert,
        keyFile: key,
        trustedCaFile: "",
        crlFile: "",
        flags: { cert: "--cert-file", key: "--key-file", ca: "--trusted-ca-file", crl: "--crl" },
      },
      {
        clientCertAuth: false,
        allowedCN: "",
        insecureSkipVerify: false,
        minVersion: "TLSv1.2",
        maxVersion: undefined,
        ciphers: [],
      },
      {
        pollMs: 0,
        log: (level, msg, fields) => logs.push(`${level} ${msg} ${String(fields["error"])}`),
      },
    );
    let reloads = 0;
    tls.onReload(() => reloads++);
    expect(tls.leaf.serialNumber).toBe(pki.server.serial.toUpperCase());
    expect(await tls.poll()).toBe(false); // nothing changed

    await fs.copyFile(pki.expired.cert, cert);
    await fs.copyFile(pki.expired.key, key);
    expect(await tls.poll()).toBe(false);
    expect(logs).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warn changed TLS files not loaded; the previous certificate stays in use --cert-file ${cert}: the certificate has expired`,
        ),
      ),
    ]);
    expect(tls.leaf.serialNumber).toBe(pki.server.serial.toUpperCase());
    expect(tls.serverOptions().cert).toEqual(Buffer.from(pki.server.pem.cert));
    expect(await tls.poll()).toBe(false); // the same bad files are not tried again

    const next = await issue(dir, pki.ca, { name: "next", commonName: "rotated" });
    await fs.copyFile(next.key, key);
    await fs.copyFile(next.cert, cert);
    expect(await tls.poll()).toBe(true);
    expect(reloads).toBe(1);
    expect(tls.leaf.commonName).toBe("rotated");
    expect(tls.connectOptions().cert).toEqual(Buffer.from(next.pem.cert));
    tls.close();
  });
});

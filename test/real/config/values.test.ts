import { describe, expect, it } from "vitest";
import {
  formatInitialCluster,
  parseAdvertiseURLs,
  parseGoDurationMs,
  parseInitialCluster,
  parseListenURLs,
  parseRetention,
  verifyInitialCluster,
} from "../../../src/real/config/index.js";

describe("Go durations", () => {
  it("parse into milliseconds", () => {
    const cases: [string, number][] = [
      ["0", 0],
      ["300ms", 300],
      ["1.5s", 1500],
      ["2h45m", 9_900_000],
      ["1m30s", 90_000],
      [".5h", 1_800_000],
      ["1500us", 1.5],
      ["1000000ns", 1],
      ["-2s", -2000],
    ];
    for (const [text, ms] of cases)
      expect(parseGoDurationMs(text)).toEqual({ ok: true, value: ms });
  });

  it("refuse what Go refuses", () => {
    expect(parseGoDurationMs("")).toEqual({ ok: false, error: 'invalid duration ""' });
    expect(parseGoDurationMs("5")).toEqual({ ok: false, error: 'missing unit in duration "5"' });
    expect(parseGoDurationMs("5 s").ok).toBe(false);
    expect(parseGoDurationMs("1w")).toEqual({
      ok: false,
      error: 'unknown unit "w" in duration "1w"',
    });
  });
});

describe("auto compaction retention", () => {
  it("reads as etcd does", () => {
    expect(parseRetention("periodic", "0")).toEqual({
      ok: true,
      value: { mode: "periodic", retentionMs: 0 },
    });
    expect(parseRetention("periodic", "12")).toEqual({
      ok: true,
      value: { mode: "periodic", retentionMs: 43_200_000 },
    });
    expect(parseRetention("periodic", "90s")).toEqual({
      ok: true,
      value: { mode: "periodic", retentionMs: 90_000 },
    });
    expect(parseRetention("revision", "5000")).toEqual({
      ok: true,
      value: { mode: "revision", retentionRevisions: 5000 },
    });
    expect(parseRetention("periodic", "-1").ok).toBe(false);
  });
});

describe("URL lists", () => {
  it("listen URLs bind localhost as 127.0.0.1, keep IPs, dedupe and sort", () => {
    expect(
      parseListenURLs("http://localhost:2379,http://127.0.0.1:2379,http://localhost:2379"),
    ).toEqual({
      ok: true,
      value: [
        {
          url: "http://127.0.0.1:2379",
          scheme: "http",
          host: "127.0.0.1",
          port: 2379,
          bindHost: "127.0.0.1",
        },
        {
          url: "http://localhost:2379",
          scheme: "http",
          host: "localhost",
          port: 2379,
          bindHost: "127.0.0.1",
        },
      ],
    });
    expect(parseListenURLs("HTTP://[::]:80")).toEqual({
      ok: true,
      value: [{ url: "http://[::]:80", scheme: "http", host: "::", port: 80, bindHost: "::" }],
    });
    expect(parseListenURLs("HTTPS://127.0.0.1:2379")).toEqual({
      ok: true,
      value: [
        {
          url: "https://127.0.0.1:2379",
          scheme: "https",
          host: "127.0.0.1",
          port: 2379,
          bindHost: "127.0.0.1",
        },
      ],
    });
  });

  it("listen URLs refuse host names, bad ports and empty hosts", () => {
    expect(parseListenURLs("http://etcd-0:2379")).toEqual({
      ok: false,
      error: "expected IP in URL for binding (http://etcd-0:2379)",
    });
    expect(parseListenURLs("http://:2379").ok).toBe(false);
    expect(parseListenURLs("http://127.0.0.1:99999").ok).toBe(false);
    expect(parseListenURLs("http://256.0.0.1:1").ok).toBe(false);
    expect(parseListenURLs("").ok).toBe(false);
  });

  it("advertise URLs take host names but not an empty host", () => {
    expect(parseAdvertiseURLs(" http://etcd-1.etcd:2379 ,http://10.0.0.1:2379")).toEqual({
      ok: true,
      value: ["http://10.0.0.1:2379", "http://etcd-1.etcd:2379"],
    });
    expect(parseAdvertiseURLs("http://:2379")).toEqual({
      ok: false,
      error: "unexpected empty host (http://:2379)",
    });
    expect(parseAdvertiseURLs("unix:///tmp/s")).toEqual({
      ok: false,
      error: "URL scheme unix needs unix sockets, not supported yet: unix:///tmp/s",
    });
  });
});

describe("initial cluster", () => {
  it("parses, groups repeated names, skips empty entries, and formats back", () => {
    const parsed = parseInitialCluster("b=http://h2:1,,a=http://h1:1,b=http://h0:1");
    expect(parsed).toEqual({
      ok: true,
      value: [
        { name: "b", peerURLs: ["http://h0:1", "http://h2:1"] },
        { name: "a", peerURLs: ["http://h1:1"] },
      ],
    });
    if (parsed.ok)
      expect(formatInitialCluster(parsed.value)).toBe("a=http://h1:1,b=http://h0:1,b=http://h2:1");
    expect(parseInitialCluster("")).toEqual({ ok: false, error: "no members given" });
    expect(parseInitialCluster("=http://h:1").ok).toBe(false);
  });

  it("verifies as etcd's bootstrap does", () => {
    const members = [
      { name: "a", peerURLs: ["http://h:1"] },
      { name: "b", peerURLs: ["http://h:2"] },
    ];
    expect(verifyInitialCluster("a", members, ["http://h:1"], "new")).toEqual({
      ok: true,
      value: undefined,
    });
    expect(verifyInitialCluster("c", members, ["http://h:1"], "existing").ok).toBe(false);
    expect(verifyInitialCluster("a", members, ["http://h:9"], "new")).toEqual({
      ok: false,
      error:
        "--initial-cluster has a=http://h:1 but missing from --initial-advertise-peer-urls=http://h:9",
    });
  });
});

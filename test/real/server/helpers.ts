// Starting real detcd members in the test process, on free loopback ports and temp data dirs.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseServerConfig, type ServerConfig } from "../../../src/real/config/server-config.js";
import { EtcdClient } from "../../../src/real/grpc/client.js";
import { createLogger } from "../../../src/real/log.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `detcd-${prefix}-`));
}

export interface MemberPorts {
  readonly name: string;
  readonly client: number;
  readonly peer: number;
}

export async function memberPorts(names: readonly string[]): Promise<MemberPorts[]> {
  const out: MemberPorts[] = [];
  for (const name of names) out.push({ name, client: await freePort(), peer: await freePort() });
  return out;
}

export function initialCluster(members: readonly MemberPorts[]): string {
  return members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
}

/** The flags etcd's docs use for a local cluster, with short timers so tests run fast. */
export function memberFlags(
  m: MemberPorts,
  cluster: readonly MemberPorts[],
  dataDir: string,
  extra: readonly string[] = [],
): string[] {
  return [
    `--name=${m.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${m.client}`,
    `--advertise-client-urls=http://127.0.0.1:${m.client}`,
    `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
    `--initial-cluster=${initialCluster(cluster)}`,
    "--initial-cluster-token=test-cluster",
    "--heartbeat-interval=20",
    "--election-timeout=200",
    ...extra,
  ];
}

export function configOf(flags: readonly string[]): ServerConfig {
  const parsed = parseServerConfig(flags, {});
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

/** A logger that keeps its lines (JSON) for assertions instead of writing to stderr. */
export function memoryLogger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(
        ...chunk
          .toString("utf8")
          .split("\n")
          .filter((l) => l !== ""),
      );
      cb();
    },
  });
  return { log: createLogger({ level: "info", destination }), lines };
}

export function clientFor(ports: readonly number[]): EtcdClient {
  return new EtcdClient({
    endpoints: ports.map((p) => `127.0.0.1:${p}`),
    callTimeoutMs: 5_000,
  });
}

/** Polls `probe` until it returns a value, or fails after `limitMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  limitMs = 10_000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
}

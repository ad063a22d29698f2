// An in-process single member served on a loopback client port (the real Maintenance service
// included), and detcdctl's main() run against it with captured stdout and stderr.

import { createServer } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { Member } from "../../../src/server/member.js";
import { startClientServer, type ClientServer } from "../../../src/real/grpc/client-port.js";
import { main } from "../../../src/real/ctl/main.js";
import { clientBackend } from "../../../src/real/server/client-backend.js";
import { SystemClock, SystemRandom, SystemTimers } from "../../../src/real/system-clock.js";

function freePort(): Promise<number> {
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

export interface ServedMember {
  readonly member: Member;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Member 1 of a one-member cluster, leader, publishing its real client URL. */
export async function serveMember(): Promise<ServedMember> {
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const timers = new SystemTimers();
  const member = new Member({
    id: 1,
    peers: [1],
    attributes: { name: "m1", clientURLs: [`http://${endpoint}`] },
    env: { clock: new SystemClock(), timers, random: new SystemRandom() },
    send: () => {},
    config: { heartbeatMs: 10, electionMs: 100 },
  });
  member.campaign();
  for (let i = 0; i < 500 && !member.isLeader; i++) await new Promise((r) => setTimeout(r, 10));
  if (!member.isLeader) throw new Error("the member did not become leader");
  const server: ClientServer = await startClientServer({
    backend: clientBackend(member, timers, { tokens: "simple", clientCertAuth: false }),
    listen: [{ host: "127.0.0.1", port }],
  });
  return {
    member,
    endpoint,
    stop: async () => {
      await server.close();
      member.stop();
      timers.cancelAll();
    },
  };
}

export interface CtlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export interface CtlOptions {
  readonly stdin?: string | Uint8Array | Readable;
  readonly env?: Record<string, string>;
  readonly signal?: AbortSignal;
  /** Called with the output so far after every write (to stop a watch once it printed enough). */
  readonly onOutput?: (stdout: string) => void;
}

function collector(onWrite?: (text: string) => void): { stream: PassThrough; bytes: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    onWrite?.(Buffer.concat(chunks).toString("utf8"));
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

function stdinOf(input: CtlOptions["stdin"]): Readable {
  if (input === undefined) return Readable.from([]);
  if (input instanceof Readable) return input;
  return Readable.from([Buffer.from(input)]);
}

/** Runs detcdctl in-process with `args` (no endpoint added). */
export async function ctl(args: readonly string[], options: CtlOptions = {}): Promise<CtlRun> {
  const out = collector(options.onOutput);
  const err = collector();
  const code = await main(args, {
    stdin: stdinOf(options.stdin),
    stdout: out.stream,
    stderr: err.stream,
    env: options.env ?? {},
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  // Let the streams hand over what was written last.
  await new Promise((r) => setImmediate(r));
  return {
    code,
    stdout: out.bytes().toString("utf8"),
    stderr: err.bytes().toString("utf8"),
    stdoutBytes: out.bytes(),
  };
}

/** Runs detcdctl against `served`. */
export function ctlAt(
  served: ServedMember,
  args: readonly string[],
  options: CtlOptions = {},
): Promise<CtlRun> {
  return ctl(["--endpoints", served.endpoint, ...args], options);
}

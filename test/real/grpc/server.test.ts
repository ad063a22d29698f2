// The service handlers over a scripted backend: failures of the backend, limits, stream closing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status as Status } from "@grpc/grpc-js";
import { Errors } from "../../../src/api/errors.js";
import { header, type WatchRequest, type WatchResponse } from "../../../src/api/rpc.js";
import { err, ok } from "../../../src/lib/result.js";
import type { Backend } from "../../../src/real/grpc/backend.js";
import { EtcdClient, EtcdClientError } from "../../../src/real/grpc/client.js";
import { startClientServer, type ClientServer } from "../../../src/real/grpc/client-port.js";
import type { MethodInfo } from "../../../src/real/grpc/services.js";
import { utf8 } from "../../../src/lib/bytes.js";
import { stubBackend, watchCreated } from "./stub-backend.js";

const watchLog: string[] = [];
const internalErrors: string[] = [];
const handled: string[] = [];

function scriptedBackend(): Backend {
  return stubBackend({
    range: (req, done) => {
      const key = new TextDecoder().decode(req.key);
      if (key === "throw") throw new Error("boom in range");
      if (key === "bad-response")
        return done(ok({ header: header(1), kvs: [], more: false, count: 1.5 }));
      if (key === "twice") {
        done(err(Errors.NoLeader));
        return done(ok({ header: header(1), kvs: [], more: false, count: 0 }));
      }
      done(ok({ header: header(7), kvs: [], more: false, count: req.key.length }));
    },
    put: (_req, done) => setTimeout(() => done(err(Errors.TooManyRequests)), 5),
    leaseKeepAlive: (req, done) =>
      req.ID === 13n
        ? done(err(Errors.NotLeader))
        : done(ok({ header: header(3), ID: req.ID, TTL: 9 })),
    watch: (onResponses: (r: WatchResponse[]) => void) => {
      watchLog.push("open");
      return {
        request: (req: WatchRequest) => {
          watchLog.push(req.request_union);
          onResponses([watchCreated(5, 1)]);
        },
        close: () => watchLog.push("close"),
      };
    },
    snapshot: (done) => done(err(Errors.Stopped)),
  });
}

let server: ClientServer;
let client: EtcdClient;

beforeAll(async () => {
  server = await startClientServer({
    backend: scriptedBackend(),
    listen: [
      { host: "127.0.0.1", port: 0 },
      { host: "127.0.0.1", port: 0 },
    ],
    grpc: {
      maxRequestBytes: 1024,
      onInternalError: (m: MethodInfo, e: unknown) =>
        internalErrors.push(`${m.method}: ${String(e)}`),
      observer: { handled: (m, code) => handled.push(`${m.method}:${code}`) },
    },
  });
  client = new EtcdClient({ endpoints: [`127.0.0.1:${server.ports[0]}`], callTimeoutMs: 5_000 });
});

afterAll(async () => {
  client.close();
  await server.close();
});

async function failure(p: Promise<unknown>): Promise<EtcdClientError> {
  const e: unknown = await p.then(
    () => new Error("the call succeeded"),
    (x: unknown) => x,
  );
  if (!(e instanceof EtcdClientError)) throw e;
  return e;
}

describe("the gRPC services", () => {
  it("listens on every address given", async () => {
    expect(server.ports).toHaveLength(2);
    expect(server.ports[0]).not.toBe(server.ports[1]);
    const second = new EtcdClient({ endpoints: [`127.0.0.1:${server.ports[1]}`] });
    expect((await second.range({ key: utf8("abc") })).count).toBe(3);
    second.close();
  });

  it("turns a backend exception into INTERNAL and keeps serving", async () => {
    const e = await failure(client.range({ key: utf8("throw") }));
    expect([e.code, e.details]).toEqual([Status.INTERNAL, "detcd: internal error: boom in range"]);
    expect(internalErrors).toContain("Range: Error: boom in range");
    expect((await client.range({ key: utf8("ab") })).header.revision).toBe(7);
  });

  it("turns a response that cannot be encoded into INTERNAL", async () => {
    const e = await failure(client.range({ key: utf8("bad-response") }));
    expect(e.code).toBe(Status.INTERNAL);
    expect(e.details).toContain("RangeResponse.count");
  });

  it("answers only the first of two replies", async () => {
    const e = await failure(client.range({ key: utf8("twice") }));
    expect(e.etcd).toBe(Errors.NoLeader);
  });

  it("maps an asynchronous backend error", async () => {
    const e = await failure(client.put({ key: utf8("k"), value: utf8("v") }));
    expect([e.code, e.details]).toEqual([
      Status.RESOURCE_EXHAUSTED,
      "etcdserver: too many requests",
    ]);
  });

  it("refuses a request over the size limit (max request bytes + 512 KiB)", async () => {
    const ok = await client.range({ key: new Uint8Array(400 * 1024).fill(97) });
    expect(ok.count).toBe(400 * 1024);
    const e = await failure(client.range({ key: new Uint8Array(600 * 1024).fill(97) }));
    expect(e.code).toBe(Status.RESOURCE_EXHAUSTED);
  });

  it("answers a malformed request with INVALID_ARGUMENT", async () => {
    const e = await failure(client.call("etcdserverpb.KV", "Range", { limit: 2 ** 60 }));
    expect(e.code).toBe(Status.INVALID_ARGUMENT);
  });

  it("closes the backend watch when the client cancels the stream", async () => {
    watchLog.length = 0;
    const watch = client.watch();
    watch.create({ key: utf8("a") });
    expect(await watch.next()).toMatchObject({ created: true, watch_id: 5 });
    watch.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(watchLog).toEqual(["open", "create_request", "close"]);
  });

  it("ends a keepalive stream with the backend's error", async () => {
    const stream = client.leaseKeepAlive();
    stream.keepAlive(12n);
    expect(await stream.next()).toMatchObject({ ID: 12n, TTL: 9 });
    stream.keepAlive(13n);
    const e = await stream.next().then(
      () => undefined,
      (x: unknown) => x as EtcdClientError,
    );
    expect([e?.code, e?.details]).toEqual([Status.FAILED_PRECONDITION, "etcdserver: not leader"]);
  });

  it("fails a snapshot download with the backend's error", async () => {
    const e = await failure(client.snapshot());
    expect([e.code, e.etcd?.name]).toEqual([Status.UNAVAILABLE, "Stopped"]);
  });

  it("reports handled calls with their status codes", () => {
    expect(handled).toContain(`Range:${Status.INTERNAL}`);
    expect(handled).toContain(`Put:${Status.RESOURCE_EXHAUSTED}`);
    expect(handled).toContain(`Range:${Status.OK}`);
    expect(handled).toContain(`Watch:${Status.OK}`);
  });
});

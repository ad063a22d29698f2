import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  httpHandler,
  type HealthQuery,
  type HealthResult,
  type HttpEndpointsOptions,
} from "../../src/real/http-endpoints.js";
import { ServerMetrics } from "../../src/real/metrics.js";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../../src/real/version.js";

const healthy: HealthResult = { hasLeader: true, alarms: [], isLearner: false };

let state: HealthResult = healthy;
let queries: HealthQuery[] = [];
let failHealth = false;
const metrics = new ServerMetrics({ processMetrics: false });

async function listen(options: HttpEndpointsOptions): Promise<{ server: Server; base: string }> {
  const server = createServer(httpHandler(options));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}` };
}

let server: Server;
let base = "";

beforeAll(async () => {
  ({ server, base } = await listen({
    health: (query) => {
      queries.push(query);
      if (failHealth) throw new Error("member stopped");
      return Promise.resolve(state);
    },
    metrics,
  }));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  state = healthy;
  queries = [];
  failHealth = false;
});

async function get(path: string, method = "GET") {
  const res = await fetch(`${base}${path}`, { method });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text(), res };
}

describe("/health", () => {
  it("200 with health true when there is a leader and no alarm", async () => {
    const r = await get("/health");
    expect(r.status).toBe(200);
    expect(r.type).toBe("application/json");
    expect(JSON.parse(r.body)).toEqual({ health: "true", reason: "" });
    expect(queries).toEqual([{ linearizable: true }]);
  });

  it("503 RAFT NO LEADER without a leader, unless serializable=true", async () => {
    state = { ...healthy, hasLeader: false };
    const r = await get("/health");
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ health: "false", reason: "RAFT NO LEADER" });
    const local = await get("/health?serializable=true");
    expect(local.status).toBe(200);
    expect(queries.at(-1)).toEqual({ linearizable: false });
  });

  it("503 with etcd's alarm reasons, alarms before the leader; exclude skips an alarm", async () => {
    state = { ...healthy, hasLeader: false, alarms: ["NOSPACE"] };
    expect(JSON.parse((await get("/health")).body)).toEqual({
      health: "false",
      reason: "ALARM NOSPACE",
    });
    state = { ...healthy, alarms: ["CORRUPT"] };
    const corrupt = await get("/health");
    expect(corrupt.status).toBe(503);
    expect(JSON.parse(corrupt.body).reason).toBe("ALARM CORRUPT");
    state = { ...healthy, alarms: ["NOSPACE"] };
    expect((await get("/health?exclude=NOSPACE")).status).toBe(200);
    expect((await get("/health?exclude=CORRUPT")).status).toBe(503);
  });

  it("503 RANGE ERROR when the read fails", async () => {
    state = { ...healthy, linearizableReadError: "etcdserver: request timed out" };
    expect(JSON.parse((await get("/health")).body)).toEqual({
      health: "false",
      reason: "RANGE ERROR:etcdserver: request timed out",
    });
    state = { ...healthy, serializableReadError: "etcdserver: corrupt cluster" };
    expect(JSON.parse((await get("/health?serializable=true")).body).reason).toBe(
      "RANGE ERROR:etcdserver: corrupt cluster",
    );
  });
});

describe("/livez and /readyz", () => {
  it("answer ok when every check passes; verbose lists the checks", async () => {
    for (const path of ["/livez", "/readyz", "/readyz/non_learner", "/livez/serializable_read"]) {
      const r = await get(path);
      expect([path, r.status, r.type, r.body]).toEqual([
        path,
        200,
        "text/plain; charset=utf-8",
        "ok\n",
      ]);
    }
    expect((await get("/readyz?verbose")).body).toBe(
      "[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n",
    );
    expect((await get("/livez?verbose")).body).toBe("[+]serializable_read ok\nok\n");
  });

  it("readyz fails without a leader, livez does not", async () => {
    state = { ...healthy, hasLeader: false };
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toBe(
      "[+]data_corruption ok\n[+]serializable_read ok\n[-]linearizable_read failed: etcdserver: no leader\n[+]non_learner ok\n\n",
    );
    expect((await get("/livez")).status).toBe(200);
    expect((await get("/readyz?exclude=linearizable_read")).status).toBe(200);
    expect((await get("/readyz/linearizable_read")).status).toBe(503);
  });

  it("readyz fails on a CORRUPT alarm and on a learner, with etcd's messages", async () => {
    state = { ...healthy, alarms: ["CORRUPT"], isLearner: true };
    const r = await get("/readyz");
    expect(r.status).toBe(503);
    expect(r.body).toContain("[-]data_corruption failed: alarm activated: CORRUPT\n");
    expect(r.body).toContain("[-]non_learner failed: not supported for learner\n");
  });

  it("livez fails when a local read fails", async () => {
    state = { ...healthy, serializableReadError: "disk I/O error" };
    const r = await get("/livez");
    expect(r.status).toBe(503);
    expect(r.body).toBe("[-]serializable_read failed: disk I/O error\n\n");
  });

  it("asks for a linearizable read only when a check needs one", async () => {
    await get("/livez");
    await get("/readyz");
    await get("/readyz?exclude=linearizable_read");
    expect(queries).toEqual([
      { linearizable: false },
      { linearizable: true },
      { linearizable: false },
    ]);
  });
});

describe("/version", () => {
  it("answers etcd 3.5's JSON", async () => {
    const r = await get("/version");
    expect(r.status).toBe(200);
    expect(r.type).toBe("application/json");
    expect(JSON.parse(r.body)).toEqual({
      etcdserver: ETCD_SERVER_VERSION,
      etcdcluster: ETCD_CLUSTER_VERSION,
    });
    expect(ETCD_SERVER_VERSION).toMatch(/^3\.5\.\d+$/);
  });

  it("takes a fixed or a per-request version", async () => {
    let cluster = "3.5.0";
    const fixed = await listen({
      health: () => healthy,
      metrics,
      version: () => ({ etcdserver: "3.5.9", etcdcluster: cluster }),
    });
    try {
      cluster = "3.5.1";
      const body = await (await fetch(`${fixed.base}/version`)).json();
      expect(body).toEqual({ etcdserver: "3.5.9", etcdcluster: "3.5.1" });
    } finally {
      await new Promise<void>((resolve) => fixed.server.close(() => resolve()));
    }
  });
});

describe("/metrics", () => {
  it("serves the Prometheus text with its content type", async () => {
    metrics.leaderChanged();
    const r = await get("/metrics");
    expect(r.status).toBe(200);
    expect(r.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(r.body).toContain("# TYPE etcd_server_leader_changes_seen_total counter\n");
    expect(r.body).toMatch(/^etcd_server_leader_changes_seen_total 1$/m);
  });
});

describe("other requests", () => {
  it("unknown paths are 404", async () => {
    for (const path of [
      "/",
      "/healthz",
      "/readyz/nope",
      "/livez/linearizable_read",
      "/metrics/x",
    ]) {
      const r = await get(path);
      expect([path, r.status, r.body]).toEqual([path, 404, "404 page not found\n"]);
    }
  });

  it("non-GET methods are 405 with Allow: GET", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      for (const path of ["/health", "/version", "/metrics", "/readyz"]) {
        const r = await get(path, method);
        expect([method, path, r.status, r.body]).toEqual([
          method,
          path,
          405,
          "Method Not Allowed\n",
        ]);
        expect(r.res.headers.get("allow")).toBe("GET");
      }
    }
  });

  it("a failing health callback answers 500", async () => {
    failHealth = true;
    const r = await get("/health");
    expect(r.status).toBe(500);
    expect(r.body).toBe("member stopped\n");
  });
});

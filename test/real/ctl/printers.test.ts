// The four output formats against fixed responses. Expected texts are etcdctl's: the member list,
// endpoint status/hashkv and alarm outputs were taken from etcdctl 3.4 run against a gRPC server
// answering these exact responses; the rest follow etcdctl 3.5's printers.

import { describe, expect, it } from "vitest";
import type { LeaseTimeToLiveResponse, TxnResponse, WatchResponse } from "../../../src/api/rpc.js";
import { utf8 } from "../../../src/lib/bytes.js";
import { CtlError, ExitCode } from "../../../src/real/ctl/exit.js";
import type { EndpointHealth } from "../../../src/real/ctl/types.js";
import {
  capture,
  HEADER,
  INNER_HEADER,
  kv,
  lines,
  MEMBER_LIST,
  MEMBERS,
  STATUS,
} from "./fixtures.js";

const LEASE = 0x694d77aa9e38260fn;

const TXN: TxnResponse = {
  header: HEADER,
  succeeded: true,
  responses: [
    { response: "response_put", response_put: { header: INNER_HEADER } },
    {
      response: "response_range",
      response_range: { header: INNER_HEADER, kvs: [kv("foo", "bar")], more: false, count: 1 },
    },
    {
      response: "response_delete_range",
      response_delete_range: { header: INNER_HEADER, deleted: 1, prev_kvs: [] },
    },
  ],
};

const WATCH: WatchResponse = {
  header: { ...HEADER, revision: 6 },
  watch_id: 0,
  created: false,
  canceled: false,
  compact_revision: 0,
  cancel_reason: "",
  fragment: false,
  events: [
    { type: "PUT", kv: kv("foo", "bar", { mod_revision: 6 }), prev_kv: kv("foo", "old") },
    {
      type: "DELETE",
      kv: kv("foo", "", { create_revision: 0, mod_revision: 7, version: 0 }),
    },
  ],
};

const TTL_LIVE: LeaseTimeToLiveResponse = {
  header: HEADER,
  ID: LEASE,
  TTL: 52,
  grantedTTL: 60,
  keys: [utf8("a"), utf8("b")],
};

const TTL_GONE: LeaseTimeToLiveResponse = {
  header: HEADER,
  ID: 0x1234n,
  TTL: -1,
  grantedTTL: 0,
  keys: [],
};

const HEALTH: EndpointHealth[] = [
  { endpoint: "127.0.0.1:2379", health: true, took: "1.5ms", error: "" },
  {
    endpoint: "127.0.0.1:23791",
    health: false,
    took: "76.965582ms",
    error: "Active Alarm(s): NOSPACE CORRUPT ",
  },
];

const ALARMS = {
  header: HEADER,
  alarms: [
    { memberID: 10276657743932975437n, alarm: "NOSPACE" as const },
    { memberID: 2n, alarm: "CORRUPT" as const },
  ],
};

const HASHKV = {
  endpoint: "127.0.0.1:23791",
  hashKV: { header: HEADER, hash: 1084519789, compact_revision: 3, hash_revision: 5 },
};

const DB_STATUS = { hash: 0xdeadbeef, revision: 12, totalKey: 4, totalSize: 20480 };

const JSON_HEADER =
  '"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2}';
const FLAT_HEADER =
  '"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2';
const FOO_JSON = '{"key":"Zm9v","create_revision":2,"mod_revision":5,"version":2,"value":"YmFy"}';

function refusal(run: () => void): CtlError {
  try {
    run();
  } catch (e) {
    if (e instanceof CtlError) return e;
    throw e;
  }
  throw new Error("the printer accepted the result");
}

describe("simple", () => {
  it("prints keys and values one per line, values only, or as \\x escapes with --hex", () => {
    const r = { header: HEADER, kvs: [kv("foo", "bar"), kv("k2", "v2")], more: false, count: 2 };
    const plain = capture("simple");
    plain.printer.get(r, false);
    expect(plain.stdout()).toBe(lines("foo", "bar", "k2", "v2"));
    const valueOnly = capture("simple");
    valueOnly.printer.get(r, true);
    expect(valueOnly.stdout()).toBe(lines("bar", "v2"));
    const hex = capture("simple", true);
    hex.printer.get({ ...r, kvs: [kv("foo", "bar")] }, false);
    expect(hex.stdout()).toBe(lines("\\x66\\x6f\\x6f", "\\x62\\x61\\x72"));
  });

  it("writes values as raw bytes", () => {
    const c = capture("simple");
    const value = Uint8Array.of(0xff, 0x00, 0x0a);
    c.printer.get({ header: HEADER, kvs: [kv("k", "", { value })], more: false, count: 1 }, true);
    expect([...c.stdoutBytes()]).toEqual([0xff, 0x00, 0x0a, 0x0a]);
  });

  it("prints put, del and txn results", () => {
    const c = capture("simple");
    c.printer.put({ header: HEADER, prev_kv: kv("foo", "old") });
    c.printer.del({ header: HEADER, deleted: 2, prev_kvs: [kv("a", "1"), kv("b", "2")] });
    c.printer.txn(TXN);
    c.printer.txn({ header: HEADER, succeeded: false, responses: [] });
    expect(c.stdout()).toBe(
      lines(
        "OK",
        "foo",
        "old",
        "2",
        "a",
        "1",
        "b",
        "2",
        "SUCCESS",
        "",
        "OK",
        "",
        "foo",
        "bar",
        "",
        "1",
        "FAILURE",
      ),
    );
  });

  it("prints watch events as type, previous pair, pair", () => {
    const c = capture("simple");
    c.printer.watch(WATCH);
    expect(c.stdout()).toBe(lines("PUT", "foo", "old", "foo", "bar", "DELETE", "foo", ""));
  });

  it("prints leases in 16 hex digits", () => {
    const c = capture("simple");
    c.printer.grant({ header: HEADER, ID: LEASE, TTL: 60, error: "" });
    c.printer.revoke(LEASE, { header: HEADER });
    c.printer.keepAlive({ header: HEADER, ID: LEASE, TTL: 60 });
    c.printer.timeToLive(TTL_LIVE, true);
    c.printer.timeToLive(TTL_LIVE, false);
    c.printer.timeToLive(TTL_GONE, false);
    c.printer.leases({ header: HEADER, leases: [{ ID: LEASE }, { ID: 0x1234n }] });
    expect(c.stdout()).toBe(
      lines(
        "lease 694d77aa9e38260f granted with TTL(60s)",
        "lease 694d77aa9e38260f revoked",
        "lease 694d77aa9e38260f keepalived with TTL(60)",
        "lease 694d77aa9e38260f granted with TTL(60s), remaining(52s), attached keys([a b])",
        "lease 694d77aa9e38260f granted with TTL(60s), remaining(52s)",
        "lease 0000000000001234 already expired",
        "found 2 leases",
        "694d77aa9e38260f",
        "0000000000001234",
      ),
    );
  });

  it("prints member changes with ids padded to 16 columns", () => {
    const c = capture("simple");
    const member = {
      ID: 0x1b0n,
      name: "",
      peerURLs: ["http://10.0.0.9:2380"],
      clientURLs: [],
      isLearner: true,
    };
    c.printer.memberAdd({ header: HEADER, member, members: [...MEMBERS, member] });
    c.printer.memberRemove(0x1b0n, { header: HEADER, members: MEMBERS });
    c.printer.memberUpdate(10276657743932975437n, { header: HEADER, members: MEMBERS });
    c.printer.memberPromote(2n, { header: HEADER, members: MEMBERS });
    expect(c.stdout()).toBe(
      lines(
        "Member              1b0 added to cluster cdf818194e3a8c32",
        "Member              1b0 removed from cluster cdf818194e3a8c32",
        "Member 8e9e05c52164694d updated in cluster cdf818194e3a8c32",
        "Member                2 promoted in cluster cdf818194e3a8c32",
      ),
    );
  });

  it("prints member list, endpoint status, hashkv and alarms as etcdctl does", () => {
    const c = capture("simple");
    c.printer.endpointStatus([STATUS]);
    c.printer.memberList(MEMBER_LIST);
    c.printer.alarm(ALARMS);
    c.printer.endpointHashKV([HASHKV]);
    c.printer.moveLeader(10276657743932975437n, 2n, { header: HEADER });
    c.printer.dbStatus(DB_STATUS);
    expect(c.stdout()).toBe(
      lines(
        "127.0.0.1:23791, 8e9e05c52164694d, 3.5.33, 2.5 MB, true, false, 2, 12, 11, etcdserver: no leader, memberID:8e9e05c52164694d alarm:NOSPACE ",
        "8e9e05c52164694d, started, infra1, http://127.0.0.1:12380,http://10.0.0.1:12380, http://127.0.0.1:2379, false",
        "2, unstarted, , http://127.0.0.1:22380, , true",
        "3, started, a name with several words in it for wrapping, http://x:1, http://x:2, false",
        "memberID:10276657743932975437 alarm:NOSPACE ",
        "memberID:2 alarm:CORRUPT ",
        "127.0.0.1:23791, 1084519789",
        "Leadership transferred from 8e9e05c52164694d to 2",
        "deadbeef, 12, 4, 20 kB",
      ),
    );
  });

  it("prints healthy endpoints on stdout and unhealthy ones on stderr", () => {
    const c = capture("simple");
    c.printer.endpointHealth(HEALTH);
    expect(c.stdout()).toBe(
      lines("127.0.0.1:2379 is healthy: successfully committed proposal: took = 1.5ms"),
    );
    expect(c.stderr()).toBe(
      lines(
        "127.0.0.1:23791 is unhealthy: failed to commit proposal: Active Alarm(s): NOSPACE CORRUPT ",
      ),
    );
  });
});

describe("json", () => {
  const json = (run: (c: ReturnType<typeof capture>) => void): string => {
    const c = capture("json");
    run(c);
    return c.stdout();
  };

  it("encodes ranges with exact 64-bit numbers, base64 bytes and omitted zero fields", () => {
    expect(
      json((c) =>
        c.printer.get({ header: HEADER, kvs: [kv("foo", "bar")], more: false, count: 1 }, false),
      ),
    ).toBe(`{${JSON_HEADER},"kvs":[${FOO_JSON}],"count":1}\n`);
    const leased = kv("foo", "bar", { lease: LEASE });
    expect(
      json((c) => c.printer.get({ header: HEADER, kvs: [leased], more: true, count: 3 }, false)),
    ).toBe(
      `{${JSON_HEADER},"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":5,"version":2,"value":"YmFy","lease":7587852521871779343}],"more":true,"count":3}\n`,
    );
    expect(
      json((c) => c.printer.get({ header: HEADER, kvs: [], more: false, count: 0 }, false)),
    ).toBe(`{${JSON_HEADER}}\n`);
  });

  it('encodes put, del and txn (oneof responses under "Response")', () => {
    expect(json((c) => c.printer.put({ header: HEADER }))).toBe(`{${JSON_HEADER}}\n`);
    expect(
      json((c) => c.printer.del({ header: HEADER, deleted: 1, prev_kvs: [kv("foo", "bar")] })),
    ).toBe(`{${JSON_HEADER},"deleted":1,"prev_kvs":[${FOO_JSON}]}\n`);
    expect(json((c) => c.printer.txn(TXN))).toBe(
      `{${JSON_HEADER},"succeeded":true,"responses":[` +
        `{"Response":{"response_put":{"header":{"revision":5}}}},` +
        `{"Response":{"response_range":{"header":{"revision":5},"kvs":[${FOO_JSON}],"count":1}}},` +
        `{"Response":{"response_delete_range":{"header":{"revision":5},"deleted":1}}}]}\n`,
    );
  });

  it("encodes watch responses as the client library's struct", () => {
    expect(json((c) => c.printer.watch(WATCH))).toBe(
      `{"Header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":6,"raft_term":2},"Events":[` +
        `{"kv":{"key":"Zm9v","create_revision":2,"mod_revision":6,"version":2,"value":"YmFy"},"prev_kv":${FOO_JSON.replace("YmFy", "b2xk")}},` +
        `{"type":1,"kv":{"key":"Zm9v","mod_revision":7}}],"CompactRevision":0,"Canceled":false,"Created":false}\n`,
    );
    expect(json((c) => c.printer.watch({ ...WATCH, events: [] }))).toContain('"Events":null');
  });

  it("flattens the header into lease results", () => {
    const out = json((c) => {
      c.printer.grant({ header: HEADER, ID: LEASE, TTL: 60, error: "" });
      c.printer.revoke(LEASE, { header: HEADER });
      c.printer.keepAlive({ header: HEADER, ID: LEASE, TTL: 60 });
      c.printer.timeToLive(TTL_LIVE, true);
      c.printer.timeToLive(TTL_GONE, false);
      c.printer.leases({ header: HEADER, leases: [] });
    });
    expect(out).toBe(
      lines(
        `{${FLAT_HEADER},"ID":7587852521871779343,"TTL":60,"Error":""}`,
        `{${JSON_HEADER}}`,
        `{${FLAT_HEADER},"ID":7587852521871779343,"TTL":60}`,
        `{${FLAT_HEADER},"id":7587852521871779343,"ttl":52,"granted-ttl":60,"keys":["YQ==","Yg=="]}`,
        `{${FLAT_HEADER},"id":4660,"ttl":-1,"granted-ttl":0,"keys":null}`,
        `{${FLAT_HEADER},"leases":[]}`,
      ),
    );
  });

  it("encodes member list, also with hex ids", () => {
    expect(json((c) => c.printer.memberList(MEMBER_LIST))).toBe(
      `{${JSON_HEADER},"members":[{"ID":10276657743932975437,"name":"infra1","peerURLs":["http://127.0.0.1:12380","http://10.0.0.1:12380"],"clientURLs":["http://127.0.0.1:2379"]},{"ID":2,"peerURLs":["http://127.0.0.1:22380"],"isLearner":true},{"ID":3,"name":"a name with several words in it for wrapping","peerURLs":["http://x:1"],"clientURLs":["http://x:2"]}]}\n`,
    );
    const hex = capture("json", true);
    hex.printer.memberList({ header: HEADER, members: MEMBERS.slice(0, 2) });
    expect(hex.stdout()).toBe(
      `{"header":{"cluster_id":"cdf818194e3a8c32","member_id":"8e9e05c52164694d","raft_term":2},"members":[{"ID":"8e9e05c52164694d","name":"infra1","peerURLs":["http://127.0.0.1:12380","http://10.0.0.1:12380"],"clientURLS":["http://127.0.0.1:2379"]},{"ID":"2","name":"","peerURLs":["http://127.0.0.1:22380"],"clientURLS":null}]}\n`,
    );
  });

  it("escapes what Go's encoder escapes", () => {
    const member = { ...MEMBERS[2]!, name: '<a&b> "q"\n' };
    expect(json((c) => c.printer.memberList({ header: HEADER, members: [member] }))).toContain(
      '"name":"\\u003ca\\u0026b\\u003e \\"q\\"\\n"',
    );
  });

  it("encodes endpoint health, status and hashkv as lists", () => {
    const out = json((c) => {
      c.printer.endpointHealth(HEALTH);
      c.printer.endpointStatus([STATUS]);
      c.printer.endpointHashKV([HASHKV]);
    });
    expect(out).toBe(
      lines(
        '[{"endpoint":"127.0.0.1:2379","health":true,"took":"1.5ms"},{"endpoint":"127.0.0.1:23791","health":false,"took":"76.965582ms","error":"Active Alarm(s): NOSPACE CORRUPT "}]',
        `[{"Endpoint":"127.0.0.1:23791","Status":{${JSON_HEADER},"version":"3.5.33","dbSize":2500000,"leader":10276657743932975437,"raftIndex":12,"raftTerm":2,"raftAppliedIndex":11,"errors":["etcdserver: no leader","memberID:8e9e05c52164694d alarm:NOSPACE "],"dbSizeInUse":1000000}}]`,
        `[{"Endpoint":"127.0.0.1:23791","HashKV":{${JSON_HEADER},"hash":1084519789,"compact_revision":3}}]`,
      ),
    );
  });

  it("encodes alarms (a disarm-everything result has no header), move-leader and snapshot status", () => {
    const out = json((c) => {
      c.printer.alarm(ALARMS);
      c.printer.alarm({ header: undefined, alarms: [{ memberID: 2n, alarm: "CORRUPT" }] });
      c.printer.alarm({ header: undefined, alarms: [] });
      c.printer.moveLeader(1n, 2n, { header: HEADER });
      c.printer.dbStatus(DB_STATUS);
    });
    expect(out).toBe(
      lines(
        `{${JSON_HEADER},"alarms":[{"memberID":10276657743932975437,"alarm":1},{"memberID":2,"alarm":2}]}`,
        '{"alarms":[{"memberID":2,"alarm":2}]}',
        "{}",
        `{${JSON_HEADER}}`,
        '{"hash":3735928559,"revision":12,"totalKey":4,"totalSize":20480}',
      ),
    );
  });
});

describe("fields", () => {
  const hdr = [
    '"ClusterID" : 14841639068965178418',
    '"MemberID" : 10276657743932975437',
    '"Revision" : 5',
    '"RaftTerm" : 2',
  ];
  const innerHdr = ['"ClusterID" : 0', '"MemberID" : 0', '"Revision" : 5', '"RaftTerm" : 0'];
  const fooFields = (prefix = "", value = '"bar"') => [
    `"${prefix}Key" : "foo"`,
    `"${prefix}CreateRevision" : 2`,
    `"${prefix}ModRevision" : 5`,
    `"${prefix}Version" : 2`,
    `"${prefix}Value" : ${value}`,
    `"${prefix}Lease" : 0`,
  ];

  it("prints ranges, puts, deletes and txns field by field", () => {
    const c = capture("fields");
    c.printer.get({ header: HEADER, kvs: [kv("foo", "bar")], more: false, count: 1 }, false);
    c.printer.put({ header: HEADER, prev_kv: kv("foo", "bar") });
    c.printer.del({ header: HEADER, deleted: 1, prev_kvs: [kv("foo", "bar")] });
    c.printer.txn(TXN);
    expect(c.stdout()).toBe(
      lines(
        ...hdr,
        ...fooFields(),
        '"More" : false',
        '"Count" : 1',
        ...hdr,
        ...fooFields("Prev"),
        ...hdr,
        '"Deleted" : 1',
        ...fooFields("Prev"),
        ...hdr,
        '"Succeeded" : true',
        ...innerHdr,
        ...innerHdr,
        ...fooFields(),
        '"More" : false',
        '"Count" : 1',
        ...innerHdr,
        '"Deleted" : 1',
      ),
    );
  });

  it("quotes keys and values as Go's %q", () => {
    const c = capture("fields");
    const value = Uint8Array.of(0x61, 0x0a, 0x22, 0xff, 0xe2, 0x82, 0xac, 0x01);
    c.printer.get(
      { header: HEADER, kvs: [kv("foo", "", { value })], more: false, count: 1 },
      false,
    );
    expect(c.stdout()).toContain('"Value" : "a\\n\\"\\xff€\\x01"\n');
  });

  it("prints watch events and lease results", () => {
    const c = capture("fields");
    c.printer.watch({ ...WATCH, header: HEADER, events: [WATCH.events[0]!] });
    c.printer.grant({ header: HEADER, ID: LEASE, TTL: 60, error: "" });
    c.printer.timeToLive(TTL_LIVE, true);
    c.printer.leases({ header: HEADER, leases: [{ ID: LEASE }] });
    expect(c.stdout()).toBe(
      lines(
        ...hdr,
        '"Type" : PUT',
        ...fooFields("Prev", '"old"'),
        ...fooFields().map((l) => l.replace('"ModRevision" : 5', '"ModRevision" : 6')),
        ...hdr,
        '"ID" : 7587852521871779343',
        '"TTL" : 60',
        ...hdr,
        '"ID" : 7587852521871779343',
        '"TTL" : 52',
        '"GrantedTTL" : 60',
        '"Key" : "a"',
        '"Key" : "b"',
        ...hdr,
        '"ID" : 7587852521871779343',
      ),
    );
  });

  it("prints member list, endpoint results and alarms as etcdctl does", () => {
    const c = capture("fields");
    c.printer.endpointStatus([STATUS]);
    c.printer.memberList(MEMBER_LIST);
    c.printer.alarm(ALARMS);
    c.printer.endpointHashKV([HASHKV]);
    c.printer.endpointHealth([HEALTH[1]!]);
    c.printer.dbStatus(DB_STATUS);
    expect(c.stdout()).toBe(
      lines(
        ...hdr,
        '"Version" : "3.5.33"',
        '"DBSize" : 2500000',
        '"Leader" : 10276657743932975437',
        '"IsLearner" : false',
        '"RaftIndex" : 12',
        '"RaftTerm" : 2',
        '"RaftAppliedIndex" : 11',
        '"Errors" : [etcdserver: no leader memberID:8e9e05c52164694d alarm:NOSPACE ]',
        '"Endpoint" : "127.0.0.1:23791"',
        "",
        ...hdr,
        '"ID" : 10276657743932975437',
        '"Name" : "infra1"',
        '"PeerURL" : "http://127.0.0.1:12380"',
        '"PeerURL" : "http://10.0.0.1:12380"',
        '"ClientURL" : "http://127.0.0.1:2379"',
        '"IsLearner" : false',
        "",
        '"ID" : 2',
        '"Name" : ""',
        '"PeerURL" : "http://127.0.0.1:22380"',
        '"IsLearner" : true',
        "",
        '"ID" : 3',
        '"Name" : "a name with several words in it for wrapping"',
        '"PeerURL" : "http://x:1"',
        '"ClientURL" : "http://x:2"',
        '"IsLearner" : false',
        "",
        ...hdr,
        '"MemberID" : 10276657743932975437',
        '"AlarmType" : NOSPACE',
        "",
        '"MemberID" : 2',
        '"AlarmType" : CORRUPT',
        "",
        ...hdr,
        '"Endpoint" : "127.0.0.1:23791"',
        '"Hash" : 1084519789',
        "",
        '"Endpoint" : "127.0.0.1:23791"',
        '"Health" : false',
        '"Took" : 76.965582ms',
        '"Error" : Active Alarm(s): NOSPACE CORRUPT ',
        "",
        '"Hash" : 3735928559',
        '"Revision" : 12',
        '"Keys" : 4',
        '"Size" : 20480',
      ),
    );
  });

  it("refuses member changes and move-leader with exit code 4", () => {
    const c = capture("fields");
    const e = refusal(() => c.printer.memberRemove(2n, { header: HEADER, members: [] }));
    expect([e.code, e.message]).toEqual([
      ExitCode.BadFeature,
      "fields not supported as output format",
    ]);
    expect(refusal(() => c.printer.moveLeader(1n, 2n, { header: HEADER })).code).toBe(4);
  });
});

describe("table", () => {
  it("draws the member list, wrapping cells wider than 30 columns at spaces", () => {
    const c = capture("table");
    c.printer.memberList(MEMBER_LIST);
    expect(c.stdout()).toBe(
      lines(
        "+------------------+-----------+--------------------------------+----------------------------------------------+-----------------------+------------+",
        "|        ID        |  STATUS   |              NAME              |                  PEER ADDRS                  |     CLIENT ADDRS      | IS LEARNER |",
        "+------------------+-----------+--------------------------------+----------------------------------------------+-----------------------+------------+",
        "| 8e9e05c52164694d |   started |                         infra1 | http://127.0.0.1:12380,http://10.0.0.1:12380 | http://127.0.0.1:2379 |      false |",
        "|                2 | unstarted |                                |                       http://127.0.0.1:22380 |                       |       true |",
        "|                3 |   started |   a name with several words in |                                   http://x:1 |            http://x:2 |      false |",
        "|                  |           |                it for wrapping |                                              |                       |            |",
        "+------------------+-----------+--------------------------------+----------------------------------------------+-----------------------+------------+",
      ),
    );
  });

  it("draws endpoint status", () => {
    const c = capture("table");
    c.printer.endpointStatus([STATUS]);
    expect(c.stdout()).toBe(
      lines(
        "+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+",
        "|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX |             ERRORS             |",
        "+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+",
        "| 127.0.0.1:23791 | 8e9e05c52164694d |  3.5.33 |  2.5 MB |      true |      false |         2 |         12 |                 11 |         etcdserver: no leader, |",
        "|                 |                  |         |         |           |            |           |            |                    |      memberID:8e9e05c52164694d |",
        "|                 |                  |         |         |           |            |           |            |                    |                 alarm:NOSPACE  |",
        "+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------------------------------+",
      ),
    );
  });

  it("draws endpoint health, hashkv and snapshot status; no rows leaves the frame", () => {
    const c = capture("table");
    c.printer.endpointHealth([HEALTH[1]!]);
    c.printer.endpointHashKV([HASHKV]);
    c.printer.endpointHashKV([]);
    c.printer.dbStatus(DB_STATUS);
    expect(c.stdout()).toBe(
      lines(
        "+-----------------+--------+-------------+--------------------------------+",
        "|    ENDPOINT     | HEALTH |    TOOK     |             ERROR              |",
        "+-----------------+--------+-------------+--------------------------------+",
        "| 127.0.0.1:23791 |  false | 76.965582ms |       Active Alarm(s): NOSPACE |",
        "|                 |        |             |                       CORRUPT  |",
        "+-----------------+--------+-------------+--------------------------------+",
        "+-----------------+------------+",
        "|    ENDPOINT     |    HASH    |",
        "+-----------------+------------+",
        "| 127.0.0.1:23791 | 1084519789 |",
        "+-----------------+------------+",
        "+----------+------+",
        "| ENDPOINT | HASH |",
        "+----------+------+",
        "+----------+------+",
        "+----------+----------+------------+------------+",
        "|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |",
        "+----------+----------+------------+------------+",
        "| deadbeef |       12 |          4 |      20 kB |",
        "+----------+----------+------------+------------+",
      ),
    );
  });

  it("refuses other results with exit code 4", () => {
    const c = capture("table");
    const e = refusal(() =>
      c.printer.get({ header: HEADER, kvs: [], more: false, count: 0 }, false),
    );
    expect([e.code, e.message]).toEqual([
      ExitCode.BadFeature,
      "table not supported as output format",
    ]);
  });
});

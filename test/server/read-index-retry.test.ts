import { describe, expect, it } from "vitest";
import { fromUtf8 } from "../../src/lib/bytes.js";
import type { RangeResponse } from "../../src/api/rpc.js";
import type { EtcdError } from "../../src/api/errors.js";
import type { Result } from "../../src/lib/result.js";
import { awaitLeader, b, client, makeCluster, value } from "./helpers.js";

describe("member: ReadIndex retry", () => {
  it("a follower whose first MsgReadIndex is lost asks again and answers well before the timeout", () => {
    const { world, cluster } = makeCluster(3, 4);
    const leader = awaitLeader(world, cluster);
    const follower = cluster.slots.find((s) => s !== leader)!;
    const m = follower.member!;
    value(client(world, m).put({ key: b("k"), value: b("v") }));
    // Everything the follower sends the leader is lost for a moment: its MsgReadIndex with it.
    cluster.network.cutOneWay(follower.name, leader.name);
    const start = world.nowMs;
    let answer: Result<RangeResponse, EtcdError> | undefined;
    let answers = 0;
    m.range({ key: b("k") }, (r) => {
      answer = r;
      answers++;
    });
    world.runUntil({ untilMs: start + 200 });
    expect(answer, "no answer while the request is lost").toBeUndefined();
    cluster.network.uncutOneWay(follower.name, leader.name);
    world.runUntil({ until: () => answer !== undefined, untilMs: start + 7_000 });
    const elapsed = world.nowMs - start;
    expect(elapsed).toBeLessThan(m.config.readIndexRetryMs * 3);
    expect(value(answer!).kvs.map((kv) => fromUtf8(kv.value))).toEqual(["v"]);
    // A late copy of the read state (the retried request) must not answer it again.
    world.runUntil({ untilMs: world.nowMs + 3_000 });
    expect(answers).toBe(1);
  });
});
